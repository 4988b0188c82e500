/**
 * Images on demand on the processor (`POST /renders`, ffmpeg-container/src/renders/): real ffmpeg on the
 * shared test videos through the local S3 server.
 * - exactness: a PNG thumbnail at time t has the pixels of the frame a decode from the start finds at or
 *   after t (PSNR ≥ 35 dB, in practice identical), on every readable test video and a rotated copy;
 * - storyboard: the sprite's size is the plan's, its VTT has one cue per tile inside the sprite;
 * - animated previews (GIF, WebP), keyframe accuracy, refusals (damaged video 422, time past the end 400,
 *   unsigned 401), and 100 concurrent renders answered 200 or 503 with no ffmpeg left behind.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoryboardPlan, storyboardVtt, type RenderRequest } from "../../../schema/image-options.ts";
import { ffprobeFrameTimes, type Harness, hasImageMagic, leftoverTempFiles, signedJobInit, startHarness, testVideo, uploadSource, USER_ID } from "../harness.ts";

const run = promisify(execFile);

let h: Harness;
let work: string;

/** Readable test videos with a video stream, and a time inside each (not on a keyframe where possible). */
const VIDEOS: { id: string; file: string; time: number }[] = [
  { id: "franck", file: "franck.mp4", time: 17.4 },
  { id: "vtest", file: "vtest.avi", time: 33.3 },
  { id: "ipod", file: "sample_iPod.m4v", time: 41.05 },
  { id: "screencast", file: "display-dual-monitors.webm", time: 12.2 },
  { id: "boswars", file: "boswars_intro.ogg", time: 5.1 },
  { id: "tree", file: "tree.avi", time: 13.7 },
  { id: "hardware", file: "hardware-example.mp4", time: 0.2 },
];

/** POSTs a signed render request. */
async function render(spec: RenderRequest["spec"], videoId = "franck"): Promise<Response> {
  const sourceEtag = ETAGS.get(videoId);
  return fetch(`${h.url}/renders`, await signedJobInit({ userId: USER_ID, videoId, spec, ...(sourceEtag ? { sourceEtag } : {}) } satisfies Omit<RenderRequest, "credentials">));
}

/**
 * ETag of each uploaded video, sent with its renders as the Worker does: the processor then renders from
 * its local copy of the source (ffmpeg-container/src/sources/source-cache.ts).
 */
const ETAGS = new Map<string, string>();

/** Uploads a test video and remembers its ETag. */
async function upload(videoId: string, file: string): Promise<void> {
  ETAGS.set(videoId, await uploadSource(h, videoId, file));
}

/** The frame at or after `time` by decoding `file` from its start, as PNG (the reference of exactness). */
async function sequentialFrame(file: string, time: number, out: string): Promise<void> {
  await run("ffmpeg", ["-v", "error", "-i", file, "-map", "0:v:0", "-fps_mode", "passthrough", "-vf", `select='gte(t,${time - 1e-6})'`, "-frames:v", "1", "-y", out]);
}

/** PSNR of two images of one size, dB (Infinity when identical). */
async function psnr(a: string, b: string): Promise<number> {
  const { stderr } = await run("ffmpeg", ["-hide_banner", "-i", a, "-i", b, "-lavfi", "psnr", "-f", "null", "-"]);
  const m = /average:(inf|[0-9.]+)/.exec(stderr);
  if (!m) throw new Error(`no PSNR in: ${stderr.slice(-300)}`);
  return m[1] === "inf" ? Infinity : Number(m[1]);
}

async function imageSize(file: string): Promise<{ width: number; height: number }> {
  const { stdout } = await run("ffprobe", ["-v", "error", "-show_entries", "stream=width,height", "-of", "json", file]);
  return (JSON.parse(stdout) as { streams: { width: number; height: number }[] }).streams[0]!;
}

