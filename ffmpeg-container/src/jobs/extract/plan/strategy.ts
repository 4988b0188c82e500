/**
 * Interval and timestamps modes: one sequential decode of the whole video, or one input seek per target,
 * chosen from the video's keyframe index (ffprobe packet flags and timestamps: demuxing only). Pure.
 * Both give the same images: the first frame with t ≥ target − ε (t in seconds from the file's start, the
 * sequential `select`'s timeline), once per distinct frame; tests/processor/extract/seek.test.ts checks
 * timestamps and decoded pixels (framemd5) on every video of `../shared/testdata`.
 */
import { TIMESTAMP_EPSILON_SECONDS } from "../ffmpeg-args.ts";

/** `sequential`: one ffmpeg decodes every frame (select on floor(t/N)); `seek`: one ffmpeg per target. */
export type IntervalStrategyName = "sequential" | "seek";

/** How the strategy is picked: `auto` = {@link chooseIntervalStrategy}; the others force one (tests, bench). */
export type IntervalStrategySetting = "auto" | IntervalStrategyName;

/**
 * (container, codec) pairs whose keyframe-flagged packets are clean decoder entry points, verified by
 * the tests on the testdata videos (seek result = sequential result, timestamps and framemd5):
 * - H.264 only in the MOV/MP4 family (franck.mp4, sample_iPod.m4v, hardware-example.mp4): there the K
 *   flag is the sync-sample table, i.e. IDR pictures. In Matroska or MPEG-TS a "key" H.264 packet may be
 *   a non-IDR recovery point, after which a seek decodes damaged pictures (testdata README), so H.264
 *   outside MOV stays sequential.
 * - VP8 in WebM/Matroska (display-dual-monitors.webm), Theora in Ogg (boswars_intro.ogg), MS-MPEG4v3 and
 *   Cinepak in AVI (vtest.avi, tree.avi).
 * Anything else (HEVC, MPEG-2, VP9, AV1, other containers…) is decoded sequentially until verified.
 * Keys are ffprobe `codec_name`; values are parts of ffprobe's `format_name` (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
 */
export const SEEK_VERIFIED_CODECS: Readonly<Record<string, readonly string[]>> = {
  h264: ["mov", "mp4"],
  vp8: ["webm", "matroska"],
  theora: ["ogg"],
  msmpeg4v3: ["avi"],
  cinepak: ["avi"],
};

/** True when (codec, container) is in {@link SEEK_VERIFIED_CODECS}. */
export function seekVerified(codec: string, formatName: string): boolean {
  const containers = SEEK_VERIFIED_CODECS[codec];
  return !!containers && formatName.split(",").some((f) => containers.includes(f));
}

/**
 * Fixed cost of one seek (a new ffmpeg process: start, open the presigned URL, read the container
 * header, seek, encode one image), expressed in decoded pixels so it scales with the picture size.
 * Measured with `npm run bench` on this project's 2-core machine through the local S3 server: ~0.25 s
 * per seek, the time ffmpeg needs to decode ~100 frames of 1350x1080 H.264 or ~900 frames of 360x288
 * (franck.mp4), i.e. 100-150 megapixels; the lower figure is used. (A seek on a local file costs
 * ~90 ms, about 30 megapixels: the network path dominates.)
 */
export const SEEK_OVERHEAD_PIXELS = 100_000_000;

/**
 * {@link SEEK_OVERHEAD_PIXELS} when the seeks read the processor's local copy of the source
 * (sources/source-cache.ts): no request per seek, so one costs the process start (~2 ms with the lean
 * build), the header parse and one encoded picture. Measured with the lean build on local files, seeking
 * to a keyframe: 10 ms on franck.mp4 (~50 of its frames, 5 megapixels), 20 ms on boswars_intro.ogg, 45 ms
 * on the 1350x1080 input, most of which is decoding that keyframe, already counted in the seek's frames.
 * 10 megapixels: twice the small video's figure, so the 0.5 work ratio keeps its margin.
 */
