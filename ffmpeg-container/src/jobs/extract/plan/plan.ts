/**
 * Target planning of an extraction: which frames become images and how they are decoded, from the
 * options (mode, window, accuracy, maxImages, output) and the probed facts. Keyframes and scene modes are
 * one sequential decode; interval and timestamps modes either seek once per target or decode
 * sequentially (the rule is in ./strategy.ts); `accuracy: "keyframe"` decodes keyframes only and picks
 * the nearest (./keyframe-picker.ts).
 */
import {
  DEFAULT_SCENE_THRESHOLD,
  type ExtractionOptions,
} from "../../../../../schema/extraction-options.ts";
import type { ManifestImage } from "../../../../../schema/manifest.ts";
import type { ProcessorConfig } from "../../../config.ts";
import type { FfmpegBinaries } from "../../../ffmpeg/binaries.ts";
import { isLocalCopy, type SourceInput } from "../../../ffmpeg/input-args.ts";
import type { ProbeResult } from "../../../ffmpeg/probe.ts";
import { runProcess } from "../../../ffmpeg/proc.ts";
import type { ShowinfoFrame } from "../../../ffmpeg/stderr.ts";
import { JobError } from "../../../runner/errors.ts";
import {
  buildPacketIndexArgs,
  intervalSelectExpr,
  keyframesSelectExpr,
  sceneSelectExpr,
  timestampsSelectExpr,
  TIMESTAMP_EPSILON_SECONDS,
  windowFactors,
  type ExtractPlan,
  type OutputSpec,
} from "../ffmpeg-args.ts";
import { NearestKeyframePicker } from "./keyframe-picker.ts";
import {
  chooseIntervalStrategy,
  seekOverheadPixels,
  SEEK_MAX_WORK_RATIO,
  SEEK_MAX_WORK_RATIO_LOCAL,
  PacketIndexParser,
  resolveTimestampTargets,
  seekMightPayForTargets,
  seekVerified,
  type IntervalStrategyDecision,
  type IntervalTarget,
  type KeyframeIndex,
  type TimeWindow,
} from "./strategy.ts";

/** What planning needs from the job: configuration, binaries (the packet index), abort signal, work folder. */
export interface PlanContext {
  config: ProcessorConfig;
  bins: FfmpegBinaries;
  signal: AbortSignal;
  workDir: string;
}

/** Output part of a job's options (defaults applied). */
export function outputSpec(options: ExtractionOptions): OutputSpec {
  return {
    format: options.format ?? "jpeg",
    quality: options.quality,
    maxWidth: options.maxWidth,
    maxHeight: options.maxHeight,
  };
}

/** Half-width of the match between the keyframe time a target chose and an image's stored timestamp (rounded to 1 µs), seconds. */
export const KEYFRAME_MATCH_SECONDS = 5e-4;

/**
 * The sequential plan of the modes that need no facts about the video: keyframes (`eq(key,1)`),
 * interval ({@link intervalSelectExpr}) and scene (`isnan(prev_selected_t)+gt(scene,T)`: the first
 * frame, then every frame whose scene-change score exceeds T; the score needs every frame decoded),
 * each limited to the window.
 * - keyframes: `select='eq(key,1)'` keeps only frames flagged key. `-skip_frame nokey` already drops
 *   non-key frames for most decoders, but some ignore it (Cinepak in tree.avi decodes all 68 frames, of
 *   which 3 are key): the filter makes the count equal the key-flagged packets ffprobe reports.
 * @param options extraction options
 * @param timestampTargets for `mode: "timestamps"`: the resolved targets (required there)
 * @throws RangeError for timestamps without targets
 */
