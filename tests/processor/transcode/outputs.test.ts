/**
 * Transcodes end to end through the processor (real ffmpeg, real S3 server): outputs checked by ffprobe
 * (codec, profile, dimensions never upscaled, aspect kept, rotation applied, duration, audio as asked,
 * MP4 moov before mdat), HLS (segment durations add up, master lists every variant, decodes whole),
 * progress monotone with speed and ETA, completion marker, empty work folder.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { TranscodeEvent, TranscodeOutput } from "../../../schema/messages/transcode.ts";
import { s3Uri } from "../../../schema/object-keys.ts";
import type { TranscodeRequest } from "../../../schema/transcode-options.ts";
import { COMPLETION_MARKER } from "../../../ffmpeg-container/src/jobs/transcode/job.ts";
import { parseMediaPlaylist } from "../../../ffmpeg-container/src/jobs/transcode/hls.ts";
import { leftoverTempFiles, startHarness, testVideo, uploadSource, USER_ID, type Harness } from "../harness.ts";
import { decodeAll, downloadPrefix, ffprobeJson, postTranscode, prefixOf, topLevelBoxes, transcodeJob, videoFrameCount } from "./support.ts";

const run = promisify(execFile);
// Real encodes: on 2 cores shared with other work one job can take far longer than the suite default.
vi.setConfig({ testTimeout: 240_000 });
let h: Harness;
let rotated: string;
beforeAll(async () => {
  h = await startHarness({ progressIntervalMs: 100 });
  // sample_iPod.m4v (320x240, AAC) turned a quarter: stream copy with a display rotation of 90°.
  rotated = path.join(h.dataDir, "rotated.mp4");
  await run("ffmpeg", ["-v", "error", "-nostdin", "-i", testVideo("sample_iPod.m4v"), "-c", "copy", "-metadata:s:v", "rotate=90", "-t", "12", rotated]);
});
afterAll(async () => {
  await h?.close();
});

/** One frame of a `fps` video, seconds. */
const frame = (fps: number) => 1 / fps;

/**
 * Runs one transcode job to SUCCESS, checks the event sequence (PROCESSING first, PROGRESS monotone
 * with speed and ETA, SUCCESS last), downloads the attempt's objects into a fresh folder.
 */
async function transcodeOk(videoId: string, file: string, request: TranscodeRequest) {
  await uploadSource(h, videoId, file);
  const message = transcodeJob(videoId, request);
  const res = await postTranscode(h, message);
  expect(res.status).toBe(200);
  const last = res.events.at(-1)!;
  expect(last.type, JSON.stringify(last.payload)).toBe("MSG_TRANSCODE_SUCCESS");
  expect(res.events[0]!.type).toBe("MSG_TRANSCODE_PROCESSING");
  const progress = res.events.filter((e): e is Extract<TranscodeEvent, { type: "MSG_TRANSCODE_PROGRESS" }> => e.type === "MSG_TRANSCODE_PROGRESS");
  for (const [i, e] of progress.entries()) {
    if (i > 0) expect(e.payload.fraction).toBeGreaterThanOrEqual(progress[i - 1]!.payload.fraction);
    expect(e.payload.fraction).toBeLessThanOrEqual(1);
  }
  for (const e of res.events) expect(e.payload).toMatchObject({ transcodeId: message.payload.transcodeId, videoId, userId: USER_ID, attempt: 1 });
  if (last.type !== "MSG_TRANSCODE_SUCCESS") throw new Error("unreachable");
  const dir = await mkdtemp(path.join(h.dataDir, `${videoId}-`));
  const keys = await downloadPrefix(h, prefixOf(message), dir);
  expect(keys).toContain(COMPLETION_MARKER);
  const marker = JSON.parse(await readFile(path.join(dir, COMPLETION_MARKER), "utf8")) as { outputs: TranscodeOutput[] };
  expect(marker.outputs).toEqual(last.payload.outputs);
  for (const o of last.payload.outputs) expect(o.uri.startsWith(s3Uri(h.config.videosBucket, prefixOf(message)))).toBe(true);
  expect(await leftoverTempFiles(h)).toEqual([]);
  expect(h.processor.runningJobs()).toBe(0);
  const byName = (name: string) => {
    const o = last.payload.outputs.find((x) => x.rendition === name);
    if (!o) throw new Error(`no output ${name} in ${last.payload.outputs.map((x) => x.rendition).join(", ")}`);
    return { output: o, file: path.join(dir, o.uri.slice(s3Uri(h.config.videosBucket, prefixOf(message)).length)) };
  };
  return { success: last.payload, progress, dir, keys, byName };
}

