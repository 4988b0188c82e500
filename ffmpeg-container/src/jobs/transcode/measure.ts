/**
 * Facts of the files a transcode wrote, measured with ffprobe and the file system (never copied from the
 * request): sizes, duration, dimensions, audio, the H.264 profile and level (for the master playlist).
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parseRate, type FfprobeOutput } from "../../ffmpeg/probe.ts";
import { runProcess } from "../../ffmpeg/proc.ts";
import { stderrTail } from "../../ffmpeg/stderr.ts";
import { JobError } from "../../runner/errors.ts";
import { parseMediaPlaylist, type MediaPlaylist } from "./hls.ts";

/** What ffprobe says of one output. */
export interface MeasuredMedia {
  width: number | null;
  height: number | null;
  /** Seconds, null when ffprobe gives none. */
  durationSeconds: number | null;
  hasAudio: boolean;
  videoCodec: string | null;
  /** ffprobe's `profile` of the video stream, e.g. `High`. */
  profile: string | undefined;
  /** ffprobe's `level` (H.264: 31 = 3.1). */
  level: number | undefined;
  frameRate: number | null;
}

/** One HLS variant on disk: its playlist, files and sizes. */
export interface MeasuredVariant extends MeasuredMedia {
  playlist: MediaPlaylist;
  /** Every file of the variant (playlist, init segment, segments), relative to the work folder. */
  files: string[];
  /** Their total size, bytes. */
  sizeBytes: number;
  /** Largest segment bitrate (init segment included in the first), bits/s. */
  peakBitsPerSecond: number;
}

type ProbeStream = NonNullable<FfprobeOutput["streams"]>[number] & { profile?: string; level?: number };

/**
 * ffprobe of a file in the work folder (an output of this job, so no input allow-lists: an HLS playlist
 * is read with its local segments).
 * @param file path relative to `cwd`
 * @throws JobError when ffprobe fails (the output is broken: a bug or a full disk)
 */
export async function probeOutput(ffprobe: string, file: string, opts: { cwd: string; signal: AbortSignal }): Promise<MeasuredMedia> {
  const args = ["-hide_banner", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", file];
  const { code, stdout, stderr } = await runProcess(ffprobe, args, opts);
  opts.signal.throwIfAborted();
  if (code !== 0) {
    throw new JobError("The encoded output could not be read back; the transcode failed.", stderrTail(stderr.split("\n"), [opts.cwd]));
  }
  const j = JSON.parse(stdout) as FfprobeOutput;
  const streams = (j.streams ?? []) as ProbeStream[];
  const video = streams.find((s) => s.codec_type === "video");
  const duration = Number(j.format?.duration ?? video?.duration);
  return {
    width: video?.width ?? null,
    height: video?.height ?? null,
    durationSeconds: Number.isFinite(duration) && duration >= 0 ? duration : null,
    hasAudio: streams.some((s) => s.codec_type === "audio"),
    videoCodec: video?.codec_name ?? null,
    profile: video?.profile,
    level: video?.level,
    frameRate: parseRate(video?.avg_frame_rate),
  };
}

/**
 * Measures one HLS variant: its playlist (segment durations summed as the duration), the sizes of its
 * files, its peak segment bitrate, and ffprobe of the playlist for dimensions, audio and codec.
 * @param playlistFile e.g. `hls/720/index.m3u8`, relative to `cwd`
 * @throws JobError when the playlist is incomplete or names a file that is not there
 */
export async function measureVariant(ffprobe: string, playlistFile: string, opts: { cwd: string; signal: AbortSignal }): Promise<MeasuredVariant> {
  const dir = path.posix.dirname(playlistFile);
  const playlist = parseMediaPlaylist(await readFile(path.join(opts.cwd, playlistFile), "utf8"));
  if (!playlist.ended || playlist.segments.length === 0) {
    throw new JobError("The HLS output is incomplete; the transcode failed.", `${playlistFile}: ${playlist.segments.length} segments, ended: ${playlist.ended}`);
  }
  const size = async (rel: string) => {
    try {
      return (await stat(path.join(opts.cwd, rel))).size;
    } catch {
      throw new JobError("The HLS output is incomplete; the transcode failed.", `${rel} is listed in ${playlistFile} but was not written`);
    }
  };
  const files = [playlistFile];
  let sizeBytes = await size(playlistFile);
  const initBytes = playlist.initUri ? await size(`${dir}/${playlist.initUri}`) : 0;
  if (playlist.initUri) files.push(`${dir}/${playlist.initUri}`);
  sizeBytes += initBytes;
  let peakBitsPerSecond = 0;
  for (const [i, seg] of playlist.segments.entries()) {
    const file = `${dir}/${seg.uri}`;
    const bytes = await size(file);
    files.push(file);
    sizeBytes += bytes;
    // A player fetches the init segment with the first media segment.
    if (seg.durationSeconds > 0) peakBitsPerSecond = Math.max(peakBitsPerSecond, ((bytes + (i === 0 ? initBytes : 0)) * 8) / seg.durationSeconds);
  }
  const media = await probeOutput(ffprobe, playlistFile, opts);
  const durationSeconds = playlist.segments.reduce((s, seg) => s + seg.durationSeconds, 0);
  return { ...media, durationSeconds, playlist, files, sizeBytes, peakBitsPerSecond };
}
