/**
 * The queue message envelope shared by every vidsnap service: exactly `{type, sender, target, payload}`.
 * Each message family module defines its envelopes with {@link envelope} (the strict zod schema) and
 * builds them with {@link envelopeBuilder} (the one constructor per type, which sets sender and target),
 * so neither the shape nor a sender is written by hand anywhere else.
 */
import { z } from "zod";

/**
 * Service names used as `sender` and `target`. `VIDEO_IMAGE_PROCESSOR_SERVICE` is the processor
 * (ffmpeg-container); the wire value keeps its historical spelling.
 */
export const ServiceName = z.enum([
  "VIDEO_API_SERVICE",
  "VIDEO_IMAGE_PROCESSOR_SERVICE",
  "EMAIL_SERVICE",
  "WEBHOOK_SERVICE",
]);
export type ServiceName = z.infer<typeof ServiceName>;

/** The API: routes, queue consumers and the cron of edge-api. */
export const API_SERVICE = "VIDEO_API_SERVICE" satisfies ServiceName;
/** The processor (ffmpeg-container). */
export const PROCESSOR_SERVICE = "VIDEO_IMAGE_PROCESSOR_SERVICE" satisfies ServiceName;
/** The email consumer Worker. */
export const EMAIL_SERVICE = "EMAIL_SERVICE" satisfies ServiceName;
/** The webhook sender (edge-api's consumer of vidsnap-webhooks). */
export const WEBHOOK_SERVICE = "WEBHOOK_SERVICE" satisfies ServiceName;

/**
 * Builds the strict zod schema of one message type.
 * @param type the message type literal, e.g. `MSG_EXTRACT_SNAPSHOT`
 * @param senders the services allowed to send it; the first is the usual one
 * @param target the only service it is addressed to
 * @param payload the payload schema
 */
export function envelope<
  T extends string,
  const S extends readonly [ServiceName, ...ServiceName[]],
  R extends ServiceName,
  P extends z.ZodType,
>(type: T, senders: S, target: R, payload: P) {
  return z.strictObject({
    type: z.literal(type),
    sender: z.enum(senders as unknown as readonly [S[number], ...S[number][]]),
    target: z.literal(target),
    payload,
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any literal/enum: the builder reads them back typed through E
type EnvelopeSchema = z.ZodObject<{ type: z.ZodLiteral<any>; sender: z.ZodEnum<any>; target: z.ZodLiteral<any>; payload: z.ZodType }>;

/**
 * The constructor of one message type: `(payload, sender?) => envelope`, typed by the schema. The sender
 * defaults to the type's usual one; a message written on another service's behalf (the API failing a
 * job the processor never answered) names its real sender, which the schema must allow.
 */
export function envelopeBuilder<E extends EnvelopeSchema>(schema: E) {
  const { type, sender, target } = schema.shape;
  const senders = sender.options as readonly z.output<E>["sender"][];
  return (payload: z.output<E>["payload"], from: z.output<E>["sender"] = senders[0]!): z.output<E> =>
    ({ type: type.value, sender: from, target: target.value, payload }) as z.output<E>;
}
