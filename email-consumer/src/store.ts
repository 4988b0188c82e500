/**
 * Deduplication of emails in D1 (`emails` table, unique on (video_id, attempt, outcome)), with drizzle.
 *
 * Lifecycle of a row: `sending` → `sent` (Postmark accepted it) or `failed` (Postmark refused or timed
 * out; a later delivery may claim it again). In record mode (no Postmark token) the row is inserted
 * directly as `recorded`. `sent` and `recorded` are final: a redelivered message is acked without sending.
 *
 * A row in `sending` is a *lease*: while it is younger than the lease duration another delivery of the
 * same message is assumed to be in flight and backs off; once older, the previous try is assumed to have
 * crashed and the row can be claimed again. Claiming is a compare-and-set `UPDATE ... WHERE status ...
 * RETURNING`, so two concurrent redeliveries cannot both win.
 *
 * Remaining duplicate window (Postmark's `POST /email` has no idempotency key): Postmark accepted the email
 * but the Worker died, or D1 failed, before the row became `sent`. A redelivery after the lease then sends
 * the email a second time. We accept that narrow window rather than risk never sending.
 */
import { and, eq, inArray, lte, or, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { emails } from "../../schema/db.ts";

/** The deduplication key: one email per video attempt and outcome. */
export interface EmailKey {
  videoId: string;
  attempt: number;
  outcome: "success" | "error";
}

/** What is stored about the email itself. */
export interface EmailContent {
  to: string;
  subject: string;
  textBody: string;
}

/** The result of {@link claimEmail}. */
export type ClaimResult =
  /** This delivery owns the row (now in the requested status) and must send (or has recorded) the email. */
  | { kind: "claimed"; id: string; previousStatus: "new" | "sending" | "failed" }
  /** The email was already sent or recorded: ack without sending. */
  | { kind: "done"; id: string; status: "sent" | "recorded" }
  /** Another delivery holds a fresh `sending` lease: retry this message later. */
  | { kind: "in-flight"; id: string; retryAfterSeconds: number };

const nowMs = sql`(unixepoch('subsec') * 1000)`;

function db(d1: D1Database) {
  return drizzle(d1);
}

/**
 * Inserts the email row, or takes over an existing one left in `failed` or in a stale `sending`.
 * @param d1 the D1 binding
 * @param key the deduplication key
 * @param content recipient, subject, text (stored for audit and for record mode)
 * @param status `sending` before a Postmark call, `recorded` in record mode
 * @param leaseMs how long a `sending` row is considered in flight
 */
export async function claimEmail(
  d1: D1Database,
  key: EmailKey,
  content: EmailContent,
  status: "sending" | "recorded",
  leaseMs: number,
): Promise<ClaimResult> {
  const orm = db(d1);
  const inserted = await orm
    .insert(emails)
    .values({ id: crypto.randomUUID(), ...key, ...content, status })
    .onConflictDoNothing()
    .returning({ id: emails.id });
  const created = inserted[0];
  if (created) return { kind: "claimed", id: created.id, previousStatus: "new" };

  const existing = await findEmail(d1, key);
  if (!existing) throw new Error("emails row vanished after an insert conflict");
  if (existing.status === "sent" || existing.status === "recorded") {
    return { kind: "done", id: existing.id, status: existing.status };
  }

  const taken = await orm
    .update(emails)
    .set({ ...content, status, updatedAt: nowMs })
    .where(
      and(
        eq(emails.id, existing.id),
        or(
          eq(emails.status, "failed"),
          and(eq(emails.status, "sending"), lte(emails.updatedAt, sql`(unixepoch('subsec') * 1000 - ${leaseMs})`)),
        ),
      ),
    )
    .returning({ id: emails.id });
  if (taken[0]) return { kind: "claimed", id: existing.id, previousStatus: existing.status };

  // Lost the race, or the lease is fresh: look again to tell "done meanwhile" from "in flight".
  const current = await findEmail(d1, key);
  if (current && (current.status === "sent" || current.status === "recorded")) {
    return { kind: "done", id: current.id, status: current.status };
  }
  const since = current ? Date.now() - current.updatedAt.getTime() : 0;
  const remaining = Math.ceil((leaseMs - Math.max(0, since)) / 1000);
  return {
    kind: "in-flight",
    id: existing.id,
    retryAfterSeconds: Math.min(Math.max(remaining, 1), Math.ceil(leaseMs / 1000)),
  };
}

/** Reads the row of a key, or undefined. */
export async function findEmail(d1: D1Database, key: EmailKey) {
  const rows = await db(d1)
    .select()
    .from(emails)
    .where(and(eq(emails.videoId, key.videoId), eq(emails.attempt, key.attempt), eq(emails.outcome, key.outcome)))
    .limit(1);
  return rows[0];
}

/** Marks a claimed row `sent` with Postmark's MessageID. */
export async function markSent(d1: D1Database, id: string, providerMessageId: string): Promise<void> {
  await db(d1)
    .update(emails)
    .set({ status: "sent", providerMessageId, lastError: null, updatedAt: nowMs })
    .where(and(eq(emails.id, id), inArray(emails.status, ["sending", "failed"])));
}

/** Marks a claimed row `failed` with the error (truncated), so that a later delivery may claim it again. */
export async function markFailed(d1: D1Database, id: string, lastError: string): Promise<void> {
  await db(d1)
    .update(emails)
    .set({ status: "failed", lastError: lastError.slice(0, 2000), updatedAt: nowMs })
    .where(and(eq(emails.id, id), eq(emails.status, "sending")));
}
