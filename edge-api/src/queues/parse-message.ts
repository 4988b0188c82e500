/**
 * Validation of a queue message body against its zod schema (schema/messages/). A body that does not
 * match can never succeed on redelivery, so it is logged (issue paths only, no values) and acked.
 */
import type { z } from "zod";
import type { Deps } from "../context.ts";

/**
 * @param schema the envelope schema the consumer handles
 * @param what how the log names the message, e.g. "MSG_EXTRACT_SNAPSHOT"
 * @returns the parsed envelope, or undefined when the message was invalid (it is then already acked)
 */
export function parseOrDrop<S extends z.ZodType>(
  schema: S,
  message: Message<unknown>,
  deps: Deps,
  what: string,
): z.infer<S> | undefined {
  const parsed = schema.safeParse(message.body);
  if (parsed.success) return parsed.data;
  deps.log.warn(`invalid ${what} dropped`, { issues: parsed.error.issues.map((i) => i.path.join(".")) });
  message.ack();
  return undefined;
}