export const SEEK_OVERHEAD_PIXELS_LOCAL = 10_000_000;

/**
 * Start time already inside {@link SEEK_OVERHEAD_PIXELS} and {@link SEEK_OVERHEAD_PIXELS_LOCAL}, ms: they were
 * measured with the lean build, which `measureStartMs` (spawn to exit, through Node) times at 4–7 ms. Up to
 * 20 ms counts as that, so timing noise on a loaded machine never moves a decision; Debian's build measures
 * 62–66 ms here (0.13 s under load).
 */
export const REFERENCE_START_MS = 20;

/**
 * Decoded pixels per millisecond that a slower-starting binary's extra start time is priced at: the rate
 * behind both overheads (franck.mp4's 50 frames of 360x288 in 10 ms; 100 frames of 1350x1080 in ~0.25 s),
 * about half a megapixel per ms.
 */
export const SEEK_START_PIXELS_PER_MS = 500_000;

/**
 * The fixed cost of one seek for the binary that runs it: the measured overhead ({@link SEEK_OVERHEAD_PIXELS}
 * over HTTP, {@link SEEK_OVERHEAD_PIXELS_LOCAL} on the local copy) plus the binary's start time beyond the
 * lean build's ({@link REFERENCE_START_MS}), at {@link SEEK_START_PIXELS_PER_MS}. Every seek is a new process:
 * with Debian's ffmpeg (215 shared libraries) franck.mp4's 20 seeks at N = 10 took 1.38 s against a 1.09 s
 * naive run, and its sequential pass 1.02 s.
 * @param local the seeks read the local copy
 * @param ffmpegStartMs measured start of the ffmpeg binary, ms (`-version` to exit); undefined: the lean build's
 * @returns pixels
 */
export function seekOverheadPixels(local: boolean, ffmpegStartMs: number | undefined): number {
  const base = local ? SEEK_OVERHEAD_PIXELS_LOCAL : SEEK_OVERHEAD_PIXELS;
  return base + Math.max(0, (ffmpegStartMs ?? REFERENCE_START_MS) - REFERENCE_START_MS) * SEEK_START_PIXELS_PER_MS;
}

/**
 * The seek strategy is chosen only when its estimated decoding work is at most this share of the
 * sequential work (every frame). Both use the 2 cores (2 seeks at once vs ffmpeg's own threads), so a
 * real gain needs a clear margin; below 2x the measurements showed no gain (1080p, 10 s GOPs, N = 10:
 * 8.0 s seeking vs 9 s sequential).
 */
export const SEEK_MAX_WORK_RATIO = 0.5;

/**
 * {@link SEEK_MAX_WORK_RATIO} when the seeks read the local copy. Measured with the lean build on local files
 * (bench floors, 2 seeks at once against the best full decode): franck.mp4 at N = 10, seek work ≈ 1.0 × all
 * frames, seeking 0.61–0.66 s against 1.04–1.15 s; vtest.avi at N = 10, seek work 1.25 ×, 0.28 s against
 * 0.26 s (equal). Seeks of small pictures use both cores fully where one frame-threaded decode does not.
 */
export const SEEK_MAX_WORK_RATIO_LOCAL = 1.1;

/** The video's packet index: presentation times of all frames and of keyframes, seconds, sorted. */
export interface KeyframeIndex {
  /** Every packet's time (seconds from the file's start, as the sequential `select` sees it), ascending. */
  frameTimes: number[];
  /** Times of packets flagged K, ascending. */
  keyframeTimes: number[];
  /** Packets without a usable pts (the index is then not trusted). */
  packetsWithoutPts: number;
}

/**
 * Incremental parser of ffprobe's `-show_entries packet=pts,flags -of csv=p=0` output (`pts,flags` per
 * line), fed as stdout arrives: the output is never held whole (a 2.5-hour 24 fps video prints 220,800
 * lines; holding and splitting them grew the processor's heap by ~100 MB).
 */