describe("mp4 and webm renditions", () => {
  it("one decode makes mp4 (H.264 High + AAC-LC, faststart) and webm (VP9 + Opus), scaled down with the aspect kept", async () => {
    // boswars_intro.ogg: Theora 1024x768 (4:3) + Vorbis, 8.5 s.
    const { success, byName, progress } = await transcodeOk("bos", testVideo("boswars_intro.ogg"), {
      renditions: [
        { format: "mp4", height: 480 },
        { format: "webm", height: 360, quality: "low" },
        { format: "mp4", height: 240, audio: false },
      ],
    });
    expect(success.outputs.map((o) => o.rendition)).toEqual(["mp4-480", "webm-360", "mp4-240"]);
    expect(success.source).toMatchObject({ width: 1024, height: 768, videoCodec: "theora" });
    expect(success.elapsedSeconds).toBeGreaterThan(0);
    expect(success.speed).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((p) => p.payload.speed !== null && p.payload.speed > 0)).toBe(true);

    const mp4 = byName("mp4-480");
    const p = await ffprobeJson(mp4.file);
    const v = p.streams.find((s) => s.codec_type === "video")!;
    const a = p.streams.find((s) => s.codec_type === "audio")!;
    expect(v).toMatchObject({ codec_name: "h264", profile: "High", width: 640, height: 480 });
    expect(a).toMatchObject({ codec_name: "aac", profile: "LC" });
    expect(mp4.output).toMatchObject({ format: "mp4", contentType: "video/mp4", width: 640, height: 480, hasAudio: true });
    // Within one frame of the source's duration, and every one of its 204 frames kept.
    const source = await ffprobeJson(testVideo("boswars_intro.ogg"));
    expect(Math.abs(Number(p.format.duration) - Number(source.format.duration))).toBeLessThanOrEqual(frame(24));
    expect(await videoFrameCount(mp4.file)).toBe(204);
    // faststart: the moov box comes before mdat.
    const boxes = await topLevelBoxes(mp4.file);
    expect(boxes.indexOf("moov")).toBeGreaterThanOrEqual(0);
    expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
    expect(mp4.output.sizeBytes).toBe((await readFile(mp4.file)).byteLength);
    expect(mp4.output.bitrateKbps).toBeCloseTo((mp4.output.sizeBytes * 8) / mp4.output.durationSeconds! / 1000, 1);

    const webm = byName("webm-360");
    const w = await ffprobeJson(webm.file);
    expect(w.format.format_name).toContain("webm");
    expect(w.streams.find((s) => s.codec_type === "video")).toMatchObject({ codec_name: "vp9", width: 480, height: 360 });
    expect(w.streams.find((s) => s.codec_type === "audio")).toMatchObject({ codec_name: "opus" });
    expect(webm.output).toMatchObject({ contentType: "video/webm", hasAudio: true });

    const silent = byName("mp4-240");
    const s = await ffprobeJson(silent.file);
    expect(s.streams.map((x) => x.codec_type)).toEqual(["video"]);
    expect(s.streams[0]).toMatchObject({ width: 320, height: 240 });
    expect(silent.output.hasAudio).toBe(false);
  });

  it("rotation is applied: a 320x240 video shown turned a quarter gives an upright 180x240 picture", async () => {
    const { byName } = await transcodeOk("rotated", rotated, { renditions: [{ format: "mp4", height: 240 }] });
    const out = byName("mp4-240");
    const p = await ffprobeJson(out.file);
    const v = p.streams.find((s) => s.codec_type === "video")!;
    expect([v.width, v.height]).toEqual([180, 240]);
    // No rotation left for players to apply a second time.
    expect(v.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0).toBe(0);
    expect(v.tags?.rotate).toBeUndefined();
    expect(out.output).toMatchObject({ width: 180, height: 240, hasAudio: true });
  });

  it("a trim gives outputs of endSeconds − startSeconds within one frame; no height = the source's", async () => {
    // franck.mp4: 360x288, 24 fps, no audio.
    const { byName } = await transcodeOk("trim", testVideo("franck.mp4"), { renditions: [{ format: "mp4" }], startSeconds: 30, endSeconds: 42.5 });
    const out = byName("mp4");
    expect(out.output).toMatchObject({ width: 360, height: 288, hasAudio: false });
    const p = await ffprobeJson(out.file);
    expect(Math.abs(Number(p.format.duration) - 12.5)).toBeLessThanOrEqual(frame(24) + 1e-6);
  });

  it("upscale: true makes a taller rendition at the source's height (never upscaled)", async () => {
    const { byName } = await transcodeOk("upscale", testVideo("sample_iPod.m4v"), {
      renditions: [{ format: "mp4", height: 720 }],
      endSeconds: 3,
      upscale: true,
    });
    const out = byName("mp4-720");
    expect(out.output).toMatchObject({ width: 320, height: 240 });
    const p = await ffprobeJson(out.file);
    expect(p.streams.find((s) => s.codec_type === "video")).toMatchObject({ width: 320, height: 240 });
    expect(Math.abs(Number(p.format.duration) - 3)).toBeLessThanOrEqual(frame(10) + 0.03);
  });
});

