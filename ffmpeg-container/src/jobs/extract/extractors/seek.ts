import os from "node:os";
import { inputUrl } from "../../../ffmpeg/input-args.ts";
import { damageFindings, isReadRefused } from "../../../ffmpeg/damage.ts";
import { startProcess } from "../../../ffmpeg/proc.ts";
import { isStorageFailure, watchFfmpegStderr, type ShowinfoFrame } from "../../../ffmpeg/stderr.ts";
import { buildSeekExtractArgs, type OutputSpec } from "../ffmpeg-args.ts";
import type { ProgressSpan } from "../plan/plan.ts";
import type { IntervalTarget } from "../plan/strategy.ts";
import { extractionFailure, type ExtractorContext, type SourceVideo } from "./decode.ts";
import { createImageSplitter } from "./image-splitter.ts";
import { manifestTimestamp, type ImageSink } from "./image-sink.ts";

/** Seeks run at once: min(2, cores). */
export const SEEK_PARALLELISM = Math.max(1, Math.min(2, os.availableParallelism()));

/** Tolerance between the index's frame time and showinfo's, seconds: far below any frame interval. */
const FRAME_MATCH_SECONDS = 5e-4;

/** What one ffmpeg run of the seek strategy produced. */
interface OneImage {
  bytes?: Buffer;
  info?: ShowinfoFrame;
  code: number | null;
  otherLines: string[];
}

/** Runs one ffmpeg that writes at most one image and collects it with its showinfo frame. */
async function decodeOneImage(
  ctx: ExtractorContext,
  args: string[],
  format: OutputSpec["format"],
  signal: AbortSignal,
): Promise<OneImage> {
  const { child, exited } = startProcess(ctx.bins.ffmpeg, args, { cwd: ctx.workDir, signal });
  // The child's "close" (exited) comes after its stderr closed: `frames` is complete then.
  const { frames, otherLines } = watchFfmpegStderr(child.stderr);
  const chunks: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => chunks.push(c));
  const { code } = await exited;
  const splitter = createImageSplitter(format);
  let images: Buffer[] = [];
  try {
    images = [...splitter.push(Buffer.concat(chunks))];
    splitter.end();
  } catch {
    images = [];
  }
  // `-frames:v 1` writes one image, but showinfo may have logged the next frame already: the first is it.
  return images.length === 1 && frames.length >= 1 ? { bytes: images[0]!, info: frames[0]!, code, otherLines } : { code, otherLines };
}

/**
 * Seek strategy: one ffmpeg per planned image (up to {@link SEEK_PARALLELISM} at once), each seeking to
 * the keyframe before its frame; images enter the sink in order, as they would sequentially.
 * Runtime guard: an image whose timestamp is not the frame the index predicts (or a failed seek) is
 * decoded again from the start of the file (no seek, always the sequential answer).
 * @param span seconds [from, to] that progress fractions are measured over
 * @throws JobError when even the decode from the start gives no image
 */
export async function extractBySeeking(
  ctx: ExtractorContext,
  source: SourceVideo,
  targets: IntervalTarget[],
  output: OutputSpec,
  span: ProgressSpan,
  sink: ImageSink,
): Promise<void> {
  const { signal } = ctx;
  const { url, streamIndex } = source;
  // Stops the seeks still running when this function leaves early (error), not only on job abort.
  const local = new AbortController();
  const runSignal = AbortSignal.any([signal, local.signal]);
  const decodeTarget = async (t: IntervalTarget): Promise<OneImage> => {
    const seeked = await decodeOneImage(
      ctx,
      buildSeekExtractArgs(url, streamIndex, t.keyframeSeconds, t.targetSeconds, output),
      output.format,
      runSignal,
    );
    if (seeked.info && seeked.code === 0 && Math.abs(seeked.info.timestampSeconds - t.frameSeconds) <= FRAME_MATCH_SECONDS) return seeked;
    runSignal.throwIfAborted();
    ctx.log.warn("seek gave another frame than the index; decoding from the start", {
      targetSeconds: t.targetSeconds,
      expected: t.frameSeconds,
      got: seeked.info?.timestampSeconds ?? null,
    });
    return decodeOneImage(ctx, buildSeekExtractArgs(url, streamIndex, Number.NaN, t.targetSeconds, output), output.format, runSignal);
  };

  const pending = new Map<number, Promise<OneImage>>();
  let next = 0;
  try {
    for (let i = 0; i < targets.length; i++) {
      while (next < targets.length && next < i + SEEK_PARALLELISM) {
        const p = decodeTarget(targets[next]!);
        p.catch(() => undefined);
        pending.set(next++, p);
      }
      const one = await pending.get(i)!;
      pending.delete(i);
      signal.throwIfAborted();
      const hide = [inputUrl(url), ctx.workDir, ctx.config.tmpDir];
      ctx.damage?.record(damageFindings(one.otherLines, hide));
      if (!one.bytes || !one.info || one.code !== 0) {
        // A target in a damaged stretch is skipped (recorded); the storage failing, or no damage log, fails the job.
        const log = one.otherLines.join("\n");
        if (ctx.damage && one.code !== null && !isStorageFailure(log) && !isReadRefused(log)) {
          ctx.damage.targetSkipped(targets[i]!.targetSeconds);
          continue;
        }
        throw extractionFailure(one.otherLines, sink.images.length, hide, `ffmpeg exited with code ${one.code} without an image`);
      }
      // One image per distinct frame, as sequentially (only possible after a guard fallback).
      if (sink.lastTimestamp === manifestTimestamp(one.info.timestampSeconds)) continue;
      await sink.add(one.bytes, one.info);
      ctx.progress(span.fraction(sink.lastTimestamp!), { images: sink.images.length });
    }
  } finally {
    local.abort();
    await Promise.allSettled(pending.values());
  }
  sink.finish();
}
