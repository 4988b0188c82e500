/**
 * Transcodes that must fail cleanly: bad inputs (audio only, a text file, an HLS playlist), a height above
 * the source without upscale, the disk bound — one ERROR event with a clear sentence and nothing stored
 * under the attempt prefix; `DELETE /jobs/{key}` cancelling a running transcode (ffmpeg gone, nothing
 * stored, empty work folder); a finished attempt sent again answered 409 and never replaced; and the
 * transcode timeout.
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TranscodeRequest } from "../../../schema/transcode-options.ts";
import { createLogger } from "../../../runtime/log.ts";
import { COMPLETION_MARKER } from "../../../ffmpeg-container/src/jobs/transcode/job.ts";
import { transcodeKind } from "../../../ffmpeg-container/src/jobs/transcode/kind.ts";
import { createProcessorServer } from "../../../ffmpeg-container/src/runner/server.ts";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { getObject, leftoverTempFiles, mintedCredentialSecrets, startHarness, startJob, testVideo, uploadSource, waitUntil, type Harness } from "../harness.ts";
import { TranscodeEvent } from "../../../schema/messages/transcode.ts";
import { deleteJob, listPrefix, postTranscode, prefixOf, transcodeJob } from "./support.ts";

// Real encodes: on 2 cores shared with other work one job can take far longer than the suite default.
vi.setConfig({ testTimeout: 240_000 });
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ progressIntervalMs: 100 });
});
afterAll(async () => {
  await h?.close();
});

/** Transcoding ffmpeg processes reading from this harness's S3 server (the processor's children). */
function ffmpegChildren(): string[] {
  // ww: whole command lines (the presigned URL comes late in ffmpeg's).
  const out = execFileSync("ps", ["-eww", "-o", "pid=,args="], { encoding: "utf8" });
  return out.split("\n").filter((l) => /\bffmpeg\b/.test(l) && l.includes("-progress pipe:1") && l.includes(h.config.s3.endpoint));
}

/** Posts a transcode and returns its single ERROR payload, after checking nothing is stored or left. */
async function expectTranscodeError(videoId: string, request: TranscodeRequest, baseUrl = h.url) {
  const message = transcodeJob(videoId, request);
  const res = await postTranscode(h, message, baseUrl);
  expect(res.status).toBe(200);
  expect(res.events[0]!.type).toBe("MSG_TRANSCODE_PROCESSING");
  expect(res.events.filter((e) => e.type === "MSG_TRANSCODE_ERROR" || e.type === "MSG_TRANSCODE_SUCCESS")).toHaveLength(1);
  const last = res.events.at(-1)!;
  expect(last.type).toBe("MSG_TRANSCODE_ERROR");
  if (last.type !== "MSG_TRANSCODE_ERROR") throw new Error("unreachable");
  const text = JSON.stringify(last.payload);
  for (const secret of ["X-Amz-", "http://", ...mintedCredentialSecrets(), h.tmpDir, h.dataDir]) expect(text).not.toContain(secret);
  expect(await listPrefix(h, prefixOf(message))).toEqual([]);
  expect(await leftoverTempFiles(h)).toEqual([]);
  return last.payload;
}

