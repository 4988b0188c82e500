/**
 * Input options every ffprobe/ffmpeg read of an upload uses. The processor spawns the binaries with
 * argument arrays, never through a shell, so no argument is re-parsed or interpolated.
 */

/**
 * Protocols a read of a presigned HTTP(S) URL may use. Refusing `file`, `concat`, `subfile`, `data`… means a
 * crafted upload (e.g. an HLS playlist) cannot make ffmpeg read local files.
 */
export const INPUT_PROTOCOL_WHITELIST = "http,https,tcp,tls";

/**
 * Protocols a read of the processor's local copy of a source may use (sources/source-cache.ts): `file`
 * only, so it cannot reach the network. It can open other local files only through a demuxer that opens
 * nested URLs (hls, dash, concat, image2, mov with `enable_drefs`, off by default), and
 * {@link INPUT_FORMAT_WHITELIST} allows none of them.
 */
export const LOCAL_COPY_PROTOCOL_WHITELIST = "file";

/**
 * Demuxers an input may be opened with: the containers of the upload allow-list
 * (`schema/video-types.ts`: mp4/m4v/mov, mkv/webm, avi, mpg, ts, ogg/ogv) plus FLV and ASF.
 * Playlist demuxers (hls, dash, concat) are deliberately absent: they would fetch further URLs.
 * ffmpeg matches each comma-separated part of a demuxer's name, so `mov` covers `mov,mp4,m4a,3gp,3g2,mj2`.
 */
export const INPUT_FORMAT_WHITELIST = "mov,matroska,webm,avi,mpeg,mpegts,ogg,flv,asf";

/** Network read/write timeout handed to ffmpeg's HTTP client, microseconds (30 s). */
export const RW_TIMEOUT_MICROSECONDS = 30_000_000;

/**
 * What ffprobe/ffmpeg read:
 * - a presigned HTTP(S) URL, optionally with the ETag the source must still have (`ifMatch`, recorded at
 *   `complete`): every request of the read then carries `If-Match`, so a replaced object answers 412
 *   instead of other bytes (issue 18 item 7);
 * - `{ localCopy }`: the processor's own copy of the source on its disk (sources/source-cache.ts), downloaded
 *   with that same If-Match and read with the same format whitelist, `file` protocol only;
 * - a bare string: a local path in tools and tests (no whitelists).
 */
export type SourceInput = string | { url: string; ifMatch?: string | undefined } | { localCopy: string };

/** The URL (or path) of an input, for `-i` and for redaction lists. */
export function inputUrl(input: SourceInput): string {
  if (typeof input === "string") return input;
  // `file:` explicitly: a path is never taken for another protocol's URL.
  return "localCopy" in input ? `file:${input.localCopy}` : input.url;
}

/** True when the input is the processor's local copy of the source. */
export function isLocalCopy(input: SourceInput): input is { localCopy: string } {
  return typeof input !== "string" && "localCopy" in input;
}

/**
 * Options placed before `-i` that apply to reading a source: the protocol and format whitelists, and for
 * HTTP(S) the If-Match header, timeout and reconnection.
 * @param input the source; its `ifMatch` must be a header-safe ETag (schema/messages `ObjectEtag`)
 * @throws RangeError when `ifMatch` contains a character that could end the header line
 */
export function inputSafetyArgs(input: SourceInput): string[] {
  if (isLocalCopy(input)) {
    return ["-protocol_whitelist", LOCAL_COPY_PROTOCOL_WHITELIST, "-format_whitelist", INPUT_FORMAT_WHITELIST];
  }
  const url = inputUrl(input);
  if (!/^https?:\/\//i.test(url)) return [];
  const ifMatch = typeof input === "string" ? undefined : input.ifMatch;
  if (ifMatch !== undefined && !/^[\x21-\x7e]+$/.test(ifMatch)) throw new RangeError("ifMatch must be visible ASCII");
  return [
    // Every request of the read (reconnects and seeks included) only while the object is unchanged.
    ...(ifMatch ? ["-headers", `If-Match: ${ifMatch}\r\n`] : []),
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
 * @param input presigned HTTP(S) URL (or a local path in tools/tests), with its If-Match ETag
 * @returns argument array for `spawn(ffprobePath, args)`
 */
export function buildProbeArgs(input: SourceInput): string[] {
  return [
    "-hide_banner",
    // Only real errors on stderr: that text becomes the job's errorDescription.
    "-v", "error",
    ...inputSafetyArgs(input),
    "-print_format", "json",
    "-show_format",
    "-show_streams",
    "-i", inputUrl(input),
  ];
}
