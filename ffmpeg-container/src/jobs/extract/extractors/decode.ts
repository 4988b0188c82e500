import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../../../../../runtime/log.ts";
import type { ProcessorConfig } from "../../../config.ts";
import type { FfmpegBinaries } from "../../../ffmpeg/binaries.ts";
import { damageFindings, isReadRefused, type DamageLog } from "../../../ffmpeg/damage.ts";
import { inputUrl, type SourceInput } from "../../../ffmpeg/input-args.ts";
import { startProcess } from "../../../ffmpeg/proc.ts";
import { isStorageFailure, stderrTail, unreadableVideoMessage, watchFfmpegStderr, type ShowinfoFrame } from "../../../ffmpeg/stderr.ts";
import { JobError } from "../../../runner/errors.ts";
import { buildExtractArgs, buildFilterGraph, needsFilterScript, type ExtractPlan, type VideoStreamRef } from "../ffmpeg-args.ts";
import { createImageSplitter } from "./image-splitter.ts";

/** One encoded image and the showinfo line of its frame (timestamp, size). */
export interface DecodedImage {
  data: Buffer;
  info: ShowinfoFrame;
}

/** What a decode needs from the job. */
export interface DecodeContext {
  bins: FfmpegBinaries;
  config: ProcessorConfig;
  /** Aborting it kills ffmpeg; `signal.reason` is thrown. */
  signal: AbortSignal;
  /**
   * Where the damage ffmpeg meets is recorded (decode errors, an early end). With it, a decode that fails
   * after images came out ends like a finished one (the images are kept, the stop is recorded); without
   * it (tools), it fails "part-way" as before.
   */
  damage?: DamageLog;
}

/** What an extractor needs from the job (the runner's JobContext has all of it). */
export interface ExtractorContext extends DecodeContext {
  /** The job's folder: ffmpeg's working folder, filter scripts, the split decode's spool file. */
  workDir: string;
  log: Logger;
  /** Reports the share of the span done (0..1) and the images stored so far. */
  progress(fraction: number, counters: { images: number }): void;
}

/** The source an extractor decodes: its presigned URL (with its If-Match ETag) and the video stream's absolute index. */
export interface SourceVideo {
  url: SourceInput;
  streamIndex: number;
}

/** The source of a sequential decode: its stream may be `FIRST_VIDEO_STREAM` (ffmpeg-args.ts) when the decode starts before the probe answers. */
export interface SequentialSource {
  url: SourceInput;
  streamIndex: VideoStreamRef;
}

/**
 * Runs one extracting ffmpeg (`buildExtractArgs`) and yields its images in order. Leaving the loop early
 * (`break`, `return`, an exception in the consumer) kills ffmpeg; the damage its stderr showed until then
 * is recorded in `ctx.damage` as at a normal end.
 * @param plan the run's plan; a long filtergraph is written to `<workDir>/<name>.filtergraph.txt`
 * @param name names this run's files in the job folder (distinct per concurrent run)
 * @throws JobError when ffmpeg fails (message from its stderr: unreadable video, storage failure, or
 *   "failed part-way" once images came out and `ctx.damage` is not given), or writes an image without its
 *   showinfo line
 */
export async function* decodeImages(
  ctx: DecodeContext,
  url: SourceInput,
  streamIndex: VideoStreamRef,
  plan: ExtractPlan,
  workDir: string,
  name = "run",
): AsyncGenerator<DecodedImage, void, undefined> {
  const { signal } = ctx;
  const graph = buildFilterGraph(plan);
  const scriptPath = path.join(workDir, `${name}.filtergraph.txt`);
  if (needsFilterScript(graph)) await writeFile(scriptPath, graph);
  const args = buildExtractArgs(url, streamIndex, plan, scriptPath);
  const { child, exited } = startProcess(ctx.bins.ffmpeg, args, { cwd: workDir, signal });

  // stderr: showinfo frames (queued until their image arrives) and the other lines (kept for errors).
  const { otherLines, frame } = watchFfmpegStderr(child.stderr);

  const splitter = createImageSplitter(plan.output.format);
  let count = 0;
  let lastSeconds: number | undefined;
  let finished = false;
  let failed = false;
  const hide = [inputUrl(url), workDir, ctx.config.tmpDir];
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      for (const data of splitter.push(chunk)) {
        const info = await frame(count);
        if (!info) throw new JobError("Image extraction failed.", "ffmpeg wrote an image without its frame information");
        count++;
        lastSeconds = info.timestampSeconds;
        yield { data, info };
      }
    }
    const { code, signal: killedBy } = await exited;
    signal.throwIfAborted();
    ctx.damage?.record(damageFindings(otherLines, hide));
    if (code !== 0) {
      const failure = extractionFailure(otherLines, count, hide, `ffmpeg exited with ${killedBy ?? `code ${code}`}`);
      // Damaged past this point: keep the images decoded so far (the job fails only with none at all).
      const log = otherLines.join("\n");
      if (!ctx.damage || count === 0 || killedBy || isStorageFailure(log) || isReadRefused(log)) throw failure;
      ctx.damage.stoppedEarly(lastSeconds, failure.description.split("\n").at(-1) ?? "");
    }
    try {
      splitter.end();
    } catch (e) {
      throw new JobError("Image extraction failed.", (e as Error).message);
    }
    finished = true;
  } catch (e) {
    failed = true;
    signal.throwIfAborted();
    if (e instanceof JobError) throw e;
    throw new JobError("Image extraction failed.", String((e as Error).message ?? e).slice(0, 1000));
  } finally {
    if (!finished) {
      // Early exit or failure: nothing more is read, so stop ffmpeg now.
      child.kill("SIGKILL");
      await exited.catch(() => undefined);
      // The consumer stopped the decode (every target answered): the damage met so far is still reported.
      if (!failed && !signal.aborted) ctx.damage?.record(damageFindings(otherLines, hide));
    }
  }
}

/**
 * The error of an extracting ffmpeg that failed: "failed part-way" once images came out, unless its
 * stderr shows a storage failure (reported as one, not as a damaged video); otherwise why the video is
 * unreadable. The description is the redacted tail of stderr.
 * @param otherLines ffmpeg's stderr lines other than showinfo
 * @param imagesSoFar images already stored or yielded
 * @param hide strings to remove from the tail (the presigned URL, local folders)
 * @param fallback description when stderr says nothing
 */
export function extractionFailure(otherLines: string[], imagesSoFar: number, hide: string[], fallback: string): JobError {
  const log = otherLines.join("\n");
  return new JobError(
    imagesSoFar > 0 && !isStorageFailure(log) ? "Image extraction failed part-way through the video." : unreadableVideoMessage(log),
    stderrTail(otherLines, hide) || fallback,
  );
}
