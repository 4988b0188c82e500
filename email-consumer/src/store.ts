/**
 * The email tables as delivery stores (runtime/delivery-store.ts): `emails`, one row per (video, job,
 * attempt, outcome), and `account_emails`, one row per `emailId` (address verification). A row is claimed as
 * `sending` before Postmark is called, then `sent` with Postmark's MessageID or `failed` (a later delivery
 * of the message may claim it again). In record mode (no Postmark token) the row is claimed directly as
 * `recorded`. `sent` and `recorded` are final.
 */
import { and, eq, type SQL } from "drizzle-orm";
import { deliveryStore } from "../../runtime/delivery-store.ts";
import { accountEmails, emails } from "../../schema/db.ts";

/** The deduplication key: one email per (video, job, attempt, outcome). */
export interface EmailKey {
  videoId: string;
  /** '' for the video's extraction; the transcode id for a transcode. */
  jobId: string;
  attempt: number;
  outcome: "success" | "error";
}

/** What is stored about the email itself (for audit and for record mode). */
export interface EmailContent {
  to: string;
  subject: string;
  textBody: string;
}

/** Statuses, lease and error column shared by both email tables (the same columns in `emails` and `account_emails`). */
const EMAIL_DELIVERY = {
  status: "status",
  final: ["sent", "recorded"],
  sent: "sent",
  retry: "failed",
  failed: "failed",
  lease: { since: "updatedAt", status: "sending" },
  updatedAt: "updatedAt",
  lastError: "lastError",
  maxErrorLength: 2000,
} as const;

export const emailStore = deliveryStore({ table: emails, ...EMAIL_DELIVERY });

/** The condition selecting the row of `key`. */
export function emailWhere(key: EmailKey): SQL {
  return and(eq(emails.videoId, key.videoId), eq(emails.jobId, key.jobId), eq(emails.attempt, key.attempt), eq(emails.outcome, key.outcome))!;
}

/** The `account_emails` store: same statuses and lease as {@link emailStore}, keyed by the row id (`emailId`). */
export const accountEmailStore = deliveryStore({ table: accountEmails, ...EMAIL_DELIVERY });