export class PacketIndexParser {
  private readonly num: number;
  private readonly den: number;
  private readonly startTicks: number;
  private partial = "";
  private readonly index: KeyframeIndex = { frameTimes: [], keyframeTimes: [], packetsWithoutPts: 0 };

  /**
   * @param timeBase stream time base, e.g. `"1/12288"` (ffprobe `time_base`)
   * @param startSeconds the container's start time, seconds (ffprobe format `start_time`; 0 when
   *   unknown): the sequential decode's timestamps are relative to it
   * @throws RangeError when the time base is not a positive fraction
   */
  constructor(timeBase: string, startSeconds: number) {
    const [num, den] = timeBase.split("/").map(Number);
    if (!(num! > 0) || !(den! > 0)) throw new RangeError(`bad time base ${timeBase}`);
    this.num = num!;
    this.den = den!;
    // ffmpeg shifts by the start time in microseconds rescaled to the stream's ticks (rounded); do the
    // same in integers, so a first frame at the start lands on exactly 0 (ffprobe prints start_time with
    // 6 decimals only: 507/15360 s is printed 0.033008).
    this.startTicks = Math.round((Math.round(startSeconds * 1e6) * this.den) / (1e6 * this.num));
  }

  /** Feeds the next stdout text (any split). */
  push(text: string): void {
    let from = 0;
    const data = this.partial + text;
    for (let nl = data.indexOf("\n"); nl >= 0; nl = data.indexOf("\n", from)) {
      this.line(data.slice(from, nl));
      from = nl + 1;
    }
    this.partial = data.slice(from);
  }

  /** @returns the index, times in seconds relative to the start, ascending */
  end(): KeyframeIndex {
    if (this.partial) this.line(this.partial);
    this.partial = "";
    this.index.frameTimes.sort((a, b) => a - b);
    this.index.keyframeTimes.sort((a, b) => a - b);
    return this.index;
  }

  private line(raw: string): void {
    const line = raw.trim();
    if (!line) return;
    const comma = line.indexOf(",");
    const pts = comma >= 0 ? line.slice(0, comma) : line;
    if (!pts) return;
    const p = Number(pts);
    if (!Number.isFinite(p)) {
      this.index.packetsWithoutPts++;
      return;
    }
    const t = ((p - this.startTicks) * this.num) / this.den;
    this.index.frameTimes.push(t);
    if (comma >= 0 && line.indexOf("K", comma) >= 0) this.index.keyframeTimes.push(t);
  }
}

/**
 * Parses ffprobe's whole packet-index output at once ({@link PacketIndexParser}).
 * @param csv ffprobe stdout
 * @returns the index, times in seconds relative to `startSeconds`
 * @throws RangeError when the time base is not a positive fraction
 */
export function parsePacketIndex(csv: string, timeBase: string, startSeconds: number): KeyframeIndex {
  const parser = new PacketIndexParser(timeBase, startSeconds);
  parser.push(csv);
  return parser.end();
}

/** One image of interval mode as planned from the index. */
export interface IntervalTarget {
  /** k·N, seconds: the first target this frame answers (later targets in the same gap share it). */
  targetSeconds: number;
  /** Expected time of the frame (from the index), seconds. */
  frameSeconds: number;
  /** Latest keyframe at or before the frame, seconds (where a seek starts decoding). */
  keyframeSeconds: number;
  /** Frames decoded from that keyframe up to and including the frame (seek work estimate). */
  framesToDecode: number;
}

/** Time window of a job (`startSeconds` / `endSeconds` options), seconds; both optional. */
export interface TimeWindow {
  startSeconds?: number | undefined;
  endSeconds?: number | undefined;
}

/**
 * The images of interval mode, from the index: for each target S + k·N, the first frame with
 * t ≥ S + k·N − ε (t ≥ 0, t ≤ E + ε), each distinct frame once — the same rule as the sequential `select`
 * (`intervalSelectExpr` with the window factors).
 * @param index packet index ({@link parsePacketIndex})
 * @param intervalSeconds N, seconds (> 0)
 * @param window S (default 0) and E (default: no end), seconds
 * @returns targets in order; a frame before which there is no keyframe gets `keyframeSeconds` NaN
 */