describe("hls", () => {
  for (const segmentFormat of ["fmp4", "ts"] as const) {
    it(`${segmentFormat}: variants of about segmentSeconds adding up to the duration, a master listing each, a whole decode`, async () => {
      const { success, byName, dir, keys } = await transcodeOk(`hls-${segmentFormat}`, testVideo("boswars_intro.ogg"), {
        renditions: [{ format: "hls", heights: [480, 360], segmentSeconds: 2, segmentFormat }],
      });
      expect(success.outputs.map((o) => o.rendition)).toEqual(["hls", "hls-480", "hls-360"]);
      const ext = segmentFormat === "fmp4" ? "m4s" : "ts";
      expect(keys).toContain("hls/master.m3u8");
      expect(keys).toContain(`hls/480/seg-00001.${ext}`);
      if (segmentFormat === "fmp4") expect(keys).toContain("hls/480/init.mp4");
      const master = await readFile(path.join(dir, "hls/master.m3u8"), "utf8");
      const uris = master.split("\n").filter((l) => l && !l.startsWith("#"));
      expect(uris).toEqual(["480/index.m3u8", "360/index.m3u8"]);
      expect(master).toMatch(/RESOLUTION=640x480,CODECS="avc1\.64[0-9a-f]{4},mp4a\.40\.2"/);
      expect(master).toMatch(/RESOLUTION=480x360/);
      for (const height of [480, 360]) {
        const variant = byName(`hls-${height}`);
        const playlist = parseMediaPlaylist(await readFile(variant.file, "utf8"));
        expect(playlist.ended).toBe(true);
        // Relative URIs only.
        for (const s of playlist.segments) expect(s.uri).toMatch(new RegExp(`^seg-\\d{5}\\.${ext}$`));
        const total = playlist.segments.reduce((t, s) => t + s.durationSeconds, 0);
        expect(Math.abs(total - 8.5)).toBeLessThanOrEqual(frame(24) + 0.06);
        for (const s of playlist.segments.slice(0, -1)) expect(Math.abs(s.durationSeconds - 2)).toBeLessThanOrEqual(frame(24) + 1e-3);
        expect(variant.output).toMatchObject({ width: (height * 4) / 3, height, hasAudio: true });
      }
      expect(byName("hls").output).toMatchObject({ width: 640, height: 480, contentType: "application/vnd.apple.mpegurl" });
      const decoded = await decodeAll("hls/master.m3u8", dir);
      expect(decoded.stderr).toBe("");
      expect(decoded.frames).toBeGreaterThanOrEqual(204 - 1);
    });
  }

  it("default ladder: the rungs not taller than the source (franck 288p: one variant at 288)", async () => {
    const { success } = await transcodeOk("hls-default", testVideo("franck.mp4"), { renditions: [{ format: "hls" }], endSeconds: 14 });
    expect(success.outputs.map((o) => o.rendition)).toEqual(["hls", "hls-288"]);
    expect(success.outputs[1]).toMatchObject({ width: 360, height: 288, hasAudio: false });
  });
});
