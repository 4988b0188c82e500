/**
 * A sequential decode split into two halves decoded at once (ffmpeg-container/src/jobs/extract/extractors/split.ts):
 * the split rule and plans (pure), then the real thing on every testdata video whose (codec, container)
 * seeks are verified: a processor forced to split (threshold 0) must store byte-identical images with
 * identical manifest entries to one that never splits, in interval mode (with and without a window) and
 * timestamps mode; the spool file is gone afterwards. (boswars_intro.ogg is absent: ffprobe gives its
 * Theora stream no frame rate, so the work cannot be estimated and it is never split.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExtractionOptions } from "../../../schema/extraction-options.ts";
import { planFromOptions } from "../../../ffmpeg-container/src/jobs/extract/plan/plan.ts";
import { SEGMENT_SPLIT_MIN_PIXEL_FRAMES, segmentSplitPoint, splitPlan } from "../../../ffmpeg-container/src/jobs/extract/extractors/split.ts";
import { fetchArchive, type Harness, jobMessage, leftoverTempFiles, postJob, runSuccessfulJob, startHarness, testVideo, uploadSource } from "../harness.ts";

describe("split rule", () => {
  const interval10 = planFromOptions({ mode: "interval", intervalSeconds: 10 });
  const timestamps = planFromOptions({ mode: "timestamps", timestampsSeconds: [5, 150] }, [5, 150]);
  const hd = { pixels: 1350 * 1080, frameRate: 24 };
  const whole = { from: 0, to: 200 };

  it("splits long sequential decodes in the middle; interval plans on a target time", () => {
    expect(segmentSplitPoint(interval10, whole, hd, true, 2)).toBe(100);
    expect(segmentSplitPoint(planFromOptions({ mode: "interval", intervalSeconds: 7 }), whole, hd, true, 2)).toBe(98);
    expect(segmentSplitPoint(planFromOptions({ mode: "interval", intervalSeconds: 7, startSeconds: 3 }), { from: 3, to: 200 }, hd, true, 2)).toBe(101);
    expect(segmentSplitPoint(timestamps, { from: 0, to: 123.4567 }, hd, true, 2)).toBe(61.728);
    // The 200 s 1080p bench input is above the threshold, 10 s of it is not.
    expect(200 * 24 * hd.pixels).toBeGreaterThan(SEGMENT_SPLIT_MIN_PIXEL_FRAMES);
    expect(segmentSplitPoint(interval10, { from: 0, to: 10 }, hd, true, 2)).toBeNull();
  });

  it("never splits keyframes, scene, capped plans, unverified seeks, one core, or unknown spans", () => {
    expect(segmentSplitPoint(planFromOptions({ mode: "keyframes" }), whole, hd, true, 2)).toBeNull();
    expect(segmentSplitPoint(planFromOptions({ mode: "scene" }), whole, hd, true, 2)).toBeNull();
    expect(segmentSplitPoint(planFromOptions({ mode: "interval", intervalSeconds: 10, maxImages: 5 }), whole, hd, true, 2)).toBeNull();
    expect(segmentSplitPoint(interval10, whole, hd, false, 2)).toBeNull();
    expect(segmentSplitPoint(interval10, whole, hd, true, 1)).toBeNull();
    expect(segmentSplitPoint(interval10, { from: 0, to: null }, hd, true, 2)).toBeNull();
    expect(segmentSplitPoint(interval10, whole, { ...hd, frameRate: null }, true, 2)).toBeNull();
    // An interval longer than half the span has no target time inside it.
    expect(segmentSplitPoint(planFromOptions({ mode: "interval", intervalSeconds: 500 }), whole, hd, true, 2, 0)).toBeNull();
  });

  it("the halves partition the selection just before M; the second starts decoding 1 s earlier; one thread each", () => {
    const [a, b] = splitPlan(planFromOptions({ mode: "interval", intervalSeconds: 10, endSeconds: 300 }), 100);
    expect(a.select.startsWith("lt(t,99.999999)*")).toBe(true);
    expect(b.select.startsWith("gte(t,99.999999)*")).toBe(true);
    expect(a.select.slice("lt(t,99.999999)*".length)).toBe(b.select.slice("gte(t,99.999999)*".length));
    expect([a.endSeconds, a.seekSeconds, b.endSeconds, b.seekSeconds]).toEqual([100, undefined, 300, 99]);
    expect([a.singleThread, b.singleThread]).toEqual([true, true]);
  });
});

describe("split decode = one decode, on every verified-seek testdata video", () => {
  let h: Harness;
  let splitUrl: string;
  beforeAll(async () => {
    // Both decode sequentially; the main processor never splits, the extra one always does.
    h = await startHarness({ intervalStrategy: "sequential", segmentSplitMinPixelFrames: Number.POSITIVE_INFINITY });
    splitUrl = (await h.extraProcessor({ segmentSplitMinPixelFrames: 0 })).url;
  });
  afterAll(async () => {
    await h?.close();
  });

  let seq = 0;
  const cases: [string, ExtractionOptions][] = [
    ["franck.mp4", { mode: "interval", intervalSeconds: 10 }],
    ["franck.mp4", { mode: "interval", intervalSeconds: 7, startSeconds: 33.3, endSeconds: 150 }],
    ["franck.mp4", { mode: "timestamps", timestampsSeconds: [0, 12.34, 99.99, 100, 100.01, 150, 199] }],
    ["sample_iPod.m4v", { mode: "interval", intervalSeconds: 5 }],
    ["display-dual-monitors.webm", { mode: "interval", intervalSeconds: 3 }],
    ["vtest.avi", { mode: "interval", intervalSeconds: 10 }],
    ["tree.avi", { mode: "timestamps", timestampsSeconds: [1, 14.8, 14.9, 15, 29] }],
  ];
  /** Runs `options` on `file` as one decode and as two halves; both succeed with the same images. @returns the one run's manifest */
  async function sameAsOneRun(file: string, options: ExtractionOptions) {
    const one = `seg-one-${++seq}`;
    const { manifest } = await runSuccessfulJob(h, one, testVideo(file), options);
    const splitId = `seg-split-${seq}`;
    const logsBefore = h.logs.length;
    // The same video through the splitting processor.
    await uploadSource(h, splitId, testVideo(file));
    const res = await postJob(splitUrl, jobMessage(splitId, options));
    expect(res.events.at(-1)!.type, JSON.stringify(res.events.at(-1))).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    expect(h.logs.slice(logsBefore).some((l) => l.msg === "parallel segments")).toBe(true);
    const pick = (images: typeof manifest.images) =>
      images.map(({ fileName, timestampSeconds, bytes, width, height }) => ({ fileName, timestampSeconds, bytes, width, height }));
    const split = await fetchArchive(h, splitId);
    expect(pick(split.manifest.images)).toEqual(pick(manifest.images));
    expect(split.manifest.skippedTimestampsSeconds).toEqual(manifest.skippedTimestampsSeconds);
    const whole = await fetchArchive(h, one);
    for (const image of manifest.images) expect(Buffer.from(split.entries[image.fileName]!).equals(Buffer.from(whole.entries[image.fileName]!))).toBe(true);
    expect(await leftoverTempFiles(h)).toEqual([]);
    return manifest;
  }

  it.each(cases)("%s %j", async (file, options) => {
    await sameAsOneRun(file, options);
  });

  it("300 timestamps (an expression ffmpeg refused as a flat sum past ~95 terms) decode sequentially", async () => {
    const manifest = await sameAsOneRun("franck.mp4", { mode: "timestamps", timestampsSeconds: Array.from({ length: 300 }, (_, i) => i * 0.5) });
    // 25 fps: every target has a frame of its own.
    expect(manifest.images).toHaveLength(300);
  });

  it("the second half stops at the last target's image instead of decoding to the end; same images as one run", async () => {
    // franck.mp4 is 200 s: with N = 30 s the last target is 180 s, 20 s before the end.
    const options: ExtractionOptions = { mode: "interval", intervalSeconds: 30 };
    const one = `seg-one-${++seq}`;
    const { manifest } = await runSuccessfulJob(h, one, testVideo("franck.mp4"), options);
    const splitId = `seg-split-${seq}`;
    const logsBefore = h.logs.length;
    await uploadSource(h, splitId, testVideo("franck.mp4"));
    const res = await postJob(splitUrl, jobMessage(splitId, options));
    expect(res.events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const lines = h.logs.slice(logsBefore).filter((l) => String(l.fields.jobId).startsWith(`${splitId}#`));
    expect(lines.some((l) => l.msg === "parallel segments")).toBe(true);
    const stopped = lines.find((l) => l.msg === "decode stopped early" && l.fields.segment === 1);
    expect(stopped, JSON.stringify(lines.map((l) => l.msg))).toBeDefined();
    expect(stopped!.fields.atSeconds as number).toBeGreaterThanOrEqual(180 - 1e-6);
    expect(stopped!.fields.atSeconds as number).toBeLessThan(181);
    const split = await fetchArchive(h, splitId);
    expect(split.manifest.images.map((i) => i.timestampSeconds)).toEqual(manifest.images.map((i) => i.timestampSeconds));
    expect(manifest.images.at(-1)!.timestampSeconds).toBeGreaterThanOrEqual(180 - 1e-6);
    expect(await leftoverTempFiles(h)).toEqual([]);
  });
});