beforeAll(async () => {
  h = await startHarness({ maxConcurrentRenders: 2, renderTimeoutSeconds: 30 });
  work = await mkdtemp(path.join(os.tmpdir(), "vidsnap-renders-"));
  for (const v of VIDEOS) {
    v.file = testVideo(v.file);
    await upload(v.id, v.file);
  }
  // A rotated copy (display matrix 90°) made here, never committed.
  const rotated = path.join(work, "rotated.mp4");
  await run("ffmpeg", ["-v", "error", "-i", testVideo("franck.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", "-y", rotated]);
  VIDEOS.push({ id: "rotated", file: rotated, time: 17.4 });
  await upload("rotated", rotated);
  await upload("damaged", testVideo("DERIVED_franck.truncated-50pct.mp4"));
  await upload("audio", testVideo("sunflower-slow-drag.ogg"));
}, 120_000);

afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("thumbnail exactness (PSNR against the sequential decode)", () => {
  it.each(VIDEOS.map((v) => [v.id, v] as const))("%s", async (_id, v) => {
    const res = await render({ kind: "thumbnail", format: "png", time: v.time, fit: "preserve", rotate: 0, accuracy: "exact" }, v.id);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    const got = path.join(work, `${v.id}-got.png`);
    const want = path.join(work, `${v.id}-want.png`);
    await writeFile(got, Buffer.from(await res.arrayBuffer()));
    await sequentialFrame(v.file, v.time, want);
    expect(await imageSize(got)).toEqual(await imageSize(want));
    expect(await psnr(got, want)).toBeGreaterThanOrEqual(35);
  });

  it("the rotated copy comes out upright (height > width, like its display)", async () => {
    const res = await render({ kind: "thumbnail", format: "jpg", time: 3, fit: "preserve", rotate: 0, accuracy: "exact" }, "rotated");
    const file = path.join(work, "rot.jpg");
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    expect(await imageSize(file)).toEqual({ width: 288, height: 360 });
  });
});

describe("thumbnail sizing and options", () => {
  const at = async (spec: Partial<Extract<RenderRequest["spec"], { kind: "thumbnail" }>>) => {
    const res = await render({ kind: "thumbnail", format: "jpg", time: 10, fit: "preserve", rotate: 0, accuracy: "exact", ...spec });
    expect(res.status).toBe(200);
    const file = path.join(work, `opt-${crypto.randomUUID()}.jpg`);
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    return imageSize(file);
  };
  it("fit modes on a 360x288 source into 200x200", async () => {
    expect(await at({ width: 200, height: 200, fit: "preserve" })).toEqual({ width: 200, height: 160 });
    expect(await at({ width: 200, height: 200, fit: "crop" })).toEqual({ width: 200, height: 200 });
    expect(await at({ width: 200, height: 200, fit: "pad" })).toEqual({ width: 200, height: 200 });
    expect(await at({ width: 100, height: 200, fit: "stretch" })).toEqual({ width: 100, height: 200 });
    expect(await at({ width: 180 })).toEqual({ width: 180, height: 144 });
  });
  it("rotate 90 swaps the sides; default time is the middle", async () => {
    expect(await at({ rotate: 90 })).toEqual({ width: 288, height: 360 });
    const res = await render({ kind: "thumbnail", format: "webp", fit: "preserve", rotate: 0, accuracy: "exact" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
  });
  it("accuracy=keyframe gives the keyframe before the time", async () => {
    // franck.mp4's keyframes are ~10.4 s apart; 17.4 s lies after the one at 10.417 s.
    const res = await render({ kind: "thumbnail", format: "png", time: 17.4, fit: "preserve", rotate: 0, accuracy: "keyframe" });
    expect(res.status).toBe(200);
    const got = path.join(work, "kf.png");
    const want = path.join(work, "kf-want.png");
    await writeFile(got, Buffer.from(await res.arrayBuffer()));
    const { stdout } = await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries", "frame=pts_time", "-of", "csv=p=0", testVideo("franck.mp4")]);
    const key = stdout.split("\n").map((l) => Number.parseFloat(l)).filter((t) => Number.isFinite(t) && t <= 17.4).at(-1)!;
    await sequentialFrame(testVideo("franck.mp4"), key, want);
    expect(key).toBeCloseTo(10.4167, 3);
    expect(await psnr(got, want)).toBeGreaterThanOrEqual(35);
  });
});

describe("animated previews", () => {
  it("GIF (palette) and WebP of 2 s at 5 fps, 240 px wide", async () => {
    for (const format of ["gif", "webp"] as const) {
      const res = await render({ kind: "animated", format, start: 20, end: 22, fps: 5, width: 240 });
      expect(res.status, await res.clone().text()).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      if (format === "gif") {
        expect(bytes.subarray(0, 6).toString("latin1")).toBe("GIF89a");
        const file = path.join(work, "a.gif");
        await writeFile(file, bytes);
        const { stdout } = await run("ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=width,height,nb_read_frames", "-of", "json", file]);
        const s = (JSON.parse(stdout) as { streams: { width: number; height: number; nb_read_frames: string }[] }).streams[0]!;
        expect([s.width, s.height, Number(s.nb_read_frames)]).toEqual([240, 192, 10]);
      } else {
        expect(bytes.subarray(0, 4).toString("latin1")).toBe("RIFF");
        expect(bytes.subarray(8, 12).toString("latin1")).toBe("WEBP");
        // Animated WebP: the ANIM chunk.
        expect(bytes.includes(Buffer.from("ANIM"))).toBe(true);
      }
    }
  });
});

describe("storyboard", () => {
  it("the sprite has the plan's size and the VTT one cue per tile inside it", async () => {
    const planRes = await render({ kind: "storyboard", format: "json" });
    expect(planRes.status).toBe(200);
    const plan = StoryboardPlan.parse(await planRes.json());
    // 200 s at one tile per 2 s: 100 tiles, 10 × 10 of 160 x 128 (360x288 is 5:4).
    expect([plan.tiles.length, plan.columns, plan.rows, plan.tileWidth, plan.tileHeight]).toEqual([100, 10, 10, 160, 128]);
    const res = await render({ kind: "storyboard", format: "jpg" });
    expect(res.status).toBe(200);
    const file = path.join(work, "sb.jpg");
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const size = await imageSize(file);
    expect(size).toEqual({ width: plan.width, height: plan.height });
    const vtt = storyboardVtt(plan, "storyboard.jpg");
    const cues = [...vtt.matchAll(/^(\S+) --> (\S+)\nstoryboard\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)$/gm)];
    expect(cues).toHaveLength(plan.tiles.length);
    for (const [, , , x, y, w, hgt] of cues) {
      expect(Number(x) + Number(w)).toBeLessThanOrEqual(size.width);
      expect(Number(y) + Number(hgt)).toBeLessThanOrEqual(size.height);
    }
    // The last tile (bottom right) is a picture, not the black of an unfilled cell.
    const cell = path.join(work, "cell.png");
    const last = plan.tiles.at(-1)!;
    await run("ffmpeg", ["-v", "error", "-i", file, "-vf", `crop=${last.width}:${last.height}:${last.x}:${last.y},signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=${path.join(work, "yavg.txt")}`, "-y", cell]);
    const yavg = Number(/YAVG=([0-9.]+)/.exec(await readFile(path.join(work, "yavg.txt"), "utf8"))![1]);
    expect(yavg).toBeGreaterThan(20);
  });
  it("a short video gets one tile", async () => {
    const res = await render({ kind: "storyboard", format: "json" }, "hardware");
    expect(StoryboardPlan.parse(await res.json()).tiles).toHaveLength(1);
  });
});

describe("refusals", () => {
  it.each([
    ["franck", 199.999],
    ["tree", 29.599],
    ["ipod", 85.499],
  ] as const)("%s at %s s, after the last frame's start and before the duration: the last frame (shown until the end)", async (id, time) => {
    const v = VIDEOS.find((x) => x.id === id)!;
    const { times, duration } = await ffprobeFrameTimes(v.file);
    expect(time).toBeLessThan(duration);
    expect(times.at(-1)!).toBeLessThan(time);
    const res = await render({ kind: "thumbnail", format: "png", time, fit: "preserve", rotate: 0, accuracy: "exact" }, id);
    expect(res.status, await res.clone().text()).toBe(200);
    const got = path.join(work, `${id}-last-got.png`);
    const want = path.join(work, `${id}-last-want.png`);
    await writeFile(got, Buffer.from(await res.arrayBuffer()));
    await sequentialFrame(v.file, times.at(-1)!, want);
    expect(await psnr(got, want)).toBeGreaterThanOrEqual(35);
  });

  it("display-dual-monitors.webm at 36.9 s, past its last cue where the input seek decodes nothing: the exact frame, decoded from the start", async () => {
    const v = VIDEOS.find((x) => x.id === "screencast")!;
    const res = await render({ kind: "thumbnail", format: "png", time: 36.9, fit: "preserve", rotate: 0, accuracy: "exact" }, "screencast");
    expect(res.status, await res.clone().text()).toBe(200);
    const got = path.join(work, "screencast-tail-got.png");
    const want = path.join(work, "screencast-tail-want.png");
    await writeFile(got, Buffer.from(await res.arrayBuffer()));
    await sequentialFrame(v.file, 36.9, want);
    expect(await psnr(got, want)).toBeGreaterThanOrEqual(35);
    expect(h.logs.some((l) => l.msg === "render decoded from the start")).toBe(true);
  });

  it("a keyframe-accuracy thumbnail past that webm's last cue: the keyframe before it, sought exactly", async () => {
    const v = VIDEOS.find((x) => x.id === "screencast")!;
    const res = await render({ kind: "thumbnail", format: "png", time: 37.083, fit: "preserve", rotate: 0, accuracy: "keyframe" }, "screencast");
    expect(res.status, await res.clone().text()).toBe(200);
    const { stdout } = await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries", "frame=pts_time", "-of", "csv=p=0", v.file]);
    const key = stdout.split("\n").map((l) => Number.parseFloat(l)).filter((t) => Number.isFinite(t) && t <= 37.083).at(-1)!;
    const got = path.join(work, "screencast-key-got.png");
    const want = path.join(work, "screencast-key-want.png");
    await writeFile(got, Buffer.from(await res.arrayBuffer()));
    await sequentialFrame(v.file, key, want);
    expect(await psnr(got, want)).toBeGreaterThanOrEqual(35);
  });

  it("an animation starting after the last frame is 400 naming start; one ending past the end is cut there", async () => {
    const after = await render({ kind: "animated", format: "gif", start: 199.99, end: 201, fps: 10, width: 120 });
    expect(after.status, await after.clone().text()).toBe(400);
    const body = (await after.json()) as { param: string; detail: string };
    expect(body.param).toBe("start");
    expect(body.detail).toMatch(/last frame/);
    const tail = await render({ kind: "animated", format: "webp", start: 36.83, end: 40, fps: 10, width: 120 }, "screencast");
    expect(tail.status, await tail.clone().text()).toBe(200);
    expect(hasImageMagic(new Uint8Array(await tail.arrayBuffer()), "webp")).toBe(true);
  });

  it("a damaged video is 422 problem+json", async () => {
    const res = await render({ kind: "thumbnail", format: "jpg", time: 1, fit: "preserve", rotate: 0, accuracy: "exact" }, "damaged");
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/application\/problem\+json/);
    const body = (await res.json()) as { type: string; detail: string };
    expect(body.type).toMatch(/video-unrenderable$/);
    expect(body.detail).toMatch(/moov atom not found/);
  });
  it("an audio-only file is 422", async () => {
    const res = await render({ kind: "thumbnail", format: "jpg", fit: "preserve", rotate: 0, accuracy: "exact" }, "audio");
    expect(res.status).toBe(422);
    expect(((await res.json()) as { detail: string }).detail).toBe("The file contains no video stream.");
  });
  it("a time past the end is 400 naming the parameter", async () => {
    const res = await render({ kind: "thumbnail", format: "jpg", time: 500, fit: "preserve", rotate: 0, accuracy: "exact" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { param: string }).param).toBe("time");
  });
  it("an unsigned or invalid request is refused", async () => {
    const unsigned = await fetch(`${h.url}/renders`, { method: "POST", body: JSON.stringify({ userId: USER_ID, videoId: "franck", spec: { kind: "storyboard", format: "jpg" } }) });
    expect(unsigned.status).toBe(401);
    const invalid = await fetch(`${h.url}/renders`, await signedJobInit({ userId: USER_ID, videoId: "../x", spec: { kind: "storyboard", format: "jpg" } }));
    expect(invalid.status).toBe(400);
  });
});

