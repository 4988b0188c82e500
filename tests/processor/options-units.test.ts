/**
 * Unit tests of the extraction options' pure parts (issue 3): the option schema's rules, the ffmpeg
 * argument builders per format / size / mode, the select expressions (checked against real ffmpeg on a
 * synthetic clip), the target planners of timestamps mode and keyframe accuracy, the progress span, and
 * the PNG / WebP stream splitters on real ffmpeg output.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ExtractionOptions } from "../../schema/extraction-options.ts";
import { Manifest } from "../../schema/manifest.ts";
import { progressSpan } from "../../ffmpeg-container/src/extract.ts";
import {
  buildExtractArgs,
  buildFilterGraph,
  buildSeekExtractArgs,
  FILTER_SCRIPT_THRESHOLD_CHARS,
  imageEntryName,
  imageOutputArgs,
  intervalSelectExpr,
  jpegQscale,
  JPEG_QSCALE,
  keyframesSelectExpr,
  needsFilterScript,
  planFromOptions,
  scaleFilter,
  timestampsSelectExpr,
  TRIM_MARGIN_SECONDS,
} from "../../ffmpeg-container/src/ffmpeg-args.ts";
import { createImageSplitter } from "../../ffmpeg-container/src/image-splitter.ts";
import { NearestKeyframePicker } from "../../ffmpeg-container/src/keyframe-picker.ts";
import type { TimeWindow } from "../../ffmpeg-container/src/interval-strategy.ts";
import {
  planIntervalTargets,
  planTimestampTargets,
  resolveTimestampTargets,
  seekVerified,
  type KeyframeIndex,
} from "../../ffmpeg-container/src/interval-strategy.ts";

const run = promisify(execFile);
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("ExtractionOptions schema", () => {
  const issues = (v: unknown) => {
    const r = ExtractionOptions.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };

  it("accepts every mode with its options, and old stored options", () => {
    for (const v of [
      { mode: "keyframes" },
      { mode: "interval", intervalSeconds: 10 },
      { mode: "interval", intervalSeconds: 5, accuracy: "keyframe", format: "webp", quality: 60, maxWidth: 640, startSeconds: 5, endSeconds: 60, maxImages: 10 },
      { mode: "scene", sceneThreshold: 0.4, format: "png", maxHeight: 480 },
      { mode: "timestamps", timestampsSeconds: [0, 1.5, 1.5, 99], accuracy: "exact" },
    ]) {
      expect(issues(v), JSON.stringify(v)).toEqual([]);
    }
    expect(ExtractionOptions.parse({ mode: "interval" })).toEqual({ mode: "interval", intervalSeconds: 10 });
  });

  it("refuses bad values at the field's path", () => {
    expect(issues({ mode: "keyframes", startSeconds: 10, endSeconds: 10 })).toEqual(["endSeconds"]);
    expect(issues({ mode: "keyframes", endSeconds: 5, startSeconds: 8 })).toEqual(["endSeconds"]);
    expect(issues({ mode: "keyframes", quality: 0 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", quality: 101 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", quality: 50.5 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", format: "png", quality: 50 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", format: "gif" })).toEqual(["format"]);
    expect(issues({ mode: "scene", sceneThreshold: 1.5 })).toEqual(["sceneThreshold"]);
    expect(issues({ mode: "scene", sceneThreshold: -0.1 })).toEqual(["sceneThreshold"]);
    expect(issues({ mode: "timestamps", timestampsSeconds: [] })).toEqual(["timestampsSeconds"]);
    expect(issues({ mode: "timestamps", timestampsSeconds: Array.from({ length: 1001 }, (_, i) => i) })).toEqual(["timestampsSeconds"]);
    expect(issues({ mode: "timestamps", timestampsSeconds: [1, -1] })).toEqual(["timestampsSeconds.1"]);
    expect(issues({ mode: "timestamps" })).toEqual(["timestampsSeconds"]);
    expect(issues({ mode: "interval", accuracy: "nearest" })).toEqual(["accuracy"]);
    expect(issues({ mode: "keyframes", maxImages: 0 })).toEqual(["maxImages"]);
    expect(issues({ mode: "keyframes", maxWidth: 8 })).toEqual(["maxWidth"]);
  });

  it("manifests written before formats existed still parse (JPEG)", () => {
    const old = {
      version: 1,
      videoId: "v",
      attempt: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      options: { mode: "keyframes" },
      source: { formatName: "mov", durationSeconds: 1, sizeBytes: 1, videoCodec: "h264", width: 2, height: 2, frameRate: 1, rotationDegrees: 0 },
      imageFormat: "jpeg",
      images: [{ index: 0, fileName: "images/000001_t0000000.000.jpg", timestampSeconds: 0, bytes: 10 }],
    };
    expect(Manifest.parse(old)).toMatchObject({ imageFormat: "jpeg", contentType: "image/jpeg" });
  });
});

describe("output arguments", () => {
  it("jpeg quality maps 1..100 linearly onto -q:v 31..2; none keeps -q:v 3", () => {
    expect(jpegQscale(100)).toBe(2);
    expect(jpegQscale(1)).toBe(31);
    expect(jpegQscale(97)).toBe(3);
    expect(jpegQscale(undefined)).toBe(JPEG_QSCALE);
    for (let q = 2; q <= 100; q++) expect(jpegQscale(q)).toBeLessThanOrEqual(jpegQscale(q - 1));
    expect(() => jpegQscale(0)).toThrow(RangeError);
  });

  it("per format: encoder, pixel format, quality flag, image2pipe on stdout", () => {
    const jpeg = imageOutputArgs({ format: "jpeg", quality: 50 });
    expect([after(jpeg, "-c:v"), after(jpeg, "-pix_fmt"), after(jpeg, "-q:v")]).toEqual(["mjpeg", "yuvj420p", String(jpegQscale(50))]);
    const png = imageOutputArgs({ format: "png" });
    expect([after(png, "-c:v"), after(png, "-pix_fmt")]).toEqual(["png", "rgb24"]);
    expect(png).not.toContain("-q:v");
    const webp = imageOutputArgs({ format: "webp", quality: 42 });
    expect([after(webp, "-c:v"), after(webp, "-quality")]).toEqual(["libwebp", "42"]);
    expect(after(imageOutputArgs({ format: "webp" }), "-quality")).toBe("80");
    for (const a of [jpeg, png, webp]) expect(a.slice(-3)).toEqual(["-f", "image2pipe", "pipe:1"]);
  });

  it("entry names carry the format's extension", () => {
    expect(imageEntryName(0, 1.5)).toBe("images/000001_t0000001.500.jpg");
    expect(imageEntryName(0, 1.5, "png")).toBe("images/000001_t0000001.500.png");
    expect(imageEntryName(2, 0, "webp")).toBe("images/000003_t0000000.000.webp");
  });

  it("scaleFilter scales down only, keeping the aspect ratio", () => {
    expect(scaleFilter()).toBeUndefined();
    expect(scaleFilter(640)).toBe("scale=w='min(iw,640)':h='ih':force_original_aspect_ratio=decrease");
    expect(scaleFilter(undefined, 480)).toBe("scale=w='iw':h='min(ih,480)':force_original_aspect_ratio=decrease");
    expect(() => scaleFilter(0)).toThrow(RangeError);
  });
});

describe("plans and filtergraphs", () => {
  it("keyframes: keyframe decoding, window factors, trim past the end, scale before showinfo, -frames:v for maxImages", () => {
    const plan = planFromOptions({ mode: "keyframes", startSeconds: 10, endSeconds: 20, maxImages: 5, maxWidth: 320 });
    expect(plan.keyframesOnly).toBe(true);
    const args = buildExtractArgs("/v.mp4", 0, plan);
    expect(after(args, "-skip_frame")).toBe("nokey");
    expect(after(args, "-frames:v")).toBe("5");
    expect(after(args, "-vf")).toBe(
      `trim=end=${20 + TRIM_MARGIN_SECONDS},select='gte(t,9.999999)*lte(t,20.000001)*eq(key,1)',${scaleFilter(320)},showinfo=checksum=0`,
    );
  });

  it("a late window start becomes an input seek that keeps the sequential timeline", () => {
    const plan = { ...planFromOptions({ mode: "scene", startSeconds: 12.5 }), seekSeconds: 12.5 };
    const args = buildExtractArgs("/v.mp4", 0, plan);
    const i = args.indexOf("-ss");
    expect(args.slice(i, i + 5)).toEqual(["-ss", "12.500000", "-noaccurate_seek", "-copyts", "-start_at_zero"]);
    expect(i).toBeLessThan(args.indexOf("-i"));
    expect(buildExtractArgs("/v.mp4", 0, planFromOptions({ mode: "scene", startSeconds: 12.5 }))).not.toContain("-ss");
    expect(seekVerified("h264", "mov,mp4,m4a,3gp,3g2,mj2")).toBe(true);
    expect(seekVerified("h264", "matroska,webm")).toBe(false);
  });

  it("interval: unchanged expression without options; targets from startSeconds with a window", () => {
    expect(buildFilterGraph(planFromOptions({ mode: "interval", intervalSeconds: 10 }))).toBe(`select='${intervalSelectExpr(10)}',showinfo=checksum=0`);
    expect(intervalSelectExpr(5, 21)).toBe(
      "gte(t,20.999999)*(isnan(prev_selected_t)+gt(floor((t-20.999999)/5),floor((prev_selected_t-20.999999)/5)))",
    );
    const plan = planFromOptions({ mode: "interval", intervalSeconds: 5, startSeconds: 21, endSeconds: 50 });
    expect(plan.keyframesOnly).toBe(false);
    expect(plan.select).toBe(`lte(t,50.000001)*${intervalSelectExpr(5, 21)}`);
  });

  it("scene: first frame plus frames over the threshold (default 0.3)", () => {
    expect(planFromOptions({ mode: "scene" }).select).toBe("gte(t,0)*(isnan(prev_selected_t)+gt(scene,0.3))");
    expect(planFromOptions({ mode: "scene", sceneThreshold: 0.05 }).select).toContain("gt(scene,0.05)");
  });

  it("timestamps and keyframe-time expressions; long graphs go through a filter script", () => {
    expect(timestampsSelectExpr([0, 2.5])).toBe(
      "gte(t,0)*gt(gte(t,0)*(isnan(prev_t)+lt(prev_t,0))+gte(t,2.499999)*(isnan(prev_t)+lt(prev_t,2.499999)),0)",
    );
    expect(keyframesSelectExpr()).toBe("eq(key,1)");
    expect(keyframesSelectExpr(10, 20)).toBe("gte(t,9.999999)*lte(t,20.000001)*eq(key,1)");
    expect(() => timestampsSelectExpr([])).toThrow(RangeError);
    expect(() => planFromOptions({ mode: "timestamps", timestampsSeconds: [1] })).toThrow(RangeError);
    const many = Array.from({ length: 1000 }, (_, i) => i * 3.7);
    const plan = planFromOptions({ mode: "timestamps", timestampsSeconds: many }, many);
    const graph = buildFilterGraph(plan);
    expect(graph.length).toBeGreaterThan(FILTER_SCRIPT_THRESHOLD_CHARS);
    expect(needsFilterScript(graph)).toBe(true);
    expect(() => buildExtractArgs("/v.mp4", 0, plan)).toThrow(/filter script/);
    const args = buildExtractArgs("/v.mp4", 0, plan, "/job/filtergraph.txt");
    expect(after(args, "-filter_script:v")).toBe("/job/filtergraph.txt");
    expect(args).not.toContain("-vf");
  });

  it("seek arguments carry the output format and the size limits", () => {
    const args = buildSeekExtractArgs("/v.mp4", 0, 8, 10, { format: "webp", quality: 70, maxHeight: 100 });
    expect(after(args, "-c:v")).toBe("libwebp");
    expect(after(args, "-vf")).toBe(`select='gte(t,0)*gte(t,10-0.000001)',${scaleFilter(undefined, 100)},showinfo=checksum=0`);
  });

  it("the select expressions pick the frames the planners predict (ffmpeg on a synthetic 7 fps clip)", async () => {
    // 7 fps, 3 s: frames at k/7 s.
    const src = ["-f", "lavfi", "-i", "testsrc=size=32x24:rate=7:duration=3"];
    const picked = async (select: string) => {
      const { stderr } = await run("ffmpeg", ["-hide_banner", "-nostdin", ...src, "-fps_mode", "passthrough", "-vf", `select='${select}',showinfo`, "-f", "null", "-"]);
      return [...stderr.matchAll(/pts_time:([\d.]+)/g)].map((m) => Number(m[1]));
    };
    const frames = Array.from({ length: 21 }, (_, k) => k / 7);
    const index: KeyframeIndex = { frameTimes: frames, keyframeTimes: [0], packetsWithoutPts: 0 };
    const targets = [0.1, 0.12, 1, 2.95, 5];
    const expected = planTimestampTargets(index, targets).map((t) => t.frameSeconds);
    // 0.1 and 0.12 share frame 1; 2.95 and 5 are after the last frame (20/7 s).
    expect(expected.map((t) => Math.round(t * 7))).toEqual([1, 7]);
    const got = await picked(timestampsSelectExpr(targets));
    expect(got.map((t) => Math.round(t * 7))).toEqual(expected.map((t) => Math.round(t * 7)));
    const windowed = planIntervalTargets(index, 0.5, { startSeconds: 1, endSeconds: 2 }).map((t) => Math.round(t.frameSeconds * 7));
    const gotWindow = await picked(planFromOptions({ mode: "interval", intervalSeconds: 0.5, startSeconds: 1, endSeconds: 2 }).select);
    expect(gotWindow.map((t) => Math.round(t * 7))).toEqual(windowed);
    expect(windowed).toEqual([7, 11, 14]);
  });
});

/** All keyframes through a picker at once: the chosen keyframe times and each target's keyframe. */
function nearestKeyframes(keyframeTimes: number[], targets: number[], window: TimeWindow = {}) {
  const picker = new NearestKeyframePicker<null>(targets, window);
  const keyframes: number[] = [];
  for (const k of keyframeTimes) for (const p of picker.push(k, null)) keyframes.push(p.timeSeconds);
  for (const p of picker.finish()) keyframes.push(p.timeSeconds);
  return { keyframes, perTarget: picker.perTarget };
}

