/**
 * Email templates: pure functions from a validated `MSG_SEND_SNAPSHOT_EXTRACTION_*` message to
 * `{subject, textBody, htmlBody}`. No I/O, no clock: the same message always renders the same email,
 * which is what makes the D1 row of a redelivered message match the first one.
 *
 * Every value coming from the message is escaped in the HTML body ({@link escapeHtml}) and stripped of
 * control characters in the subject.
 */
import type {
  SendSnapshotExtractionErrorMessage,
  SendSnapshotExtractionSuccessMessage,
  SnapshotEmailMessage,
} from "../../schema/messages/snapshot-email.ts";

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
  const clean = name === undefined ? "" : oneLine(name);
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
  const filename = oneLine(p.filename) || "your video";
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
  const filename = oneLine(p.filename) || "your video";
  const subject = oneLine(`We could not extract snapshots from ${filename}`);
  const retry = retryEndpoint(p.videoId);

  const textBody = textDocument(
    p.name,
    [
      `vidsnap could not extract snapshots from "${filename}" (attempt ${p.attempt}).`,
      "",
      `Error: ${p.errorMessage}`,
      p.errorDescription,
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
      `<p><strong>Error:</strong> ${e(p.errorMessage)}</p>`,
      `<p style="white-space: pre-line;">${e(p.errorDescription)}</p>`,
      `<p>You can try again with the vidsnap API:<br><code>${e(retry)}</code></p>`,
    ],
    p.videoId,
  );
  return { subject, textBody, htmlBody };
}

/** Renders the email of either message type. */
export function renderEmail(message: SnapshotEmailMessage): RenderedEmail {
  return message.type === "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS"
    ? renderSuccessEmail(message)
    : renderErrorEmail(message);
}