describe("load", () => {
  it("100 concurrent thumbnails: 200 or 503 with Retry-After, no crash, no ffmpeg left", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await render({ kind: "thumbnail", format: "jpg", time: (i * 1.7) % 190, width: 160, fit: "preserve", rotate: 0, accuracy: "exact" });
        if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    // The answer is sent before the render's folder is removed: wait for the slots to settle.
    for (let i = 0; i < 50 && h.processor.runningRenders() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(h.processor.runningRenders()).toBe(0);
    // No child process of this test process is an ffmpeg/ffprobe (the processor runs in-process).
    const { stdout } = await run("ps", ["-o", "comm=", "--ppid", String(process.pid)]).catch(() => ({ stdout: "" }));
    expect(stdout.split("\n").filter((c) => /ffmpeg|ffprobe/.test(c))).toEqual([]);
    expect(await leftoverTempFiles(h)).toEqual([]);
    // Still serving.
    const after = await render({ kind: "thumbnail", format: "jpg", time: 1, fit: "preserve", rotate: 0, accuracy: "exact" });
    expect(after.status).toBe(200);
  });
});

describe("the local copy of the source", () => {
  it("the first render of a video downloads it once, the next renders read that copy", async () => {
    await upload("copy-check", testVideo("franck.mp4"));
    for (const time of [1, 2.5, 4]) {
      expect((await render({ kind: "thumbnail", format: "jpg", time, fit: "preserve", rotate: 0, accuracy: "exact" }, "copy-check")).status).toBe(200);
    }
    const done = h.logs.filter((l) => l.msg === "render done" && l.fields.videoId === "copy-check").map((l) => l.fields.localCopy);
    expect(done).toEqual(["downloaded", "reused", "reused"]);
  });
});

describe("leftovers", () => {
  it("no render folder remains", async () => {
    expect(await leftoverTempFiles(h)).toEqual([]);
  });
});