export function planFromOptions(options: ExtractionOptions, timestampTargets?: readonly number[]): ExtractPlan {
  const { startSeconds, endSeconds, maxImages } = options;
  const output = outputSpec(options);
  const common = { endSeconds, maxImages, output };
  switch (options.mode) {
    case "keyframes":
      return { ...common, keyframesOnly: true, select: keyframesSelectExpr(startSeconds, endSeconds) };
    case "interval":
      return {
        ...common,
        keyframesOnly: false,
        sparseImages: true,
        segments: { originSeconds: startSeconds ?? 0, stepSeconds: options.intervalSeconds },
        select: `${windowFactors(undefined, endSeconds)}${intervalSelectExpr(options.intervalSeconds, startSeconds ?? 0)}`,
      };
    case "scene":
      return {
        ...common,
        keyframesOnly: false,
        select: sceneSelectExpr(options.sceneThreshold ?? DEFAULT_SCENE_THRESHOLD, startSeconds, endSeconds),
      };
    case "timestamps":
      if (!timestampTargets) throw new RangeError("timestamps mode needs its resolved targets");
      // The frame at or after a target near the window's end may lie past it: the end factor drops it.
      return {
        ...common,
        keyframesOnly: false,
        sparseImages: true,
        segments: "any",
        select: `${windowFactors(undefined, endSeconds)}${timestampsSelectExpr(timestampTargets)}`,
      };
  }
}

/** Seconds [from, to] over which a job's progress is measured, and the fraction of a timestamp. */
export interface ProgressSpan {
  from: number;
  to: number | null;
  /** (t − from) / (to − from), clamped to 0..1; 0 when the end is unknown. */
  fraction(t: number): number;
}

/**
 * The progress span of a job: the window [startSeconds, endSeconds] cut to the duration.
 * @param durationSeconds ffprobe duration (null: unknown → fractions stay 0 unless a window end is given)
 */
export function progressSpan(durationSeconds: number | null, window: TimeWindow): ProgressSpan {
  const from = window.startSeconds ?? 0;
  const ends = [window.endSeconds, durationSeconds ?? undefined].filter((v): v is number => v !== undefined);
  const to = ends.length > 0 ? Math.min(...ends) : null;
  return {
    from,
    to,
    fraction: (t) => (to !== null && to > from ? Math.min(1, Math.max(0, (t - from) / (to - from))) : 0),
  };
}

/** How an extraction runs: what to decode, how, and what timestamps mode reports. */
export interface ExtractionPlan {
  output: OutputSpec;
  /** Progress is measured over this span. */
  span: ProgressSpan;
  /** The sequential decode (used unless `decision.strategy` is `seek`). */
  sequential: ExtractPlan;
  /** Interval/timestamps exact: the strategy decision. */
  decision?: IntervalStrategyDecision | undefined;
  /** Seek strategy: the targets to seek to, `maxImages` applied (the first N planned images). */
  seekTargets?: IntervalTarget[] | undefined;
  /** Keyframe accuracy: the picker fed with every decoded keyframe. */
  keyframePick?: KeyframePick | undefined;
  /** Timestamps mode: the targets asked and those skipped before decoding. */
  timestamps?: { targets: number[]; skipped: number[] } | undefined;
  /** errorMessage when the decode gives no image. */
  emptyMessage?: string | undefined;
  /**
   * Interval (duration known) and timestamps modes, exact: the planned target times, seconds, ascending.
   * Their count is the most images the sequential pass can give (one per target; fewer when one frame is
   * the first at or after several). Once it has that many, or the last target's image (the first frame at
   * or after it, which no selected frame follows), ffmpeg is stopped instead of decoding to the end: a 9 s
   * clip with N = 10 s decodes its first frame only; a pass split in two halves stops its second half at
   * that last image. In interval mode this also ends the images
   * at the probed duration, as the seek strategy's targets do (without it, a stream running past its
   * declared duration gave more).
   */
  stopTargets?: readonly number[] | undefined;
}

/** Keyframe accuracy: how the decoded keyframes become images. */
export interface KeyframePick {
  picker: NearestKeyframePicker<{ data: Buffer; info: ShowinfoFrame }>;
  /** `maxImages`: stop after this many images. */
  cap?: number | undefined;
  /**
   * True when the targets end at the video's known end (or are explicit timestamps); false when the
   * duration is unknown and interval targets were planned up to MAX_DURATION_SECONDS: then targets after
   * the last decoded keyframe are dropped instead of all taking it.
   */
  targetsToEnd: boolean;
}

/**
 * Decides how an extraction runs from its options and the probe:
 * - keyframes, scene: the sequential plan of the options;
 * - interval / timestamps with `accuracy: "keyframe"`: a keyframes-only decode of the window whose
 *   keyframes go through a {@link NearestKeyframePicker} (no index is read first);
 * - interval / timestamps exact: the rule of ./strategy.ts (seek per target, after reading the packet
 *   index with ffprobe, or one sequential pass with the `select` of the mode).
 * @param url presigned URL of the source (the packet index is read from it)
 * @throws JobError when the window starts after the end, or no timestamp lies within the video and the window
 */
