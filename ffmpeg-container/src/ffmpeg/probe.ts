/**
 * ffprobe → {@link SourceFacts} (schema/manifest.ts) and the stream to decode.
 */
import { SourceFacts } from "../../../schema/manifest.ts";
import { JobError } from "../runner/errors.ts";
import { buildProbeArgs, inputUrl, type SourceInput } from "./input-args.ts";
import { stderrTail } from "./stderr.ts";
import { checkContainer, rejectedInputError } from "./input-checks.ts";
import { runProcess } from "./proc.ts";

/** The parts of ffprobe's `-show_format -show_streams` JSON the processor reads. */
export interface FfprobeOutput {
  format?: { format_name?: string; duration?: string; size?: string; start_time?: string };
  streams?: FfprobeStream[];
}

/** One stream of ffprobe's `-show_streams` output (the fields read here). */
export interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  /** e.g. `"16:15"`; `"0:1"` or absent when unknown (square pixels assumed). */
  sample_aspect_ratio?: string;
  /** e.g. `"1/12288"`: unit of the stream's packet timestamps. */
  time_base?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

/** Result of probing: facts for the manifest and the absolute index of the video stream to decode. */
export interface ProbeResult {
  facts: SourceFacts;
  streamIndex: number;
  /** Time base of that stream (`"1/12288"`), null when ffprobe did not print one. */
  timeBase: string | null;
  /** Container start time, seconds (0 when unknown): decoded timestamps are relative to it. */
  startSeconds: number;
  /** Width / height of one pixel of the video stream (1 when unknown or square). */
  sampleAspectRatio: number;
  /** Absolute index of the first audio stream, null when the file has none. */
  audioStreamIndex: number | null;
}

/** `"24/1"` → 24; `"0/0"`, missing or non-positive → null. */
export function parseRate(rate: string | undefined): number | null {
  if (!rate) return null;
  const [n, d] = rate.split("/").map(Number);
  const v = d === undefined ? n! : n! / d;
  return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) / 1000 : null;
}

/**
 * Clockwise rotation a player applies, degrees in [0, 360): from the display matrix side data
 * (ffprobe reports it counter-clockwise, e.g. -90 for a phone video shot upright) or the legacy
 * `rotate` tag (clockwise). ffmpeg applies it itself when decoding (autorotate), so images are upright.
 */
export function rotationDegrees(stream: FfprobeStream): number {
  const matrix = stream.side_data_list?.find((s) => typeof s.rotation === "number");
  let cw: number | undefined;
  if (matrix?.rotation !== undefined) cw = -matrix.rotation;
  else if (stream.tags?.rotate !== undefined && Number.isFinite(Number(stream.tags.rotate))) cw = Number(stream.tags.rotate);
  if (cw === undefined) return 0;
  return ((Math.round(cw) % 360) + 360) % 360;
}

/**
 * Builds the source facts from ffprobe's JSON.
 * Rule: the video stream is the first `codec_type: video` stream that is not an attached picture
 * (cover art in audio files).
 * @param probe parsed ffprobe JSON
 * @param sizeBytes object size from S3 HEAD, used when ffprobe does not know it
 * @throws JobError "contains no video stream" (audio-only, e.g. sunflower-slow-drag.ogg) or no dimensions
 */
export function sourceFactsFromProbe(probe: FfprobeOutput, sizeBytes: number | null): ProbeResult {
  const video = (probe.streams ?? []).find((s) => s.codec_type === "video" && !s.disposition?.attached_pic);
  const formatName = probe.format?.format_name ?? "unknown";
  if (!video) {
    const kinds = (probe.streams ?? []).map((s) => `${s.codec_type ?? "?"}:${s.codec_name ?? "?"}`).join(", ");
    throw new JobError(
      "The file contains no video stream.",
      `container ${formatName}; streams: ${kinds || "none"}`,
    );
  }
  if (!video.width || !video.height) {
    throw new JobError("The video stream has no picture size; the file is damaged or not supported.", `codec ${video.codec_name ?? "?"}`);
  }
  const num = (s: string | undefined) => (s !== undefined && Number.isFinite(Number(s)) ? Number(s) : null);
  const duration = num(probe.format?.duration) ?? num(video.duration);
  const size = num(probe.format?.size);
  const facts = SourceFacts.parse({
    formatName,
    durationSeconds: duration !== null && duration >= 0 ? duration : null,
    sizeBytes: size !== null ? Math.round(size) : sizeBytes,
    videoCodec: video.codec_name ?? "unknown",
    width: video.width,
    height: video.height,
    frameRate: parseRate(video.avg_frame_rate),
    rotationDegrees: rotationDegrees(video),
  });
  const start = num(probe.format?.start_time);
  const [sarW, sarH] = (video.sample_aspect_ratio ?? "").split(":").map(Number);
  const sampleAspectRatio = sarW! > 0 && sarH! > 0 ? sarW! / sarH! : 1;
  const audio = (probe.streams ?? []).find((s) => s.codec_type === "audio");
  return {
    facts,
    streamIndex: video.index,
    timeBase: video.time_base ?? null,
    startSeconds: start ?? 0,
    sampleAspectRatio,
    audioStreamIndex: audio ? audio.index : null,
  };
}

/**
 * Runs ffprobe on the source.
 * @param ffprobe binary
 * @param input presigned URL, with the If-Match ETag of every request
 * (with the input whitelists of every read: no playlist, no reference inside the upload is ever opened)
 * @param opts.cwd job folder; opts.signal job abort; opts.sizeBytes size from HEAD;
 *   opts.readHead reads the first bytes of the upload, used only to explain a refusal
 * @throws JobError saying why the file is refused (`The file is a PNG image, not a video.`, `Playlists
 *   (HLS/DASH/concat) are not accepted.`, `The file is not a readable video: …`, see `rejectedInputError`)
 *   with the redacted stderr tail as description
 */
export async function probeSource(
  ffprobe: string,
  input: SourceInput,
  opts: { cwd: string; signal: AbortSignal; sizeBytes: number | null; readHead?: () => Promise<Uint8Array | null> },
): Promise<ProbeResult> {
  const { code, stdout, stderr } = await runProcess(ffprobe, buildProbeArgs(input), { cwd: opts.cwd, signal: opts.signal });
  opts.signal.throwIfAborted();
  const secrets = [inputUrl(input), opts.cwd];
  if (code !== 0) {
    const head = opts.readHead ? await opts.readHead().catch(() => null) : null;
    opts.signal.throwIfAborted();
    throw rejectedInputError(stderr, head, stderrTail(stderr.split("\n"), secrets));
  }
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(stdout) as FfprobeOutput;
  } catch {
    throw new JobError("The video could not be analysed.", "ffprobe printed no valid JSON");
  }
  const result = sourceFactsFromProbe(parsed, opts.sizeBytes);
  checkContainer(result.facts.formatName);
  return result;
}
