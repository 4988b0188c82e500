/**
 * Email templates: pure functions from a validated email message (`MSG_SEND_SNAPSHOT_EXTRACTION_*`,
 * `MSG_SEND_VIDEO_IMPORT_ERROR`, `MSG_SEND_VIDEO_GENERATION_ERROR`, `MSG_SEND_TRANSCODE_*`,
 * `MSG_SEND_EMAIL_VERIFICATION`) to `{subject, textBody, htmlBody}`, one module per email kind over one
 * layout (./layout.ts). No I/O, no clock: the same message always renders the same email, which is what
 * makes the D1 row of a redelivered message match the first one.
 *
 * Every value coming from the message is escaped in the HTML body and stripped of control characters in the
 * subject. Every string a user chose (name, filename) or that can carry text derived from their file (error
 * texts) goes through `userText` (./text.ts): one line (or lines for the error description), bounded to
 * `USER_TEXT_LIMITS`, with URL-looking parts defanged so that no mail client turns attacker text into a
 * link. The verification email carries no user-chosen text at all.
 */
import type { EmailMessage } from "../../../schema/messages/email.ts";
import { renderErrorEmail, renderSuccessEmail } from "./extraction.ts";
import { renderGenerationErrorEmail } from "./generation.ts";
import { renderImportErrorEmail } from "./import.ts";
import type { RenderedEmail } from "./layout.ts";
import { renderTranscodeErrorEmail, renderTranscodeSuccessEmail } from "./transcode.ts";
import { renderVerificationEmail } from "./verification.ts";

/** Renders the email of any message type of the `vidsnap-email` queue. */
export function renderEmail(message: EmailMessage): RenderedEmail {
  switch (message.type) {
    case "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS":
      return renderSuccessEmail(message);
    case "MSG_SEND_SNAPSHOT_EXTRACTION_ERROR":
      return renderErrorEmail(message);
    case "MSG_SEND_VIDEO_IMPORT_ERROR":
      return renderImportErrorEmail(message);
    case "MSG_SEND_VIDEO_GENERATION_ERROR":
      return renderGenerationErrorEmail(message);
    case "MSG_SEND_TRANSCODE_SUCCESS":
      return renderTranscodeSuccessEmail(message);
    case "MSG_SEND_TRANSCODE_ERROR":
      return renderTranscodeErrorEmail(message);
    case "MSG_SEND_EMAIL_VERIFICATION":
      return renderVerificationEmail(message);
  }
}
