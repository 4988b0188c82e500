/**
 * A sequential plan decoded as two halves at the same time, yielding the images of one run in the same
 * order. Why: a sequential decode of every frame keeps ffmpeg's frame threads on 2 cores only partly
 * busy; two single-threaded halves use both fully (1350x1080 200 s bench input, interval 10 s, local
 * file: 8.7 s as one run, 6.4 s as two halves). A keyframes-only decode is not split: it already keeps
 * ~1.5 cores busy, and two halves measured the same wall time with 80 MB more memory.
 *
 * The second half starts with an input seek to the keyframe at or before M − 1 s on the (codec,
 * container) pairs whose seeks are verified exact (plan/strategy.ts SEEK_VERIFIED_CODECS), so the select
 * sees the same previous frame as sequentially. The first half keeps t < M − ε, the second t ≥ M − ε;
 * for interval plans M is a target time (ExtractPlan.segments). The first half streams straight to the
 * consumer; the second half's images wait in a spool file in the job's folder until the first ends.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import type { SourceInput } from "../../../ffmpeg/input-args.ts";
import { durationLimitError, imageLimitError } from "../../../ffmpeg/input-checks.ts";
import type { ShowinfoFrame } from "../../../ffmpeg/stderr.ts";
import { JobError } from "../../../runner/errors.ts";
import { TIMESTAMP_EPSILON_SECONDS, type ExtractPlan, type VideoStreamRef } from "../ffmpeg-args.ts";
import type { Logger } from "../../../../../runtime/log.ts";
import { decodeImages, type DecodeContext, type DecodedImage } from "./decode.ts";

/**
 * Least decoding work, in pixels × frames (width × height × frames from the decode's start to the span's
 * end), for which a sequential plan is decoded as two halves. A second process start costs ~0.15 s here
 * (Debian's ffmpeg links ~200 libraries) and the split saves ~25 % of the decode: 2·10⁹ is ~2.5 s of
 * 1080p decoding (57 s of 1350x1080 at 24 fps; franck.mp4's 360x288 from ~13 minutes).
 */
export const SEGMENT_SPLIT_MIN_PIXEL_FRAMES = 2e9;

/** How far before the meeting point M the second half starts decoding, seconds (so that K < M). */
export const SEGMENT_LEAD_SECONDS = 1;

/**
 * Where a sequential plan splits, or null when it runs as one: plans that allow it (`segments`) without
 * a `maxImages` cap (`-frames:v` counts per run), on verified-seek (codec, container) pairs, with at
 * least 2 cores, known span and frame rate, and work ≥ the threshold.
 * @param span seconds [from, to] of interest (window cut to the duration; `to` null when unknown)
 * @param video pixels (width × height) and frames per second
 * @param seekClean `seekVerified(codec, container)`
 * @param cores CPUs available to the processor
 * @param minPixelFrames the threshold (configuration may change it: tests force splits with 0)
 * @returns the meeting time M, seconds: the middle of the span, or for interval plans the target time
 *   origin + k·step nearest to it (null when no such time lies inside the span)
 */
export function segmentSplitPoint(
  plan: ExtractPlan,
  span: { from: number; to: number | null },
  video: { pixels: number; frameRate: number | null },
  seekClean: boolean,
  cores: number,
  minPixelFrames = SEGMENT_SPLIT_MIN_PIXEL_FRAMES,
): number | null {
  const seg = plan.segments;
  if (!seg || plan.keyframesOnly || plan.maxImages !== undefined || !seekClean || cores < 2) return null;
  if (span.to === null || !video.frameRate || !(span.to > span.from)) return null;
  const decodeFrom = plan.seekSeconds ?? 0;
  if ((span.to - decodeFrom) * video.frameRate * video.pixels < minPixelFrames) return null;
  const middle = span.from + (span.to - span.from) / 2;
  let m: number;
  if (seg === "any") {
    m = Math.round(middle * 1000) / 1000;
  } else {
    const k = Math.round((middle - seg.originSeconds) / seg.stepSeconds);
    m = seg.originSeconds + k * seg.stepSeconds;
  }
  // Both halves must have something to do, and the second must start decoding after the first's start.
  if (!(m > span.from && m < span.to) || m - SEGMENT_LEAD_SECONDS <= decodeFrom) return null;
  return m;
}

