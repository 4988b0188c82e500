/** The account's email: "confirm your email address". */
import type { SendEmailVerificationMessage } from "../../../schema/messages/account-email.ts";
import { buttonLink, htmlPage, type RenderedEmail } from "./layout.ts";
import { escapeHtml, formatExpiry } from "./text.ts";

/**
 * Renders the "confirm your email address" email: the verification link and its expiry, nothing the user
 * typed (an address signed up by someone else receives only our own words and a link to our own API).
 */
export function renderVerificationEmail(message: SendEmailVerificationMessage): RenderedEmail {
  const p = message.payload;
  const expiry = formatExpiry(p.expiresAt);
  const subject = "Confirm your email address for vidsnap";
  const textBody = [
    "Hello,",
    "",
    "Someone, probably you, created a vidsnap account with this email address.",
    "To receive emails about your videos, confirm the address by opening this link:",
    p.verificationUrl,
    "",
    `The link expires on ${expiry}. If you did not sign up, ignore this email: nothing will be sent to you.`,
    "",
    "-- vidsnap",
  ].join("\n");
  const e = escapeHtml;
  const htmlBody = htmlPage(subject, [
    "<p>Hello,</p>",
    "<p>Someone, probably you, created a vidsnap account with this email address. To receive emails about your videos, confirm the address:</p>",
    `<p>${buttonLink(p.verificationUrl, "Confirm my email address")}</p>`,
    `<p>Or copy this link: <br><span style="word-break: break-all;">${e(p.verificationUrl)}</span></p>`,
    `<p>The link expires on <strong>${e(expiry)}</strong>. If you did not sign up, ignore this email: nothing will be sent to you.</p>`,
  ]);
  return { subject, textBody, htmlBody };
}
