/**
 * The transcode emails (MSG_SEND_TRANSCODE_SUCCESS / _ERROR) through the email consumer: rendered with
 * every user-supplied string escaped, sent once per (video, transcode, attempt, outcome) however often
 * the message comes, kept apart from the video's extraction emails and from other transcodes of the video.
 */
import { describe, expect, it } from "vitest";
import {
  sendTranscodeErrorMessage,
  sendTranscodeSuccessMessage,
  type SendTranscodeSuccessMessage,
} from "../../schema/messages/transcode-email.ts";
import { renderEmail } from "../../email-consumer/src/templates/index.ts";
import { deliver, newVideoId, PostmarkSession, rowOf, successMessage } from "./helpers.ts";

function transcodeSuccess(payload: Partial<SendTranscodeSuccessMessage["payload"]> = {}) {
  return sendTranscodeSuccessMessage({
    transcodeId: crypto.randomUUID(),
    videoId: newVideoId(),
    userId: "user-1",
    attempt: 1,
    to: "ada@example.com",
    name: "Ada Lovelace",
    filename: "talk.mp4",
    files: [
      { rendition: "mp4-720", contentType: "video/mp4", sizeBytes: 12_345_678, width: 1280, height: 720, durationSeconds: 60, url: "https://s3.example/mp4-720.mp4?X-Amz-Signature=a&b=c" },
    ],
    playbackUrl: "https://api.example/v1/videos/v/transcodes/t/master.m3u8?token=1.abc",
    linksExpireAt: "2026-05-03T14:00:00.000Z",
    ...payload,
  });
}

describe("transcode emails", () => {
  it("renders the links, sizes and expiry, escaping the file name", () => {
    const msg = transcodeSuccess({ filename: '<img src=x onerror="alert(1)">.mp4' });
    const email = renderEmail(msg);
    expect(email.subject).toBe('Your transcode of <img src=x onerror="alert(1)">.mp4 is ready');
    expect(email.textBody).toContain("mp4-720 (1280×720, 12.3 MB):");
    expect(email.textBody).toContain(msg.payload.files[0]!.url);
    expect(email.textBody).toContain(msg.payload.playbackUrl!);
    expect(email.textBody).toContain("2026-05-03 14:00 UTC");
    expect(email.htmlBody).not.toContain("<img");
    expect(email.htmlBody).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.mp4");
    expect(email.htmlBody).toContain(`href="${msg.payload.files[0]!.url.replaceAll("&", "&amp;")}"`);
    const error = renderEmail(
      sendTranscodeErrorMessage({ ...msg.payload, errorMessage: "No <video> stream.", errorDescription: "ffprobe: audio only" }),
    );
    expect(error.subject).toContain("We could not transcode");
    expect(error.textBody).toContain(`POST /v1/videos/${msg.payload.videoId}/transcodes/${msg.payload.transcodeId}/retry`);
    expect(error.htmlBody).toContain("No &lt;video&gt; stream.");
  });

  it("sends one email per (transcode, attempt, outcome), apart from the video's own and other transcodes'", async () => {
    const pm = new PostmarkSession();
    const msg = transcodeSuccess();
    await deliver([{ body: msg }], pm.env());
    await deliver([{ body: structuredClone(msg), deliveries: 2 }], pm.env());
    // Same video and attempt: the extraction's email, another transcode's, and this transcode's error.
    const extraction = successMessage({ videoId: msg.payload.videoId, attempt: 1 });
    const other = transcodeSuccess({ videoId: msg.payload.videoId, transcodeId: crypto.randomUUID() });
    const failed = sendTranscodeErrorMessage({ ...msg.payload, errorMessage: "x", errorDescription: "" });
    await deliver([{ body: extraction }, { body: other }, { body: failed }], pm.env());

    const sent = await pm.accepted();
    expect(sent).toHaveLength(4);
    const mine = sent.filter((r) => (r.body.Metadata as Record<string, string>).transcodeId === msg.payload.transcodeId);
    expect(mine.map((r) => r.body.Tag).sort()).toEqual(["transcode-error", "transcode-success"]);
    expect(await rowOf(msg)).toMatchObject({ status: "sent", jobId: msg.payload.transcodeId, outcome: "success" });
  });

  it("refuses a message whose link is not http(s)", async () => {
    const pm = new PostmarkSession();
    const msg = transcodeSuccess({ playbackUrl: "javascript:alert(1)" });
    const { result, ids } = await deliver([{ body: msg }], pm.env());
    expect(result.explicitAcks).toEqual(ids);
    expect(await pm.requests()).toHaveLength(0);
  });
});