export async function planExtraction(
  ctx: PlanContext,
  url: SourceInput,
  probe: ProbeResult,
  options: ExtractionOptions,
): Promise<ExtractionPlan> {
  const { facts } = probe;
  const output = outputSpec(options);
  const window: TimeWindow = { startSeconds: options.startSeconds, endSeconds: options.endSeconds };
  const span = progressSpan(facts.durationSeconds, window);
  if (options.startSeconds !== undefined && facts.durationSeconds !== null && options.startSeconds >= facts.durationSeconds) {
    throw new JobError(
      `The requested start (${options.startSeconds} s) is at or after the end of the video (${facts.durationSeconds} s).`,
      "startSeconds must be below the video's duration.",
    );
  }
  // A window that starts late is reached by an input seek where seeking is verified clean; elsewhere the
  // decode starts at the file's start (the select applies the window either way).
  const seekSeconds =
    options.startSeconds !== undefined && options.startSeconds > 0 && seekVerified(facts.videoCodec, facts.formatName)
      ? options.startSeconds
      : undefined;
  if (options.mode === "keyframes" || options.mode === "scene") {
    return { output, span, sequential: { ...planFromOptions(options), seekSeconds }, emptyMessage: emptyWindowMessage(options) };
  }

  let timestamps: ExtractionPlan["timestamps"];
  let emptyMessage = emptyWindowMessage(options);
  if (options.mode === "timestamps") {
    timestamps = resolveTimestampTargets(options.timestampsSeconds, window, facts.durationSeconds);
    const inWindow = options.startSeconds !== undefined || options.endSeconds !== undefined ? " and the requested window" : "";
    const long = facts.durationSeconds !== null ? ` (${facts.durationSeconds} s long)` : "";
    if (timestamps.targets.length === 0) {
      throw new JobError(
        `None of the requested timestamps lies within the video${long}${inWindow}.`,
        `requested: ${options.timestampsSeconds.slice(0, 20).join(", ")}${options.timestampsSeconds.length > 20 ? ", …" : ""}`,
      );
    }
    // Targets within the duration that no frame starts at or after: after the last frame's start.
    emptyMessage = `No frame of the video${long} starts at or after any requested timestamp${inWindow}; the last frame starts before them.`;
  }

  if (options.accuracy === "keyframe") {
    // Keyframes-only decode of the window; the picker keeps the keyframe nearest each target.
    const targetsToEnd = options.mode === "timestamps" || facts.durationSeconds !== null;
    const targets =
      options.mode === "timestamps"
        ? timestamps!.targets
        : intervalTargets(options.intervalSeconds, window, facts.durationSeconds ?? ctx.config.maxDurationSeconds);
    return {
      output,
      span,
      sequential: {
        keyframesOnly: true,
        select: keyframesSelectExpr(options.startSeconds, options.endSeconds),
        endSeconds: options.endSeconds,
        seekSeconds,
        output,
      },
      keyframePick: { picker: new NearestKeyframePicker(targets, window), cap: options.maxImages, targetsToEnd },
      timestamps,
      emptyMessage,
    };
  }

  // The targets a sequential pass stops after: the timestamps, or the interval's up to the
  // known duration; none when the duration is unknown (the pass then decodes to the end).
  const stopTargets =
    options.mode === "timestamps"
      ? timestamps!.targets
      : facts.durationSeconds !== null
        ? intervalTargets(options.intervalSeconds, window, facts.durationSeconds)
        : undefined;
  const decision = await chooseStrategy(
    ctx,
    url,
    probe,
    options.mode === "timestamps" ? { targetTimes: timestamps!.targets, window, stopTargets } : { intervalSeconds: options.intervalSeconds, window, stopTargets },
  );
  const seekTargets =
    decision.strategy === "seek"
      ? options.maxImages !== undefined
        ? decision.targets.slice(0, options.maxImages)
        : decision.targets
      : undefined;
  return {
    output,
    span,
    sequential: { ...planFromOptions(options, timestamps?.targets), seekSeconds },
    decision,
    seekTargets,
    timestamps,
    emptyMessage,
    stopTargets,
  };
}

