/**
 * Extraction options on real videos: formats (png, webp: decodable, right magic bytes and
 * codec), quality (size grows with it), maxWidth/maxHeight (incl. a rotated copy made here), maxImages,
 * the [startSeconds, endSeconds] window, timestamps mode (the frame at or after each target, the same
 * with the seek and the sequential strategy), accuracy "keyframe" (keyframe times only), scene mode, and
 * the PROGRESS events (at most one per 2 s, non-decreasing fractions ≤ 1, none after the final event).
 * Expected values come from ffprobe on the same files, never hard-coded timestamps.
 */
import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExtractionOptions, ImageFormat } from "../../../schema/extraction-options.ts";
import { ExtractSnapshotEvent, isFinalExtractEvent } from "../../../schema/messages/extract-snapshot.ts";
import { TIMESTAMP_EPSILON_SECONDS } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { fetchArchive, ffprobeFrameTimes, ffprobeKeyframeTimes, type Harness, jobMessage, postJob, runSuccessfulJob, signedJobInit, startHarness, testVideo, uploadSource } from "../harness.ts";

const run = promisify(execFile);

let h: Harness;
let rotated: string;
beforeAll(async () => {
  h = await startHarness({ progressIntervalMs: 2000 });
  // A phone-style rotated copy: same frames, display matrix rotating by 90° (ffmpeg 5.1 writes the
  // legacy `rotate` tag as a display matrix). The first 30 s keep it small.
  rotated = path.join(h.dataDir, "franck-rotated.mp4");
  await run("ffmpeg", ["-v", "error", "-nostdin", "-i", testVideo("franck.mp4"), "-t", "30", "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated]);
});
afterAll(async () => {
  await h?.close();
});

/** ffprobe facts of one image (codec, size), from its bytes. */
async function probeImage(bytes: Uint8Array, format: ImageFormat): Promise<{ codec: string; width: number; height: number }> {
  const ext = { jpeg: "jpg", png: "png", webp: "webp" }[format];
  const file = path.join(h.dataDir, `probe-${Math.random().toString(36).slice(2)}.${ext}`);
  await writeFile(file, bytes);
  try {
    const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", file]);
    const s = (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams[0]!;
    return { codec: s.codec_name, width: s.width, height: s.height };
  } finally {
    await rm(file, { force: true });
  }
}

/** The first frame at or after t (ε), from ffprobe's frame list. */
function frameAtOrAfter(times: number[], t: number): number | undefined {
  return [...times].sort((a, b) => a - b).find((x) => x >= 0 && x >= t - TIMESTAMP_EPSILON_SECONDS);
}

let seq = 0;
const id = (what: string) => `opt-${what}-${++seq}`;

describe("format and quality", () => {
  it.each([
    ["png", "png"],
    ["webp", "webp"],
  ] as const)("%s archives hold decodable %s files with the right magic bytes, extension and content type", async (format, codec) => {
    const { manifest, entries } = await runSuccessfulJob(h, id(format), testVideo("franck.mp4"), {
      mode: "keyframes",
      format,
      maxImages: 3,
    });
    expect(manifest.images).toHaveLength(3);
    for (const image of manifest.images) {
      expect(image.fileName.endsWith(format === "png" ? ".png" : ".webp")).toBe(true);
      const probed = await probeImage(entries[image.fileName]!, format);
      expect(probed).toEqual({ codec, width: 360, height: 288 });
      expect({ width: image.width, height: image.height }).toEqual({ width: 360, height: 288 });
    }
  });

  it.each(["jpeg", "webp"] as const)("%s: a higher quality gives larger files", async (format) => {
    const sizes: number[] = [];
    for (const quality of [5, 50, 95]) {
      const { manifest } = await runSuccessfulJob(h, id(`q${quality}-${format}`), testVideo("franck.mp4"), {
        mode: "keyframes",
        format,
        quality,
        maxImages: 3,
      });
      sizes.push(manifest.images.reduce((s, i) => s + i.bytes, 0));
    }
    expect(sizes[0]).toBeLessThan(sizes[1]!);
    expect(sizes[1]).toBeLessThan(sizes[2]!);
  });
});

describe("maxWidth / maxHeight", () => {
  it.each([
    [{ maxWidth: 180 }, 180, 144],
    [{ maxHeight: 100 }, 125, 100],
    [{ maxWidth: 200, maxHeight: 200 }, 200, 160],
    [{ maxWidth: 1000, maxHeight: 1000 }, 360, 288], // never scaled up
  ] as const)("%j on 360x288 gives %dx%d", async (limits, width, height) => {
    const { manifest, entries } = await runSuccessfulJob(h, id("size"), testVideo("franck.mp4"), {
      mode: "interval",
      intervalSeconds: 50,
      ...limits,
    });
    for (const image of manifest.images) {
      expect({ width: image.width, height: image.height }).toEqual({ width, height });
      expect(await probeImage(entries[image.fileName]!, "jpeg")).toMatchObject({ width, height });
    }
  });

  it("apply to the displayed orientation of a rotated video (288x360 shown → 100x125)", async () => {
    const { manifest, entries, success } = await runSuccessfulJob(h, id("rot"), rotated, {
      mode: "keyframes",
      format: "png",
      maxWidth: 100,
    });
    expect(success.source).toMatchObject({ width: 360, height: 288 });
    expect(success.source.rotationDegrees % 180).toBe(90);
    expect(manifest.images.length).toBeGreaterThan(1);
    for (const image of manifest.images) {
      expect(await probeImage(entries[image.fileName]!, "png")).toMatchObject({ width: 100, height: 125 });
    }
  });
});

describe("maxImages and the window", () => {
  it.each(["sequential", "seek"] as const)("maxImages stops at N and succeeds (%s strategy)", async (strategy) => {
    const p = await h.extraProcessor({ intervalStrategy: strategy });
    const videoId = id(`max-${strategy}`);
    await uploadSource(h, videoId, testVideo("franck.mp4"));
    const res = await postJob(p.url, jobMessage(videoId, { mode: "interval", intervalSeconds: 10, maxImages: 4 }));
    const last = res.events.at(-1)!;
    expect(last.type, JSON.stringify(last)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") return;
    expect(last.payload.imageCount).toBe(4);
    const { times } = await ffprobeFrameTimes(testVideo("franck.mp4"));
    const { manifest } = await fetchArchive(h, videoId);
    expect(manifest.images.map((i) => i.timestampSeconds)).toEqual([0, 10, 20, 30].map((t) => frameAtOrAfter(times, t)));
  });

  it("interval with a window: images only within [start, end], targets counted from start", async () => {
    const file = testVideo("franck.mp4");
    const { times } = await ffprobeFrameTimes(file);
    const { manifest } = await runSuccessfulJob(h, id("window"), file, {
      mode: "interval",
      intervalSeconds: 5,
      startSeconds: 21,
      endSeconds: 50,
    });
    const expected = [21, 26, 31, 36, 41, 46].map((t) => frameAtOrAfter(times, t));
    expect(manifest.images.map((i) => i.timestampSeconds)).toEqual(expected);
    for (const image of manifest.images) {
      expect(image.timestampSeconds).toBeGreaterThanOrEqual(21);
      expect(image.timestampSeconds).toBeLessThanOrEqual(50);
    }
  });

  it.each([
    ["display-dual-monitors.webm", 5, 12.2, 30], // VP8 in WebM: reached by an input seek
    ["sample_iPod.m4v", 10, 33, 70], // H.264 in MP4 with long GOPs: the seek lands well before the start
    ["vtest.avi", 10, 33, 70], // MS-MPEG4v3 in AVI, keyframes every 25 s
  ] as const)("interval window on %s every %d s from %d to %d: same frames as the sequential rule", async (name, n, start, end) => {
    const file = testVideo(name);
    const { times } = await ffprobeFrameTimes(file);
    const { manifest } = await runSuccessfulJob(h, id("window-seek"), file, { mode: "interval", intervalSeconds: n, startSeconds: start, endSeconds: end });
    const expected: number[] = [];
    for (let t = start; t <= end; t += n) {
      const f = frameAtOrAfter(times, t);
      if (f !== undefined && f <= end && expected.at(-1) !== f) expected.push(f);
    }
    expect(manifest.images.map((i) => Math.round(i.timestampSeconds * 1e3))).toEqual(expected.map((t) => Math.round(t * 1e3)));
  });

  it("keyframes with a window: exactly the keyframes within [start, end]", async () => {
    const file = testVideo("franck.mp4");
    const keyframes = await ffprobeKeyframeTimes(file);
    const { manifest } = await runSuccessfulJob(h, id("kf-window"), file, { mode: "keyframes", startSeconds: 30, endSeconds: 120 });
    const expected = keyframes.filter((k) => k >= 30 && k <= 120);
    expect(expected.length).toBeGreaterThan(3);
    expect(manifest.images).toHaveLength(expected.length);
    manifest.images.forEach((image, i) => expect(Math.abs(image.timestampSeconds - expected[i]!)).toBeLessThan(0.001));
  });

  it("a window ending exactly on a frame keeps it (vtest.avi, time base 1/10, keyframe at 75 s)", async () => {
    const file = testVideo("vtest.avi");
    const keyframes = await ffprobeKeyframeTimes(file);
    expect(keyframes).toContain(75);
    const { manifest } = await runSuccessfulJob(h, id("kf-end"), file, { mode: "keyframes", startSeconds: 25, endSeconds: 75 });
    expect(manifest.images.map((i) => i.timestampSeconds)).toEqual(keyframes.filter((k) => k >= 25 && k <= 75));
  });

  it("a window starting after the end is an ERROR", async () => {
    const videoId = id("late-window");
    await uploadSource(h, videoId, testVideo("tree.avi"));
    const res = await postJob(h.url, jobMessage(videoId, { mode: "keyframes", startSeconds: 500 }));
    const last = res.events.at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
    if (last.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(last.payload.errorMessage).toMatch(/start \(500 s\) is at or after the end/);
  });
});

describe("timestamps mode", () => {
  const asked = [47.123, 0, 3.3, 3.3, 150.5, 199.9, 500];

  it.each(["sequential", "seek"] as const)(
    "franck.mp4 (%s): the frame at or after each target, within one frame; past-the-end targets listed",
    async (strategy) => {
      const file = testVideo("franck.mp4");
      const { times } = await ffprobeFrameTimes(file);
      const p = await h.extraProcessor({ intervalStrategy: strategy });
      const videoId = id(`ts-${strategy}`);
      await uploadSource(h, videoId, file);
      const res = await postJob(p.url, jobMessage(videoId, { mode: "timestamps", timestampsSeconds: asked }));
      expect(res.events.at(-1)!.type, JSON.stringify(res.events.at(-1))).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
      const { manifest } = await fetchArchive(h, videoId);
      const targets = [0, 3.3, 47.123, 150.5, 199.9];
      const frameSeconds = 1 / 24;
      // 199.9 is after franck's last frame (199.958 is the last: 4800 frames at 24 fps from 0) or on it.
      const landed = targets.filter((t) => frameAtOrAfter(times, t) !== undefined);
      expect(manifest.images).toHaveLength(landed.length);
      manifest.images.forEach((image, i) => {
        const t = landed[i]!;
        expect(image.timestampSeconds).toBe(Math.round(frameAtOrAfter(times, t)! * 1e6) / 1e6);
        expect(image.timestampSeconds - t).toBeGreaterThanOrEqual(-TIMESTAMP_EPSILON_SECONDS);
        expect(image.timestampSeconds - t).toBeLessThan(frameSeconds + 1e-6);
      });
      expect(manifest.skippedTimestampsSeconds).toEqual([500, ...targets.filter((t) => !landed.includes(t))].sort((a, b) => a - b));
    },
  );

  it("seek and sequential give the same images (timestamps and bytes)", async () => {
    const results: Record<string, { t: number; bytes: Uint8Array }[]> = {};
    for (const strategy of ["sequential", "seek"] as const) {
      const p = await h.extraProcessor({ intervalStrategy: strategy });
      const videoId = id(`ts-same-${strategy}`);
      await uploadSource(h, videoId, testVideo("display-dual-monitors.webm"));
      const res = await postJob(p.url, jobMessage(videoId, { mode: "timestamps", timestampsSeconds: [1.1, 9.95, 20, 36.5] }));
      expect(res.events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
      const { manifest, entries } = await fetchArchive(h, videoId);
      results[strategy] = manifest.images.map((i) => ({ t: i.timestampSeconds, bytes: entries[i.fileName]! }));
    }
    expect(results.seek!.map((r) => r.t)).toEqual(results.sequential!.map((r) => r.t));
    results.seek!.forEach((r, i) => expect(Buffer.from(r.bytes).equals(Buffer.from(results.sequential![i]!.bytes))).toBe(true));
  });

  it("a window or timestamps without a frame to keep: an ERROR that names the window, not a broken video", async () => {
    const cases: [string, string, ExtractionOptions, RegExp][] = [
      ["franck.mp4", "win-kf", { mode: "keyframes", startSeconds: 66.6667, endSeconds: 66.6767 }, /^No keyframe of the video lies in the requested window \(from 66\.6667 s to 66\.6767 s\)/],
      ["franck.mp4", "win-kfacc", { mode: "interval", intervalSeconds: 1, accuracy: "keyframe", startSeconds: 66.6667, endSeconds: 66.6767 }, /^No keyframe of the video lies in the requested window/],
      ["vtest.avi", "win-iv", { mode: "interval", intervalSeconds: 1, startSeconds: 79.45 }, /^No frame of the video lies in the requested window \(from 79\.45 s to the end\)\.$/],
      ["vtest.avi", "win-scene", { mode: "scene", startSeconds: 79.45 }, /^No frame of the video lies in the requested window/],
      ["franck.mp4", "ts-tail", { mode: "timestamps", timestampsSeconds: [199.999] }, /^No frame of the video \(200 s long\) starts at or after any requested timestamp/],
    ];
    for (const [file, name, options, message] of cases) {
      const videoId = id(name);
      await uploadSource(h, videoId, testVideo(file));
      const res = await postJob(h.url, jobMessage(videoId, options));
      const last = res.events.at(-1)!;
      expect(last.type, name).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
      if (last.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(last.payload.errorMessage, name).toMatch(message);
    }
  });

  it("a late start where the input seek decodes nothing (display-dual-monitors.webm past its last cue): decoded from the start", async () => {
    const file = testVideo("display-dual-monitors.webm");
    const { times } = await ffprobeFrameTimes(file);
    const videoId = id("webm-tail");
    await uploadSource(h, videoId, file);
    const res = await postJob(h.url, jobMessage(videoId, { mode: "scene", startSeconds: 36 }));
    const last = res.events.at(-1)!;
    expect(last.type, JSON.stringify(last)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const { manifest } = await fetchArchive(h, videoId);
    // Scene mode keeps the window's first frame.
    expect(manifest.images[0]!.timestampSeconds).toBeCloseTo(times.find((t) => t >= 36)!, 3);
    expect(manifest.warnings).toBeUndefined();
    expect(h.logs.some((l) => l.msg === "decode from the start" && String(l.fields.jobId).startsWith(`${videoId}#`))).toBe(true);
  });

  it("no timestamp within the video is an ERROR", async () => {
    const videoId = id("ts-none");
    await uploadSource(h, videoId, testVideo("tree.avi"));
    const res = await postJob(h.url, jobMessage(videoId, { mode: "timestamps", timestampsSeconds: [100, 200] }));
    const last = res.events.at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
    if (last.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(last.payload.errorMessage).toMatch(/None of the requested timestamps/);
  });
});

describe('accuracy: "keyframe"', () => {
  /** The keyframe nearest to t (ties: the earlier). */
  const nearest = (keyframes: number[], t: number) =>
    keyframes.reduce((best, k) => (Math.abs(k - t) < Math.abs(best - t) ? k : best), keyframes[0]!);

  it("interval: the nearest keyframe to each target, each once", async () => {
    const file = testVideo("franck.mp4");
    const keyframes = await ffprobeKeyframeTimes(file);
    const { manifest } = await runSuccessfulJob(h, id("acc-iv"), file, { mode: "interval", intervalSeconds: 25, accuracy: "keyframe" });
    const expected = [...new Set([0, 25, 50, 75, 100, 125, 150, 175].map((t) => nearest(keyframes, t)))];
    expect(manifest.images.map((i) => i.timestampSeconds)).toHaveLength(expected.length);
    manifest.images.forEach((image, i) => expect(Math.abs(image.timestampSeconds - expected[i]!)).toBeLessThan(0.001));
  });

  it("timestamps: keyframe times only; targets past the end skipped", async () => {
    const file = testVideo("vtest.avi");
    const keyframes = await ffprobeKeyframeTimes(file);
    const { manifest } = await runSuccessfulJob(h, id("acc-ts"), file, {
      mode: "timestamps",
      timestampsSeconds: [70, 2, 40, 1000],
      accuracy: "keyframe",
    });
    const expected = [...new Set([2, 40, 70].map((t) => nearest(keyframes, t)))].sort((a, b) => a - b);
    expect(manifest.images).toHaveLength(expected.length);
    manifest.images.forEach((image, i) => expect(Math.abs(image.timestampSeconds - expected[i]!)).toBeLessThan(0.001));
    expect(manifest.skippedTimestampsSeconds).toEqual([1000]);
  });

  it("window and maxImages: the nearest keyframes from the window's start, capped", async () => {
    const file = testVideo("franck.mp4");
    const keyframes = await ffprobeKeyframeTimes(file);
    const { manifest } = await runSuccessfulJob(h, id("acc-cap"), file, {
      mode: "interval",
      intervalSeconds: 20,
      accuracy: "keyframe",
      startSeconds: 30,
      maxImages: 3,
    });
    const inWindow = keyframes.filter((k) => k >= 30);
    const expected = [...new Set([30, 50, 70, 90, 110].map((t) => nearest(inWindow, t)))].slice(0, 3);
    expect(manifest.images).toHaveLength(3);
    manifest.images.forEach((image, i) => expect(Math.abs(image.timestampSeconds - expected[i]!)).toBeLessThan(0.001));
  });

  it("an AVI whose index flags every packet as key: the images are the keyframes the decoder really decoded", async () => {
    // DERIVED_vtest.truncated-50pct.avi has no index: ffprobe flags all its packets K, 2 are real keyframes.
    const file = testVideo("DERIVED_vtest.truncated-50pct.avi");
    const keyframesJob = await runSuccessfulJob(h, id("acc-avi-k"), file, { mode: "keyframes" });
    const real = keyframesJob.manifest.images.map((i) => i.timestampSeconds);
    const { manifest } = await runSuccessfulJob(h, id("acc-avi"), file, { mode: "interval", intervalSeconds: 5, accuracy: "keyframe" });
    expect(manifest.images.length).toBeGreaterThan(0);
    expect(manifest.images.length).toBeLessThanOrEqual(real.length);
    for (const image of manifest.images) expect(real).toContain(image.timestampSeconds);
  });
});

describe("scene mode", () => {
  it("display-dual-monitors.webm: the first frame plus scene changes; a lower threshold never gives fewer", async () => {
    const file = testVideo("display-dual-monitors.webm");
    const { times } = await ffprobeFrameTimes(file);
    const counts: number[] = [];
    for (const sceneThreshold of [0.3, 0.1] as const) {
      const { manifest } = await runSuccessfulJob(h, id("scene"), file, { mode: "scene", sceneThreshold });
      expect(manifest.images.length).toBeGreaterThan(1);
      expect(manifest.images[0]!.timestampSeconds).toBeLessThan(0.001);
      for (const image of manifest.images) {
        // Every image is a real frame of the video.
        expect(times.some((t) => Math.abs(t - image.timestampSeconds) < 0.001)).toBe(true);
      }
      counts.push(manifest.images.length);
    }
    expect(counts[1]).toBeGreaterThanOrEqual(counts[0]!);
  });
});

describe("PROGRESS events", () => {
  it("at most one per 2 s, fractions non-decreasing and ≤ 1, none after the final event", async () => {
    const videoId = id("progress");
    await uploadSource(h, videoId, testVideo("franck.mp4"));
    // A full sequential decode of 200 s with 100 PNGs: several seconds, images all along.
    const options: ExtractionOptions = { mode: "interval", intervalSeconds: 2, format: "png" };
    const p = await h.extraProcessor({ intervalStrategy: "sequential" });
    const res = await fetch(`${p.url}/jobs`, await signedJobInit(jobMessage(videoId, options)));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const lines: { at: number; event: ExtractSnapshotEvent }[] = [];
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        lines.push({ at: Date.now(), event: ExtractSnapshotEvent.parse(JSON.parse(buf.slice(0, nl))) });
        buf = buf.slice(nl + 1);
      }
    }
    const finals = lines.filter((l) => isFinalExtractEvent(l.event.type));
    expect(finals).toHaveLength(1);
    expect(lines.at(-1)!.event.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const progress = lines.filter((l) => l.event.type === "MSG_EXTRACT_SNAPSHOT_PROGRESS");
    expect(progress.length).toBeGreaterThan(0);
    // A job that lasted well over 2 s reported more than once (how long it lasts depends on the machine).
    const lasted = lines.at(-1)!.at - lines[0]!.at;
    if (lasted > 5000) expect(progress.length, `job lasted ${lasted} ms`).toBeGreaterThan(1);
    let previous: { at: number; fraction: number; images: number } | undefined;
    for (const { at, event } of progress) {
      if (event.type !== "MSG_EXTRACT_SNAPSHOT_PROGRESS") throw new Error("unreachable");
      expect(event.payload).toMatchObject({ videoId, attempt: 1 });
      expect(event.payload.fraction).toBeLessThanOrEqual(1);
      if (previous) {
        // Sent ≥ 2 s apart; arrival times here may bunch a little (shared event loop): 1.5 s margin.
        expect(at - previous.at).toBeGreaterThanOrEqual(1500);
        expect(event.payload.fraction).toBeGreaterThanOrEqual(previous.fraction);
        expect(event.payload.imagesSoFar).toBeGreaterThanOrEqual(previous.images);
      }
      previous = { at, fraction: event.payload.fraction, images: event.payload.imagesSoFar };
    }
    expect(previous!.images).toBeLessThanOrEqual(100);
  });
});
