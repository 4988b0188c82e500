/**
 * Pure builders of the extraction's ffmpeg/ffprobe arguments and filter expressions (no I/O). The flags
 * were checked with Debian's ffmpeg 5.1 on the shared test videos (`../shared/testdata`).
 */
import type { ImageFormat } from "../../../../schema/extraction-options.ts";
import { inputSafetyArgs, inputUrl, type SourceInput } from "../../ffmpeg/input-args.ts";

/** JPEG quality scale of the mjpeg encoder, 2 (best) … 31; 3 is visually lossless at about a tenth of PNG size. */
export const JPEG_QSCALE = 3;

/**
 * Timestamps at most this far below a target still count as on it, seconds. Time bases such as 1/90000
 * or 1/12288 cannot always represent k·N exactly; 1 µs is far below any frame interval.
 */
export const TIMESTAMP_EPSILON_SECONDS = 1e-6;

/**
 * Global options of every extracting ffmpeg run (sequential and seek): errors and showinfo on stderr, and
 * damage tolerated (decode what can be decoded; ../../ffmpeg/damage.ts reports it as warnings).
 */
const FFMPEG_LOG_ARGS: readonly string[] = [
  "-hide_banner",
  // Never read the terminal (the child has no stdin; without this ffmpeg may stop on SIGTTIN).
  "-nostdin",
  // No periodic "frame= … speed=" lines: stderr carries showinfo lines and errors only.
  "-nostats",
  // `info` is required: showinfo logs at that level.
  "-loglevel", "info",
  // Never exit 1 for the share of frames that failed to decode (default 2/3): with `-skip_frame nokey` a
  // few damaged keyframes are most of the frames decoded, and ffmpeg threw away a run that had written
  // every intact image (sample_iPod.m4v with 64 KiB zeroed: 7 of 7 keyframes, exit 1). Damage is read
  // from stderr instead and reported as warnings.
  "-max_error_rate", "1",
];

/** libwebp `-quality` when the client gives no `quality` (libwebp's own default is 75). */
export const DEFAULT_WEBP_QUALITY = 80;

/** How the images are encoded and sized (the output part of ExtractionOptions). */
export interface OutputSpec {
  format: ImageFormat;
  /** 1..100; undefined = the format's default; refused for png by the schema (ignored here). */
  quality?: number | undefined;
  /** Largest width / height, pixels (scale down only). */
  maxWidth?: number | undefined;
  maxHeight?: number | undefined;
}

/** The default output: JPEG, `-q:v 3`, no scaling. */
export const DEFAULT_OUTPUT: OutputSpec = { format: "jpeg" };


/**
 * mjpeg `-q:v` for a 1..100 quality: linear, 100 → 2 (best ffmpeg allows), 1 → 31 (worst);
 * `round(31 − (quality − 1) · 29 / 99)`. No quality → {@link JPEG_QSCALE} (3, ≈ quality 97).
 * @throws RangeError outside 1..100
 */
export function jpegQscale(quality: number | undefined): number {
  if (quality === undefined) return JPEG_QSCALE;
  if (!(quality >= 1 && quality <= 100)) throw new RangeError(`quality must be 1..100, got ${quality}`);
  return Math.round(31 - ((quality - 1) * 29) / 99);
}

/**
 * Encoder options of the image stream on stdout (`image2pipe`: images concatenated, split by
 * ./image-splitter.ts): jpeg (mjpeg), png or webp (libwebp), with the quality mapping of the option.
 */
export function imageOutputArgs(out: OutputSpec = DEFAULT_OUTPUT): string[] {
  let codec: string[];
  switch (out.format) {
    case "jpeg":
      codec = [
        // Full-range 4:2:0, the JPEG every viewer decodes; mjpeg in 5.1 takes the yuvj* formats.
        "-pix_fmt", "yuvj420p",
        "-c:v", "mjpeg",
        "-q:v", String(jpegQscale(out.quality)),
      ];
      break;
    case "png":
      // 8-bit RGB: lossless, what every viewer reads (video has no alpha). No quality knob.
      codec = ["-pix_fmt", "rgb24", "-c:v", "png"];
      break;
    case "webp":
      codec = [
        // libwebp's lossy mode takes 4:2:0 YUV directly (no RGB round trip).
        "-pix_fmt", "yuv420p",
        "-c:v", "libwebp",
        // 0..100 like the option; the schema keeps it to 1..100.
        "-quality", String(out.quality ?? DEFAULT_WEBP_QUALITY),
      ];
      break;
  }
  return [
    ...codec,
    // Concatenated images on stdout: no temporary image files.
    "-f", "image2pipe",
    "pipe:1",
  ];
}


