/**
 * Queues the "confirm your email address" email (MSG_SEND_EMAIL_VERIFICATION, schema/messages/account-email.ts)
 * that better-auth asks for on sign-up and on `POST /api/auth/send-verification-email`
 * (`emailVerification.sendVerificationEmail` in edge-api/src/auth.ts). The email consumer renders and sends
 * it through Postmark (or records it locally in `account_emails`), deduplicating on the new `emailId`.
 */
import { sendEmailVerificationMessage } from "../../../../schema/messages/account-email.ts";
import { EmailMessage } from "../../../../schema/messages/email.ts";
import type { Env } from "../../env.ts";
import type { Logger } from "../../../../runtime/log.ts";

/**
 * @param env uses `EMAIL_QUEUE`
 * @param log logger of the request
 * @param to the user: id and address (the name is deliberately not sent)
 * @param verificationUrl better-auth's `/api/auth/verify-email?token=…` link
 * @param expiresInSeconds lifetime of the link's token, seconds
 * @returns the queued message
 * @throws the queue's send error, or ZodError for a message off the contract (better-auth answers 500)
 */
export async function sendVerificationEmail(
  env: Pick<Env, "EMAIL_QUEUE">,
  log: Logger,
  to: { id: string; email: string },
  verificationUrl: string,
  expiresInSeconds: number,
): Promise<EmailMessage> {
  const message = EmailMessage.parse(
    sendEmailVerificationMessage({
      emailId: crypto.randomUUID(),
      userId: to.id,
      to: to.email,
      verificationUrl,
      expiresAt: new Date(Date.now() + expiresInSeconds * 1000).toISOString(),
    }),
  );
  await env.EMAIL_QUEUE.send(message);
  log.info("verification email queued", { userId: to.id });
  return message;
}
