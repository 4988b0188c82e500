/**
 * vidsnap email consumer Worker (`vidsnap-email-consumer`): consumes queue `vidsnap-email`
 * (`MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS` / `_ERROR`, `MSG_SEND_TRANSCODE_SUCCESS` / `_ERROR`) and sends one
 * email per (video, job, attempt, outcome)
 * through Postmark. Without `POSTMARK_SERVER_TOKEN` (local default) emails are recorded in D1 and the log
 * instead of being sent.
 */
import { createLogger, errorFields } from "../../runtime/log.ts";
import { processBatch } from "./consumer.ts";
import { parseEnv, type EmailConfig, type EmailConsumerBindings } from "./env.ts";

export type { EmailConsumerBindings } from "./env.ts";

const worker = {
  /**
   * Queue handler. Validates the bindings first: when they are invalid (e.g. no Postmark token outside
   * `ENVIRONMENT=local`) nothing is acked and the invocation throws, so the runtime retries the messages
   * and, after `max_retries`, moves them to the dead-letter queue instead of losing them.
   */
  async queue(batch: MessageBatch<unknown>, env: EmailConsumerBindings, _ctx: ExecutionContext): Promise<void> {
    const log = createLogger({ queue: batch.queue });
    let config: EmailConfig;
    try {
      config = parseEnv(env);
    } catch (error) {
      log.error("invalid environment, batch not processed", {
        messages: batch.messages.length,
        ...errorFields(error),
      });
      throw error;
    }
    await processBatch(batch, config, { log });
  },
} satisfies ExportedHandler<EmailConsumerBindings>;

export default worker;