/**
 * The two halves of a plan meeting at M: frames with t < M − ε (decoding stops past M) and t ≥ M − ε
 * (input seek to the keyframe at or before M − {@link SEGMENT_LEAD_SECONDS}); one decoder thread each.
 */
export function splitPlan(plan: ExtractPlan, splitSeconds: number): [ExtractPlan, ExtractPlan] {
  const b = String(Math.round((splitSeconds - TIMESTAMP_EPSILON_SECONDS) * 1e9) / 1e9);
  return [
    {
      ...plan,
      select: `lt(t,${b})*${plan.select}`,
      endSeconds: Math.min(plan.endSeconds ?? Number.POSITIVE_INFINITY, splitSeconds),
      singleThread: true,
    },
    { ...plan, select: `gte(t,${b})*${plan.select}`, seekSeconds: splitSeconds - SEGMENT_LEAD_SECONDS, singleThread: true },
  ];
}

/**
 * Decodes the two halves of {@link splitPlan} at the same time and yields the images of the first, then
 * those of the second (spooled to `<workDir>/segment-1.spool` meanwhile) — the order of one run. The
 * second half stops with an error past MAX_IMAGES or MAX_DURATION_SECONDS, like the consumer would, and
 * early (ffmpeg stopped, logged as `decode stopped early`) after its first image at or after
 * `opts.lastImageFrom` seconds (the last target's, which no selected frame follows), so the video after the
 * last target is not decoded. Leaving early kills both.
 * @throws JobError of either half, at the point where its images would have come
 */
export async function* decodeInParallelSegments(
  ctx: DecodeContext & { log?: Logger },
  url: SourceInput,
  streamIndex: VideoStreamRef,
  plan: ExtractPlan,
  splitSeconds: number,
  workDir: string,
  opts: { lastImageFrom?: number | undefined } = {},
): AsyncGenerator<DecodedImage, void, undefined> {
  const [first, second] = splitPlan(plan, splitSeconds);
  const local = new AbortController();
  const secondCtx = { ...ctx, signal: AbortSignal.any([ctx.signal, local.signal]) };
  const spool = await open(path.join(workDir, "segment-1.spool"), "w+");
  const spooled: { offset: number; length: number; info: ShowinfoFrame }[] = [];
  let spoolBytes = 0;
  let secondDone = false;
  let secondError: unknown;
  let wake: (() => void) | undefined;
  const secondRun = (async () => {
    try {
      for await (const { data, info } of decodeImages(secondCtx, url, streamIndex, second, workDir, "segment-1")) {
        if (spooled.length >= ctx.config.maxImages) throw imageLimitError(ctx.config.maxImages);
        if (info.timestampSeconds > ctx.config.maxDurationSeconds) {
          throw durationLimitError(info.timestampSeconds, ctx.config.maxDurationSeconds, "decode");
        }
        await spool.write(data, 0, data.length, spoolBytes);
        spooled.push({ offset: spoolBytes, length: data.length, info });
        spoolBytes += data.length;
        wake?.();
        if (opts.lastImageFrom !== undefined && info.timestampSeconds >= opts.lastImageFrom) {
          ctx.log?.info("decode stopped early", { reason: "the last target has its image", segment: 1, atSeconds: info.timestampSeconds, images: spooled.length });
          break;
        }
      }
    } catch (e) {
      secondError = e;
    } finally {
      secondDone = true;
      wake?.();
    }
  })();
  try {
    yield* decodeImages(ctx, url, streamIndex, first, workDir, "segment-0");
    for (let i = 0; ; i++) {
      while (i >= spooled.length && !secondDone) await new Promise<void>((r) => (wake = r));
      if (i >= spooled.length) break;
      const { offset, length, info } = spooled[i]!;
      const data = Buffer.alloc(length);
      await spool.read(data, 0, length, offset).catch((e: unknown) => {
        throw new JobError("Image extraction failed.", `reading the spooled images: ${(e as Error).message}`);
      });
      yield { data, info };
    }
    if (secondError) {
      ctx.signal.throwIfAborted();
      if (secondError instanceof JobError) throw secondError;
      // The spool file could not be written or read (disk full…): a job error, not a processor bug.
      throw new JobError("Image extraction failed.", String((secondError as Error).message ?? secondError).slice(0, 1000));
    }
  } finally {
    local.abort();
    await secondRun;
    await spool.close();
  }
}
