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
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { backoffDelay } from "../../runtime/backoff.ts";
import type { DeliveryDb, Settlement } from "../../runtime/delivery-store.ts";
import { createLogger, errorFields, type Logger } from "../../runtime/log.ts";
import { accountEmails, emails } from "../../schema/db.ts";
import { EmailMessage } from "../../schema/messages/email.ts";
import type { EmailConfig } from "./env.ts";
import { createPostmarkMailer, formatRecipient, isPermanentSendError, type Mailer } from "./postmark.ts";
import { accountEmailStore, emailStore, emailWhere, type EmailContent, type EmailKey } from "./store.ts";
import { renderEmail } from "./templates/index.ts";
import { USER_TEXT_LIMITS, userText } from "./templates/text.ts";

/** First retry delay after a failed send, seconds. */
export const BASE_RETRY_DELAY_SECONDS = 30;
/** Longest retry delay, seconds (15 min). */
export const MAX_RETRY_DELAY_SECONDS = 15 * 60;
/** Margin added to the Postmark timeout to get the `sending` lease. */
const LEASE_MARGIN_MS = 20_000;

/** The Postmark tag of each message type. */
export const TAGS: Readonly<Record<EmailMessage["type"], string>> = {
  MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS: "snapshot-extraction-success",
  MSG_SEND_SNAPSHOT_EXTRACTION_ERROR: "snapshot-extraction-error",
  MSG_SEND_VIDEO_IMPORT_ERROR: "video-import-error",
  MSG_SEND_VIDEO_GENERATION_ERROR: "video-generation-error",
  MSG_SEND_TRANSCODE_SUCCESS: "transcode-success",
  MSG_SEND_TRANSCODE_ERROR: "transcode-error",
  MSG_SEND_EMAIL_VERIFICATION: "email-verification",
};

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
 * Delay before the next delivery of a message whose send failed: 30 s, 60 s, 120 s… capped at 15 min.
 * @param deliveries `message.attempts`, the deliveries so far (1 on the first)
 */
export function retryDelaySeconds(deliveries: number): number {
  return backoffDelay(Number.isFinite(deliveries) ? deliveries : 1, {
    base: BASE_RETRY_DELAY_SECONDS,
    max: MAX_RETRY_DELAY_SECONDS,
  });
}

/** The links of a message that become clickable in its email. */
function linksOf(message: EmailMessage): { path: (string | number)[]; url: string }[] {
  switch (message.type) {
    case "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS":
      return [{ path: ["payload", "downloadUrl"], url: message.payload.downloadUrl }];
    case "MSG_SEND_TRANSCODE_SUCCESS":
      return [
        ...message.payload.files.map((f, i) => ({ path: ["payload", "files", i, "url"], url: f.url })),
        ...(message.payload.playbackUrl ? [{ path: ["payload", "playbackUrl"], url: message.payload.playbackUrl }] : []),
      ];
    case "MSG_SEND_EMAIL_VERIFICATION":
      return [{ path: ["payload", "verificationUrl"], url: message.payload.verificationUrl }];
    default:
      return [];
  }
}

/**
 * The consumer's schema: the shared message schemas, plus http(s) links only (a `javascript:` URL passes
 * `z.url()` but must never reach an email).
 */
const ConsumableMessage = EmailMessage.superRefine((message, ctx) => {
  for (const link of linksOf(message)) {
    let protocol = "";
    try {
      protocol = new URL(link.url).protocol;
    } catch {
      // z.url() already reported it.
    }
    if (protocol !== "https:" && protocol !== "http:") ctx.addIssue({ code: "custom", path: link.path, message: "must be an http(s) URL" });
  }
});

/** Where one message's email is recorded and deduplicated, and how it is labelled. */
interface Delivery {
  /** Fields of the message's log lines. */
  logFields: Record<string, string | number>;
  /** Postmark tag and metadata. */
  tag: string;
  metadata: Record<string, string>;
  /** Display name for the `To` header (bounded, user-chosen), if any. */
  name: string | undefined;
  claim(db: DeliveryDb, content: EmailContent, recordOnly: boolean, leaseMs: number): ReturnType<typeof emailStore.claim> | ReturnType<typeof accountEmailStore.claim>;
  settle(db: DeliveryDb, id: string, settlement: Settlement, providerMessageId?: string): Promise<boolean>;
}

