/**
 * The Postmark seam: a {@link Mailer} backed by the official `postmark` client (fetch-based, runs in
 * workerd). `requestHost` comes from `POSTMARK_API_HOST`, so tests and the local stack can point it at a
 * Postmark-speaking server on 127.0.0.1 (plain HTTP); production talks HTTPS to api.postmarkapp.com.
 */
import { Models, ServerClient } from "postmark";
import type { PostmarkConfig } from "./env.ts";

/** One email to send. */
export interface OutgoingEmail {
  from: string;
  /** Already formatted recipient, e.g. `"Ada" <ada@example.com>`. */
  to: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  /** Postmark tag (one per outcome), for stats and filtering. */
  tag: string;
  /** Postmark metadata (keys up to 20 characters, values up to 80), echoed in webhooks. */
  metadata: Record<string, string>;
}

/** What a provider returns for an accepted email. */
export interface SendResult {
  messageId: string;
}

/** Sends emails; rejects when the provider did not accept the email. */
export interface Mailer {
  send(email: OutgoingEmail): Promise<SendResult>;
}

/** Postmark's transactional message stream. */
export const MESSAGE_STREAM = "outbound";

/**
 * Creates a {@link Mailer} sending through Postmark's `POST /email`.
 * @param config token, host, scheme and timeout (seconds) of the API calls
 */
export function createPostmarkMailer(config: PostmarkConfig): Mailer {
  const client = new ServerClient(config.serverToken, {
    useHttps: config.useHttps,
    requestHost: config.requestHost,
    timeout: config.timeoutSeconds,
  });
  return {
    async send(email) {
      const response = await client.sendEmail({
        From: email.from,
        To: email.to,
        Subject: email.subject,
        TextBody: email.textBody,
        HtmlBody: email.htmlBody,
        MessageStream: MESSAGE_STREAM,
        Tag: email.tag,
        Metadata: email.metadata,
        // Link tracking would wrap the presigned download URL in a Postmark redirect; opens are not our business.
        TrackLinks: Models.LinkTrackingOptions.None,
        TrackOpens: false,
      });
      if (response.ErrorCode !== 0 || !response.MessageID) {
        throw new PostmarkRejectedError(response.Message || "Postmark did not accept the email", response.ErrorCode);
      }
      return { messageId: response.MessageID };
    },
  };
}

/** A 2xx answer from Postmark that still carries an error code (should not happen, handled anyway). */
export class PostmarkRejectedError extends Error {
  override name = "PostmarkRejectedError";
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/**
 * Whether retrying cannot help: Postmark answers 422 for requests it will never accept as they are
 * (invalid recipient address, inactive/bounced recipient, unverified sender...). Timeouts, network errors,
 * 401 (token being rotated), 429 and 5xx are worth retrying.
 */
export function isPermanentSendError(error: unknown): boolean {
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return statusCode === 422;
}

/**
 * Formats a recipient for the `To` field: `"Name" <address>` (quotes and backslashes escaped, control
 * characters removed) or the bare address.
 */
export function formatRecipient(address: string, name?: string): string {
  const clean = (name ?? "").replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  if (clean === "") return address;
  return `"${clean.replace(/["\\]/g, "\\$&")}" <${address}>`;
}
