/**
 * Reads the emails the email consumer sent or recorded from the local D1 database of a stack's persisted
 * state (table `emails` for a video's outcome emails, `account_emails` for verification emails: the local
 * outbox), and completes an address verification from such an email, as its recipient would.
 */
import path from "node:path";
import type { RecordedRequest } from "./postmark-control.ts";
import { queryLocalD1 } from "../wrangler.ts";

export interface EmailRow {
  outcome: "success" | "error";
  attempt: number;
  to: string;
  subject: string;
  status: string;
  text_body: string;
}

/**
 * @param dataDir the stack's data folder (default `<repo>/.data`)
 * @param videoId a video id (UUID; anything else is refused to keep it out of the SQL text)
 * @throws Error when the id is not a UUID or wrangler fails
 */
export async function readEmails(dataDir: string, videoId: string): Promise<EmailRow[]> {
  if (!/^[0-9a-f-]{36}$/i.test(videoId)) throw new Error(`not a video id: ${videoId}`);
  return queryLocalD1<EmailRow>(
    path.join(dataDir, "wrangler"),
    `SELECT outcome, attempt, "to", subject, status, text_body FROM emails WHERE video_id = '${videoId}' ORDER BY created_at`,
  );
}

/** The address-verification link in an email body (better-auth's `/api/auth/verify-email?token=…`), if any. */
export function verificationLinkIn(text: string): string | undefined {
  return /https?:\/\/\S+\/api\/auth\/verify-email\?token=\S+/.exec(text)?.[0];
}

/**
 * The newest verification email recorded for `email` in the local outbox (record mode: no Postmark token).
 * @param dataDir the stack's data folder
 * @param email the address (a plain address; anything else is refused to keep it out of the SQL text)
 * @returns its text body, or undefined when none is recorded yet
 * @throws Error when the address is not plain or wrangler fails
 */
export async function readVerificationEmail(dataDir: string, email: string): Promise<string | undefined> {
  if (!/^[a-z0-9._+-]+@[a-z0-9.-]+$/i.test(email)) throw new Error(`not a plain email address: ${email}`);
  const rows = await queryLocalD1<{ text_body: string }>(
    path.join(dataDir, "wrangler"),
    `SELECT text_body FROM account_emails WHERE kind = 'email-verification' AND "to" = '${email.toLowerCase()}' ORDER BY created_at DESC LIMIT 1`,
  );
  return rows[0]?.text_body;
}

/**
 * The newest verification email a Postmark-speaking stand-in (./postmark-server.ts) accepted for `email`.
 * @param requests what the stand-in received (`postmarkRequests(host, token)`)
 * @returns its text body, or undefined when none arrived yet
 */
export function verificationEmailIn(requests: readonly RecordedRequest[], email: string): string | undefined {
  const sent = requests
    .filter((r) => r.status === 200)
    .map((r) => r.body as { To?: string; Tag?: string; TextBody?: string })
    .filter((b) => b.Tag === "email-verification" && (b.To ?? "").toLowerCase().includes(email.toLowerCase()));
  return sent.at(-1)?.TextBody;
}

/**
 * Verifies an address the way its owner does: waits for the verification email, then opens its link.
 * @param read returns the newest verification email body, or undefined while none arrived
 * @param timeoutMs how long to wait for the email, ms
 * @throws Error when no email with a link arrives in time, or the link is refused (better-auth answers a
 *   redirect to the callback URL, with `?error=…` when the token is bad)
 */
export async function verifyAddress(read: () => Promise<string | undefined>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let link: string | undefined;
  while (!(link = verificationLinkIn((await read().catch(() => undefined)) ?? ""))) {
    if (Date.now() > deadline) throw new Error("no verification email arrived");
    await new Promise((r) => setTimeout(r, 250));
  }
  const res = await fetch(link, { redirect: "manual" });
  await res.body?.cancel();
  const location = res.headers.get("location") ?? "";
  if (res.status >= 400 || /[?&]error=/.test(location)) throw new Error(`verification link refused: ${res.status} ${location}`);
}
