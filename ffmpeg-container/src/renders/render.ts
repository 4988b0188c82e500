/**
 * One render of images on demand (`POST /renders`, docs/architecture.md "Images on demand"): get the
 * source's local copy (../sources/source-cache.ts: downloaded once with If-Match on its recorded ETag, or
 * reused from an earlier job or render; else its presigned URL), probe it with the jobs' input whitelists
 * and limits (skipped while ./probe-cache.ts remembers the source), then run ONE ffmpeg whose stdout is the
 * image (./args.ts). A thumbnail time after the last frame's start but before the duration (no frame at or
 * after it) gets the last frame, found from the tail's packets (one ffprobe, one more ffmpeg); an animation
 * starting there is a 400 naming `start`. A storyboard's `json` format only
 * probes: it answers the tile plan (`storyboardPlan`, the same one the sprite is drawn from).
 */
import type { SourceFacts } from "../../../schema/manifest.ts";
import { RENDER_CONTENT_TYPES, storyboardPlan, type RenderRequest, type RenderSpec, type StoryboardPlan } from "../../../schema/image-options.ts";
import { sourceObjectKey } from "../../../schema/object-keys.ts";
import { DEFAULT_RENDER_TIMEOUT_SECONDS, type ProcessorConfig } from "../config.ts";
import type { FfmpegBinaries } from "../ffmpeg/binaries.ts";
import { inputUrl, type SourceInput } from "../ffmpeg/input-args.ts";
import { checkProbeLimits } from "../ffmpeg/input-checks.ts";
import { probeSource, type ProbeResult } from "../ffmpeg/probe.ts";
import { startProcess } from "../ffmpeg/proc.ts";
import { isStorageFailure, stderrTail, STORAGE_UNREADABLE_MESSAGE, unreadableVideoMessage } from "../ffmpeg/stderr.ts";
import type { Logger } from "../../../runtime/log.ts";
import { JobError } from "../runner/errors.ts";
import { headSource, type Storage } from "../s3.ts";
import { TIMESTAMP_EPSILON_SECONDS } from "../jobs/extract/ffmpeg-args.ts";
import { readPacketIndex } from "../jobs/extract/plan/plan.ts";
import { seekVerified } from "../jobs/extract/plan/strategy.ts";
import { buildAnimatedArgs, buildStoryboardArgs, buildThumbnailArgs } from "./args.ts";
import type { ProbeCache } from "./probe-cache.ts";
import { readableSource, type ReadableSource, type SourceCache } from "../sources/source-cache.ts";

/** Largest image a render may write, bytes (a 10 s 3840-px GIF can be big; more is refused, not truncated). */
export const MAX_RENDER_BYTES = 48 * 1024 * 1024;

/** Bytes of the upload read to explain a refused file (as extraction does). */
const SOURCE_HEAD_BYTES = 4096;

/** A request the video cannot satisfy (e.g. `time` past its end): a 400 naming the parameter. */
export class RenderParamError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = "RenderParamError";
  }
}

/** What the runner gives a render. */
export interface RenderContext {
  config: ProcessorConfig;
  storage: Storage;
  bins: FfmpegBinaries;
  log: Logger;
  /** The render's own empty folder (ffmpeg's cwd), removed by the caller. */
  workDir: string;
  /** Aborted on the render timeout or when the client goes away. */
  signal: AbortSignal;
  /** Probe results of recent sources (./probe-cache.ts); absent = probe every time. */
  probes?: ProbeCache;
  /** The processor's local copies of sources (../sources/source-cache.ts); absent = read over HTTP. */
  sources?: SourceCache;
}

/** A finished render. */
export interface RenderResult {
  bytes: Buffer;
  contentType: string;
  /** Facts of the source (logged, and the storyboard's plan comes from them). */
  source: SourceFacts;
  /** Where the render's time went, ms (logged with "render done"). */
  phases: RenderPhases;
}

/** Wall time of a render's phases, ms. */
export interface RenderPhases {
  /** Getting a readable source: the local copy (a download, or none when another job or render has it), or the presigned URL when read over HTTP. */
  sourceMs: number;
  /** How ffmpeg read the source (see ../sources/source-cache.ts `readableSource`). */
  localCopy: ReadableSource["localCopy"];
  /** HEAD + ffprobe of the source; 0 when ./probe-cache.ts had it. */
  probeMs: number;
  probeCached: boolean;
  /** The one ffmpeg run, spawn to exit (0 for a storyboard plan). */
  ffmpegMs: number;
}

/**
 * The frame size players show: the stored size times the sample aspect ratio, swapped for a 90°/270° rotation.
 * @returns width, height in pixels (≥ 1)
 */
