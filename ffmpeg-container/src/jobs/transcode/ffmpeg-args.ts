/**
 * Pure builders of the transcode's ffmpeg arguments (no I/O): one input (optionally trimmed), one decode
 * `split` into one scaled copy per output, one encoder per output, all in one ffmpeg run. Checked with
 * Debian's ffmpeg 5.1 on ../shared/testdata.
 *
 * Encoder choices (a service's trade-off: several renditions of a video on 2 shared cores, faster than
 * real time for 1080p, at sizes close to slower presets):
 * - H.264 (mp4, hls): libx264 `-preset veryfast`, High profile, 8-bit 4:2:0. `veryfast` is about 2× the
 *   speed of `medium` for ~10 % more bits at the same CRF; `ultrafast`/`superfast` drop CABAC and
 *   B-frames and cost far more bits. Constant quality by CRF per `quality` (low 28, medium 23 = x264's
 *   default, high 19), or with `videoBitrateKbps` an average bitrate capped by a VBV (maxrate 1.5×,
 *   buffer 2×) so peaks stay streamable.
 * - VP9 (webm): libvpx-vp9 `-deadline realtime -cpu-used 8 -row-mt 1`: the `good` deadline is 5-20×
 *   slower; realtime at cpu-used 8 keeps VP9 near x264 veryfast's speed; `-row-mt 1` lets it use both
 *   cores. Constant quality `-crf` (low 40, medium 34, high 28) with `-b:v 0`, or a target bitrate.
 * - Audio: AAC-LC 128 kbit/s (mp4, hls) and Opus 96 kbit/s (webm), stereo.
 */
import type { TranscodeQuality } from "../../../../schema/transcode-options.ts";
import { inputSafetyArgs } from "../../ffmpeg/input-args.ts";
import type { PlannedOutput, TranscodePlan } from "./plan.ts";

/** x264 preset of every H.264 output (see the module docstring). */
export const X264_PRESET = "veryfast";
/** x264 CRF per quality. */
export const X264_CRF: Record<TranscodeQuality, number> = { low: 28, medium: 23, high: 19 };
/** libvpx-vp9 `-cpu-used` with `-deadline realtime` (0..9 in libvpx 1.12; higher = faster). */
export const VP9_CPU_USED = 8;
/** libvpx-vp9 CRF per quality (0..63). */
export const VP9_CRF: Record<TranscodeQuality, number> = { low: 40, medium: 34, high: 28 };
/** AAC-LC bitrate, kbit/s. */
export const AAC_KBPS = 128;
/** Opus bitrate, kbit/s. */
export const OPUS_KBPS = 96;
/** How often ffmpeg prints a `-progress` block, seconds. */
export const PROGRESS_PERIOD_SECONDS = 1;

/** Where the source is read and which streams to use. */
export interface TranscodeInput {
  /** Presigned HTTP(S) URL (or a local path in tools/tests). */
  url: string;
  /** Absolute index of the video stream to decode (ffmpeg/probe.ts). */
  videoStreamIndex: number;
  /** Absolute index of the audio stream, null when there is none. */
  audioStreamIndex: number | null;
}

/** `-ss`/`-t` input options of the trim (none when the whole source is read). */
export function trimArgs(plan: Pick<TranscodePlan, "startSeconds" | "readSeconds">): string[] {
  const args: string[] = [];
  // Input options: ffmpeg seeks to the keyframe before the start and drops the decoded frames before it
  // (accurate seek, the default when transcoding), so every output starts exactly at startSeconds, and
  // stops reading after readSeconds (both video and audio).
  if (plan.startSeconds > 0) args.push("-ss", String(plan.startSeconds));
  if (plan.readSeconds !== null) args.push("-t", String(plan.readSeconds));
  return args;
}

/**
 * The filter graph: the video stream decoded once, `split` into one copy per output, each scaled to its
 * size. Output pads are `[v0]`, `[v1]`… in plan order.
 */
export function filterGraph(videoStreamIndex: number, outputs: readonly Pick<PlannedOutput, "width" | "height">[]): string {
  const n = outputs.length;
  const sources = n === 1 ? [`[0:${videoStreamIndex}]`] : outputs.map((_, i) => `[s${i}]`);
  const parts: string[] = [];
  if (n > 1) parts.push(`[0:${videoStreamIndex}]split=${n}${sources.join("")}`);
  outputs.forEach((o, i) => {
    // Rotation is already applied (ffmpeg autorotates while decoding), so width × height is the displayed
    // size; setsar=1 makes the pixels square (the width already carries the source's pixel aspect);
    // yuv420p because 10-bit or 4:2:2/4:4:4 sources would make x264 write High 10 / High 4:4:4 and VP9
    // profile 1-3, which browsers and phones do not play.
    parts.push(`${sources[i]}scale=${o.width}:${o.height},setsar=1,format=yuv420p[v${i}]`);
  });
  return parts.join(";");
}

/** Video encoder options of an H.264 output (mp4 or an HLS variant). */
export function x264Args(o: Pick<PlannedOutput, "quality" | "videoBitrateKbps">): string[] {
  const rate =
    o.videoBitrateKbps !== undefined
      ? [
          "-b:v", `${o.videoBitrateKbps}k`,
          // VBV: peaks at most 1.5× the average over a 2× buffer, so a player streaming it does not stall.
          "-maxrate", `${Math.round(o.videoBitrateKbps * 1.5)}k`,
          "-bufsize", `${o.videoBitrateKbps * 2}k`,
        ]
      : ["-crf", String(X264_CRF[o.quality])];
  return ["-c:v", "libx264", "-preset", X264_PRESET, "-profile:v", "high", ...rate];
}

