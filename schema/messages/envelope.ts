/**
 * The queue message envelope shared by every vidsnap service: exactly `{type, sender, target, payload}`.
 * Each message family module defines its envelopes with {@link envelope}, so the shape is written once.
 */
import { z } from "zod";

/** Service names used as `sender` and `target`. */
export const ServiceName = z.enum([
  "VIDEO_API_SERVICE",
  "VIDEO_IMAGE_PROCESSOR_SERVICE",
  "EMAIL_SERVICE",
  "WEBHOOK_SERVICE",
]);
export type ServiceName = z.infer<typeof ServiceName>;

/**
 * Builds the strict zod schema of one message type.
 * @param type the message type literal, e.g. `MSG_EXTRACT_SNAPSHOT`
 * @param sender the only service allowed to send it
 * @param target the only service it is addressed to
 * @param payload the payload schema
 */
export function envelope<
  T extends string,
  S extends ServiceName,
  R extends ServiceName,
  P extends z.ZodType,
>(type: T, sender: S, target: R, payload: P) {
  return z.strictObject({
    type: z.literal(type),
    sender: z.literal(sender),
    target: z.literal(target),
    payload,
  });
}
