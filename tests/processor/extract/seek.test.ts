/**
 * The seek extractor (ffmpeg-container/src/jobs/extract/extractors/seek.ts):
 * - on every testdata video with a readable video stream, each per-target seek (the exact arguments the
 *   processor uses, output switched to framemd5) gives the same timestamp and the same decoded pixels as
 *   the sequential decode — this is what backs SEEK_VERIFIED_CODECS;
 * - end to end, a processor forced to seek and one forced to decode sequentially produce byte-identical
 *   archives entries (JPEG encoding is deterministic for identical frames), and `auto` logs its choice.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildExtractArgs, buildPacketIndexArgs, buildSeekExtractArgs } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { ShowinfoParser } from "../../../ffmpeg-container/src/ffmpeg/stderr.ts";
import { chooseIntervalStrategy, type KeyframeIndex, parsePacketIndex, planIntervalTargets } from "../../../ffmpeg-container/src/jobs/extract/plan/strategy.ts";
import { planFromOptions } from "../../../ffmpeg-container/src/jobs/extract/plan/plan.ts";
import { fetchArchive, type Harness, runSuccessfulJob, startHarness, testVideo } from "../harness.ts";

/** Runs a binary, returns stdout and stderr (no shell). */
function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The processor's ffmpeg arguments with the JPEG output replaced by framemd5 of the same yuvj420p frames. */
function toFramemd5(args: string[]): string[] {
  const at = args.indexOf("-pix_fmt");
  return [...args.slice(0, at), "-pix_fmt", "yuvj420p", "-f", "framemd5", "-"];
}

/** Decoded frames of one ffmpeg run: exact showinfo timestamps and framemd5 hashes, in order. */
async function decodedFrames(args: string[]): Promise<{ times: number[]; hashes: string[] }> {
  const { code, stdout, stderr } = await run("ffmpeg", toFramemd5(args));
  expect(code, stderr.slice(-500)).toBe(0);
  const times = new ShowinfoParser().push(stderr + "\n").map((f) => f.timestampSeconds);
  const hashes = stdout
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split(",").at(-1)!.trim());
  return { times, hashes };
}

/** Reads the stream's time base, the container start and the index the way the processor does. */
async function readIndex(
  file: string,
): Promise<{ index: KeyframeIndex; streamIndex: number; codec: string; format: string; width: number; height: number }> {
  const probe = await run("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", file]);
  const j = JSON.parse(probe.stdout) as {
    format: { start_time?: string; format_name: string };
    streams: {
      index: number;
      codec_type: string;
      codec_name: string;
      time_base: string;
      width: number;
      height: number;
      disposition?: { attached_pic?: number };
    }[];
  };
  const video = j.streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic)!;
  const packets = await run("ffprobe", buildPacketIndexArgs(file, video.index));
  expect(packets.code).toBe(0);
  const index = parsePacketIndex(packets.stdout, video.time_base, Number(j.format.start_time ?? 0) || 0);
  return { index, streamIndex: video.index, codec: video.codec_name, format: j.format.format_name, width: video.width, height: video.height };
}

