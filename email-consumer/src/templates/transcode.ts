/** The transcode's emails: "your transcode is ready" (a link per file, the HLS playback link) and "transcode failed". */
import type { SendTranscodeErrorMessage, SendTranscodeSuccessMessage } from "../../../schema/messages/transcode-email.ts";
import { htmlDocument, type RenderedEmail, renderFailureEmail, retryStep, textDocument } from "./layout.ts";
import { escapeHtml, formatBytes, formatExpiry, isHttpUrl, oneLine, plural, safeFilename } from "./text.ts";

/** `POST /v1/videos/{id}/transcodes/{tid}/retry`, the API call that starts a new transcode attempt. */
export function transcodeRetryEndpoint(videoId: string, transcodeId: string): string {
  return `POST /v1/videos/${encodeURIComponent(videoId)}/transcodes/${encodeURIComponent(transcodeId)}/retry`;
}

/** `1280×720, 12.3 MB` of one file (the size alone when its dimensions are unknown). */
function fileFacts(file: SendTranscodeSuccessMessage["payload"]["files"][number]): string {
  const parts: string[] = [];
  if (file.width && file.height) parts.push(`${file.width}×${file.height}`);
  parts.push(formatBytes(file.sizeBytes));
  return parts.join(", ");
}

/** Renders the "your transcode is ready" email: one download link per file, and the HLS playback link. */
export function renderTranscodeSuccessEmail(message: SendTranscodeSuccessMessage): RenderedEmail {
  const p = message.payload;
  const filename = safeFilename(p.filename);
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
  const filename = safeFilename(p.filename);
  return renderFailureEmail({
    subject: oneLine(`We could not transcode ${filename}`),
    name: p.name,
    videoId: p.videoId,
    what: {
      text: `vidsnap could not transcode "${filename}" (transcode ${p.transcodeId}, attempt ${p.attempt}).`,
      html: `vidsnap could not transcode <strong>${escapeHtml(filename)}</strong> (attempt ${p.attempt}).`,
    },
    errorMessage: p.errorMessage,
    errorDescription: p.errorDescription,
    next: retryStep(transcodeRetryEndpoint(p.videoId, p.transcodeId)),
  });
}