export function planIntervalTargets(index: KeyframeIndex, intervalSeconds: number, window: TimeWindow = {}): IntervalTarget[] {
  const eps = TIMESTAMP_EPSILON_SECONDS;
  const start = window.startSeconds ?? 0;
  const end = window.endSeconds ?? Number.POSITIVE_INFINITY;
  const out: IntervalTarget[] = [];
  let lastBucket = -1;
  let kf = 0; // pointer into keyframeTimes
  let kfFramePos = -1; // position in frameTimes of the latest keyframe seen
  let kfTime = Number.NaN;
  for (let i = 0; i < index.frameTimes.length; i++) {
    const t = index.frameTimes[i]!;
    while (kf < index.keyframeTimes.length && index.keyframeTimes[kf]! <= t + eps) {
      kfTime = index.keyframeTimes[kf]!;
      kfFramePos = i;
      kf++;
    }
    if (t < 0 || (start > 0 && t < start - eps)) continue;
    if (t > end + eps) break;
    const bucket = Math.floor((t - start + eps) / intervalSeconds);
    if (bucket <= lastBucket) continue;
    out.push({
      targetSeconds: start + (lastBucket + 1) * intervalSeconds,
      frameSeconds: t,
      keyframeSeconds: kfTime,
      framesToDecode: kfFramePos >= 0 ? i - kfFramePos + 1 : i + 1,
    });
    lastBucket = bucket;
  }
  return out;
}

/**
 * The images of `mode: "timestamps"`, from the index: for each target (sorted, distinct), the first frame
 * with t ≥ target − ε (t ≥ 0), each distinct frame once (the rule of `timestampsSelectExpr`). Targets
 * after the last frame (or whose frame lies after the window's end) get no image.
 * @param targets seconds, ascending, distinct ({@link resolveTimestampTargets})
 * @param window only `endSeconds` matters: frames after E + ε are never images
 */
export function planTimestampTargets(index: KeyframeIndex, targets: readonly number[], window: TimeWindow = {}): IntervalTarget[] {
  const eps = TIMESTAMP_EPSILON_SECONDS;
  const end = window.endSeconds ?? Number.POSITIVE_INFINITY;
  const out: IntervalTarget[] = [];
  let i = 0; // frame pointer
  let kf = 0;
  let kfFramePos = -1;
  let kfTime = Number.NaN;
  for (const target of targets) {
    for (; i < index.frameTimes.length; i++) {
      const t = index.frameTimes[i]!;
      while (kf < index.keyframeTimes.length && index.keyframeTimes[kf]! <= t + eps) {
        kfTime = index.keyframeTimes[kf]!;
        kfFramePos = i;
        kf++;
      }
      if (t >= 0 && t >= target - eps) break;
    }
    if (i >= index.frameTimes.length) break;
    const t = index.frameTimes[i]!;
    if (t > end + eps) break;
    if (out.at(-1)?.frameSeconds === t) continue;
    out.push({
      targetSeconds: target,
      frameSeconds: t,
      keyframeSeconds: kfTime,
      framesToDecode: kfFramePos >= 0 ? i - kfFramePos + 1 : i + 1,
    });
  }
  return out;
}

/**
 * The targets of `mode: "timestamps"`: sorted, de-duplicated, restricted to the window [S, E]; those past
 * `durationSeconds` (when known) are dropped as well.
 * @returns `targets` to extract and `skipped` (outside the window or past the end), both ascending
 */
export function resolveTimestampTargets(
  timestampsSeconds: readonly number[],
  window: TimeWindow,
  durationSeconds: number | null,
): { targets: number[]; skipped: number[] } {
  const sorted = [...new Set(timestampsSeconds)].sort((a, b) => a - b);
  const start = window.startSeconds ?? 0;
  const end = Math.min(window.endSeconds ?? Number.POSITIVE_INFINITY, durationSeconds ?? Number.POSITIVE_INFINITY);
  const targets: number[] = [];
  const skipped: number[] = [];
  for (const t of sorted) (t >= start && t <= end ? targets : skipped).push(t);
  return { targets, skipped };
}