/** Runs `fn` over `items` with at most `limit` at once, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

describe("interval strategy: every seek equals the sequential decode (testdata)", () => {
  it.each([
    ["franck.mp4", 10],
    ["franck.mp4", 3],
    ["vtest.avi", 3],
    ["sample_iPod.m4v", 3],
    ["display-dual-monitors.webm", 3],
    ["boswars_intro.ogg", 1],
    ["tree.avi", 1],
    ["hardware-example.mp4", 10],
    ["DERIVED_vtest.truncated-50pct.avi", 3],
  ] as const)("%s every %d s", async (name, n) => {
    const file = testVideo(name);
    const { index, streamIndex } = await readIndex(file);
    const plan = planIntervalTargets(index, n);
    const seq = await decodedFrames(buildExtractArgs(file, streamIndex, planFromOptions({ mode: "interval", intervalSeconds: n })));
    // The plan from the index predicts the sequential images exactly.
    expect(plan.map((t) => t.frameSeconds)).toHaveLength(seq.times.length);
    plan.forEach((t, i) => expect(Math.abs(t.frameSeconds - seq.times[i]!)).toBeLessThan(1e-4));
    // Each seek, from the keyframe before its frame, gives the same frame, timestamp and pixels.
    const seeks = await mapLimit(plan, 2, (t) => decodedFrames(buildSeekExtractArgs(file, streamIndex, t.keyframeSeconds, t.targetSeconds)));
    seeks.forEach((s, i) => {
      // -frames:v 1 writes one frame; showinfo may already have logged the next one: the first counts.
      expect(s.hashes).toHaveLength(1);
      expect(s.times[0], `target ${plan[i]!.targetSeconds}`).toBe(seq.times[i]);
      expect(s.hashes, `target ${plan[i]!.targetSeconds}`).toEqual([seq.hashes[i]]);
    });
  });

  it("the decision on the testdata videos (N = 10): all decode sequentially, the DERIVED AVI's all-K index is distrusted", async () => {
    const expected: Record<string, string> = {
      "franck.mp4": "sequential", // keyframes every ~10.4 s: seeking decodes half the video plus 20 overheads
      "vtest.avi": "sequential", // keyframes every 25 s
      "sample_iPod.m4v": "sequential",
      "display-dual-monitors.webm": "sequential", // 4 targets × 128 frames of overhead > half of 557 frames
      "tree.avi": "sequential",
      "hardware-example.mp4": "sequential", // 10 frames: one seek's overhead is more than the whole decode
      "boswars_intro.ogg": "sequential", // one target, but its overhead (128 frames) > half of 204 frames
      "DERIVED_vtest.truncated-50pct.avi": "sequential",
    };
    for (const [name, strategy] of Object.entries(expected)) {
      const { index, codec, format, width, height } = await readIndex(testVideo(name));
      const d = chooseIntervalStrategy({ codec, formatName: format, width, height, intervalSeconds: 10, index });
      expect(d.strategy, `${name}: ${d.reason}`).toBe(strategy);
      if (name.startsWith("DERIVED")) expect(d.reason).toMatch(/every packet is flagged key/);
    }
  });
});

describe("interval strategy: forced seek vs forced sequential, end to end", () => {
  let seek: Harness;
  let sequential: Harness;
  beforeAll(async () => {
    [seek, sequential] = await Promise.all([startHarness({ intervalStrategy: "seek" }), startHarness({ intervalStrategy: "sequential" })]);
  });
  afterAll(async () => {
    await Promise.all([seek?.close(), sequential?.close()]);
  });

  it.each([
    ["franck.mp4", 10],
    ["sample_iPod.m4v", 5],
    ["display-dual-monitors.webm", 5],
    ["tree.avi", 5],
    ["hardware-example.mp4", 10],
  ] as const)("%s every %d s: identical manifests images and JPEG bytes", async (name, n) => {
    const id = `strategy-${n}-${name.replace(/\W/g, "-")}`;
    const options = { mode: "interval", intervalSeconds: n } as const;
    await runSuccessfulJob(seek, id, testVideo(name), options);
    await runSuccessfulJob(sequential, id, testVideo(name), options);
    const a = await fetchArchive(seek, id);
    const b = await fetchArchive(sequential, id);
    expect(a.manifest.images).toEqual(b.manifest.images);
    expect(Object.keys(a.entries).sort()).toEqual(Object.keys(b.entries).sort());
    for (const image of a.manifest.images) {
      expect(Buffer.from(a.entries[image.fileName]!).equals(Buffer.from(b.entries[image.fileName]!)), image.fileName).toBe(true);
    }
    expect(seek.logs.some((l) => l.msg === "interval strategy" && l.fields.strategy === "seek")).toBe(true);
  });
});
