/**
 * Email templates: pure functions from a validated email message (`MSG_SEND_SNAPSHOT_EXTRACTION_*`,
 * `MSG_SEND_VIDEO_IMPORT_ERROR`, `MSG_SEND_TRANSCODE_*`, `MSG_SEND_EMAIL_VERIFICATION`) to `{subject, textBody, htmlBody}`. No I/O, no clock: the same message
 * always renders the same email, which is what makes the D1 row of a redelivered message match the first one.
 *
 * Every value coming from the message is escaped in the HTML body ({@link escapeHtml}) and stripped of
 * control characters in the subject. Every string a user chose (name, filename) or that can carry text
 * derived from their file (error texts) goes through {@link userText}: one line (or lines for the error
 * description), bounded to {@link USER_TEXT_LIMITS}, with URL-looking parts defanged so that no mail client
 * turns attacker text into a link. The verification email carries no user-chosen text at all.
 */
import type { SendEmailVerificationMessage } from "../../schema/messages/account-email.ts";
import type { EmailMessage } from "../../schema/messages/email.ts";
import type {
  SendSnapshotExtractionErrorMessage,
  SendSnapshotExtractionSuccessMessage,
  SendVideoGenerationErrorMessage,
  SendVideoImportErrorMessage,
} from "../../schema/messages/snapshot-email.ts";
import type { SendTranscodeErrorMessage, SendTranscodeSuccessMessage } from "../../schema/messages/transcode-email.ts";

/** A rendered email, ready for Postmark (`Subject`, `TextBody`, `HtmlBody`). */
export interface RenderedEmail {
  subject: string;
  textBody: string;
  htmlBody: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes `& < > " '` so that a value is safe in HTML text and in double- or single-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Replaces control characters (CR, LF, tabs...) with spaces and trims: a subject is one line. */
export function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").replace(/\s{2,}/g, " ").trim();
}

/** Longest rendering of each user-supplied string, in characters (code points), ellipsis included. */
export const USER_TEXT_LIMITS = { name: 60, filename: 100, errorMessage: 300, errorDescription: 1000 } as const;

/**
 * A user-supplied string made safe to show in an email (before HTML escaping, which still applies):
 * control and bidirectional-override characters removed (one line unless `multiline`), `scheme://` shown
 * as `scheme[:]//` and `www.` as `www[.]` so mail clients do not auto-link it, and cut to `max` characters
 * with a trailing `…`.
 * @param value the raw string from the message
 * @param max the longest result, in characters (code points)
 * @param multiline keep line breaks (collapsed to at most one blank line) instead of joining into one line
 */