/** What the strategy choice looked at and decided (logged per job). */
export interface IntervalStrategyDecision {
  strategy: IntervalStrategyName;
  /** Human reason, e.g. `codec hevc not verified for seeking`. */
  reason: string;
  /** Frames the sequential decode goes through (the whole index). */
  sequentialFrames: number;
  /** Estimated work of the seek strategy in frames: Σ framesToDecode + per-seek overhead. */
  seekFrames: number;
  targets: IntervalTarget[];
}

/** Facts the choice needs about the video. */
export interface StrategyInput {
  /** ffprobe `codec_name` of the video stream. */
  codec: string;
  /** ffprobe `format_name` of the container. */
  formatName: string;
  width: number;
  height: number;
  /** N, seconds (interval mode). */
  intervalSeconds?: number | undefined;
  /** Explicit targets, seconds, ascending and distinct (timestamps mode); used instead of N when given. */
  targetTimes?: readonly number[] | undefined;
  /** Window of the job. */
  window?: TimeWindow | undefined;
  index: KeyframeIndex;
  /** Fixed cost of one seek in pixels: {@link SEEK_OVERHEAD_PIXELS} (default) or {@link SEEK_OVERHEAD_PIXELS_LOCAL}. */
  seekOverheadPixels?: number | undefined;
  /** Largest seek work as a share of the sequential work: {@link SEEK_MAX_WORK_RATIO} (default) or {@link SEEK_MAX_WORK_RATIO_LOCAL}. */
  maxWorkRatio?: number | undefined;
  /**
   * The sequential pass stops once every planned target has its image (plan.ts `targetCount`: interval with a
   * known duration, timestamps): its work is the frames up to the last target's, not every frame.
   */
  sequentialStopsAtLastTarget?: boolean | undefined;
}

/**
 * Per-seek overhead in frames of this picture size: `overheadPixels` / (width·height).
 * @param width pixels; @param height pixels
 * @param overheadPixels {@link SEEK_OVERHEAD_PIXELS} (over HTTP, default) or {@link SEEK_OVERHEAD_PIXELS_LOCAL}
 */
export function seekOverheadFrames(width: number, height: number, overheadPixels = SEEK_OVERHEAD_PIXELS): number {
  return Math.ceil(overheadPixels / Math.max(1, width * height));
}

/**
 * Quick check before reading the index (which reads the whole file): can seeking win at all? Even with
 * a keyframe on every target it costs one overhead per target, so when targets × overhead exceeds
 * the work ratio × all frames, the answer is sequential without looking further.
 * @param durationSeconds video duration (null: unknown → false)
 * @param frameRate frames per second (null: unknown → false)
 * @param overheadPixels per-seek cost: {@link SEEK_OVERHEAD_PIXELS} (over HTTP) or {@link SEEK_OVERHEAD_PIXELS_LOCAL}
 * @param maxWorkRatio {@link SEEK_MAX_WORK_RATIO} (over HTTP) or {@link SEEK_MAX_WORK_RATIO_LOCAL}
 * @returns true when the index is worth reading
 */
export function seekMightPay(
  durationSeconds: number | null,
  frameRate: number | null,
  intervalSeconds: number,
  width: number,
  height: number,
  overheadPixels = SEEK_OVERHEAD_PIXELS,
  maxWorkRatio = SEEK_MAX_WORK_RATIO,
): boolean {
  if (!durationSeconds || !frameRate || !(intervalSeconds > 0)) return false;
  return seekMightPayForTargets(Math.ceil(durationSeconds / intervalSeconds), durationSeconds, frameRate, width, height, overheadPixels, maxWorkRatio);
}

