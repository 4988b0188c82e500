/**
 * The Worker's `queue()` handler. Dispatches every message on its envelope `type`, so one handler serves
 * vidsnap-extract, vidsnap-transcode, vidsnap-import, vidsnap-events (the events of every job kind:
 * MSG_EXTRACT_SNAPSHOT_*, MSG_TRANSCODE_* and MSG_IMPORT_VIDEO_*) and vidsnap-webhooks. Dead-letter queues are the exception: a MSG_EXTRACT_SNAPSHOT can
 * arrive on vidsnap-extract (run the job) and on vidsnap-extract-dlq (the job used up its retries: fail
 * the video), so a batch whose queue name ends in {@link DLQ_SUFFIX} is dispatched on type through
 * {@link DLQ_CONSUMERS} instead. Each message is acked or retried on its own; an unexpected error retries
 * that message only. With an invalid env the whole batch is retried in 60 s (fail closed).
 */
import { createDeps, type Deps } from "../context.ts";
import { ConfigError, loadConfig, type Config, type Env } from "../env.ts";
import { createLogger, errorFields } from "../../../runtime/log.ts";
import { consumeEvent } from "./events-consumer.ts";
import { consumeExtractDeadLetter } from "./extract-dlq-consumer.ts";
import { consumeExtract } from "./extract-consumer.ts";
import { consumeGenerationRequest, consumeGenerationRequestDeadLetter } from "./generations-consumer.ts";
import { consumeImport, consumeImportDeadLetter, consumeImportEvent } from "./import-consumer.ts";
import { consumeTranscode, consumeTranscodeDeadLetter, consumeTranscodeEvent } from "./transcode-consumer.ts";
import { consumeWebhookDeadLetter } from "./webhooks-dlq-consumer.ts";
import { consumeWebhook } from "./webhooks-consumer.ts";

type Consumer = (message: Message<unknown>, deps: Deps) => Promise<void>;

/** Queue names ending in this are dead-letter queues (`vidsnap-extract-dlq`). */
export const DLQ_SUFFIX = "-dlq";

/** Envelope type → consumer, for every queue except dead-letter queues. */
export const CONSUMERS: Record<string, Consumer> = {
  MSG_EXTRACT_SNAPSHOT: consumeExtract,
  MSG_EXTRACT_SNAPSHOT_PROCESSING: consumeEvent,
  MSG_EXTRACT_SNAPSHOT_PROGRESS: consumeEvent,
  MSG_EXTRACT_SNAPSHOT_SUCCESS: consumeEvent,
  MSG_EXTRACT_SNAPSHOT_ERROR: consumeEvent,
  MSG_TRANSCODE: consumeTranscode,
  MSG_TRANSCODE_PROCESSING: consumeTranscodeEvent,
  MSG_TRANSCODE_PROGRESS: consumeTranscodeEvent,
  MSG_TRANSCODE_SUCCESS: consumeTranscodeEvent,
  MSG_TRANSCODE_ERROR: consumeTranscodeEvent,
  MSG_IMPORT_VIDEO: consumeImport,
  MSG_IMPORT_VIDEO_PROCESSING: consumeImportEvent,
  MSG_IMPORT_VIDEO_PROGRESS: consumeImportEvent,
  MSG_IMPORT_VIDEO_SUCCESS: consumeImportEvent,
  MSG_IMPORT_VIDEO_ERROR: consumeImportEvent,
  MSG_DELIVER_WEBHOOK: consumeWebhook,
  MSG_REQUEST_GENERATION: consumeGenerationRequest,
};

/** Envelope type → consumer, for dead-letter queues (messages that exhausted their retries). */
export const DLQ_CONSUMERS: Record<string, Consumer> = {
  MSG_EXTRACT_SNAPSHOT: consumeExtractDeadLetter,
  MSG_TRANSCODE: consumeTranscodeDeadLetter,
  MSG_IMPORT_VIDEO: consumeImportDeadLetter,
  MSG_DELIVER_WEBHOOK: consumeWebhookDeadLetter,
  MSG_REQUEST_GENERATION: consumeGenerationRequestDeadLetter,
};

function envelopeType(body: unknown): string | undefined {
  return body && typeof body === "object" && typeof (body as { type?: unknown }).type === "string"
    ? (body as { type: string }).type
    : undefined;
}

/** `queue()` export of the Worker. */
export async function handleQueue(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    createLogger({ queue: batch.queue }).error("server misconfigured: batch retried", { problems: err.problems });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  const log = createLogger({ queue: batch.queue }, { minLevel: config.logLevel });
  const deps = createDeps(env, config, log);
  const deadLetter = batch.queue.endsWith(DLQ_SUFFIX);
  const consumers = deadLetter ? DLQ_CONSUMERS : CONSUMERS;
  for (const message of batch.messages) {
    const type = envelopeType(message.body);
    const mlog = log.child({ messageId: message.id, type, deliveries: message.attempts });
    const consumer = type ? consumers[type] : undefined;
    if (!consumer) {
      if (deadLetter) mlog.error("dead-lettered message of an unhandled type dropped");
      else mlog.warn("message of unknown type dropped");
      message.ack();
      continue;
    }
    try {
      await consumer(message, { ...deps, log: mlog });
    } catch (err) {
      mlog.error("message failed; retrying", errorFields(err));
      message.retry();
    }
  }
}