/** Video encoder options of a VP9 output. */
export function vp9Args(o: Pick<PlannedOutput, "quality" | "videoBitrateKbps">): string[] {
  const rate =
    o.videoBitrateKbps !== undefined
      ? ["-b:v", `${o.videoBitrateKbps}k`]
      : // Constant quality needs -b:v 0 (otherwise libvpx treats crf as a cap on a default 256k target).
        ["-crf", String(VP9_CRF[o.quality]), "-b:v", "0"];
  return [
    "-c:v", "libvpx-vp9",
    "-deadline", "realtime",
    "-cpu-used", String(VP9_CPU_USED),
    // Row-based multithreading: without it libvpx-vp9 encodes on about one core.
    "-row-mt", "1",
    ...rate,
  ];
}

/** Audio encoder options: AAC-LC for mp4/HLS, Opus for WebM; both stereo. */
export function audioArgs(format: PlannedOutput["format"]): string[] {
  // -ac 2: surround sources are downmixed; stereo plays everywhere.
  if (format === "webm") return ["-c:a", "libopus", "-b:a", `${OPUS_KBPS}k`, "-ac", "2"];
  return ["-c:a", "aac", "-profile:a", "aac_low", "-b:a", `${AAC_KBPS}k`, "-ac", "2"];
}

/**
 * HLS muxer options of one variant: VOD playlist, segments of about `segmentSeconds` named
 * `seg-00001.m4s` (`.ts`) beside its `index.m3u8`, referenced by relative URIs (schema/object-keys.ts).
 * @param file the variant's playlist path, e.g. `hls/720/index.m3u8`
 */
export function hlsArgs(file: string, hls: NonNullable<PlannedOutput["hls"]>): string[] {
  const dir = file.slice(0, file.lastIndexOf("/"));
  const ext = hls.segmentFormat === "fmp4" ? "m4s" : "ts";
  return [
    "-f", "hls",
    "-hls_time", String(hls.segmentSeconds),
    // VOD: every segment listed, #EXT-X-ENDLIST written, nothing ever removed.
    "-hls_playlist_type", "vod",
    "-hls_segment_type", hls.segmentFormat === "fmp4" ? "fmp4" : "mpegts",
    ...(hls.segmentFormat === "fmp4" ? ["-hls_fmp4_init_filename", "init.mp4"] : []),
    // seg-00001 first, as the object layout documents.
    "-start_number", "1",
    // The path is where the file is written; the playlist names the segment by its file name only
    // (a relative URI), which the API rewrites for playback.
    "-hls_segment_filename", `${dir}/seg-%05d.${ext}`,
    // Every segment starts with a keyframe (forced below): players may switch variants at any segment.
    "-hls_flags", "independent_segments",
  ];
}

/**
 * All output options of one planned output, ending with its file.
 * @param index the output's position in the plan (its filter pad `[v{index}]`)
 * @param audioStreamIndex the source's audio stream, null when none
 */
export function outputArgs(o: PlannedOutput, index: number, audioStreamIndex: number | null): string[] {
  const args = ["-map", `[v${index}]`];
  if (o.audio && audioStreamIndex !== null) args.push("-map", `0:${audioStreamIndex}`);
  // The source's tags and chapters are not copied: uploads from phones carry locations and device
  // names that the published renditions should not.
  args.push("-map_metadata", "-1", "-map_chapters", "-1");
  args.push(...(o.format === "webm" ? vp9Args(o) : x264Args(o)));
  if (o.audio && audioStreamIndex !== null) args.push(...audioArgs(o.format));
  switch (o.format) {
    case "mp4":
      // moov before mdat: playback starts before the whole file is downloaded (ffmpeg moves it at the
      // end, which is why the file is written locally first).
      args.push("-movflags", "+faststart", "-f", "mp4", o.file);
      break;
    case "webm":
      args.push("-f", "webm", o.file);
      break;
    case "hls": {
      const seconds = o.hls!.segmentSeconds;
      // A keyframe at every segment boundary (t = 0, S, 2S…): the muxer cuts only at keyframes, so
      // segments last about segmentSeconds and every variant cuts at the same times (aligned ladder).
      args.push("-force_key_frames", `expr:gte(t,n_forced*${seconds})`);
      args.push(...hlsArgs(o.file, o.hls!), o.file);
      break;
    }
  }
  return args;
}

/**
 * The whole ffmpeg command of a transcode (one run writes every output into the current folder, the
 * job's work folder).
 * @returns the argument array for `spawn(ffmpeg, args)`; progress blocks go to stdout (`-progress pipe:1`)
 */
export function buildTranscodeArgs(input: TranscodeInput, plan: Pick<TranscodePlan, "outputs" | "startSeconds" | "readSeconds">): string[] {
  return [
    "-hide_banner",
    // Never read the terminal (the child has no stdin; without this ffmpeg may stop on SIGTTIN).
    "-nostdin",
    // No "frame= … speed=" lines on stderr: progress comes as key=value blocks on stdout instead.
    "-nostats",
    "-progress", "pipe:1",
    "-stats_period", String(PROGRESS_PERIOD_SECONDS),
    // stderr carries errors only: it becomes the ERROR's description.
    "-loglevel", "error",
    ...inputSafetyArgs(input.url),
    ...trimArgs(plan),
    "-i", input.url,
    "-filter_complex", filterGraph(input.videoStreamIndex, plan.outputs),
    ...plan.outputs.flatMap((o, i) => outputArgs(o, i, input.audioStreamIndex)),
  ];
}