/** The delivery row of a message: `emails` by (video, attempt, outcome), `account_emails` by `emailId`. */
function deliveryOf(msg: EmailMessage): Delivery {
  if (msg.type === "MSG_SEND_EMAIL_VERIFICATION") {
    const p = msg.payload;
    return {
      logFields: { emailId: p.emailId, kind: "email-verification" },
      tag: TAGS[msg.type],
      metadata: { emailId: p.emailId },
      name: undefined,
      claim: (db, content, recordOnly, leaseMs) =>
        accountEmailStore.claim(db, eq(accountEmails.id, p.emailId), {
          insert: { id: p.emailId, kind: "email-verification", userId: p.userId },
          values: recordOnly ? { ...content, status: "recorded" } : content,
          leaseMs,
        }),
      settle: (db, id, settlement, providerMessageId) =>
        accountEmailStore.settle(db, eq(accountEmails.id, id), settlement, providerMessageId ? { values: { providerMessageId } } : {}),
    };
  }
  const p = msg.payload;
  const key: EmailKey = {
    videoId: p.videoId,
    jobId: "transcodeId" in p ? p.transcodeId : "",
    attempt: p.attempt,
    outcome: msg.type === "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS" || msg.type === "MSG_SEND_TRANSCODE_SUCCESS" ? "success" : "error",
  };
  return {
    logFields: { videoId: key.videoId, ...(key.jobId ? { jobId: key.jobId } : {}), attempt: key.attempt, outcome: key.outcome },
    tag: TAGS[msg.type],
    metadata: {
      videoId: key.videoId.slice(0, 80),
      ...(key.jobId ? { transcodeId: key.jobId.slice(0, 80) } : {}),
      attempt: String(key.attempt),
      outcome: key.outcome,
    },
    name: p.name === undefined ? undefined : userText(p.name, USER_TEXT_LIMITS.name),
    claim: (db, content, recordOnly, leaseMs) =>
      emailStore.claim(db, emailWhere(key), {
        insert: { id: crypto.randomUUID(), ...key },
        values: recordOnly ? { ...content, status: "recorded" } : content,
        leaseMs,
      }),
    settle: (db, id, settlement, providerMessageId) =>
      emailStore.settle(db, eq(emails.id, id), settlement, providerMessageId ? { values: { providerMessageId } } : {}),
  };
}

let recordModeAnnounced = false;

/** Logs once per isolate that emails are recorded, not sent. */
function announceRecordMode(log: Logger): void {
  if (recordModeAnnounced) return;
  recordModeAnnounced = true;
  log.warn("POSTMARK_SERVER_TOKEN not set: emails are recorded in D1 tables emails / account_emails and the log, not sent");
}

/** Dependencies of {@link processBatch}; the mailer defaults to Postmark when a token is configured. */
export interface ProcessOptions {
  mailer?: Mailer | null;
  /** Logger of the batch; each message's lines bind its `messageId`. */
  log?: Logger;
}

/**
 * Handles every message of a batch concurrently; each one is acked or retried on its own.
 * Never throws for a single message's failure.
 * @returns the outcome of each message, in batch order
 */
export async function processBatch(
  batch: MessageBatch<unknown>,
  config: EmailConfig,
  options: ProcessOptions = {},
): Promise<MessageOutcome[]> {
  const log = options.log ?? createLogger();
  const mailer =
    options.mailer !== undefined ? options.mailer : config.postmark ? createPostmarkMailer(config.postmark) : null;
  if (!mailer) announceRecordMode(log);
  const leaseMs = (config.postmark?.timeoutSeconds ?? 0) * 1000 + LEASE_MARGIN_MS;
  const context: BatchContext = { config, mailer, leaseMs, db: drizzle(config.db) };
  return Promise.all(
    batch.messages.map((message) => processMessage(message, context, log.child({ messageId: message.id }))),
  );
}