describe("bad inputs end in one ERROR and nothing stored", () => {
  it("an audio-only file", async () => {
    await uploadSource(h, "audio", testVideo("sunflower-slow-drag.ogg"));
    const e = await expectTranscodeError("audio", { renditions: [{ format: "mp4", height: 240 }] });
    expect(e.errorMessage).toMatch(/contains no video stream/);
  });

  it("a text file", async () => {
    const file = path.join(h.dataDir, "notes.txt");
    await writeFile(file, "These are my notes, not a video.\nSecond line of plain text.\n".repeat(20));
    await uploadSource(h, "text", file);
    const e = await expectTranscodeError("text", { renditions: [{ format: "mp4" }] });
    expect(e.errorMessage).toBe("The file is a text file (a script, list or document), not a video.");
  });

  it("an HLS playlist (never followed)", async () => {
    const file = path.join(h.dataDir, "list.m3u8");
    await writeFile(file, "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n");
    await uploadSource(h, "playlist", file);
    const e = await expectTranscodeError("playlist", { renditions: [{ format: "hls" }] });
    expect(e.errorMessage).toBe("Playlists (HLS/DASH/concat) are not accepted.");
  });

  it("a trim starting after the last frame's start (before the duration): no video frame, so an ERROR, not an output without video", async () => {
    await uploadSource(h, "tail", testVideo("franck.mp4"));
    for (const format of ["mp4", "hls"] as const) {
      const e = await expectTranscodeError(`tail`, format === "mp4" ? { renditions: [{ format, height: 240 }], startSeconds: 199.999 } : { renditions: [{ format, heights: [240] }], startSeconds: 199.999 });
      expect(e.errorMessage, format).toMatch(/^No video frame lies in the requested span: startSeconds \(199\.999\) is after the video's last frame\.$/);
      expect(e.retryable ?? false).toBe(false);
    }
  });
  it("a height above the source without upscale, before any encode", async () => {
    await uploadSource(h, "tall", testVideo("franck.mp4"));
    const e = await expectTranscodeError("tall", { renditions: [{ format: "mp4", height: 480 }, { format: "mp4", height: 720 }] });
    expect(e.errorMessage).toMatch(/^Rendition mp4-480 asks for 480 pixels high, but the video is only 288 pixels high; vidsnap never upscales/);
    expect(e.errorMessage).toContain("upscale: true");
    // Refused from the probe: ffmpeg never started.
    expect(h.logs.some((l) => l.msg === "transcode plan" && (l.fields.jobId as string).startsWith("t-tall#"))).toBe(false);
  });

  it("an estimate above TRANSCODE_MAX_WORK_BYTES", async () => {
    const small = await h.extraProcessor({ transcodeMaxWorkBytes: 1_000_000 });
    try {
      await uploadSource(h, "big", testVideo("franck.mp4"));
      const e = await expectTranscodeError("big", { renditions: [{ format: "mp4", videoBitrateKbps: 4000 }] }, small.url);
      expect(e.errorMessage).toMatch(/^The renditions asked would need about 0\.1\d GB of disk; the limit is 0\.00 GB per transcode/);
      expect(e.errorDescription).toContain("TRANSCODE_MAX_WORK_BYTES=1000000");
    } finally {
      await small.processor.close({ abortRunning: true });
    }
  });

  it("TRANSCODE_TIMEOUT_SECONDS stops a transcode: ffmpeg killed, nothing stored", async () => {
    const quick = await h.extraProcessor({ transcodeTimeoutSeconds: 1.5, jobTimeoutSeconds: 600 });
    try {
      await uploadSource(h, "slow", testVideo("franck.mp4"));
      const e = await expectTranscodeError("slow", { renditions: [{ format: "webm", quality: "high" }, { format: "mp4" }] }, quick.url);
      expect(e.errorMessage).toBe("Processing took longer than the limit of 1.5 seconds and was stopped.");
      expect(e.errorDescription).toContain("TRANSCODE_TIMEOUT_SECONDS");
      expect(ffmpegChildren()).toEqual([]);
    } finally {
      await quick.processor.close({ abortRunning: true });
    }
  });
});

describe("DELETE /jobs/{key}", () => {
  it("cancels a running transcode: ERROR 'cancelled', ffmpeg gone, nothing stored, then 404", async () => {
    await uploadSource(h, "cancel", testVideo("franck.mp4"));
    const message = transcodeJob("cancel", { renditions: [{ format: "mp4" }, { format: "hls", heights: [240] }] });
    const job = await startJob(h.url, message, TranscodeEvent);
    // Generous: on a loaded machine the HEAD and probe before the encode can take seconds.
    await waitUntil("ffmpeg running", () => ffmpegChildren().length > 0, 120_000);
    const key = `${message.payload.transcodeId}#1`;
    const res = await deleteJob(h.url, key);
    expect(res.status).toBe(204);
    const events = await job.rest;
    const last = events.at(-1)!;
    expect(last.type).toBe("MSG_TRANSCODE_ERROR");
    if (last.type === "MSG_TRANSCODE_ERROR") expect(last.payload.errorMessage).toBe("The job was cancelled.");
    expect(ffmpegChildren()).toEqual([]);
    expect(await listPrefix(h, prefixOf(message))).toEqual([]);
    expect(await leftoverTempFiles(h)).toEqual([]);
    expect(h.processor.runningJobs()).toBe(0);
    expect((await deleteJob(h.url, key)).status).toBe(404);
  });

  it("refuses an unsigned DELETE (401)", async () => {
    const res = await fetch(`${h.url}/jobs/${encodeURIComponent("t-x#1")}`, { method: "DELETE" });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});

describe("an unfinished attempt", () => {
  it("a run after one killed mid-upload (its partial objects left, no marker) replaces them and finishes", async () => {
    await uploadSource(h, "rerun", testVideo("hardware-example.mp4"));
    const message = transcodeJob("rerun", { renditions: [{ format: "mp4", height: 360 }] });
    // What a SIGKILLed run leaves: an object of the attempt, no completion marker.
    await h.s3.send(new PutObjectCommand({ Bucket: h.config.videosBucket, Key: `${prefixOf(message)}mp4-360.mp4`, Body: "partial", ContentType: "video/mp4" }));
    const res = await postTranscode(h, message);
    const last = res.events.at(-1)!;
    expect(last.type, JSON.stringify(last.payload)).toBe("MSG_TRANSCODE_SUCCESS");
    if (last.type !== "MSG_TRANSCODE_SUCCESS") throw new Error("unreachable");
    const stored = await getObject(h, h.config.videosBucket, `${prefixOf(message)}mp4-360.mp4`);
    expect(stored.byteLength).toBe(last.payload.outputs[0]!.sizeBytes);
    expect(Buffer.from(stored.subarray(4, 8)).toString("latin1")).toBe("ftyp");
  });
});

describe("a finished attempt", () => {
  it("sent again gets 409 and its outputs are never replaced; the next attempt runs", async () => {
    await uploadSource(h, "again", testVideo("hardware-example.mp4"));
    const message = transcodeJob("again", { renditions: [{ format: "mp4", height: 360 }] });
    const first = await postTranscode(h, message);
    expect(first.events.at(-1)!.type).toBe("MSG_TRANSCODE_SUCCESS");
    const stored = await listPrefix(h, prefixOf(message));
    expect(stored).toEqual(["mp4-360.mp4", COMPLETION_MARKER].sort());
    const again = await postTranscode(h, message);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: expect.stringMatching(/job-already-finished$/) });
    expect(await listPrefix(h, prefixOf(message))).toEqual(stored);
    // A duplicate that passed the early check (a processor without it): the job refuses too, outputs intact.
    const { alreadyStored: _skip, ...withoutEarlyCheck } = transcodeKind;
    const p = createProcessorServer(h.config, { kinds: [withoutEarlyCheck], log: createLogger({}, { sink: () => undefined }) });
    try {
      const late = await postTranscode(h, message, await p.listen());
      expect(late.events.at(-1)).toMatchObject({ type: "MSG_TRANSCODE_ERROR", payload: { errorMessage: expect.stringMatching(/already stored; they are never replaced/) } });
    } finally {
      await p.close({ abortRunning: true });
    }
    expect(await listPrefix(h, prefixOf(message))).toEqual(stored);
    const next = await postTranscode(h, transcodeJob("again", { renditions: [{ format: "mp4", height: 360 }] }, { attempt: 2 }));
    expect(next.events.at(-1)!.type).toBe("MSG_TRANSCODE_SUCCESS");
  });
});
