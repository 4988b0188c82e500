/** The extraction's emails: "your snapshots are ready" and "extraction failed, you can retry". */
import type {
  SendSnapshotExtractionErrorMessage,
  SendSnapshotExtractionSuccessMessage,
} from "../../../schema/messages/snapshot-email.ts";
import { buttonLink, htmlDocument, type RenderedEmail, renderFailureEmail, retryStep, textDocument } from "./layout.ts";
import { escapeHtml, formatBytes, formatExpiry, oneLine, plural, safeFilename } from "./text.ts";

/** `POST /v1/videos/{id}/retry`, the API call that starts a new extraction attempt. */
export function retryEndpoint(videoId: string): string {
  return `POST /v1/videos/${encodeURIComponent(videoId)}/retry`;
}

/** Renders the "your snapshots are ready" email, with the damage warnings of a partly decoded file. */
export function renderSuccessEmail(message: SendSnapshotExtractionSuccessMessage): RenderedEmail {
  const p = message.payload;
  const filename = safeFilename(p.filename);
  const images = plural(p.imageCount, "image", "images");
  const size = formatBytes(p.zipSizeBytes);
  const expiry = formatExpiry(p.downloadUrlExpiresAt);
  const subject = oneLine(`Your snapshots of ${filename} are ready`);
  // A damaged file: what was met while decoding (processor sentences, bounded by the schema; one line each).
  const warnings = (p.warnings ?? []).map((w) => oneLine(w)).filter(Boolean);
  const warningIntro = "The video file is damaged, so some images may be missing:";

  const textBody = textDocument(
    p.name,
    [
      `vidsnap extracted ${images} from "${filename}" (attempt ${p.attempt}).`,
      ...(warnings.length > 0 ? ["", warningIntro, ...warnings.map((w) => `- ${w}`), ""] : []),
      `Download the ZIP archive (${size}):`,
      p.downloadUrl,
      "",
      `This link expires on ${expiry}.`,
    ],
    p.videoId,
  );

  const e = escapeHtml;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>vidsnap extracted <strong>${e(images)}</strong> from <strong>${e(filename)}</strong> (attempt ${p.attempt}).</p>`,
      ...(warnings.length > 0 ? [`<p>${e(warningIntro)}</p><ul>${warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>`] : []),
      `<p>${buttonLink(p.downloadUrl, `Download the ZIP (${size})`)}</p>`,
      `<p>Or copy this link: <br><span style="word-break: break-all;">${e(p.downloadUrl)}</span></p>`,
      `<p>This link expires on <strong>${e(expiry)}</strong>.</p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

/** Renders the "extraction failed, you can retry" email. */
export function renderErrorEmail(message: SendSnapshotExtractionErrorMessage): RenderedEmail {
  const p = message.payload;
  const filename = safeFilename(p.filename);
  return renderFailureEmail({
    subject: oneLine(`We could not extract snapshots from ${filename}`),
    name: p.name,
    videoId: p.videoId,
    what: {
      text: `vidsnap could not extract snapshots from "${filename}" (attempt ${p.attempt}).`,
      html: `vidsnap could not extract snapshots from <strong>${escapeHtml(filename)}</strong> (attempt ${p.attempt}).`,
    },
    errorMessage: p.errorMessage,
    errorDescription: p.errorDescription,
    next: retryStep(retryEndpoint(p.videoId)),
  });
}
