/**
 * Processing of one `vidsnap-email` batch. Every message is handled on its own and always ends acked or
 * retried individually (`message.ack()` / `message.retry()`), never through the batch:
 *
 * | situation | D1 row | message |
 * |---|---|---|
 * | invalid envelope (can never succeed) | none | ack, error log |
 * | already `sent` / `recorded` (redelivery) | unchanged | ack |
 * | another delivery holds a fresh `sending` lease | unchanged | retry after the lease |
 * | no Postmark token (local) | `recorded` | ack, `email recorded` log line |
 * | Postmark accepted | `sending` → `sent` + MessageID | ack |
 * | Postmark 422 (will never accept) | `failed` + lastError | ack, error log |
 * | Postmark error / timeout | `failed` + lastError | retry with exponential backoff |
 * | D1 error | whatever was written | retry with exponential backoff |
 */
import { SnapshotEmailMessage } from "../../schema/messages/snapshot-email.ts";
import type { EmailEnv } from "./env.ts";
import { describeError, log } from "./log.ts";
import { createPostmarkMailer, formatRecipient, isPermanentSendError, type Mailer } from "./postmark.ts";
import { claimEmail, markFailed, markSent, type EmailKey } from "./store.ts";
import { renderEmail } from "./templates.ts";

/** First retry delay after a failed send, seconds. */
export const BASE_RETRY_DELAY_SECONDS = 30;
/** Longest retry delay, seconds (15 min). */
export const MAX_RETRY_DELAY_SECONDS = 15 * 60;
/** Margin added to the Postmark timeout to get the `sending` lease. */
const LEASE_MARGIN_MS = 20_000;

/** The Postmark tag of each outcome. */
export const TAGS = { success: "snapshot-extraction-success", error: "snapshot-extraction-error" } as const;

/** What happened to one message (returned for logs and tests). */
export type MessageOutcome =
  | "invalid"
  | "duplicate"
  | "in-flight"
  | "recorded"
  | "sent"
  | "rejected"
  | "send-failed"
  | "error";

/**
 * Exponential backoff of a message that failed `attempts` times: 30 s, 60 s, 120 s... capped at 15 min.
 * @param attempts `message.attempts` (1 on the first delivery)
 */
export function retryDelaySeconds(attempts: number): number {
  const n = Number.isFinite(attempts) ? Math.max(1, Math.floor(attempts)) : 1;
  return Math.min(MAX_RETRY_DELAY_SECONDS, BASE_RETRY_DELAY_SECONDS * 2 ** Math.min(n - 1, 20));
}

/**
 * The consumer's schema: the shared message schema, plus an http(s) download link (a `javascript:` URL
 * passes `z.url()` but must never reach an email).
 */
const ConsumableMessage = SnapshotEmailMessage.superRefine((message, ctx) => {
  if (message.type !== "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS") return;
  let protocol = "";
  try {
    protocol = new URL(message.payload.downloadUrl).protocol;
  } catch {
    // z.url() already reported it.
  }
  if (protocol !== "https:" && protocol !== "http:") {
    ctx.addIssue({ code: "custom", path: ["payload", "downloadUrl"], message: "must be an http(s) URL" });
  }
});

let recordModeAnnounced = false;

/** Logs once per isolate that emails are recorded, not sent. */
function announceRecordMode(): void {
  if (recordModeAnnounced) return;
  recordModeAnnounced = true;
  log("warn", "POSTMARK_SERVER_TOKEN not set: emails are recorded in D1 table emails and the log, not sent");
}

/** Dependencies of {@link processBatch}; the mailer defaults to Postmark when a token is configured. */
export interface ProcessOptions {
  mailer?: Mailer | null;
}

/**
 * Handles every message of a batch concurrently; each one is acked or retried on its own.
 * Never throws for a single message's failure.
 * @returns the outcome of each message, in batch order
 */
export async function processBatch(
  batch: MessageBatch<unknown>,
  env: EmailEnv,
  options: ProcessOptions = {},
): Promise<MessageOutcome[]> {
  const mailer = options.mailer !== undefined ? options.mailer : env.postmark ? createPostmarkMailer(env.postmark) : null;
  if (!mailer) announceRecordMode();
  const leaseMs = (env.postmark?.timeoutSeconds ?? 0) * 1000 + LEASE_MARGIN_MS;
  return Promise.all(batch.messages.map((message) => processMessage(message, env, mailer, leaseMs)));
}