export function displaySize(facts: SourceFacts, sampleAspectRatio: number): { width: number; height: number } {
  const w = Math.max(1, Math.round(facts.width * (sampleAspectRatio > 0 ? sampleAspectRatio : 1)));
  const h = facts.height;
  return facts.rotationDegrees === 90 || facts.rotationDegrees === 270 ? { width: h, height: w } : { width: w, height: h };
}

/**
 * Renders one image (or a storyboard plan).
 * @returns the bytes and their content type
 * @throws RenderParamError for a time past the end of the video; JobError for a bad, damaged, missing or
 *   replaced video (`retryable` when the storage failed), or `signal.reason` on abort/timeout
 */
export async function runRender(req: RenderRequest, ctx: RenderContext): Promise<RenderResult> {
  const { config, storage, signal } = ctx;
  const t0 = performance.now();
  const sourceKey = sourceObjectKey(req.userId, req.videoId);
  const presign = () => storage.presignGet(config.videosBucket, sourceKey, Math.ceil(config.renderTimeoutSeconds ?? DEFAULT_RENDER_TIMEOUT_SECONDS) + 60);
  const source = await readableSource(ctx.sources, storage, { bucket: config.videosBucket, key: sourceKey, etag: req.sourceEtag }, presign, signal);
  try {
    return await renderFrom(req, ctx, sourceKey, source, t0);
  } finally {
    source.release();
  }
}

/** The render once its source is readable (see {@link runRender}); `t0` is when the render started (ms). */
async function renderFrom(req: RenderRequest, ctx: RenderContext, sourceKey: string, source: ReadableSource, t0: number): Promise<RenderResult> {
  const { config, storage, signal } = ctx;
  const url: SourceInput = source.input;
  const t1 = performance.now();
  let probe = ctx.probes?.get(req.userId, req.videoId, req.sourceEtag);
  const probeCached = probe !== undefined;
  if (!probe) {
    // A local copy was fetched with If-Match on the recorded ETag: its size needs no HEAD.
    const sizeBytes = source.sizeBytes ?? (await headSource(storage, config.videosBucket, sourceKey, signal, req.sourceEtag));
    if (sizeBytes === 0) throw new JobError("The file is empty (0 bytes), not a video.", "HeadObject on the source object reports Content-Length 0.");
    probe = await probeSource(ctx.bins.ffprobe, url, {
      cwd: ctx.workDir,
      signal,
      sizeBytes,
      readHead: () => storage.readHead(config.videosBucket, sourceKey, SOURCE_HEAD_BYTES, signal, req.sourceEtag),
    });
    checkProbeLimits(probe.facts, config);
    ctx.probes?.set(req.userId, req.videoId, req.sourceEtag, probe);
  }
  const { facts } = probe;
  const t2 = performance.now();
  const phases = (ffmpegMs: number): RenderPhases => ({ sourceMs: ms(t1 - t0), probeMs: probeCached ? 0 : ms(t2 - t1), probeCached, localCopy: source.localCopy, ffmpegMs: ms(ffmpegMs) });
  const duration = facts.durationSeconds;
  const spec = req.spec;

  let args: string[];
  switch (spec.kind) {
    case "thumbnail": {
      const time = thumbnailTime(spec, duration);
      if (duration !== null && spec.time !== undefined && spec.time >= duration) {
        throw new RenderParamError("time", `time ${spec.time} is at or past the end of the video (${duration} s).`);
      }
      args = buildThumbnailArgs(url, probe.streamIndex, spec, time, { seek: seekVerified(facts.videoCodec, facts.formatName) });
      break;
    }
    case "animated":
      if (duration !== null && spec.start >= duration) {
        throw new RenderParamError("start", `start ${spec.start} is at or past the end of the video (${duration} s).`);
      }
      args = buildAnimatedArgs(url, probe.streamIndex, spec, { seek: true });
      break;
    case "storyboard": {
      if (duration === null || !(duration > 0)) {
        throw new JobError("The video's duration is unknown, so no storyboard can be laid out.", `ffprobe reports no duration (${facts.formatName}).`);
      }
      const { width, height } = displaySize(facts, probe.sampleAspectRatio);
      const plan: StoryboardPlan = storyboardPlan(duration, width, height);
      if (spec.format === "json") {
        return { bytes: Buffer.from(JSON.stringify(plan)), contentType: RENDER_CONTENT_TYPES.storyboard.json, source: facts, phases: phases(0) };
      }
      args = buildStoryboardArgs(url, probe.streamIndex, plan, spec.format);
      break;
    }
  }
  const t3 = performance.now();
  const hide = [inputUrl(url), ctx.workDir, config.tmpDir];
  const bytes = await runFfmpeg(ctx, args, hide)
    .catch((e: unknown) => (e instanceof NoImageError ? recoverNoImage(ctx, url, probe, spec, e, hide) : Promise.reject(e)))
    .catch((e: unknown) => {
      // The source may have changed or vanished: the next render probes it again.
      if (!(e instanceof RenderParamError)) ctx.probes?.delete(req.userId, req.videoId, req.sourceEtag);
      throw e;
    });
  return { bytes, contentType: contentTypeOf(spec), source: facts, phases: phases(performance.now() - t3) };
}