/**
 * `select` filter expression for interval mode: keeps the first frame whose time t (seconds from the
 * start) is at or after each target S, S + N, S + 2N, … — a frame is kept when it is the first one at or
 * after S, or when it falls in a later N-second bucket (floor((t − S)/N)) than the previously kept frame.
 * `fps=1/N` is not used: with its default rounding it picks frames near N/2, 3N/2…, and none at all for
 * videos shorter than N/2. When one frame is the first at or after several targets (a gap longer than N
 * in a variable-frame-rate video), it is kept once.
 * @param intervalSeconds N, seconds (> 0)
 * @param startSeconds S, seconds (≥ 0; `startSeconds` option, default 0)
 * @returns the expression, without quoting; it contains commas, so quote it inside a filtergraph
 */
export function intervalSelectExpr(intervalSeconds: number, startSeconds = 0): string {
  if (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds)) {
    throw new RangeError(`intervalSeconds must be a positive number, got ${intervalSeconds}`);
  }
  if (!(startSeconds >= 0) || !Number.isFinite(startSeconds)) throw new RangeError(`bad startSeconds ${startSeconds}`);
  const n = formatNumber(intervalSeconds);
  const e = formatNumber(TIMESTAMP_EPSILON_SECONDS);
  if (startSeconds === 0) {
    const bucket = (v: string) => `floor((${v}+${e})/${n})`;
    // gte(t,0): frames before the start (negative timestamps from edit lists) never count as target 0.
    return `gte(t,0)*(isnan(prev_selected_t)+gt(${bucket("t")},${bucket("prev_selected_t")}))`;
  }
  const offset = formatNumber(startSeconds - TIMESTAMP_EPSILON_SECONDS);
  const bucket = (v: string) => `floor((${v}-${offset})/${n})`;
  return `gte(t,${offset})*(isnan(prev_selected_t)+gt(${bucket("t")},${bucket("prev_selected_t")}))`;
}

/**
 * `select` expression keeping, for each target time, the first frame at or after it (t ≥ target − ε):
 * a frame is kept when some target lies in (previous frame's t, this frame's t]. Each frame once, even
 * when several targets share it. Used by `mode: "timestamps"` when decoding sequentially. The terms are
 * summed as a balanced tree: ffmpeg 5.1's expression parser refuses a flat sum of more than about 95
 * terms ("Error while parsing expression": 95 parsed, 97 did not), and a tree of 1000 (MAX_TIMESTAMPS) parses.
 * @param targets seconds, ≥ 0, sorted ascending and distinct (`resolveTimestampTargets`), at most 1000
 */
export function timestampsSelectExpr(targets: readonly number[]): string {
  if (targets.length === 0) throw new RangeError("no target");
  const terms = targets.map((target) => {
    const v = formatNumber(Math.max(0, target - TIMESTAMP_EPSILON_SECONDS));
    return `gte(t,${v})*(isnan(prev_t)+lt(prev_t,${v}))`;
  });
  // gt(…,0): several targets between two frames sum to more than 1; select then still has one output.
  return `gte(t,0)*gt(${balancedSum(terms)},0)`;
}

/** `a+b+…` as nested pairs `((a+b)+(c+d))`, depth log₂(n) (see {@link timestampsSelectExpr}). */
function balancedSum(terms: readonly string[]): string {
  if (terms.length === 1) return terms[0]!;
  const half = Math.ceil(terms.length / 2);
  return `(${balancedSum(terms.slice(0, half))}+${balancedSum(terms.slice(half))})`;
}


/**
 * `select` expression of keyframes mode (and of the keyframes-only decode of `accuracy: "keyframe"`):
 * frames flagged key within the window.
 * @param startSeconds, endSeconds the window, seconds (either may be absent)
 */
export function keyframesSelectExpr(startSeconds?: number, endSeconds?: number): string {
  return `${windowFactors(startSeconds, endSeconds)}eq(key,1)`;
}

