/**
 * Message MSG_SEND_EMAIL_VERIFICATION: API → email service, the "confirm your address" email better-auth
 * asks for at sign-up and on `POST /api/auth/send-verification-email`. The email service deduplicates on
 * `emailId` (one id per request for an email, so a redelivered message sends nothing twice while a second
 * request sends a second email). No user-chosen text travels in it: not the name, only the address.
 */
import { z } from "zod";
import { API_SERVICE, EMAIL_SERVICE, envelope, envelopeBuilder } from "./envelope.ts";

export const SendEmailVerificationMessage = envelope(
  "MSG_SEND_EMAIL_VERIFICATION",
  [API_SERVICE],
  EMAIL_SERVICE,
  z.object({
    /** Deduplication key of this email (a UUID made when the email was asked for). */
    emailId: z.uuid(),
    userId: z.string().min(1).max(100),
    to: z.email().max(254),
    /** better-auth's `GET /api/auth/verify-email?token=…` link; valid until `expiresAt`. */
    verificationUrl: z.url().max(2000),
    /** ISO 8601 time the link stops working. */
    expiresAt: z.iso.datetime(),
  }),
);
export type SendEmailVerificationMessage = z.infer<typeof SendEmailVerificationMessage>;

export const sendEmailVerificationMessage = envelopeBuilder(SendEmailVerificationMessage);