/**
 * A thumbnail or animation that gave no image. Two causes are told apart and rendered again; anything else
 * is `failure`:
 * - The time (an animation's `start`) is before the duration but after the last frame's start: no frame
 *   starts at or after it; the last frame is still on screen there (it lasts to the duration). A thumbnail
 *   is then that frame, the one a player shows; an animation has no frame in its span: 400 naming `start`.
 *   The last frame's time comes from the tail's packets ({@link lastFrameSeconds}).
 * - The input seek landed where no frame decodes (display-dual-monitors.webm past its last cue: the
 *   demuxer starts inside a cluster without a keyframe): the same render decoding from the start, which
 *   takes longer but follows the sequential rule exactly.
 *   Only while that decode is cheap ({@link fromStartAffordable}): a damaged stretch late in a long video
 *   stays a 422 at once instead of holding a render slot until the timeout.
 * - A keyframe-accuracy thumbnail whose seek decoded nothing: the keyframe at or before the time is found
 *   in the packet index of the last minute before it and sought exactly; that seek lands.
 * Storyboards are not rendered again.
 * @returns the image
 * @throws RenderParamError (`start`), `failure`, or the error of the last try
 */
async function recoverNoImage(ctx: RenderContext, url: SourceInput, probe: ProbeResult, spec: RenderSpec, failure: NoImageError, hide: string[]): Promise<Buffer> {
  const { facts } = probe;
  const duration = facts.durationSeconds;
  const seek = seekVerified(facts.videoCodec, facts.formatName);
  if (spec.kind === "thumbnail" && spec.accuracy === "exact") {
    const time = thumbnailTime(spec, duration);
    const last = duration !== null && time < duration ? await lastFrameSeconds(ctx, url, probe, time) : null;
    const target = last !== null && last < time ? last : time;
    if (target !== time) {
      ctx.log.info("thumbnail after the last frame", { time, lastFrameSeconds: target });
      if (seek) {
        const seeked = await runFfmpeg(ctx, buildThumbnailArgs(url, probe.streamIndex, spec, target, { seek: true }), hide).catch((e: unknown) => {
          if (e instanceof NoImageError) return null;
          throw e;
        });
        if (seeked) return seeked;
      }
    }
    if ((!seek && target === time) || !fromStartAffordable(facts, target)) throw failure;
    ctx.log.info("render decoded from the start", { time: target, reason: "no image after the seek" });
    return runFfmpeg(ctx, buildThumbnailArgs(url, probe.streamIndex, spec, target, { seek: false }), hide);
  }
  if (spec.kind === "thumbnail" && spec.accuracy === "keyframe") {
    const time = thumbnailTime(spec, duration);
    // GOPs longer than a minute are not looked for: the index of the last minute, not of the whole file.
    const index = await readPacketIndex(ctx, url, probe, { fromSeconds: probe.startSeconds + time - 60, maxStdoutBytes: 4 * 1024 * 1024 });
    const keyframe = index?.keyframeTimes.filter((k) => k <= time + TIMESTAMP_EPSILON_SECONDS).at(-1);
    if (keyframe === undefined || keyframe >= time - TIMESTAMP_EPSILON_SECONDS) throw failure;
    ctx.log.info("render seeks to the keyframe", { time, keyframeSeconds: keyframe, reason: "no image after the seek" });
    return runFfmpeg(ctx, buildThumbnailArgs(url, probe.streamIndex, spec, keyframe, { seek: true }), hide);
  }
  if (spec.kind === "animated") {
    const last = duration !== null && spec.start < duration ? await lastFrameSeconds(ctx, url, probe, spec.start) : null;
    if (last !== null && last < spec.start) {
      throw new RenderParamError("start", `start ${spec.start} is after the video's last frame (at ${last.toFixed(3)} s): no frame begins in that span.`);
    }
    if (spec.start > 0 && fromStartAffordable(facts, spec.end)) {
      ctx.log.info("render decoded from the start", { start: spec.start, reason: "no image after the seek" });
      return runFfmpeg(ctx, buildAnimatedArgs(url, probe.streamIndex, spec, { seek: false }), hide);
    }
  }
  throw failure;
}

