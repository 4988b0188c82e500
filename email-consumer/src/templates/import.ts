/** The import's email: "import by URL failed, you can retry". */
import type { SendVideoImportErrorMessage } from "../../../schema/messages/snapshot-email.ts";
import { retryEndpoint } from "./extraction.ts";
import { type RenderedEmail, renderFailureEmail, retryStep } from "./layout.ts";
import { escapeHtml, oneLine, safeFilename, USER_TEXT_LIMITS, userText } from "./text.ts";

/** The host of an import's URL (user-chosen, so only the host is shown, defanged by {@link userText}). */
function importHost(url: string): string {
  try {
    return userText(new URL(url).host, USER_TEXT_LIMITS.filename);
  } catch {
    return "the given address";
  }
}

/** Renders the "import by URL failed, you can retry" email (a retry of the video retries the import). */
export function renderImportErrorEmail(message: SendVideoImportErrorMessage): RenderedEmail {
  const p = message.payload;
  const filename = safeFilename(p.filename);
  const host = importHost(p.sourceUrl);
  return renderFailureEmail({
    subject: oneLine(`We could not import ${filename}`),
    name: p.name,
    videoId: p.videoId,
    what: {
      text: `vidsnap could not import "${filename}" from ${host} (attempt ${p.attempt}). Nothing of it was stored.`,
      html: `vidsnap could not import <strong>${escapeHtml(filename)}</strong> from ${escapeHtml(host)} (attempt ${p.attempt}). Nothing of it was stored.`,
    },
    errorMessage: p.errorMessage,
    errorDescription: p.errorDescription,
    next: retryStep(retryEndpoint(p.videoId)),
  });
}