/** Handles one message; see the module documentation for the decision table. */
async function processMessage(
  message: Message<unknown>,
  env: EmailEnv,
  mailer: Mailer | null,
  leaseMs: number,
): Promise<MessageOutcome> {
  const base = { queueMessageId: message.id, deliveryAttempts: message.attempts };

  const parsed = ConsumableMessage.safeParse(message.body);
  if (!parsed.success) {
    const body = message.body as { type?: unknown } | null;
    log("error", "invalid email message dropped", {
      ...base,
      type: typeof body?.type === "string" ? body.type.slice(0, 100) : undefined,
      issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message })),
    });
    message.ack();
    return "invalid";
  }

  const msg = parsed.data;
  const p = msg.payload;
  const key: EmailKey = {
    videoId: p.videoId,
    attempt: p.attempt,
    outcome: msg.type === "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS" ? "success" : "error",
  };
  const ctx = { ...base, videoId: key.videoId, attempt: key.attempt, outcome: key.outcome };

  let claimedId: string | undefined;
  try {
    const email = renderEmail(msg);
    const claim = await claimEmail(
      env.db,
      key,
      // D1 keeps the bare address (queryable); Postmark gets the display-name form.
      { to: p.to, subject: email.subject, textBody: email.textBody },
      mailer ? "sending" : "recorded",
      leaseMs,
    );

    if (claim.kind === "done") {
      log("info", "email already handled, duplicate delivery acked", { ...ctx, status: claim.status });
      message.ack();
      return "duplicate";
    }
    if (claim.kind === "in-flight") {
      log("warn", "email being sent by another delivery, retrying later", {
        ...ctx,
        delaySeconds: claim.retryAfterSeconds,
      });
      message.retry({ delaySeconds: claim.retryAfterSeconds });
      return "in-flight";
    }

    if (!mailer) {
      log("info", "email recorded", { ...ctx, to: p.to, subject: email.subject, text: email.textBody });
      message.ack();
      return "recorded";
    }

    claimedId = claim.id;
    let messageId: string;
    try {
      ({ messageId } = await mailer.send({
        from: env.emailFrom,
        to: formatRecipient(p.to, p.name),
        subject: email.subject,
        textBody: email.textBody,
        htmlBody: email.htmlBody,
        tag: TAGS[key.outcome],
        metadata: { videoId: key.videoId.slice(0, 80), attempt: String(key.attempt), outcome: key.outcome },
      }));
    } catch (error) {
      const failure = describeError(error);
      await markFailed(env.db, claim.id, `${failure.name}: ${failure.message}`).catch((dbError: unknown) =>
        log("error", "could not mark email failed", { ...ctx, error: describeError(dbError) }),
      );
      if (isPermanentSendError(error)) {
        log("error", "Postmark rejected the email permanently, message dropped", { ...ctx, error: failure });
        message.ack();
        return "rejected";
      }
      const delaySeconds = retryDelaySeconds(message.attempts);
      log("warn", "email send failed, retrying", { ...ctx, error: failure, delaySeconds });
      message.retry({ delaySeconds });
      return "send-failed";
    }

    try {
      await markSent(env.db, claim.id, messageId);
    } catch (dbError) {
      // The email is out: retrying would send it again. Ack, and leave a trace to reconcile the row.
      log("error", "email sent but its row could not be marked sent", {
        ...ctx,
        providerMessageId: messageId,
        error: describeError(dbError),
      });
      message.ack();
      return "sent";
    }
    log("info", "email sent", { ...ctx, providerMessageId: messageId });
    message.ack();
    return "sent";
  } catch (error) {
    const delaySeconds = retryDelaySeconds(message.attempts);
    log("error", "email processing failed, retrying", {
      ...ctx,
      emailId: claimedId,
      error: describeError(error),
      delaySeconds,
    });
    message.retry({ delaySeconds });
    return "error";
  }
}