describe("target planning", () => {
  it("resolveTimestampTargets sorts, de-duplicates, and skips what lies outside the window or past the end", () => {
    expect(resolveTimestampTargets([5, 1, 5, 300, 0], {}, 200)).toEqual({ targets: [0, 1, 5], skipped: [300] });
    expect(resolveTimestampTargets([5, 1, 50], { startSeconds: 2, endSeconds: 40 }, null)).toEqual({ targets: [5], skipped: [1, 50] });
  });

  it("planTimestampTargets: first frame at or after each target, each frame once, with its keyframe", () => {
    const index: KeyframeIndex = { frameTimes: [0, 1, 2, 3, 4], keyframeTimes: [0, 3], packetsWithoutPts: 0 };
    expect(planTimestampTargets(index, [0.5, 0.7, 2, 3.5, 9])).toEqual([
      { targetSeconds: 0.5, frameSeconds: 1, keyframeSeconds: 0, framesToDecode: 2 },
      { targetSeconds: 2, frameSeconds: 2, keyframeSeconds: 0, framesToDecode: 3 },
      { targetSeconds: 3.5, frameSeconds: 4, keyframeSeconds: 3, framesToDecode: 2 },
    ]);
  });

  it("timestamps within a window: a target whose frame lies past the end gives no image", () => {
    const index: KeyframeIndex = { frameTimes: [0, 1, 2, 3, 4], keyframeTimes: [0], packetsWithoutPts: 0 };
    expect(planTimestampTargets(index, [0.5, 2.5], { endSeconds: 2.7 }).map((t) => t.frameSeconds)).toEqual([1]);
    expect(planFromOptions({ mode: "timestamps", timestampsSeconds: [2.5], endSeconds: 2.7 }, [2.5]).select).toBe(
      `lte(t,2.700001)*${timestampsSelectExpr([2.5])}`,
    );
  });

  it("nearestKeyframes: nearest (ties to the earlier), within the window, each once", () => {
    const kf = [0, 10, 20, 30];
    expect(nearestKeyframes(kf, [0, 4, 5, 6, 14, 29, 100])).toEqual({ keyframes: [0, 10, 30], perTarget: [0, 0, 0, 10, 10, 30, 30] });
    expect(nearestKeyframes(kf, [0, 12], { startSeconds: 5, endSeconds: 25 }).keyframes).toEqual([10]);
    expect(nearestKeyframes(kf, [1], { startSeconds: 31 })).toEqual({ keyframes: [], perTarget: [Number.NaN] });
  });

  it("NearestKeyframePicker: answers as soon as the next keyframe is seen, holds one keyframe, is done past the last target", () => {
    const picker = new NearestKeyframePicker<string>([4, 6, 14]);
    expect(picker.push(0, "k0")).toEqual([]);
    // 10 arrives: target 4 is nearer to 0, target 6 nearer to 10; 14 still waits (20 could be as near).
    expect(picker.push(10, "k10")).toEqual([
      { timeSeconds: 0, item: "k0" },
      { timeSeconds: 10, item: "k10" },
    ]);
    expect(picker.done).toBe(false);
    // 20: target 14 takes 10, already an image: nothing new, and every target is answered.
    expect(picker.push(20, "k20")).toEqual([]);
    expect(picker.done).toBe(true);
    expect(picker.perTarget).toEqual([0, 10, 10]);
    expect(picker.finish()).toEqual([]);
  });

  it("NearestKeyframePicker: finish gives the last keyframe to pending targets, up to a bound", () => {
    const bounded = new NearestKeyframePicker<null>([0, 13, 20, 30]);
    expect(bounded.push(0, null)).toEqual([]);
    expect(bounded.push(12, null).map((p) => p.timeSeconds)).toEqual([0]);
    // Targets planned to a bound: only those up to it take the last keyframe (30 is dropped).
    expect(bounded.finish(25).map((p) => p.timeSeconds)).toEqual([12]);
    expect(bounded.perTarget).toEqual([0, 12, 12]);
    const none = new NearestKeyframePicker<null>([1, 2], { startSeconds: 5 });
    expect(none.push(3, null)).toEqual([]);
    expect(none.finish()).toEqual([]);
    expect(none.perTarget).toEqual([Number.NaN, Number.NaN]);
  });

  it("NearestKeyframePicker = brute-force nearest on random keyframe layouts, targets and windows", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 300; run++) {
      const keyframes = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.round(rnd() * 100)))].sort((a, b) => a - b);
      const targets = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.round(rnd() * 110)))].sort((a, b) => a - b);
      const window = rnd() < 0.5 ? {} : { startSeconds: Math.round(rnd() * 40), endSeconds: 50 + Math.round(rnd() * 60) };
      const candidates = keyframes.filter((k) => k >= (window.startSeconds ?? 0) && k <= (window.endSeconds ?? Infinity));
      const expectedPerTarget = targets.map((t) =>
        candidates.length === 0 ? Number.NaN : candidates.reduce((best, k) => (Math.abs(k - t) < Math.abs(best - t) ? k : best)),
      );
      const got = nearestKeyframes(keyframes, targets, window);
      expect(got.perTarget).toEqual(expectedPerTarget);
      expect(got.keyframes).toEqual([...new Set(expectedPerTarget.filter((k) => !Number.isNaN(k)))]);
    }
  });

  it("progressSpan: fraction of the window cut to the duration", () => {
    const span = progressSpan(100, { startSeconds: 20, endSeconds: 60 });
    expect([span.fraction(0), span.fraction(20), span.fraction(40), span.fraction(80)]).toEqual([0, 0, 0.5, 1]);
    expect(progressSpan(100, {}).fraction(25)).toBe(0.25);
    expect(progressSpan(50, { endSeconds: 80 }).fraction(25)).toBe(0.5);
    expect(progressSpan(null, {}).fraction(25)).toBe(0);
  });
});

describe("PNG and WebP stream splitters", () => {
  it.each([
    ["png", ["-c:v", "png"]],
    ["webp", ["-c:v", "libwebp"]],
  ] as const)("%s: real ffmpeg output splits into the same images whatever the chunking", async (format, codec) => {
    const { stdout } = (await run(
      "ffmpeg",
      ["-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", ...codec, "-f", "image2pipe", "pipe:1"],
      { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
    )) as unknown as { stdout: Buffer };
    for (const chunkSize of [1, 7, 4096, stdout.length]) {
      const splitter = createImageSplitter(format);
      const images: Buffer[] = [];
      for (let i = 0; i < stdout.length; i += chunkSize) images.push(...splitter.push(stdout.subarray(i, i + chunkSize)));
      splitter.end();
      expect(images).toHaveLength(5);
      expect(Buffer.concat(images).equals(stdout)).toBe(true);
    }
    const cut = createImageSplitter(format);
    cut.push(stdout.subarray(0, stdout.length - 3));
    expect(() => cut.end()).toThrow(/ended inside/);
    expect(() => createImageSplitter(format).push(Buffer.from("not an image at all"))).toThrow(/expected/);
  });
});