/**
 * The plan of a job that needs no fact about the video, so its decode may start while ffprobe runs:
 * keyframes and scene modes without `startSeconds` (a late start is reached by an input seek only on
 * verified (codec, container) pairs, which takes the facts). It is the plan {@link planExtraction} makes
 * for those options, except that its `span` does not know the duration yet: replace it with
 * `progressSpan(durationSeconds, window)` once the probe answered.
 * @returns the plan, or null when the options need the facts (every other mode, any `startSeconds`)
 */
export function planBeforeProbe(options: ExtractionOptions): ExtractionPlan | null {
  if ((options.mode !== "keyframes" && options.mode !== "scene") || options.startSeconds !== undefined) return null;
  return {
    output: outputSpec(options),
    span: progressSpan(null, { startSeconds: undefined, endSeconds: options.endSeconds }),
    sequential: { ...planFromOptions(options), seekSeconds: undefined },
    emptyMessage: emptyWindowMessage(options),
  };
}

/**
 * errorMessage of a job with a window (`startSeconds` / `endSeconds`) whose decode ran cleanly and kept no
 * image: the window holds no frame (no keyframe, for keyframes mode and `accuracy: "keyframe"`), the video
 * is not at fault. A decode that met damage says so instead (DamageLog), and a job without a window keeps
 * the general message.
 * @returns the message, or undefined without a window
 */
export function emptyWindowMessage(options: ExtractionOptions): string | undefined {
  if (options.startSeconds === undefined && options.endSeconds === undefined) return undefined;
  const window = `from ${options.startSeconds ?? 0} s to ${options.endSeconds !== undefined ? `${options.endSeconds} s` : "the end"}`;
  const keyframesOnly = options.mode === "keyframes" || ("accuracy" in options && options.accuracy === "keyframe");
  return keyframesOnly
    ? `No keyframe of the video lies in the requested window (${window}); widen it, or ask for exact frames (interval or timestamps mode).`
    : `No frame of the video lies in the requested window (${window}).`;
}

/**
 * Interval targets S, S + N, … below the end (window end or `endSeconds`), at least S itself (a video
 * shorter than N still gets its first frame).
 * @param endSeconds the video's duration (or a bound on it when unknown), seconds
 */
function intervalTargets(intervalSeconds: number, window: TimeWindow, endSeconds: number): number[] {
  const start = window.startSeconds ?? 0;
  const end = Math.min(window.endSeconds ?? Number.POSITIVE_INFINITY, endSeconds);
  const out = [start];
  for (let k = 1; start + k * intervalSeconds < end - TIMESTAMP_EPSILON_SECONDS; k++) out.push(start + k * intervalSeconds);
  return out;
}

/**
 * Timestamps mode: the requested targets that gave no image, ascending — those skipped before decoding
 * (window, past the duration) and those after the last image (past the last frame, or beyond maxImages).
 * With keyframe accuracy a target counts as answered when its keyframe is among the images.
 */
export function skippedTargets(
  timestamps: { targets: number[]; skipped: number[] },
  images: ManifestImage[],
  keyframeOfTarget: number[] | undefined,
): number[] {
  const last = images.at(-1)?.timestampSeconds ?? Number.NEGATIVE_INFINITY;
  const late = timestamps.targets.filter((t, i) => {
    const landsAt = keyframeOfTarget ? keyframeOfTarget[i]! : t;
    return !(landsAt <= last + KEYFRAME_MATCH_SECONDS);
  });
  return [...timestamps.skipped, ...late].sort((a, b) => a - b);
}

/**
 * Reads the packet index with ffprobe (demuxing only), parsed as it arrives (never held whole).
 * @param opts.fromSeconds only the tail from the keyframe at or before this time (file timeline, seconds;
 *   `buildPacketIndexArgs`); `opts.maxStdoutBytes` the most ffprobe may print (default 64 MiB, ~4 million packets)
 * @returns null when it cannot be read (no time base, ffprobe fails or prints more than the bound)
 */