/** What every message of a batch is sent with. */
interface BatchContext {
  config: EmailConfig;
  mailer: Mailer | null;
  leaseMs: number;
  db: DeliveryDb;
}

/** `Name: message` of a thrown value, as stored in the row's last error. */
function errorText(error: unknown): string {
  const { name, message } = errorFields(error).error;
  return `${String(name)}: ${String(message)}`;
}

/** Handles one message; see the module documentation for the decision table. */
async function processMessage(message: Message<unknown>, context: BatchContext, log: Logger): Promise<MessageOutcome> {
  const { config, mailer, leaseMs, db } = context;
  const deliveries = message.attempts;

  const parsed = ConsumableMessage.safeParse(message.body);
  if (!parsed.success) {
    const body = message.body as { type?: unknown } | null;
    log.error("invalid email message dropped", {
      deliveries,
      type: typeof body?.type === "string" ? body.type.slice(0, 100) : undefined,
      issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message })),
    });
    message.ack();
    return "invalid";
  }

  const msg = parsed.data;
  const p = msg.payload;
  const delivery = deliveryOf(msg);
  const mlog = log.child({ deliveries, ...delivery.logFields });

  let claimedId: string | undefined;
  try {
    const email = renderEmail(msg);
    // D1 keeps the bare address (queryable); Postmark gets the display-name form.
    const content = { to: p.to, subject: email.subject, textBody: email.textBody };
    const claim = await delivery.claim(db, content, !mailer, leaseMs);

    if (claim.kind === "gone") throw new Error("emails row vanished after an insert conflict");
    if (claim.kind === "done") {
      mlog.info("email already handled, duplicate delivery acked", { status: claim.status });
      message.ack();
      return "duplicate";
    }
    if (claim.kind === "in-flight") {
      mlog.warn("email being sent by another delivery, retrying later", { delaySeconds: claim.retryAfterSeconds });
      message.retry({ delaySeconds: claim.retryAfterSeconds });
      return "in-flight";
    }

    if (!mailer) {
      mlog.info("email recorded", { to: p.to, subject: email.subject, text: email.textBody });
      message.ack();
      return "recorded";
    }

    claimedId = claim.row.id;
    const claimed = claim.row.id;
    let messageId: string;
    try {
      ({ messageId } = await mailer.send({
        from: config.emailFrom,
        to: formatRecipient(p.to, delivery.name),
        subject: email.subject,
        textBody: email.textBody,
        htmlBody: email.htmlBody,
        tag: delivery.tag,
        metadata: delivery.metadata,
      }));
    } catch (error) {
      await delivery
        .settle(db, claimed, { sent: false, error: errorText(error) })
        .catch((dbError: unknown) => mlog.error("could not mark email failed", errorFields(dbError)));
      if (isPermanentSendError(error)) {
        mlog.error("Postmark rejected the email permanently, message dropped", errorFields(error));
        message.ack();
        return "rejected";
      }
      const delaySeconds = retryDelaySeconds(deliveries);
      mlog.warn("email send failed, retrying", { ...errorFields(error), delaySeconds });
      message.retry({ delaySeconds });
      return "send-failed";
    }

    try {
      await delivery.settle(db, claimed, { sent: true }, messageId);
    } catch (dbError) {
      // The email is out: retrying would send it again. Ack, and leave a trace to reconcile the row.
      mlog.error("email sent but its row could not be marked sent", {
        providerMessageId: messageId,
        ...errorFields(dbError),
      });
      message.ack();
      return "sent";
    }
    mlog.info("email sent", { providerMessageId: messageId });
    message.ack();
    return "sent";
  } catch (error) {
    const delaySeconds = retryDelaySeconds(deliveries);
    mlog.error("email processing failed, retrying", { emailId: claimedId, ...errorFields(error), delaySeconds });
    message.retry({ delaySeconds });
    return "error";
  }
}
