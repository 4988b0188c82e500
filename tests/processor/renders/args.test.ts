/**
 * The pure builders of images on demand: ffmpeg arguments (ffmpeg-container/src/renders/args.ts) and the
 * storyboard plan and its WebVTT (schema/image-options.ts). No ffmpeg runs here.
 */
import { describe, expect, it } from "vitest";
import { buildAnimatedArgs, buildStoryboardArgs, buildThumbnailArgs, fitFilters, rotateFilters } from "../../../ffmpeg-container/src/renders/args.ts";
import { fromStartAffordable, RENDER_FROM_START_MAX_PIXEL_FRAMES } from "../../../ffmpeg-container/src/renders/render.ts";
import {
  AnimatedQuery,
  animatedSpec,
  canonicalSpec,
  storyboardPlan,
  storyboardVtt,
  ThumbnailQuery,
  thumbnailSpec,
  vttTime,
} from "../../../schema/image-options.ts";

const URL = "https://s3.example/videos/src?X-Amz-Signature=abc";
const thumb = { kind: "thumbnail", format: "jpg", fit: "preserve", rotate: 0, accuracy: "exact" } as const;

/** The value after `flag` in an argument list. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("thumbnail arguments", () => {
  it("exact: seeks to the keyframe before time, keeps the file's timeline, selects t ≥ time, one frame", () => {
    const args = buildThumbnailArgs(URL, 0, { ...thumb, time: 12.5 }, 12.5, { seek: true });
    expect(after(args, "-ss")).toBe("12.500000");
    expect(args).toContain("-noaccurate_seek");
    expect(args).toContain("-copyts");
    expect(args.indexOf("-ss")).toBeLessThan(args.indexOf("-i"));
    expect(after(args, "-vf")).toBe("select='gte(t,0)*gte(t,12.499999)'");
    expect(after(args, "-frames:v")).toBe("1");
    expect(args).not.toContain("-skip_frame");
    // Input safety of every read.
    expect(after(args, "-protocol_whitelist")).toBe("http,https,tcp,tls");
  });
  it("exact without a verified seek decodes from the start", () => {
    const args = buildThumbnailArgs(URL, 0, { ...thumb, time: 12.5 }, 12.5, { seek: false });
    expect(args).not.toContain("-ss");
  });
  it("keyframe: keyframes only, seeks even when not verified", () => {
    const args = buildThumbnailArgs(URL, 1, { ...thumb, accuracy: "keyframe" }, 30, { seek: false });
    expect(after(args, "-skip_frame")).toBe("nokey");
    expect(after(args, "-ss")).toBe("30.000000");
    expect(after(args, "-vf")).toBe("select='gte(t,0)*eq(key,1)'");
    expect(after(args, "-map")).toBe("0:1");
  });
  it("rotation, fit and quality per format", () => {
    const args = buildThumbnailArgs(URL, 0, { ...thumb, format: "webp", rotate: 90, width: 640, height: 360, fit: "crop", quality: 50 }, 1, { seek: true });
    expect(after(args, "-vf")).toBe(
      "select='gte(t,0)*gte(t,0.999999)',transpose=clock,scale=640:360:force_original_aspect_ratio=increase,crop=640:360,setsar=1",
    );
    expect(after(args, "-c:v")).toBe("libwebp");
    expect(after(args, "-quality")).toBe("50");
    const jpg = buildThumbnailArgs(URL, 0, { ...thumb, quality: 100 }, 1, { seek: true });
    expect(after(jpg, "-q:v")).toBe("2");
    expect(after(buildThumbnailArgs(URL, 0, { ...thumb, format: "png" }, 1, { seek: true }), "-c:v")).toBe("png");
  });
  it("fit modes and rotations", () => {
    expect(fitFilters(undefined, undefined, "crop")).toEqual([]);
    expect(fitFilters(320, undefined, "pad")).toEqual(["scale=320:-1", "setsar=1"]);
    expect(fitFilters(320, 240, "preserve")[0]).toBe("scale=320:240:force_original_aspect_ratio=decrease");
    expect(fitFilters(320, 240, "pad")[1]).toBe("pad=320:240:(ow-iw)/2:(oh-ih)/2:black");
    expect(fitFilters(320, 240, "stretch")).toEqual(["scale=320:240", "setsar=1"]);
    expect(rotateFilters(180)).toEqual(["hflip", "vflip"]);
    expect(rotateFilters(270)).toEqual(["transpose=cclock"]);
    expect(() => rotateFilters(45)).toThrow(RangeError);
  });
});

describe("animated arguments", () => {
  it("GIF: palettegen and paletteuse in one filter graph, accurate seek, span, loop", () => {
    const args = buildAnimatedArgs(URL, 0, { kind: "animated", format: "gif", start: 20, end: 25, fps: 10, width: 480 });
    expect(after(args, "-ss")).toBe("20");
    expect(after(args, "-t")).toBe("5");
    expect(args).not.toContain("-noaccurate_seek");
    const graph = after(args, "-filter_complex")!;
    expect(graph).toMatch(/^\[0:0\]fps=10,scale=480:-1:flags=lanczos,setsar=1,split\[a\]\[b\];\[a\]palettegen=stats_mode=diff\[p\];\[b\]\[p\]paletteuse=/);
    expect(after(args, "-f")).toBe("gif");
    expect(after(args, "-loop")).toBe("0");
  });
  it("WebP: libwebp_anim, no palette", () => {
    const args = buildAnimatedArgs(URL, 0, { kind: "animated", format: "webp", start: 0, end: 3, fps: 30 });
    expect(args).not.toContain("-ss");
    expect(after(args, "-c:v")).toBe("libwebp_anim");
    expect(after(args, "-vf")).toBe("fps=30");
  });
  it("without the input seek the same span is cut after the input (every frame before it decoded)", () => {
    const args = buildAnimatedArgs(URL, 0, { kind: "animated", format: "gif", start: 20, end: 25, fps: 10, width: 480 }, { seek: false });
    const input = args.indexOf("-i");
    expect(args.indexOf("-ss")).toBeGreaterThan(input);
    expect(args.indexOf("-t")).toBeGreaterThan(input);
    expect(after(args, "-ss")).toBe("20");
    expect(after(args, "-t")).toBe("5");
  });
});

describe("decoding from the start after a seek that gave nothing", () => {
  it("is allowed up to 2·10⁹ pixel-frames: a 360x288 or 1024x768 clip's tail, not a long 1080p video's", () => {
    expect(fromStartAffordable({ width: 360, height: 288, frameRate: 25 }, 199.999)).toBe(true);
    expect(fromStartAffordable({ width: 1024, height: 768, frameRate: 15 }, 37.1)).toBe(true);
    expect(fromStartAffordable({ width: 1350, height: 1080, frameRate: 24 }, 199)).toBe(false);
    // Unknown frame rate: 30 fps assumed.
    expect(fromStartAffordable({ width: 1920, height: 1080, frameRate: null }, 30)).toBe(true);
    expect(fromStartAffordable({ width: 1920, height: 1080, frameRate: null }, 40)).toBe(false);
    expect(RENDER_FROM_START_MAX_PIXEL_FRAMES).toBe(2e9);
  });
});

describe("storyboard plan, arguments and cues", () => {
  it("N from the duration: one tile per 2 s, 1..100, rows of 10", () => {
    expect(storyboardPlan(200, 360, 288).tiles).toHaveLength(100);
    expect(storyboardPlan(3600, 1920, 1080).tiles).toHaveLength(100);
    expect(storyboardPlan(0.33, 1280, 720).tiles).toHaveLength(1);
    const p = storyboardPlan(79.5, 768, 576);
    expect([p.tiles.length, p.columns, p.rows, p.tileWidth, p.tileHeight, p.width, p.height]).toEqual([40, 10, 4, 160, 120, 1600, 480]);
    expect(p.tiles[13]).toMatchObject({ x: 480, y: 120 });
    expect(p.tiles.at(-1)!.end).toBe(79.5);
    // Spans are contiguous.
    for (let i = 1; i < p.tiles.length; i++) expect(p.tiles[i]!.start).toBe(p.tiles[i - 1]!.end);
  });
  it("the VTT has one cue per tile, each inside the sprite", () => {
    const p = storyboardPlan(37.1, 1024, 768);
    const vtt = storyboardVtt(p, "https://api.example/v1/videos/v/storyboard.jpg?token=1.x");
    expect(vtt.startsWith("WEBVTT\n\n")).toBe(true);
    const cues = [...vtt.matchAll(/^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n\S+#xywh=(\d+),(\d+),(\d+),(\d+)$/gm)];
    expect(cues).toHaveLength(p.tiles.length);
    for (const c of cues) {
      expect(Number(c[3]) + Number(c[5])).toBeLessThanOrEqual(p.width);
      expect(Number(c[4]) + Number(c[6])).toBeLessThanOrEqual(p.height);
    }
    expect(vttTime(3725.5)).toBe("01:02:05.500");
  });
  it("one keyframes-only decode, each keyframe scaled once, fps per tile from 0, tile", () => {
    const p = storyboardPlan(200, 360, 288);
    const args = buildStoryboardArgs(URL, 0, p, "jpg");
    expect(after(args, "-skip_frame")).toBe("nokey");
    expect(after(args, "-vf")).toBe("select='eq(key,1)',scale=160:128,setsar=1,tpad=stop_mode=clone:stop_duration=200,fps=fps=100/200:start_time=0,tile=10x10");
    expect(after(args, "-frames:v")).toBe("1");
  });
});

describe("query normalization", () => {
  it("defaults applied, token dropped, the same image gives the same canonical text", () => {
    const a = thumbnailSpec("jpg", ThumbnailQuery.parse({ time: "12.50", width: "640", token: "x" }));
    const b = thumbnailSpec("jpg", ThumbnailQuery.parse({ width: 640, time: 12.5, fit_mode: "preserve" }));
    expect(canonicalSpec(a)).toBe(canonicalSpec(b));
    expect(canonicalSpec(a)).toBe("accuracy=exact&fit=preserve&format=jpg&kind=thumbnail&rotate=0&time=12.5&width=640");
    // PNG ignores quality.
    expect(thumbnailSpec("png", ThumbnailQuery.parse({ quality: "50" }))).not.toHaveProperty("quality");
    expect(animatedSpec("gif", AnimatedQuery.parse({ start: "3" }))).toEqual({ kind: "animated", format: "gif", start: 3, end: 8, width: 480, fps: 10 });
  });
  it("out-of-range parameters name themselves", () => {
    const paths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => r.error?.issues.map((i) => i.path.join("."));
    expect(paths(ThumbnailQuery.safeParse({ width: "0" }))).toEqual(["width"]);
    expect(paths(ThumbnailQuery.safeParse({ rotate: "45" }))).toEqual(["rotate"]);
    expect(paths(ThumbnailQuery.safeParse({ fit_mode: "zoom" }))).toEqual(["fit_mode"]);
    expect(paths(AnimatedQuery.safeParse({ start: "1", end: "12" }))).toEqual(["end"]);
    expect(paths(AnimatedQuery.safeParse({ fps: "60" }))).toEqual(["fps"]);
  });
});