/**
 * `select` expression of scene mode: the first frame, then every frame whose scene-change score exceeds
 * `threshold` (0..1), within the window. The score compares each frame with the previous decoded one, so
 * every frame must be decoded.
 */
export function sceneSelectExpr(threshold: number, startSeconds?: number, endSeconds?: number): string {
  return `${windowFactors(startSeconds, endSeconds)}gte(t,0)*(isnan(prev_selected_t)+gt(scene,${formatNumber(threshold)}))`;
}

/**
 * Plain decimal rendering of a number for an ffmpeg expression (no exponent notation), rounded to the
 * nanosecond so sums like 2.7 + 0.000001 print as 2.700001 (far below the 1 µs epsilon).
 */
function formatNumber(value: number): string {
  const v = Math.round(value * 1e9) / 1e9;
  const s = String(v);
  return /e/i.test(s) ? v.toFixed(12).replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * `scale` filter for `maxWidth` / `maxHeight`: scales down only (min with the input size), keeps the
 * aspect ratio (`force_original_aspect_ratio=decrease` fits the frame inside the box). It runs after
 * ffmpeg's autorotation (inserted before the user filters), so the limits apply to the displayed
 * orientation of a rotated phone video. mjpeg, png and libwebp all take odd sizes, so no rounding to
 * even is forced.
 * @returns the filter, or undefined when neither limit is set
 */
export function scaleFilter(maxWidth?: number, maxHeight?: number): string | undefined {
  if (maxWidth === undefined && maxHeight === undefined) return undefined;
  for (const v of [maxWidth, maxHeight]) {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new RangeError(`bad size limit ${v}`);
  }
  const w = maxWidth === undefined ? "iw" : `min(iw,${maxWidth})`;
  const h = maxHeight === undefined ? "ih" : `min(ih,${maxHeight})`;
  return `scale=w='${w}':h='${h}':force_original_aspect_ratio=decrease`;
}

/**
 * What one sequential ffmpeg run decodes and how it encodes the images: the input of
 * {@link buildExtractArgs}, built by plan/plan.ts.
 */
export interface ExtractPlan {
  /** Decode keyframes only (`-threads 1 -skip_frame nokey`): keyframes mode and keyframe accuracy. */
  keyframesOnly: boolean;
  /** The `select` expression (unquoted). */
  select: string;
  /** Last time of interest, seconds: a `trim` stops decoding after it (`endSeconds`). */
  endSeconds?: number | undefined;
  /** Stop after this many images (`maxImages`; `-frames:v`). */
  maxImages?: number | undefined;
  /**
   * Start decoding at the keyframe at or before this time (`startSeconds`), seconds; only for
   * (codec, container) pairs verified to seek cleanly (plan/strategy.ts SEEK_VERIFIED_CODECS).
   */
  seekSeconds?: number | undefined;
  /**
   * Whether the plan can be decoded as two parallel halves (extractors/split.ts), and where its halves may
   * meet: `any` time (timestamps: the select only looks at the previous decoded frame), or only at
   * `origin + k·step` (interval: the select compares buckets with the previous selected frame, which a
   * half starting on a bucket boundary reproduces). Absent: never split (keyframes: measured no gain;
   * scene: its first frame counts from the previous selected one, which the second half cannot know).
   */
  segments?: "any" | { originSeconds: number; stepSeconds: number } | undefined;
  /** One decoder thread (`-threads 1`): set on the halves of a split decode, one core each. */
  singleThread?: boolean | undefined;
  /**
   * Few images far apart (interval, timestamps): one encoder thread. With frame threads the image encoder
   * hands each image out only once the next ones have filled its threads, i.e. at the next selected frame
   * or at the end of the decode (boswars_intro.ogg's only image came out after 80 ms instead of 23 ms),
   * which would defeat stopping the decode once every target has its image (`ExtractionPlan.stopTargets`).
   * A sparse select gains nothing from encoding in parallel (measured equal on franck.mp4, vtest.avi and
   * display-dual-monitors.webm).
   */
  sparseImages?: boolean | undefined;
  /**
   * Largest picture the decoder may allocate, pixels (`-max_pixels`): bounds memory while the decode runs
   * before ffprobe's facts are checked (job.ts). A guard, not the limit: the exact MAX_PIXELS_PER_FRAME
   * check is `checkProbeLimits` on ffprobe's facts (see {@link decoderPixelGuard}).
   */
  maxDecodedPixels?: number | undefined;
  output: OutputSpec;
}

/**
 * The stream a decode maps: the absolute index ffprobe reported, or {@link FIRST_VIDEO_STREAM} when the
 * decode starts before the probe has answered.
 */
export type VideoStreamRef = number | typeof FIRST_VIDEO_STREAM;

/**
 * ffmpeg's stream specifier of the first video stream that is not an attached picture (`V`: "video
 * streams which are not attached pictures, video thumbnails or cover arts"): the same rule as
 * `sourceFactsFromProbe`'s choice of the video stream, so it names the stream ffprobe picks.
 */
export const FIRST_VIDEO_STREAM = "V:0";

/** `-map` value of a stream reference; @throws RangeError for an index that is not a whole number ≥ 0 */
function mapSpecifier(stream: VideoStreamRef): string {
  if (stream === FIRST_VIDEO_STREAM) return `0:${FIRST_VIDEO_STREAM}`;
  if (!Number.isInteger(stream) || stream < 0) throw new RangeError(`bad stream index ${stream}`);
  return `0:${stream}`;
}

/**
 * `-max_pixels` for a decode running before the probe's checks: twice MAX_PIXELS_PER_FRAME plus one
 * megapixel. The margin is needed because the decoder checks its padded buffer, not the picture (a
 * 1350x1080 H.264 frame is checked as 1408x1080), and a frame between the limit and this guard is still
 * refused by `checkProbeLimits` before any image is stored; the guard only keeps a declared 30000x30000
 * frame from being allocated meanwhile.
 * @param maxPixelsPerFrame MAX_PIXELS_PER_FRAME, pixels
 */
export function decoderPixelGuard(maxPixelsPerFrame: number): number {
  return Math.min(2 * maxPixelsPerFrame + 1_048_576, 2 ** 31 - 1);
}

/** Decoding continues this long past the last time of interest before `trim` ends the stream, seconds. */
export const TRIM_MARGIN_SECONDS = 1;

/** `gte(t,S−ε)*lte(t,E+ε)` factors of a window (empty when unbounded). */
export function windowFactors(startSeconds: number | undefined, endSeconds: number | undefined): string {
  const e = TIMESTAMP_EPSILON_SECONDS;
  let f = "";
  if (startSeconds !== undefined && startSeconds > 0) f += `gte(t,${formatNumber(startSeconds - e)})*`;
  if (endSeconds !== undefined) f += `lte(t,${formatNumber(endSeconds + e)})*`;
  return f;
}


/**
 * The `showinfo` filter that logs each output frame (timestamp, size). `checksum=0`: no Adler-32 of
 * every plane, which nobody reads (≈ 1.5 ms per 1350x1080 frame, 6 % of a keyframes job on the bench input).
 */
export const SHOWINFO_FILTER = "showinfo=checksum=0";

/**
 * Video filtergraph of a plan: `[trim,]select,[scale,]showinfo`.
 * - `trim=end=E+1s` first: once past the window's end it signals end of stream, and ffmpeg stops
 *   reading the input instead of decoding the rest of the file (select alone would drop frames to the end).
 *   The margin is wide on purpose: trim rounds `end` to the stream's time base (at 1/10 s, 75.0015 becomes
 *   75.0 and drops the frame at 75); `select` does the exact cut.
 * - `select` picks the frames; `scale` runs on the picked frames only (cheap), after autorotation.
 * - `showinfo` last logs every frame that reaches the encoder (in output order, with `pts`, the time base
 *   and the final size) on stderr: that is how each image gets its timestamp and dimensions.
 */
export function buildFilterGraph(plan: ExtractPlan): string {
  const parts: string[] = [];
  if (plan.endSeconds !== undefined) parts.push(`trim=end=${formatNumber(plan.endSeconds + TRIM_MARGIN_SECONDS)}`);
  parts.push(`select='${plan.select}'`);
  const scale = scaleFilter(plan.output.maxWidth, plan.output.maxHeight);
  if (scale) parts.push(scale);
  parts.push(SHOWINFO_FILTER);
  return parts.join(",");
}


/**
 * Filtergraphs longer than this go through `-filter_script:v <file>` instead of `-vf` (timestamps and
 * keyframe lists: up to 1000 terms; Linux caps one argument at 128 KiB).
 */
export const FILTER_SCRIPT_THRESHOLD_CHARS = 8 * 1024;

/** True when the plan's filtergraph must be written to a file (see {@link FILTER_SCRIPT_THRESHOLD_CHARS}). */
export function needsFilterScript(graph: string): boolean {
  return graph.length > FILTER_SCRIPT_THRESHOLD_CHARS;
}

/**
 * Arguments of `ffmpeg` that decode the chosen frames of one video stream and write them as a
 * concatenated image stream on stdout (split by extractors/image-splitter.ts), with one `showinfo` line per
 * image on stderr.
 * @param input presigned HTTP(S) URL (or a local path in tools/tests)
 * @param streamIndex absolute index of the video stream in the container (ffprobe `index`), or
 *   {@link FIRST_VIDEO_STREAM} before the probe has answered
 * @param plan what to decode and how to encode it
 * @param filterScriptPath where the caller wrote {@link buildFilterGraph} when {@link needsFilterScript}
 *   says so (required then)
 */
export function buildExtractArgs(
  input: SourceInput,
  streamIndex: VideoStreamRef,
  plan: ExtractPlan,
  filterScriptPath?: string,
): string[] {
  const map = mapSpecifier(streamIndex);
  const graph = buildFilterGraph(plan);
  let filter: string[];
  if (needsFilterScript(graph)) {
    if (!filterScriptPath) throw new RangeError("this filtergraph needs a filter script file");
    // The graph from a file: no argument-length limit.
    filter = ["-filter_script:v", filterScriptPath];
  } else {
    filter = ["-vf", graph];
  }
  const keyframeInput = plan.keyframesOnly
    ? [
        // One decoder thread: with frame threading, Theora (boswars_intro.ogg) fails on skipped frames
        // ("Operation not permitted") and returns 1 of 4 keyframes; it is also ~6x faster on franck.mp4,
        // because frame threads only wait for each other when most frames are skipped.
        "-threads", "1",
        // Decode keyframes only: the decoder skips everything else (the fast path of this mode).
        "-skip_frame", "nokey",
        // Not `-discard nokey` (the demuxer dropping non-key packets): the decoder then pairs frames with
        // the wrong timestamps when B-frames reorder (franck.mp4's keyframe at 10.4167 s came out as 10.5417 s).
      ]
    : [];
  return [
    ...FFMPEG_LOG_ARGS,
    ...keyframeInput,
    // A half of a split decode: the other half runs on the other core (extractors/split.ts).
    ...(plan.singleThread && !plan.keyframesOnly ? ["-threads", "1"] : []),
    // The decoder refuses larger pictures (decoderPixelGuard): memory stays bounded before the probe's checks.
    ...(plan.maxDecodedPixels !== undefined ? ["-max_pixels", String(plan.maxDecodedPixels)] : []),
    // A window starting late: skip to it (the select still applies the exact window).
    ...inputSeekArgs(plan.seekSeconds ?? Number.NaN),
    ...inputSafetyArgs(input),
    "-i", inputUrl(input),
    // Exactly the probed video stream (or the one the probe picks); audio, subtitles and data are never decoded.
    "-map", map,
    // One output frame per selected frame: no duplication or dropping to reach a constant rate.
    "-fps_mode", "passthrough",
    ...filter,
    // maxImages: ffmpeg stops by itself after N images (a cap, not an error).
    ...(plan.maxImages !== undefined ? ["-frames:v", String(plan.maxImages)] : []),
    // An output option: the encoder's threads. Each image leaves as soon as it is encoded (see sparseImages).
    ...(plan.sparseImages ? ["-threads", "1"] : []),
    ...imageOutputArgs(plan.output),
  ];
}

/**
 * Arguments of `ffprobe` that list the packets of one stream as `pts,flags` CSV lines (K in the flags =
 * keyframe). Demuxing only, nothing is decoded: the interval strategy's keyframe index.
 * @param input presigned HTTP(S) URL (or a local path in tools/tests); same input safety as every read
 * @param streamIndex absolute index of the video stream (ffprobe `index`)
 * @param opts.fromSeconds list only the packets from the keyframe at or before this time (seconds on the
 *   file's timeline, its start time included) to the end: the file's tail is read, not all of it
 */
export function buildPacketIndexArgs(input: SourceInput, streamIndex: number, opts: { fromSeconds?: number } = {}): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  const from = opts.fromSeconds;
  return [
    "-hide_banner",
    "-v", "error",
    ...inputSafetyArgs(input),
    // A bare number selects the stream with that absolute index; the other streams' packets are skipped.
    "-select_streams", String(streamIndex),
    // Integer pts (exact, × the stream time base) rather than the rounded pts_time; flags carry K.
    "-show_entries", "packet=pts,flags",
    // No section names, no keys: one short `pts,flags` line per packet (a 2-hour 30 fps video ≈ 3 MB).
    "-of", "csv=p=0",
    // START%: seek (to the keyframe at or before START) and read to the end.
    ...(from !== undefined && from > 0 ? ["-read_intervals", `${formatNumber(from)}%`] : []),
    "-i", inputUrl(input),
  ];
}

