/**
 * vidsnap email consumer Worker (`vidsnap-email-consumer`): consumes queue `vidsnap-email`
 * (`MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS` / `_ERROR`) and sends one email per (video, attempt, outcome)
 * through Postmark, deduplicated in D1 table `emails`. Without `POSTMARK_SERVER_TOKEN` (local default)
 * emails are recorded in D1 and the log instead of being sent.
 *
 * See `consumer.ts` for the per-message decision table and `store.ts` for deduplication.
 */
import { processBatch } from "./consumer.ts";
import { parseEnv, type EmailConsumerBindings, type EmailEnv } from "./env.ts";
import { describeError, log } from "./log.ts";

export type { EmailConsumerBindings } from "./env.ts";

const worker = {
  /**
   * Queue handler. Validates the environment first: when it is invalid (e.g. no Postmark token outside
   * `ENVIRONMENT=local`) nothing is acked and the invocation throws, so the runtime retries the messages
   * and, after `max_retries`, moves them to the dead-letter queue instead of losing them.
   */
  async queue(batch: MessageBatch<unknown>, env: EmailConsumerBindings, _ctx: ExecutionContext): Promise<void> {
    let config: EmailEnv;
    try {
      config = parseEnv(env);
    } catch (error) {
      log("error", "invalid environment, batch not processed", {
        queue: batch.queue,
        messages: batch.messages.length,
        error: describeError(error),
      });
      throw error;
    }
    await processBatch(batch, config);
  },
} satisfies ExportedHandler<EmailConsumerBindings>;

export default worker;