/** The time a thumbnail shows, seconds: its `time`, else the middle of the video (0 when the duration is unknown). */
function thumbnailTime(spec: { time?: number | undefined }, durationSeconds: number | null): number {
  return spec.time ?? (durationSeconds !== null ? durationSeconds / 2 : 0);
}

/** Milliseconds rounded to 0.1. */
const ms = (v: number) => Math.round(v * 10) / 10;

/** Content type of a spec's output. */
export function contentTypeOf(spec: RenderSpec): string {
  return (RENDER_CONTENT_TYPES[spec.kind] as Record<string, string>)[spec.format]!;
}

/**
 * Runs ffmpeg and collects stdout (at most {@link MAX_RENDER_BYTES}); stderr is kept for the error.
 * @param hide strings redacted from the error description (presigned URL, folders)
 * @throws JobError when ffmpeg fails or writes nothing: the storage failing (retryable), else a damaged video
 */
async function runFfmpeg(ctx: RenderContext, args: string[], hide: string[]): Promise<Buffer> {
  const { child, exited } = startProcess(ctx.bins.ffmpeg, args, { cwd: ctx.workDir, signal: ctx.signal });
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  child.stdout.on("data", (c: Buffer) => {
    size += c.length;
    if (size > MAX_RENDER_BYTES) {
      tooBig = true;
      child.kill("SIGKILL");
    } else chunks.push(c);
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => {
    stderr = (stderr + c).slice(-64 * 1024);
  });
  const { code } = await exited;
  ctx.signal.throwIfAborted();
  if (tooBig) throw new JobError(`The image would exceed ${MAX_RENDER_BYTES} bytes; ask a smaller size or span.`, `ffmpeg wrote more than ${MAX_RENDER_BYTES} bytes`);
  const description = stderrTail(stderr.split("\n"), hide);
  if (isStorageFailure(stderr)) throw new JobError(STORAGE_UNREADABLE_MESSAGE, description, { retryable: true });
  if (code !== 0 || size === 0) {
    const reason = stderr.trim() ? unreadableVideoMessage(stderr) : "No frame could be decoded at that time: the video is damaged there.";
    const detail = description || `ffmpeg exited with code ${code} and wrote ${size} bytes`;
    throw size === 0 ? new NoImageError(reason, detail) : new JobError(reason, detail);
  }
  return Buffer.concat(chunks);
}

/**
 * Most decoding a render may spend decoding from the file's start after a seek gave nothing, pixels ×
 * frames: 2·10⁹ is ~2.5 s of 1080p decoding here (franck.mp4's 360x288 for its whole 200 s is 5·10⁸).
 */
export const RENDER_FROM_START_MAX_PIXEL_FRAMES = 2e9;

/**
 * True when decoding the video from its start up to `untilSeconds` stays within
 * {@link RENDER_FROM_START_MAX_PIXEL_FRAMES} (frame rate unknown: 30 fps assumed).
 * @param facts the probed width, height (pixels) and frame rate (frames per second)
 * @param untilSeconds seconds of video to decode
 */
export function fromStartAffordable(facts: Pick<SourceFacts, "width" | "height" | "frameRate">, untilSeconds: number): boolean {
  return untilSeconds * (facts.frameRate ?? 30) * facts.width * facts.height <= RENDER_FROM_START_MAX_PIXEL_FRAMES;
}

/** ffmpeg wrote no byte (failed or not): maybe no frame lies where the render asked (see {@link renderFrom}). */
class NoImageError extends JobError {}

/**
 * Time of the video's last frame, from the packets of its tail (ffprobe, demuxing only: the largest pts of
 * the packets from the keyframe before `fromSeconds` − 1 s to the end), on the timeline of the renders'
 * `select` (the extraction's packet index's).
 * @param fromSeconds a time at or after which no frame was found, seconds
 * @returns seconds, or null when it cannot be told (no time base, ffprobe failed, no packet)
 */
async function lastFrameSeconds(ctx: RenderContext, url: SourceInput, probe: ProbeResult, fromSeconds: number): Promise<number | null> {
  const index = await readPacketIndex(ctx, url, probe, { fromSeconds: probe.startSeconds + fromSeconds - 1, maxStdoutBytes: 4 * 1024 * 1024 });
  return index?.frameTimes.at(-1) ?? null;
}
