/**
 * Pure builders of the ffmpeg arguments of images on demand (`POST /renders`, docs/architecture.md
 * "Images on demand"): one thumbnail, one animated preview, one storyboard sprite. No I/O; the flags were
 * checked with Debian's ffmpeg 5.1 on `../shared/testdata`.
 */
import type { FitMode, RenderSpec, StoryboardPlan } from "../../../schema/image-options.ts";
import { inputSafetyArgs, inputUrl, type SourceInput } from "../ffmpeg/input-args.ts";
import { imageOutputArgs, TIMESTAMP_EPSILON_SECONDS } from "../jobs/extract/ffmpeg-args.ts";

/** Global options of every render: quiet stderr (its tail is the error report), never read stdin. */
const RENDER_LOG_ARGS: readonly string[] = [
  "-hide_banner",
  // The child has no stdin; without this ffmpeg may stop on SIGTTIN.
  "-nostdin",
  "-nostats",
  // Only errors on stderr: it is kept and its tail explains a failed render.
  "-loglevel", "error",
];

/** libwebp quality of animated WebP previews (0..100; libwebp's default 75 bands on gradients less at 80). */
export const ANIMATED_WEBP_QUALITY = 80;

/** Plain decimal of a number for an ffmpeg option or expression (no exponent), rounded to the nanosecond. */
export function decimal(value: number): string {
  const v = Math.round(value * 1e9) / 1e9;
  const s = String(v);
  return /e/i.test(s) ? v.toFixed(9).replace(/0+$/, "").replace(/\.$/, "") : s;
}

/**
 * Filters that rotate the frame clockwise by `degrees` (after ffmpeg's own autorotation of the video's
 * display matrix, so the user's rotation is relative to what players show).
 * @param degrees 0, 90, 180 or 270
 */
export function rotateFilters(degrees: number): string[] {
  switch (degrees) {
    case 0:
      return [];
    case 90:
      // transpose=clock: 90° clockwise.
      return ["transpose=clock"];
    case 180:
      return ["hflip", "vflip"];
    case 270:
      return ["transpose=cclock"];
    default:
      throw new RangeError(`rotate must be 0, 90, 180 or 270, got ${degrees}`);
  }
}

/**
 * Filters that size the frame for `width` × `height` with a fit mode. With one side only, the other
 * follows the aspect ratio whatever the mode; with neither, the frame keeps its size. `setsar=1` last:
 * the output's pixels are square, so viewers show exactly the asked size.
 * - preserve: inside the box, aspect kept (one side of the box may stay unused);
 * - crop: covers the box, the overflow cut evenly on both sides;
 * - pad: inside the box, centred on black bars;
 * - stretch: exactly the box, aspect ignored.
 */
export function fitFilters(width: number | undefined, height: number | undefined, fit: FitMode): string[] {
  for (const v of [width, height]) if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new RangeError(`bad size ${v}`);
  if (width === undefined && height === undefined) return [];
  if (width === undefined || height === undefined) {
    // -2 would force even sizes, which no image encoder here needs; -1 keeps the exact aspect.
    return [`scale=${width ?? -1}:${height ?? -1}`, "setsar=1"];
  }
  switch (fit) {
    case "preserve":
      return [`scale=${width}:${height}:force_original_aspect_ratio=decrease`, "setsar=1"];
    case "crop":
      return [`scale=${width}:${height}:force_original_aspect_ratio=increase`, `crop=${width}:${height}`, "setsar=1"];
    case "pad":
      return [`scale=${width}:${height}:force_original_aspect_ratio=decrease`, `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:black`, "setsar=1"];
    case "stretch":
      return [`scale=${width}:${height}`, "setsar=1"];
  }
}

type ThumbnailSpec = Extract<RenderSpec, { kind: "thumbnail" }>;
type AnimatedSpec = Extract<RenderSpec, { kind: "animated" }>;