/**
 * Input options that start decoding at the keyframe at or before `seconds` while keeping the sequential
 * decode's timeline (so the same `select` picks the same frames). Empty for ≤ 0 or NaN (no seek).
 */
function inputSeekArgs(seconds: number): string[] {
  if (!(seconds > 0)) return [];
  return [
    // Input seek: the demuxer jumps to the keyframe at or before this time. Rounded UP to the
    // microsecond (ffmpeg's unit) so a keyframe at this time is never just after the seek point, which
    // would make the demuxer start one GOP earlier (slower, still correct).
    "-ss", (Math.ceil(seconds * 1e6) / 1e6).toFixed(6),
    // No trim at the seek point: the select decides, with the sequential rule and epsilon.
    "-noaccurate_seek",
    // Keep the input timestamps, shifted by the file's start time only (-start_at_zero), i.e. the
    // same timeline as the sequential decode: showinfo then logs the same pts as sequentially.
    "-copyts",
    "-start_at_zero",
  ];
}

/**
 * Arguments of `ffmpeg` that decode ONE image of interval mode by seeking: start at the keyframe at or
 * before the wanted frame, decode forward, keep the first frame at or after the target, stop. The image
 * and its showinfo line come out exactly as with {@link buildExtractArgs} (same timeline, same encoder).
 * @param input presigned HTTP(S) URL (or a local path in tools/tests)
 * @param streamIndex absolute index of the video stream
 * @param keyframeSeconds where to seek, seconds from the file's start (a keyframe time from the index);
 *   ≤ 0 or NaN: no seek (decode from the start, always correct)
 * @param targetSeconds k·N, seconds: the first frame with t ≥ target − ε is the image
 * @param output format, quality and size limits (default {@link DEFAULT_OUTPUT})
 */
