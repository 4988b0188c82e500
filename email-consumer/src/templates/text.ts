/**
 * Text rules of every email: HTML escaping, one-line subjects, bounded and defanged user text, and the
 * formats of sizes and expiry times. Pure functions, no I/O.
 */

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

/** The file name of a message made safe ({@link userText}), or "your video" when nothing is left of it. */
export function safeFilename(filename: string): string {
  return userText(filename, USER_TEXT_LIMITS.filename) || "your video";
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

/** `1 image`, `3 images`. */
export function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Only http(s) URLs become links; anything else is shown as text (defence in depth, the consumer rejects them). */
export function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}