/**
 * Arguments of the ffmpeg that renders one thumbnail on stdout.
 * - exact (default): the first frame with t ≥ time − ε on the sequential decode's timeline. When `seek`,
 *   the demuxer jumps to the keyframe at or before `time` (`-ss` + `-noaccurate_seek`) and ffmpeg decodes
 *   from there, keeping the file's timestamps (`-copyts -start_at_zero`) so `select` applies the same rule
 *   as a decode from the start; without `seek` (a codec/container pair not verified to seek cleanly) it
 *   decodes from the start.
 * - keyframe: the keyframe at or before `time`, decoding keyframes only (`-skip_frame nokey`; `eq(key,1)`
 *   for decoders that ignore it: VP9, AV1, MJPEG).
 * @param input presigned URL (or a local path in tests) with its If-Match ETag
 * @param streamIndex absolute index of the video stream (ffprobe)
 * @param spec the thumbnail; `timeSeconds` the resolved time (the spec's or the middle of the video)
 * @param opts.seek seek to the keyframe before `timeSeconds` (always true for keyframe accuracy)
 */
export function buildThumbnailArgs(
  input: SourceInput,
  streamIndex: number,
  spec: ThumbnailSpec,
  timeSeconds: number,
  opts: { seek: boolean },
): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  if (!(timeSeconds >= 0) || !Number.isFinite(timeSeconds)) throw new RangeError(`bad time ${timeSeconds}`);
  const keyframe = spec.accuracy === "keyframe";
  const seek = (opts.seek || keyframe) && timeSeconds > 0;
  const select = keyframe ? "gte(t,0)*eq(key,1)" : `gte(t,0)*gte(t,${decimal(Math.max(0, timeSeconds - TIMESTAMP_EPSILON_SECONDS))})`;
  const graph = [`select='${select}'`, ...rotateFilters(spec.rotate), ...fitFilters(spec.width, spec.height, spec.fit)].join(",");
  return [
    ...RENDER_LOG_ARGS,
    ...(keyframe
      ? [
          // One thread: frame threading loses keyframes of Theora with skip_frame (extraction's finding).
          "-threads", "1",
          // Decode keyframes only: the one image wanted is a keyframe.
          "-skip_frame", "nokey",
        ]
      : []),
    ...(seek
      ? [
          // Rounded up to the microsecond so a keyframe exactly at `time` is not missed by the demuxer.
          "-ss", (Math.ceil(timeSeconds * 1e6) / 1e6).toFixed(6),
          // Start at the keyframe at or before -ss and let `select` cut (exact rule, same as sequential).
          "-noaccurate_seek",
          // The file's own timeline (shifted by its start time only): `t` means what it means sequentially.
          "-copyts",
          "-start_at_zero",
        ]
      : []),
    ...inputSafetyArgs(input),
    "-i", inputUrl(input),
    // Exactly the probed video stream.
    "-map", `0:${streamIndex}`,
    // One output frame per selected frame (no duplication to a constant rate).
    "-fps_mode", "passthrough",
    "-vf", graph,
    // Stop after the image: nothing after it is decoded.
    "-frames:v", "1",
    ...imageOutputArgs({ format: spec.format === "jpg" ? "jpeg" : spec.format, quality: spec.quality }),
  ];
}

/**
 * Arguments of the ffmpeg that renders one animated preview (GIF or WebP) on stdout: `[start, end)` at
 * `fps`, sized like a thumbnail (preserve). GIF: palettegen + paletteuse in one filter graph (a palette
 * made for these frames, so gradients do not band); WebP: lossy libwebp_anim.
 * @param opts.seek input seek to `start` (decode from the keyframe before it); false: decode from the start
 *   and drop the frames before `start` (output-side `-ss`, same frames; for a seek that decodes nothing)
 */
