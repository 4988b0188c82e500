/**
 * The one layout of vidsnap's emails: the HTML page around every body, the greeting, the video-id footer,
 * the button link, and the whole "it failed" email that the extraction, transcode, import and generation
 * failures share (what failed, the error, what to do next).
 */
import { escapeHtml, isHttpUrl, USER_TEXT_LIMITS, userText } from "./text.ts";

/** A rendered email, ready for Postmark (`Subject`, `TextBody`, `HtmlBody`). */
export interface RenderedEmail {
  subject: string;
  textBody: string;
  htmlBody: string;
}

/** The same sentence as plain text and as HTML (values in `html` already escaped). */
export interface TextAndHtml {
  text: string[];
  html: string;
}

/** `Hello Ana,` with the user's name made safe, or `Hello,` without one. */
function greeting(name: string | undefined): string {
  const clean = name === undefined ? "" : userText(name, USER_TEXT_LIMITS.name);
  return clean === "" ? "Hello," : `Hello ${clean},`;
}

/** The HTML page: `title` (escaped here) and the body's elements (already escaped). */
export function htmlPage(title: string, body: string[]): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="font-family: -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif; line-height: 1.5; color: #1f2328;">',
    ...body,
    "</body></html>",
  ].join("\n");
}

/** The plain-text body of a video's email: greeting, `lines`, then the video id and the signature. */
export function textDocument(name: string | undefined, lines: string[], videoId: string): string {
  return [greeting(name), "", ...lines, "", `Video id: ${videoId}`, "", "-- vidsnap"].join("\n");
}

/** The HTML body of a video's email: greeting, `paragraphs` (already escaped), then the video id and why the email came. */
export function htmlDocument(title: string, name: string | undefined, paragraphs: string[], videoId: string): string {
  return htmlPage(title, [
    `<p>${escapeHtml(greeting(name))}</p>`,
    ...paragraphs,
    `<p style="color: #656d76;">Video id: <code>${escapeHtml(videoId)}</code></p>`,
    '<p style="color: #656d76; font-size: 12px;">You receive this email because you uploaded a video to vidsnap.</p>',
  ]);
}

/** A button-styled link to `url` (http(s) only; anything else is shown as code), `label` escaped here. */
export function buttonLink(url: string, label: string): string {
  const e = escapeHtml;
  return isHttpUrl(url)
    ? `<a href="${e(url)}" style="display: inline-block; padding: 10px 16px; background: #0969da; color: #ffffff; text-decoration: none; border-radius: 6px;">${e(label)}</a>`
    : `<code>${e(url)}</code>`;
}

/** The next step of a failure that the user may retry: the API call `endpoint` (e.g. `POST /v1/videos/{id}/retry`). */
export function retryStep(endpoint: string): TextAndHtml {
  return {
    text: ["You can try again with the vidsnap API:", `  ${endpoint}`],
    html: `<p>You can try again with the vidsnap API:<br><code>${escapeHtml(endpoint)}</code></p>`,
  };
}

/** What a failure email says; the error texts are raw (bounded and defanged here). */
export interface FailureEmail {
  subject: string;
  name: string | undefined;
  videoId: string;
  /** The first paragraph: what failed. */
  what: { text: string; html: string };
  errorMessage: string;
  errorDescription: string;
  next: TextAndHtml;
}

/** Renders a failure email: what failed, `Error: …` with its description, then the next step. */
export function renderFailureEmail(f: FailureEmail): RenderedEmail {
  const errorMessage = userText(f.errorMessage, USER_TEXT_LIMITS.errorMessage);
  const errorDescription = userText(f.errorDescription, USER_TEXT_LIMITS.errorDescription, true);
  const textBody = textDocument(f.name, [f.what.text, "", `Error: ${errorMessage}`, errorDescription, "", ...f.next.text], f.videoId);
  const htmlBody = htmlDocument(
    f.subject,
    f.name,
    [
      `<p>${f.what.html}</p>`,
      `<p><strong>Error:</strong> ${escapeHtml(errorMessage)}</p>`,
      `<p style="white-space: pre-line;">${escapeHtml(errorDescription)}</p>`,
      f.next.html,
    ],
    f.videoId,
  );
  return { subject: f.subject, textBody, htmlBody };
}
