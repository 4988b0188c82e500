/**
 * The extraction's argument builders (ffmpeg-container/src/jobs/extract/ffmpeg-args.ts): extract
 * arguments, select expressions, output encoders, filtergraphs; expressions are also run through ffmpeg
 * on a synthetic clip.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { buildExtractArgs, buildFilterGraph, buildSeekExtractArgs, decoderPixelGuard, FILTER_SCRIPT_THRESHOLD_CHARS, FIRST_VIDEO_STREAM, imageOutputArgs, intervalSelectExpr, JPEG_QSCALE, jpegQscale, keyframesSelectExpr, needsFilterScript, scaleFilter, timestampsSelectExpr, TRIM_MARGIN_SECONDS } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { imageEntryName } from "../../../ffmpeg-container/src/jobs/extract/archive.ts";
import { ShowinfoParser } from "../../../ffmpeg-container/src/ffmpeg/stderr.ts";
import { planFromOptions } from "../../../ffmpeg-container/src/jobs/extract/plan/plan.ts";
import { testVideo } from "../../../tools/paths.ts";
import { type KeyframeIndex, planIntervalTargets, planTimestampTargets, seekVerified } from "../../../ffmpeg-container/src/jobs/extract/plan/strategy.ts";

const run = promisify(execFile);
const URL_IN = "http://127.0.0.1:4569/vidsnap-videos/users/u/videos/v/source?X-Amz-Signature=abc";

/** Value following `flag` in an argument array. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildExtractArgs", () => {
  it("keyframes: decode keyframes only, single decoder thread, both before -i", () => {
    const args = buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "keyframes" }));
    const i = args.indexOf("-i");
    expect(args.indexOf("-skip_frame")).toBeLessThan(i);
    expect(after(args, "-skip_frame")).toBe("nokey");
    expect(args.indexOf("-threads")).toBeLessThan(i);
    expect(after(args, "-threads")).toBe("1");
    expect(after(args, "-i")).toBe(URL_IN);
    expect(after(args, "-vf")).toBe("select='eq(key,1)',showinfo=checksum=0");
    expect(after(args, "-fps_mode")).toBe("passthrough");
    expect(after(args, "-c:v")).toBe("mjpeg");
    expect(Number(after(args, "-q:v"))).toBeGreaterThanOrEqual(2);
    expect(Number(after(args, "-q:v"))).toBeLessThanOrEqual(4);
    expect(after(args, "-f")).toBe("image2pipe");
    expect(args.at(-1)).toBe("pipe:1");
    expect(args).toContain("-nostdin");
  });

  it("interval: no skip_frame, select by N-second buckets, mapped stream", () => {
    const args = buildExtractArgs(URL_IN, 2, planFromOptions({ mode: "interval", intervalSeconds: 10 }));
    expect(args).not.toContain("-skip_frame");
    expect(after(args, "-map")).toBe("0:2");
    expect(after(args, "-vf")).toBe(`select='${intervalSelectExpr(10)}',showinfo=checksum=0`);
    expect(buildFilterGraph(planFromOptions({ mode: "interval", intervalSeconds: 10 }))).not.toMatch(/fps=/);
  });

  it("interval and timestamps encode on one thread (each image leaves at once); keyframes keep the encoder's threads", () => {
    const encoderThreads = (args: string[]) => {
      const input = args.indexOf("-i");
      const i = args.indexOf("-threads", input);
      return i < 0 ? undefined : args[i + 1];
    };
    expect(encoderThreads(buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "interval", intervalSeconds: 10 })))).toBe("1");
    expect(encoderThreads(buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "timestamps", timestampsSeconds: [1, 2] }, [1, 2])))).toBe("1");
    expect(encoderThreads(buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "keyframes" })))).toBeUndefined();
    // An output option: after the input, right before the encoder's own options.
    const args = buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "interval", intervalSeconds: 10 }));
    expect(args.indexOf("-threads", args.indexOf("-i"))).toBeLessThan(args.indexOf("-c:v"));
  });

  it("HTTP inputs are restricted to network protocols and video demuxers; local paths are not", () => {
    const args = buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "keyframes" }));
    expect(after(args, "-protocol_whitelist")).toBe("http,https,tcp,tls");
    expect(after(args, "-format_whitelist")).toContain("mov");
    expect(args.indexOf("-protocol_whitelist")).toBeLessThan(args.indexOf("-i"));
    expect(buildExtractArgs("/tmp/x.mp4", 0, planFromOptions({ mode: "keyframes" }))).not.toContain("-protocol_whitelist");
  });

  it("rejects a bad stream index", () => {
    expect(() => buildExtractArgs(URL_IN, -1, planFromOptions({ mode: "keyframes" }))).toThrow(RangeError);
  });

  it("before the probe: the first video stream that is not a picture, and the decoder's pixel guard before -i", () => {
    const plan = { ...planFromOptions({ mode: "keyframes" }), maxDecodedPixels: decoderPixelGuard(36_000_000) };
    const args = buildExtractArgs(URL_IN, FIRST_VIDEO_STREAM, plan);
    expect(after(args, "-map")).toBe("0:V:0");
    expect(after(args, "-max_pixels")).toBe(String(72_000_000 + 1_048_576));
    expect(args.indexOf("-max_pixels")).toBeLessThan(args.indexOf("-i"));
    expect(buildExtractArgs(URL_IN, 0, planFromOptions({ mode: "keyframes" }))).not.toContain("-max_pixels");
    // ffmpeg's option is a 32-bit int.
    expect(decoderPixelGuard(2e9)).toBe(2 ** 31 - 1);
  });

  it("the pixel guard makes the decoder refuse larger pictures (real ffmpeg, franck.mp4 is 360x288 = 103,680 pixels)", async () => {
    const file = testVideo("franck.mp4");
    const images = async (maxDecodedPixels: number) => {
      const args = buildExtractArgs(file, FIRST_VIDEO_STREAM, { ...planFromOptions({ mode: "keyframes" }), maxDecodedPixels });
      const { stdout, stderr } = await run("ffmpeg", args, { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 }).catch((e: { stdout: Buffer; stderr: Buffer }) => e);
      return { count: stdout.length === 0 ? 0 : stdout.toString("latin1").split("\xff\xd8\xff").length - 1, stderr: stderr.toString() };
    };
    expect((await images(decoderPixelGuard(103_680))).count).toBe(20);
    const refused = await images(50_000);
    expect(refused.count).toBe(0);
    expect(refused.stderr).toMatch(/exceeds specified max pixel count/);
  });
});

describe("intervalSelectExpr", () => {
  it("selects on floor(t/N) buckets with a 1 µs tolerance, never before 0", () => {
    expect(intervalSelectExpr(10)).toBe(
      "gte(t,0)*(isnan(prev_selected_t)+gt(floor((t+0.000001)/10),floor((prev_selected_t+0.000001)/10)))",
    );
    expect(intervalSelectExpr(0.1)).toContain("/0.1)");
    expect(intervalSelectExpr(2.5)).toContain("/2.5)");
  });

  it("rejects non-positive intervals", () => {
    for (const n of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => intervalSelectExpr(n)).toThrow(RangeError);
  });

  it("picks the first frame at or after each k·N (ffmpeg on a synthetic 7 fps clip)", async () => {
    // 7 fps: frames at i/7 s. N = 1: targets 0..4 → frames 0, 7, 14, 21, 28 (exactly on k); N = 0.5 → ceil(3.5k)/7.
    for (const [n, expected] of [
      [1, [0, 1, 2, 3, 4]],
      [0.5, [0, 4 / 7, 1, 11 / 7, 2, 18 / 7, 3, 25 / 7, 4, 32 / 7]],
    ] as const) {
      const { stderr } = await run("ffmpeg", [
        "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=32x32:rate=7:duration=5",
        "-vf", buildFilterGraph(planFromOptions({ mode: "interval", intervalSeconds: n })), "-f", "null", "-",
      ]);
      const parser = new ShowinfoParser();
      const times = parser.push(stderr + "\n").map((f) => f.timestampSeconds);
      expect(times).toHaveLength(expected.length);
      times.forEach((t, i) => expect(t).toBeCloseTo(expected[i]!, 6));
    }
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
      "gte(t,0)*gt((gte(t,0)*(isnan(prev_t)+lt(prev_t,0))+gte(t,2.499999)*(isnan(prev_t)+lt(prev_t,2.499999))),0)",
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
    // MAX_TIMESTAMPS targets (every 3 ms): ffmpeg parses the expression (a flat sum of them it refused) and
    // keeps every frame once.
    const dense = Array.from({ length: 1000 }, (_, i) => i * 0.003);
    const denseExpected = planTimestampTargets(index, dense).map((t) => Math.round(t.frameSeconds * 7));
    expect(denseExpected).toEqual(Array.from({ length: 21 }, (_, k) => k));
    expect((await picked(timestampsSelectExpr(dense))).map((t) => Math.round(t * 7))).toEqual(denseExpected);
  });
});
