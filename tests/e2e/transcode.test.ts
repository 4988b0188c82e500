/**
 * End to end, transcoding: the whole local stack as `npm start` runs it (tools/stack/start.ts in a child
 * process, own ports and data folder), driven over HTTP only. A real video is uploaded with a transcode
 * (an MP4 at 480 and an HLS ladder at 360, trimmed to its first 8 s, `upscale: true` because the source is
 * 288 pixels tall): after `complete` the processor makes both, the MP4 is downloaded through its presigned
 * URL and checked with ffprobe, the tokenized master playlist is decoded whole by `ffmpeg -i <url>` through
 * the Worker's playlist routes, and the success email carries the links.
 */
import { spawnSync } from "node:child_process";
import { createReadStream, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticate, createVidsnapClient, unwrap, uploadInstructionsOf, type VidsnapClient } from "../../client/src/index.ts";
import type { Transcode, UploadInstructions } from "../../schema/api.ts";
import { testVideo } from "../../tools/paths.ts";
import { postmarkRequests } from "../../tools/stack/postmark-control.ts";
import type { PostmarkMock } from "../../tools/stack/postmark-server.ts";
import { startE2eStack, waitFor, type E2eStack } from "./support/local-stack.ts";

const POSTMARK_TOKEN = "test-token-e2e-transcode"; // the Postmark-speaking server accepts tokens starting with test-token
const FFMPEG = process.env.FFMPEG_PATH ?? "ffmpeg";
const FFPROBE = process.env.FFPROBE_PATH ?? "ffprobe";
const TRIM_SECONDS = 8;
let e2e: E2eStack;
let postmark: PostmarkMock;
let dataDir: string;
let baseUrl: string;

beforeAll(async () => {
  e2e = await startE2eStack({ postmarkToken: POSTMARK_TOKEN, dataPrefix: "vidsnap-e2e-transcode-" });
  ({ baseUrl, dataDir, postmark } = e2e);
}, 150_000);

afterAll(async () => {
  await e2e?.stop();
}, 30_000);

/** ffprobe's JSON of a file or URL (streams and format). */
function probe(input: string): { streams: { codec_type: string; codec_name: string; width?: number; height?: number }[]; format: { duration: string } } {
  const run = spawnSync(FFPROBE, ["-v", "error", "-show_streams", "-show_format", "-of", "json", input], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`ffprobe ${input}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe("transcoding through the local stack", () => {
  let api: VidsnapClient;
  let done: Transcode;

  it("uploads a video with a transcode and runs it to TRANSCODE_SUCCESS after complete", async () => {
    const { token } = await authenticate(baseUrl, "sign-up", { email: "e2e-transcode@example.com", password: "correct-horse-battery", name: "E2E Transcode" });
    api = createVidsnapClient({ baseUrl, token });
    const file = testVideo("franck.mp4");
    const created = unwrap(
      await api.POST("/v1/videos", {
        body: {
          filename: "franck.mp4",
          contentType: "video/mp4",
          sizeBytes: statSync(file).size,
          transcode: { renditions: [{ format: "mp4", height: 480 }, { format: "hls", heights: [360] }], endSeconds: TRIM_SECONDS, upscale: true },
        },
      }),
    );
    expect(created.transcode?.status).toBe("TRANSCODE_PENDING");
    const upload = uploadInstructionsOf(created) as UploadInstructions;
    const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: Readable.toWeb(createReadStream(file)) as ReadableStream, duplex: "half" } as RequestInit);
    expect(put.status).toBe(200);
    unwrap(await api.POST("/v1/videos/{id}/complete", { params: { path: { id: created.video.id } }, body: {} }));

    const path_ = { params: { path: { id: created.video.id, tid: created.transcode!.id } } };
    const progress: number[] = [];
    done = await waitFor(
      "the transcode to end",
      async () => {
        const { transcode } = unwrap(await api.GET("/v1/videos/{id}/transcodes/{tid}", path_));
        if (transcode.progress !== null) progress.push(transcode.progress);
        return transcode.status === "TRANSCODE_SUCCESS" || transcode.status === "TRANSCODE_ERROR" ? transcode : undefined;
      },
      180_000,
    );
    expect(done.status, `${done.errorMessage} ${done.errorDescription}\n${e2e.log().slice(-3000)}`).toBe("TRANSCODE_SUCCESS");
    expect(done.progress).toBe(1);
    expect(progress).toEqual([...progress].sort((a, b) => a - b)); // never went back
    expect(done.outputs.map((o) => o.rendition)).toEqual(expect.arrayContaining(["mp4-480", "hls"]));
  }, 240_000);

  it("serves the MP4 through its presigned URL: H.264, trimmed, at the source height (never upscaled)", async () => {
    const mp4 = done.outputs.find((o) => o.format === "mp4")!;
    const res = await fetch(mp4.url);
    expect(res.status).toBe(200);
    const local = path.join(dataDir, "out.mp4");
    writeFileSync(local, new Uint8Array(await res.arrayBuffer()));
    expect(statSync(local).size).toBe(mp4.sizeBytes);
    const facts = probe(local);
    const video = facts.streams.find((s) => s.codec_type === "video")!;
    expect(video.codec_name).toBe("h264");
    expect(video.height).toBe(288); // the source's height: `upscale: true` never upscales
    expect(video.height).toBe(mp4.height);
    expect(Math.abs(Number(facts.format.duration) - TRIM_SECONDS)).toBeLessThan(0.1);
  });

  it("plays the HLS master playlist with ffmpeg through the Worker, no bearer token", async () => {
    expect(done.playbackUrl).toMatch(/\/master\.m3u8\?token=/);
    const run = spawnSync(FFMPEG, ["-hide_banner", "-nostats", "-i", done.playbackUrl!, "-map", "0:v:0", "-f", "null", "-"], { encoding: "utf8", timeout: 120_000 });
    expect(run.status, run.stderr.slice(-2000)).toBe(0);
    // The last progress line of the null muxer says how much was decoded.
    const times = [...run.stderr.matchAll(/time=(\d+):(\d+):(\d+\.\d+)/g)].map((m) => Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]));
    expect(Math.abs(times[times.length - 1]! - TRIM_SECONDS)).toBeLessThan(0.5);
    // A token for another transcode, or none, opens nothing.
    const tampered = done.playbackUrl!.replace(/token=(\d+)\./, (_, e: string) => `token=${Number(e) + 1}.`);
    expect((await fetch(tampered)).status).toBe(403);
  }, 150_000);

  it("emails the download links once", async () => {
    const emails = await waitFor("the success email", async () => {
      const sent = (await postmarkRequests(postmark.host, POSTMARK_TOKEN)).filter((r) => r.status === 200 && (r.body as { Tag?: string }).Tag === "transcode-success");
      return sent.length > 0 ? sent : undefined;
    });
    expect(emails).toHaveLength(1);
    const text = (emails[0]!.body as { TextBody: string }).TextBody;
    expect(text).toContain("mp4-480");
    expect(text).toMatch(/master\.m3u8\?token=/);
  });
});