export async function readPacketIndex(
  ctx: Pick<PlanContext, "bins" | "signal" | "workDir">,
  url: SourceInput,
  probe: ProbeResult,
  opts: { fromSeconds?: number; maxStdoutBytes?: number } = {},
): Promise<KeyframeIndex | null> {
  if (!probe.timeBase) return null;
  const parser = new PacketIndexParser(probe.timeBase, probe.startSeconds);
  const { code } = await runProcess(ctx.bins.ffprobe, buildPacketIndexArgs(url, probe.streamIndex, { fromSeconds: opts.fromSeconds }), {
    cwd: ctx.workDir,
    signal: ctx.signal,
    maxStdoutBytes: opts.maxStdoutBytes ?? 64 * 1024 * 1024,
    onStdout: (text) => parser.push(text),
  }).catch(() => ({ code: -1 }));
  ctx.signal.throwIfAborted();
  if (code !== 0) return null;
  return parser.end();
}

/**
 * Picks the strategy of interval or timestamps mode (rule: `chooseIntervalStrategy` in
 * ./strategy.ts). Reads the keyframe index with ffprobe (packets only, no decoding) unless seeking
 * cannot pay anyway (`seekMightPayForTargets`) or the configuration forces `sequential`. Any index
 * failure means sequential.
 * @param spec `intervalSeconds` N and the window, or the explicit `targetTimes` (timestamps mode); `stopTargets`:
 *   the targets the sequential pass stops after (absent: it decodes to the end), which set its work
 * @returns the decision (with the planned targets when it is `seek`)
 */
async function chooseStrategy(
  ctx: PlanContext,
  url: SourceInput,
  probe: ProbeResult,
  spec: { intervalSeconds?: number; window?: TimeWindow; targetTimes?: readonly number[]; stopTargets?: readonly number[] | undefined },
): Promise<IntervalStrategyDecision> {
  const setting = ctx.config.intervalStrategy ?? "auto";
  const { facts } = probe;
  const sequential = (reason: string): IntervalStrategyDecision => ({
    strategy: "sequential",
    reason,
    sequentialFrames: 0,
    seekFrames: 0,
    targets: [],
  });
  if (setting === "sequential") return sequential("forced by configuration");
  const span = progressSpan(facts.durationSeconds, spec.window ?? {});
  const spanSeconds = span.to !== null ? span.to - span.from : null;
  const targetCount = spec.targetTimes
    ? spec.targetTimes.length
    : spanSeconds !== null && spec.intervalSeconds
      ? Math.ceil(spanSeconds / spec.intervalSeconds)
      : 0;
  // A seek of the local copy makes no request: its fixed cost is a tenth of one over HTTP, and seeks of
  // small pictures use both cores better than one decode (strategy.ts SEEK_MAX_WORK_RATIO_LOCAL).
  const local = isLocalCopy(url);
  // Every seek starts a process: a slow-starting binary (Debian's ffmpeg: 0.13 s) makes each one dearer.
  const seekOverhead = seekOverheadPixels(local, ctx.bins.startMs);
  const maxWorkRatio = local ? SEEK_MAX_WORK_RATIO_LOCAL : SEEK_MAX_WORK_RATIO;
  // The sequential pass decodes from the file's start up to the window's end, or, when it stops once every
  // target has its image (planExtraction's stopTargets), up to the last target's frame: a video shorter
  // than N has one target at 0, one frame to decode, and no index worth reading.
  const lastTarget = spec.stopTargets?.at(-1);
  const sequentialSeconds = lastTarget !== undefined && facts.frameRate ? lastTarget + 1 / facts.frameRate : span.to;
  if (setting === "auto" && !seekMightPayForTargets(targetCount, sequentialSeconds, facts.frameRate, facts.width, facts.height, seekOverhead, maxWorkRatio)) {
    return sequential("one seek per target cannot beat the sequential decode (or duration/frame rate unknown)");
  }
  const index = await readPacketIndex(ctx, url, probe);
  if (!index) return sequential(probe.timeBase ? "the keyframe index could not be read" : "no stream time base");
  const decision = chooseIntervalStrategy({
    codec: facts.videoCodec,
    formatName: facts.formatName,
    width: facts.width,
    height: facts.height,
    intervalSeconds: spec.intervalSeconds,
    targetTimes: spec.targetTimes,
    window: spec.window,
    index,
    seekOverheadPixels: seekOverhead,
    maxWorkRatio,
    sequentialStopsAtLastTarget: spec.stopTargets !== undefined,
  });
  if (setting === "seek" && decision.targets.length > 0) return { ...decision, strategy: "seek", reason: `forced by configuration (${decision.reason})` };
  return decision;
}
