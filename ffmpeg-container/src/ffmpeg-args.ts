/**
 * Pure builders of ffprobe/ffmpeg argument arrays (no I/O). The processor always spawns the binaries
 * with these arrays, never through a shell, so no argument is ever re-parsed or interpolated.
 *
 * The choices below were checked with Debian's ffmpeg 5.1 on the shared test videos
 * (`../shared/testdata`, see its README and ffmpeg-container/README.md).
 */
import type { ExtractionOptions } from "../../schema/extraction-options.ts";

/**
 * Protocols an input may use. The source is always a presigned HTTP(S) URL; refusing `file`, `concat`,
 * `subfile`, `data`… means a crafted upload (e.g. an HLS playlist) cannot make ffmpeg read local files.
 */
export const INPUT_PROTOCOL_WHITELIST = "http,https,tcp,tls";

/**
 * Demuxers an input may be opened with: the containers of the upload allow-list
 * (`schema/video-types.ts`: mp4/m4v/mov, mkv/webm, avi, mpg, ts, ogg/ogv) plus FLV and ASF.
 * Playlist demuxers (hls, dash, concat) are deliberately absent: they would fetch further URLs.
 * ffmpeg matches each comma-separated part of a demuxer's name, so `mov` covers `mov,mp4,m4a,3gp,3g2,mj2`.
 */
export const INPUT_FORMAT_WHITELIST = "mov,matroska,webm,avi,mpeg,mpegts,ogg,flv,asf";

/** Network read/write timeout handed to ffmpeg's HTTP client, microseconds (30 s). */
export const RW_TIMEOUT_MICROSECONDS = 30_000_000;

/** JPEG quality scale of the mjpeg encoder, 2 (best) … 31; 3 is visually lossless at about a tenth of PNG size. */
export const JPEG_QSCALE = 3;

/**
 * Timestamps at most this far below a target still count as on it, seconds. Time bases such as 1/90000
 * or 1/12288 cannot always represent k·N exactly; 1 µs is far below any frame interval.
 */
export const TIMESTAMP_EPSILON_SECONDS = 1e-6;

/** Logging options of every extracting ffmpeg run (sequential and seek): errors and showinfo on stderr. */
const FFMPEG_LOG_ARGS: readonly string[] = [
  "-hide_banner",
  // Never read the terminal (the child has no stdin; without this ffmpeg may stop on SIGTTIN).
  "-nostdin",
  // No periodic "frame= … speed=" lines: stderr carries showinfo lines and errors only.
  "-nostats",
  // `info` is required: showinfo logs at that level.
  "-loglevel", "info",
];

/** Output options of every extracting ffmpeg run: JPEGs concatenated on stdout. */
const JPEG_PIPE_OUTPUT_ARGS: readonly string[] = [
  // Full-range 4:2:0, the JPEG every viewer decodes; mjpeg in 5.1 takes the yuvj* formats.
  "-pix_fmt", "yuvj420p",
  "-c:v", "mjpeg",
  "-q:v", String(JPEG_QSCALE),
  // Concatenated JPEGs on stdout: no temporary image files.
  "-f", "image2pipe",
  "pipe:1",
];

