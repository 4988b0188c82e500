/** The generation's email: "your generator could not make the video". */
import type { SendVideoGenerationErrorMessage } from "../../../schema/messages/snapshot-email.ts";
import { type RenderedEmail, renderFailureEmail } from "./layout.ts";
import { escapeHtml, oneLine, safeFilename, USER_TEXT_LIMITS, userText } from "./text.ts";

/**
 * Renders the "generation failed" email: the generator's name and its error are untrusted text (defanged by
 * {@link userText}, escaped in HTML). There is nothing to retry: the user asks a new generation.
 */
export function renderGenerationErrorEmail(message: SendVideoGenerationErrorMessage): RenderedEmail {
  const p = message.payload;
  const filename = safeFilename(p.filename);
  const generator = userText(p.generatorName, USER_TEXT_LIMITS.filename) || "your generator";
  const e = escapeHtml;
  return renderFailureEmail({
    subject: oneLine(`Your generator could not make ${filename}`),
    name: p.name,
    videoId: p.videoId,
    what: {
      text: `The video "${filename}" asked of the generator "${generator}" was not made. Nothing of it was stored.`,
      html: `The video <strong>${e(filename)}</strong> asked of the generator <strong>${e(generator)}</strong> was not made. Nothing of it was stored.`,
    },
    errorMessage: p.errorMessage,
    errorDescription: p.errorDescription,
    next: {
      text: ["Ask a new generation with POST /v1/generations once the generator works again."],
      html: "<p>Ask a new generation with <code>POST /v1/generations</code> once the generator works again.</p>",
    },
  });
}