/**
 * {@link seekMightPay} for a known number of targets (timestamps mode, or a window).
 * @param targetCount images to seek to; @param durationSeconds seconds decoded sequentially (null → false)
 * @param overheadPixels, maxWorkRatio as in {@link seekMightPay}
 */
export function seekMightPayForTargets(
  targetCount: number,
  durationSeconds: number | null,
  frameRate: number | null,
  width: number,
  height: number,
  overheadPixels = SEEK_OVERHEAD_PIXELS,
  maxWorkRatio = SEEK_MAX_WORK_RATIO,
): boolean {
  if (!durationSeconds || !frameRate) return false;
  return targetCount * seekOverheadFrames(width, height, overheadPixels) <= maxWorkRatio * durationSeconds * frameRate;
}

/**
 * The decision rule of interval mode. Seek per target only when all hold:
 * 1. the (container, codec) pair is in {@link SEEK_VERIFIED_CODECS} (verified to seek cleanly);
 * 2. the index is trustworthy: every packet has a pts, there are keyframes, the first frame at or
 *    after 0 has a keyframe at or before it, and not every packet is flagged key while there are
 *    more than a few (an AVI without index, DERIVED_vtest.truncated-50pct.avi, flags all packets K
 *    though only 2 are real keyframes);
 * 3. the estimated seek work Σ (frames from the keyframe before each image to it) + targets × overhead
 *    ({@link seekOverheadFrames}) is at most the work ratio × the sequential pass's frames (all of them, or
 *    up to the last target's with `sequentialStopsAtLastTarget`) ({@link SEEK_MAX_WORK_RATIO} over HTTP,
 *    {@link SEEK_MAX_WORK_RATIO_LOCAL} reading the local copy).
 * Otherwise sequential (today's single pass).
 * @returns the decision with its reason and estimates
 */
export function chooseIntervalStrategy(input: StrategyInput): IntervalStrategyDecision {
  const { index } = input;
  const targets = input.targetTimes
    ? planTimestampTargets(index, input.targetTimes, input.window)
    : planIntervalTargets(index, input.intervalSeconds ?? Number.NaN, input.window);
  const allFrames = index.frameTimes.length;
  const lastFrame = targets.at(-1)?.frameSeconds;
  const sequentialFrames =
    input.sequentialStopsAtLastTarget && lastFrame !== undefined
      ? index.frameTimes.filter((t) => t <= lastFrame + TIMESTAMP_EPSILON_SECONDS).length
      : allFrames;
  const overhead = seekOverheadFrames(input.width, input.height, input.seekOverheadPixels);
  const seekFrames = targets.reduce((s, t) => s + t.framesToDecode + overhead, 0);
  const decide = (strategy: IntervalStrategyName, reason: string): IntervalStrategyDecision => ({
    strategy,
    reason,
    sequentialFrames,
    seekFrames,
    targets,
  });
  const containers = SEEK_VERIFIED_CODECS[input.codec];
  const formats = input.formatName.split(",");
  if (!containers || !formats.some((f) => containers.includes(f))) {
    return decide("sequential", `codec ${input.codec} in ${input.formatName} is not verified for seeking`);
  }
  if (index.packetsWithoutPts > 0) return decide("sequential", `${index.packetsWithoutPts} packets without pts`);
  if (index.keyframeTimes.length === 0 || targets.length === 0) return decide("sequential", "no keyframe or no frame in the index");
  if (targets.some((t) => Number.isNaN(t.keyframeSeconds))) return decide("sequential", "a target has no keyframe before it");
  if (allFrames > 3 && index.keyframeTimes.length === allFrames) {
    return decide("sequential", "every packet is flagged key (index not trusted)");
  }
  const ratio = input.maxWorkRatio ?? SEEK_MAX_WORK_RATIO;
  if (seekFrames > ratio * sequentialFrames) {
    return decide("sequential", `seek work ${seekFrames} frames > ${ratio} × ${sequentialFrames}`);
  }
  return decide("seek", `seek work ${seekFrames} frames ≤ ${ratio} × ${sequentialFrames}`);
}