export function userText(value: string, max: number, multiline = false): string {
  // eslint-disable-next-line no-control-regex
  const bidi = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  let text = value.replace(bidi, "");
  text = multiline
    ? text
        .replace(/\r\n?/g, "\n")
        // eslint-disable-next-line no-control-regex
        .replace(/[\u0000-\u0009\u000b-\u001f\u007f\u2028\u2029]+/g, " ")
        .replace(/\n{3,}/g, "\n\n")
        .trim()
    : oneLine(text);
  text = text.replace(/([a-z][a-z0-9+.-]*):\/\//gi, "$1[:]//").replace(/\bwww\./gi, "www[.]");
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("").trimEnd()}…`;
}

/**
 * Human-readable size with decimal (SI) units: `999 bytes`, `1.5 kB`, `12.3 MB`, `1.02 GB`.
 * Three significant digits above 1 kB.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "unknown size";
  if (bytes < 1000) return bytes === 1 ? "1 byte" : `${Math.round(bytes)} bytes`;
  const units = ["kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  // 999.95 kB would print as "1000 kB": move up one unit instead.
  if (Number(value.toPrecision(3)) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  const text = value.toFixed(digits).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  return `${text} ${units[unit]}`;
}

/**
 * Formats an ISO timestamp as `2026-05-03 14:00 UTC`; an unparseable value is returned as is (the message
 * schema only guarantees a string), so the email still says something true.
 */
export function formatExpiry(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return value;
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** `POST /v1/videos/{id}/retry`, the API call that starts a new extraction attempt. */
export function retryEndpoint(videoId: string): string {
  return `POST /v1/videos/${encodeURIComponent(videoId)}/retry`;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function greeting(name: string | undefined): string {
  const clean = name === undefined ? "" : userText(name, USER_TEXT_LIMITS.name);
  return clean === "" ? "Hello," : `Hello ${clean},`;
}

/** Only http(s) URLs become links; anything else is shown as text (defence in depth, the consumer rejects them). */
function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}

/** The plain-text body: greeting, `lines`, then the video id and the signature. */
function textDocument(name: string | undefined, lines: string[], videoId: string): string {
  return [greeting(name), "", ...lines, "", `Video id: ${videoId}`, "", "-- vidsnap"].join("\n");
}

/** The HTML body: greeting, `paragraphs` (already escaped), then the video id and why the email came. */
function htmlDocument(title: string, name: string | undefined, paragraphs: string[], videoId: string): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; line-height: 1.5; color: #1f2328;">',
    `<p>${escapeHtml(greeting(name))}</p>`,
    ...paragraphs,
    `<p style="color: #656d76;">Video id: <code>${escapeHtml(videoId)}</code></p>`,
    '<p style="color: #656d76; font-size: 12px;">You receive this email because you uploaded a video to vidsnap.</p>',
    "</body></html>",
  ].join("\n");
}

/** Renders the "your snapshots are ready" email. */
export function renderSuccessEmail(message: SendSnapshotExtractionSuccessMessage): RenderedEmail {
  const p = message.payload;
  const filename = userText(p.filename, USER_TEXT_LIMITS.filename) || "your video";
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
  const link = isHttpUrl(p.downloadUrl)
    ? `<a href="${e(p.downloadUrl)}" style="display: inline-block; padding: 10px 16px; background: #0969da; color: #ffffff; text-decoration: none; border-radius: 6px;">Download the ZIP (${e(size)})</a>`
    : `<code>${e(p.downloadUrl)}</code>`;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>vidsnap extracted <strong>${e(images)}</strong> from <strong>${e(filename)}</strong> (attempt ${p.attempt}).</p>`,
      ...(warnings.length > 0 ? [`<p>${e(warningIntro)}</p><ul>${warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>`] : []),
      `<p>${link}</p>`,
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
  const filename = userText(p.filename, USER_TEXT_LIMITS.filename) || "your video";
  const errorMessage = userText(p.errorMessage, USER_TEXT_LIMITS.errorMessage);
  const errorDescription = userText(p.errorDescription, USER_TEXT_LIMITS.errorDescription, true);
  const subject = oneLine(`We could not extract snapshots from ${filename}`);
  const retry = retryEndpoint(p.videoId);

  const textBody = textDocument(
    p.name,
    [
      `vidsnap could not extract snapshots from "${filename}" (attempt ${p.attempt}).`,
      "",
      `Error: ${errorMessage}`,
      errorDescription,
      "",
      "You can try again with the vidsnap API:",
      `  ${retry}`,
    ],
    p.videoId,
  );

  const e = escapeHtml;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>vidsnap could not extract snapshots from <strong>${e(filename)}</strong> (attempt ${p.attempt}).</p>`,
      `<p><strong>Error:</strong> ${e(errorMessage)}</p>`,
      `<p style="white-space: pre-line;">${e(errorDescription)}</p>`,
      `<p>You can try again with the vidsnap API:<br><code>${e(retry)}</code></p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

/** `POST /v1/videos/{id}/transcodes/{tid}/retry`, the API call that starts a new transcode attempt. */
export function transcodeRetryEndpoint(videoId: string, transcodeId: string): string {
  return `POST /v1/videos/${encodeURIComponent(videoId)}/transcodes/${encodeURIComponent(transcodeId)}/retry`;
}

/** `720p, 1280×720, 12.3 MB` of one file (parts left out when unknown). */
function fileFacts(file: SendTranscodeSuccessMessage["payload"]["files"][number]): string {
  const parts: string[] = [];
  if (file.width && file.height) parts.push(`${file.width}×${file.height}`);
  parts.push(formatBytes(file.sizeBytes));
  return parts.join(", ");
}

/** Renders the "your transcode is ready" email: one download link per file, and the HLS playback link. */
export function renderTranscodeSuccessEmail(message: SendTranscodeSuccessMessage): RenderedEmail {
  const p = message.payload;
  const filename = userText(p.filename, USER_TEXT_LIMITS.filename) || "your video";
  const expiry = formatExpiry(p.linksExpireAt);
  const subject = oneLine(`Your transcode of ${filename} is ready`);
  const renditions = plural(p.files.length + (p.playbackUrl ? 1 : 0), "rendition", "renditions");

  const textBody = textDocument(
    p.name,
    [
      `vidsnap made ${renditions} of "${filename}" (transcode ${p.transcodeId}, attempt ${p.attempt}).`,
      ...p.files.flatMap((f) => ["", `${oneLine(f.rendition)} (${fileFacts(f)}):`, f.url]),
      ...(p.playbackUrl ? ["", "Play the HLS stream (hls.js, Safari, VLC, ffmpeg):", p.playbackUrl] : []),
      "",
      `These links expire on ${expiry}.`,
    ],
    p.videoId,
  );

  const e = escapeHtml;
  const link = (url: string, label: string) =>
    isHttpUrl(url) ? `<a href="${e(url)}" style="color: #0969da;">${e(label)}</a>` : `<code>${e(url)}</code>`;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>vidsnap made <strong>${e(renditions)}</strong> of <strong>${e(filename)}</strong> (attempt ${p.attempt}).</p>`,
      ...(p.files.length > 0
        ? [`<ul>${p.files.map((f) => `<li>${link(f.url, `Download ${oneLine(f.rendition)}`)} (${e(fileFacts(f))})</li>`).join("")}</ul>`]
        : []),
      ...(p.playbackUrl ? [`<p>${link(p.playbackUrl, "Play the HLS stream")} (hls.js, Safari, VLC, ffmpeg)</p>`] : []),
      `<p>These links expire on <strong>${e(expiry)}</strong>.</p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

/** Renders the "transcode failed, you can retry" email. */
export function renderTranscodeErrorEmail(message: SendTranscodeErrorMessage): RenderedEmail {
  const p = message.payload;
  const filename = userText(p.filename, USER_TEXT_LIMITS.filename) || "your video";
  const errorMessage = userText(p.errorMessage, USER_TEXT_LIMITS.errorMessage);
  const errorDescription = userText(p.errorDescription, USER_TEXT_LIMITS.errorDescription, true);
  const subject = oneLine(`We could not transcode ${filename}`);
  const retry = transcodeRetryEndpoint(p.videoId, p.transcodeId);

  const textBody = textDocument(
    p.name,
    [
      `vidsnap could not transcode "${filename}" (transcode ${p.transcodeId}, attempt ${p.attempt}).`,
      "",
      `Error: ${errorMessage}`,
      errorDescription,
      "",
      "You can try again with the vidsnap API:",
      `  ${retry}`,
    ],
    p.videoId,
  );

  const e = escapeHtml;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>vidsnap could not transcode <strong>${e(filename)}</strong> (attempt ${p.attempt}).</p>`,
      `<p><strong>Error:</strong> ${e(errorMessage)}</p>`,
      `<p style="white-space: pre-line;">${e(errorDescription)}</p>`,
      `<p>You can try again with the vidsnap API:<br><code>${e(retry)}</code></p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

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
  const link = isHttpUrl(p.verificationUrl)
    ? `<a href="${e(p.verificationUrl)}" style="display: inline-block; padding: 10px 16px; background: #0969da; color: #ffffff; text-decoration: none; border-radius: 6px;">Confirm my email address</a>`
    : `<code>${e(p.verificationUrl)}</code>`;
  const htmlBody = [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${e(subject)}</title></head>`,
    '<body style="font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; line-height: 1.5; color: #1f2328;">',
    "<p>Hello,</p>",
    "<p>Someone, probably you, created a vidsnap account with this email address. To receive emails about your videos, confirm the address:</p>",
    `<p>${link}</p>`,
    `<p>Or copy this link: <br><span style="word-break: break-all;">${e(p.verificationUrl)}</span></p>`,
    `<p>The link expires on <strong>${e(expiry)}</strong>. If you did not sign up, ignore this email: nothing will be sent to you.</p>`,
    "</body></html>",
  ].join("\n");
  return { subject, textBody, htmlBody };
}

/** The host of an import's URL (user-chosen, so only the host is shown, defanged by {@link userText}). */
function importHost(url: string): string {
  try {
    return userText(new URL(url).host, USER_TEXT_LIMITS.filename);
  } catch {
    return "the given address";
  }
}

/** Renders the "import by URL failed, you can retry" email. */
export function renderImportErrorEmail(message: SendVideoImportErrorMessage): RenderedEmail {
  const p = message.payload;
  const filename = userText(p.filename, USER_TEXT_LIMITS.filename) || "your video";
  const host = importHost(p.sourceUrl);
  const errorMessage = userText(p.errorMessage, USER_TEXT_LIMITS.errorMessage);
  const errorDescription = userText(p.errorDescription, USER_TEXT_LIMITS.errorDescription, true);
  const subject = oneLine(`We could not import ${filename}`);
  const retry = retryEndpoint(p.videoId);
  const textBody = textDocument(
    p.name,
    [
      `vidsnap could not import "${filename}" from ${host} (attempt ${p.attempt}). Nothing of it was stored.`,
      "",
      `Error: ${errorMessage}`,
      errorDescription,
      "",
      "You can try again with the vidsnap API:",
      `  ${retry}`,
    ],
    p.videoId,
  );
  const e = escapeHtml;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>vidsnap could not import <strong>${e(filename)}</strong> from ${e(host)} (attempt ${p.attempt}). Nothing of it was stored.</p>`,
      `<p><strong>Error:</strong> ${e(errorMessage)}</p>`,
      `<p style="white-space: pre-line;">${e(errorDescription)}</p>`,
      `<p>You can try again with the vidsnap API:<br><code>${e(retry)}</code></p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

/**
 * Renders the "generation failed" email: the generator's name and its error are untrusted text (defanged by
 * {@link userText}, escaped in HTML). There is nothing to retry: the user asks a new generation.
 */
export function renderGenerationErrorEmail(message: SendVideoGenerationErrorMessage): RenderedEmail {
  const p = message.payload;
  const filename = userText(p.filename, USER_TEXT_LIMITS.filename) || "your video";
  const generator = userText(p.generatorName, USER_TEXT_LIMITS.filename) || "your generator";
  const errorMessage = userText(p.errorMessage, USER_TEXT_LIMITS.errorMessage);
  const errorDescription = userText(p.errorDescription, USER_TEXT_LIMITS.errorDescription, true);
  const subject = oneLine(`Your generator could not make ${filename}`);
  const textBody = textDocument(
    p.name,
    [
      `The video "${filename}" asked of the generator "${generator}" was not made. Nothing of it was stored.`,
      "",
      `Error: ${errorMessage}`,
      errorDescription,
      "",
      "Ask a new generation with POST /v1/generations once the generator works again.",
    ],
    p.videoId,
  );
  const e = escapeHtml;
  const htmlBody = htmlDocument(
    subject,
    p.name,
    [
      `<p>The video <strong>${e(filename)}</strong> asked of the generator <strong>${e(generator)}</strong> was not made. Nothing of it was stored.</p>`,
      `<p><strong>Error:</strong> ${e(errorMessage)}</p>`,
      `<p style="white-space: pre-line;">${e(errorDescription)}</p>`,
      `<p>Ask a new generation with <code>POST /v1/generations</code> once the generator works again.</p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

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
