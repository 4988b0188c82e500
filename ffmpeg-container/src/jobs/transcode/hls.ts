/**
 * HLS playlists (RFC 8216) of a transcode: reading the media playlists ffmpeg wrote (segment URIs and
 * durations) and writing the master playlist that lists every variant, with relative URIs only (the API
 * rewrites them for playback).
 */

/** One variant's media playlist as ffmpeg wrote it. */
export interface MediaPlaylist {
  /** `#EXT-X-MAP` URI (fMP4 init segment), null for MPEG-TS. */
  initUri: string | null;
  /** Segments in order: relative URI and `#EXTINF` duration, seconds. */
  segments: { uri: string; durationSeconds: number }[];
  /** `#EXT-X-VERSION`, 3 when absent. */
  version: number;
  /** Has `#EXT-X-ENDLIST` (a complete VOD playlist). */
  ended: boolean;
}

/**
 * Parses a media playlist.
 * @throws Error when it does not start with `#EXTM3U`
 */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") throw new Error("not an M3U8 playlist");
  const out: MediaPlaylist = { initUri: null, segments: [], version: 3, ended: false };
  let pending: number | null = null;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    if (line.startsWith("#EXTINF:")) pending = Number(line.slice(8).split(",")[0]);
    else if (line.startsWith("#EXT-X-MAP:")) out.initUri = /URI="([^"]*)"/.exec(line)?.[1] ?? null;
    else if (line.startsWith("#EXT-X-VERSION:")) out.version = Number(line.slice(15));
    else if (line === "#EXT-X-ENDLIST") out.ended = true;
    else if (!line.startsWith("#")) {
      out.segments.push({ uri: line, durationSeconds: pending ?? 0 });
      pending = null;
    }
  }
  return out;
}

/** What the master playlist says of one variant. */
export interface MasterVariant {
  /** Relative URI of the variant's media playlist, e.g. `720/index.m3u8`. */
  uri: string;
  /** Peak segment bitrate, bits/s (`BANDWIDTH`, required). */
  peakBitsPerSecond: number;
  /** Average bitrate, bits/s (`AVERAGE-BANDWIDTH`). */
  averageBitsPerSecond: number;
  width: number;
  height: number;
  /** RFC 6381 codec strings, e.g. `avc1.64001f`, `mp4a.40.2`. */
  codecs: string[];
  /** Frames per second, when known. */
  frameRate: number | null;
}

/**
 * RFC 6381 string of an H.264 stream (`avc1.PPCCLL`) from ffprobe's `profile` and `level`.
 * Constraint flags: 0 (ffprobe does not report them; players accept 00 for High).
 * @param profile e.g. `High`, `Main`, `Constrained Baseline`; @param level e.g. 31 (= 3.1)
 */
export function avc1Codec(profile: string | undefined, level: number | undefined): string {
  const idc: Record<string, number> = { Baseline: 66, "Constrained Baseline": 66, Main: 77, High: 100 };
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  const cons = profile === "Constrained Baseline" ? 0x40 : 0;
  return `avc1.${hex(idc[profile ?? "High"] ?? 100)}${hex(cons)}${hex(level && level > 0 ? level : 40)}`;
}

/** RFC 6381 string of AAC-LC (the only audio of HLS variants). */
export const AAC_LC_CODEC = "mp4a.40.2";

/**
 * The master playlist text: one `#EXT-X-STREAM-INF` per variant in the given order.
 * @param version `#EXT-X-VERSION` (the media playlists': 7 for fMP4, 3 for MPEG-TS)
 */
export function buildMasterPlaylist(variants: readonly MasterVariant[], version: number): string {
  const lines = ["#EXTM3U", `#EXT-X-VERSION:${version}`, "#EXT-X-INDEPENDENT-SEGMENTS"];
  for (const v of variants) {
    const attrs = [
      `BANDWIDTH=${Math.ceil(v.peakBitsPerSecond)}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(v.averageBitsPerSecond)}`,
      `RESOLUTION=${v.width}x${v.height}`,
      `CODECS="${v.codecs.join(",")}"`,
      ...(v.frameRate ? [`FRAME-RATE=${v.frameRate.toFixed(3)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(",")}`, v.uri);
  }
  return `${lines.join("\n")}\n`;
}

/** MIME type of an HLS file by its name. */
export function hlsContentType(file: string): string {
  if (file.endsWith(".m3u8")) return "application/vnd.apple.mpegurl";
  if (file.endsWith(".m4s")) return "video/iso.segment";
  if (file.endsWith(".ts")) return "video/mp2t";
  return "video/mp4";
}