export function buildAnimatedArgs(input: SourceInput, streamIndex: number, spec: AnimatedSpec, opts: { seek: boolean } = { seek: true }): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  if (!(spec.end > spec.start)) throw new RangeError("end must be after start");
  const sized = [`fps=${spec.fps}`, ...fitFilters(spec.width, spec.height, "preserve").map((f) => (f.startsWith("scale=") ? `${f}:flags=lanczos` : f))];
  const span = [
    ...(spec.start > 0 ? ["-ss", decimal(spec.start)] : []),
    "-t", decimal(spec.end - spec.start),
  ];
  const head = [
    ...RENDER_LOG_ARGS,
    // Accurate input seek (the default): decode from the keyframe before `start`, drop frames before it;
    // `-t`: read only the preview's span.
    ...(opts.seek ? span : []),
    ...inputSafetyArgs(input),
    "-i", inputUrl(input),
    // Without the input seek, the same span cut on the output side (every frame before it decoded).
    ...(opts.seek ? [] : span),
  ];
  if (spec.format === "gif") {
    const graph =
      `[0:${streamIndex}]${sized.join(",")},split[a][b];` +
      // stats_mode=diff: the palette favours what moves (the static background keeps its colours anyway).
      "[a]palettegen=stats_mode=diff[p];" +
      // Ordered dithering (no crawling noise between frames), only the changed rectangle re-dithered.
      "[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle[out]";
    return [...head, "-filter_complex", graph, "-map", "[out]", "-loop", "0", "-f", "gif", "pipe:1"];
  }
  return [
    ...head,
    "-map", `0:${streamIndex}`,
    "-vf", sized.join(","),
    "-c:v", "libwebp_anim",
    // 4:2:0 lossy frames, the size a preview should have.
    "-pix_fmt", "yuv420p",
    "-quality", String(ANIMATED_WEBP_QUALITY),
    // Loop forever, like a GIF.
    "-loop", "0",
    "-f", "webp",
    "pipe:1",
  ];
}

/**
 * Arguments of the ffmpeg that renders a storyboard sprite on stdout, in ONE decode of the keyframes only
 * (`-skip_frame nokey`, `eq(key,1)` for decoders that ignore it): `fps=N/duration` from time 0 turns the
 * keyframes, each scaled to the tile size first, into one frame per tile (tile i shows the keyframe on
 * screen at the start of its span), then `tile` builds the sprite of {@link storyboardPlan}. Cheaper than N seeks (N process starts) and
 * than decoding every frame (`fps=N/d` on the full decode).
 * @param plan from `storyboardPlan` (schema/image-options.ts): the same plan as the VTT/JSON cues
 */
export function buildStoryboardArgs(input: SourceInput, streamIndex: number, plan: StoryboardPlan, format: "jpg" | "webp"): string[] {
  if (!Number.isInteger(streamIndex) || streamIndex < 0) throw new RangeError(`bad stream index ${streamIndex}`);
  const graph = [
    "select='eq(key,1)'",
    // Each keyframe scaled once, before `fps` repeats it into several tiles: scaling after `fps` scaled
    // every repeat of a full-size frame (100 scales instead of ~20 on a 200 s video, ~35 % of the CPU).
    `scale=${plan.tileWidth}:${plan.tileHeight}`,
    "setsar=1",
    // The last keyframe repeated to the end of the video: ticks after it still get their tile.
    `tpad=stop_mode=clone:stop_duration=${decimal(plan.durationSeconds)}`,
    // One frame per tile, ticks at 0, d/N, 2d/N…; a tick between keyframes repeats the previous one.
    `fps=fps=${plan.tiles.length}/${decimal(plan.durationSeconds)}:start_time=0`,
    // Row by row; at the end of the stream a partly filled sprite is still written (black cells unused).
    `tile=${plan.columns}x${plan.rows}`,
  ].join(",");
  return [
    ...RENDER_LOG_ARGS,
    "-threads", "1",
    "-skip_frame", "nokey",
    ...inputSafetyArgs(input),
    "-i", inputUrl(input),
    "-map", `0:${streamIndex}`,
    "-vf", graph,
    // The first sprite is the storyboard (a last tick past the end would start a second one).
    "-frames:v", "1",
    ...imageOutputArgs({ format: format === "jpg" ? "jpeg" : "webp", quality: 75 }),
  ];
}