/** Options placed before `-i` that apply to reading an HTTP(S) input. */
function inputSafetyArgs(input: string): string[] {
  if (!/^https?:\/\//i.test(input)) return [];
  return [
    "-protocol_whitelist", INPUT_PROTOCOL_WHITELIST,
    "-format_whitelist", INPUT_FORMAT_WHITELIST,
    // Give up on a stalled connection instead of hanging until the job timeout.
    "-rw_timeout", String(RW_TIMEOUT_MICROSECONDS),
    // Reopen the connection (with a Range request) when the server drops it mid-file.
    "-reconnect", "1",
    "-reconnect_delay_max", "5",
  ];
}

/**
 * Arguments of `ffprobe` that print the container and every stream as JSON on stdout.
 * @param input presigned HTTP(S) URL (or a local path in tools/tests)
 * @returns argument array for `spawn(ffprobePath, args)`
 */
export function buildProbeArgs(input: string): string[] {
  return [
    "-hide_banner",
    // Only real errors on stderr: that text becomes the job's errorDescription.
    "-v", "error",
    ...inputSafetyArgs(input),
    "-print_format", "json",
    "-show_format",
    "-show_streams",
    "-i", input,
  ];
}

/**
 * `select` filter expression for interval mode: keeps the first frame whose time t (seconds from the
 * start) is at or after each target 0, N, 2N, … — a frame is kept when it is the first one at or after
 * 0, or when it falls in a later N-second bucket (floor(t/N)) than the previously kept frame.
 * `fps=1/N` is not used: with its default rounding it picks frames near N/2, 3N/2…, and none at all for
 * videos shorter than N/2. When one frame is the first at or after several targets (a gap longer than N
 * in a variable-frame-rate video), it is kept once.
 * @param intervalSeconds N, seconds (> 0)
 * @returns the expression, without quoting; it contains commas, so quote it inside a filtergraph
 */
export function intervalSelectExpr(intervalSeconds: number): string {
  if (!(intervalSeconds > 0) || !Number.isFinite(intervalSeconds)) {
    throw new RangeError(`intervalSeconds must be a positive number, got ${intervalSeconds}`);
  }
  const n = formatNumber(intervalSeconds);
  const e = formatNumber(TIMESTAMP_EPSILON_SECONDS);
  const bucket = (v: string) => `floor((${v}+${e})/${n})`;
  // gte(t,0): frames before the start (negative timestamps from edit lists) never count as target 0.
  return `gte(t,0)*(isnan(prev_selected_t)+gt(${bucket("t")},${bucket("prev_selected_t")}))`;
}

/** Plain decimal rendering of a number for an ffmpeg expression (no exponent notation). */
function formatNumber(v: number): string {
  const s = String(v);
  return /e/i.test(s) ? v.toFixed(12).replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * Video filtergraph per mode. Both end in `showinfo`, which logs every frame that reaches the encoder
 * (in output order, with `pts`, the time base and the size) on stderr: that is how each JPEG gets its
 * timestamp.
 * - keyframes: `select='eq(key,1)'` keeps only frames flagged key. `-skip_frame nokey` already drops
 *   non-key frames for most decoders, but some ignore it (Cinepak in tree.avi decodes all 68 frames, of
 *   which 3 are key): the filter makes the count equal the key-flagged packets ffprobe reports.
 * - interval: `select` with {@link intervalSelectExpr}.
 */
export function buildVideoFilter(options: ExtractionOptions): string {
  const select =
    options.mode === "keyframes" ? "select='eq(key,1)'" : `select='${intervalSelectExpr(options.intervalSeconds)}'`;
  return `${select},showinfo`;
}

/**
 * Arguments of `ffmpeg` that decode the chosen frames of one video stream and write them as a
 * concatenated JPEG stream on stdout (split by `JpegStreamSplitter`), with one `showinfo` line per
 * image on stderr.
 * @param input presigned HTTP(S) URL (or a local path in tools/tests)
 * @param streamIndex absolute index of the video stream in the container (ffprobe `index`)
 * @param options extraction options of the job
 */
export function buildExtractArgs(input: string, streamIndex: number, options: ExtractionOptions): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  const keyframeInput =
    options.mode === "keyframes"
      ? [
          // One decoder thread: with frame threading, Theora (boswars_intro.ogg) fails on skipped frames
          // ("Operation not permitted") and returns 1 of 4 keyframes; it is also ~6x faster on franck.mp4,
          // because frame threads only wait for each other when most frames are skipped.
          "-threads", "1",
          // Decode keyframes only: the decoder skips everything else (the fast path of this mode).
          "-skip_frame", "nokey",
        ]
      : [];
  return [
    ...FFMPEG_LOG_ARGS,
    ...keyframeInput,
    ...inputSafetyArgs(input),
    "-i", input,
    // Exactly the probed video stream; audio, subtitles and data are never decoded.
    "-map", `0:${streamIndex}`,
    // One output frame per selected frame: no duplication or dropping to reach a constant rate.
    "-fps_mode", "passthrough",
    "-vf", buildVideoFilter(options),
    ...JPEG_PIPE_OUTPUT_ARGS,
  ];
}

/**
 * Arguments of `ffprobe` that list the packets of one stream as `pts,flags` CSV lines (K in the flags =
 * keyframe). Demuxing only, nothing is decoded: the interval strategy's keyframe index.
 * @param input presigned HTTP(S) URL (or a local path in tools/tests); same input safety as every read
 * @param streamIndex absolute index of the video stream (ffprobe `index`)
 */
export function buildPacketIndexArgs(input: string, streamIndex: number): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
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
    "-i", input,
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
 */
export function buildSeekExtractArgs(
  input: string,
  streamIndex: number,
  keyframeSeconds: number,
  targetSeconds: number,
): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  if (!(targetSeconds >= 0) || !Number.isFinite(targetSeconds)) throw new RangeError(`bad target ${targetSeconds}`);
  const seek =
    keyframeSeconds > 0
      ? [
          // Input seek: the demuxer jumps to the keyframe at or before this time. Rounded UP to the
          // microsecond (ffmpeg's unit) so the keyframe itself is never just after the seek point, which
          // would make the demuxer start one GOP earlier (slower, still correct).
          "-ss", (Math.ceil(keyframeSeconds * 1e6) / 1e6).toFixed(6),
          // No trim at the seek point: the select below decides, with the sequential rule and epsilon.
          "-noaccurate_seek",
          // Keep the input timestamps, shifted by the file's start time only (-start_at_zero), i.e. the
          // same timeline as the sequential decode: showinfo then logs the same pts as sequentially.
          "-copyts",
          "-start_at_zero",
        ]
      : [];
  const target = `${formatNumber(targetSeconds)}-${formatNumber(TIMESTAMP_EPSILON_SECONDS)}`;
  return [
    ...FFMPEG_LOG_ARGS,
    ...seek,
    ...inputSafetyArgs(input),
    "-i", input,
    "-map", `0:${streamIndex}`,
    "-fps_mode", "passthrough",
    // gte(t,0): as sequentially, frames before the start never count.
    "-vf", `select='gte(t,0)*gte(t,${target})',showinfo`,
    // Stop after the first selected frame: nothing after the image is decoded.
    "-frames:v", "1",
    ...JPEG_PIPE_OUTPUT_ARGS,
  ];
}

/**
 * `images/000001_t0000012.500.jpg`: the ZIP entry name of an image (docs/architecture.md "ZIP layout").
 * @param index 0-based order of the image; the name uses index + 1, six digits
 * @param timestampSeconds presentation time, seconds (≥ 0), rendered with millisecond precision
 */
export function imageEntryName(index: number, timestampSeconds: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`bad image index ${index}`);
  return `images/${String(index + 1).padStart(6, "0")}_t${formatTimestamp(timestampSeconds)}.jpg`;
}

/**
 * `0000012.500` for 12.5 s: seconds zero-padded to 7 digits, a dot, milliseconds (rounded).
 * Negative or non-finite input is clamped to 0.
 */
export function formatTimestamp(seconds: number): string {
  const ms = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
  return `${String(Math.floor(ms / 1000)).padStart(7, "0")}.${String(ms % 1000).padStart(3, "0")}`;
}