export function buildSeekExtractArgs(
  input: SourceInput,
  streamIndex: number,
  keyframeSeconds: number,
  targetSeconds: number,
  output: OutputSpec = DEFAULT_OUTPUT,
): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  if (!(targetSeconds >= 0) || !Number.isFinite(targetSeconds)) throw new RangeError(`bad target ${targetSeconds}`);
  const seek = inputSeekArgs(keyframeSeconds);
  const target = `${formatNumber(targetSeconds)}-${formatNumber(TIMESTAMP_EPSILON_SECONDS)}`;
  return [
    ...FFMPEG_LOG_ARGS,
    // One decoder thread: the seeks run SEEK_PARALLELISM at a time, one per core, so frame threads only
    // oversubscribe the cores and add a frame context each (bench 1080p: pairs of seeks 10 % faster,
    // 88 instead of 100 MB per ffmpeg).
    "-threads", "1",
    ...seek,
    ...inputSafetyArgs(input),
    "-i", inputUrl(input),
    "-map", `0:${streamIndex}`,
    "-fps_mode", "passthrough",
    // gte(t,0): as sequentially, frames before the start never count; scale as sequentially.
    "-vf", buildFilterGraph({ keyframesOnly: false, select: `gte(t,0)*gte(t,${target})`, output }),
    // Stop after the first selected frame: nothing after the image is decoded.
    "-frames:v", "1",
    ...imageOutputArgs(output),
  ];
}
