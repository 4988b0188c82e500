/**
 * Reading ffmpeg's stderr: `showinfo` frame lines (timestamps and sizes of the images), and turning
 * the rest into a short error text that contains neither the presigned URL nor local paths.
 */

/** One frame as logged by the `showinfo` filter. */
export interface ShowinfoFrame {
  /** 0-based count of frames that reached showinfo (= output order). */
  n: number;
  /** Presentation time in seconds from the start of the input, exact from `pts` × time base when known. */
  timestampSeconds: number;
  width?: number;
  height?: number;
}

const CONFIG_RE = /\[Parsed_showinfo_\d+ @ [^\]]+\] config in time_base: (\d+)\/(\d+)/;
const FRAME_RE = /\[Parsed_showinfo_\d+ @ [^\]]+\] n:\s*(\d+) pts:\s*(-?\d+|NOPTS) pts_time:(\S+)/;
const SIZE_RE = / s:(\d+)x(\d+) /;

/**
 * Incremental parser of showinfo output. Feed it stderr text with {@link push}; it keeps the time base
 * from the `config in time_base: a/b` line so timestamps are `pts·a/b` exactly (the printed `pts_time`
 * has only 6 significant digits, i.e. no milliseconds beyond 1000 s).
 */
export class ShowinfoParser {
  private partial = "";
  private timeBase: [number, number] | undefined;
  private last = 0;

  /**
   * @param text next stderr text, any split
   * @param onOther called with every complete line that is not a showinfo line
   * @returns frames completed by this text, in order
   */
  push(text: string, onOther?: (line: string) => void): ShowinfoFrame[] {
    const lines = (this.partial + text).split(/\r?\n|\r/);
    this.partial = lines.pop() ?? "";
    const frames: ShowinfoFrame[] = [];
    for (const line of lines) {
      const frame = this.parseLine(line);
      if (frame) frames.push(frame);
      else if (!line.includes("[Parsed_showinfo_")) onOther?.(line);
    }
    return frames;
  }

  /** Flushes a last line without newline. */
  end(onOther?: (line: string) => void): ShowinfoFrame[] {
    const rest = this.partial;
    this.partial = "";
    return rest ? this.push(rest + "\n", onOther) : [];
  }

  private parseLine(line: string): ShowinfoFrame | undefined {
    const config = CONFIG_RE.exec(line);
    if (config) {
      const num = Number(config[1]);
      const den = Number(config[2]);
      if (num > 0 && den > 0) this.timeBase = [num, den];
      return undefined;
    }
    const m = FRAME_RE.exec(line);
    if (!m) return undefined;
    let t: number;
    if (m[2] !== "NOPTS" && this.timeBase) t = (Number(m[2]) * this.timeBase[0]) / this.timeBase[1];
    else t = Number(m[3]);
    // A frame without a timestamp keeps the previous one: the order is still right.
    if (!Number.isFinite(t)) t = this.last;
    this.last = t;
    const size = SIZE_RE.exec(line);
    return {
      n: Number(m[1]),
      timestampSeconds: t,
      ...(size ? { width: Number(size[1]), height: Number(size[2]) } : {}),
    };
  }
}

/** What {@link watchFfmpegStderr} collects from one extracting ffmpeg run. */
export interface FfmpegStderr {
  /** showinfo frames logged so far, in output order (complete once stderr closed). */
  frames: ShowinfoFrame[];
  /** The other lines, the latest 200 to 400 (for error messages, `stderrTail`). */
  otherLines: string[];
  /**
   * Frame of image `i`: showinfo logs a frame before it is encoded, so it is (nearly) always there;
   * waits for it otherwise. @returns undefined when stderr closed without it
   */
  frame(i: number): Promise<ShowinfoFrame | undefined>;
}

/**
 * Reads an extracting ffmpeg's stderr (utf-8) as it comes: showinfo frames and the other lines.
 * @param stderr the child's stderr stream
 */
export function watchFfmpegStderr(stderr: NodeJS.ReadableStream): FfmpegStderr {
  const parser = new ShowinfoParser();
  const frames: ShowinfoFrame[] = [];
  const otherLines: string[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const keepLine = (line: string) => {
    otherLines.push(line);
    if (otherLines.length > 400) otherLines.splice(0, otherLines.length - 200);
  };
  stderr.setEncoding("utf8");
  stderr.on("data", (text: string) => {
    frames.push(...parser.push(text, keepLine));
    wake?.();
  });
  stderr.once("close", () => {
    frames.push(...parser.end(keepLine));
    ended = true;
    wake?.();
  });
  return {
    frames,
    otherLines,
    async frame(i) {
      while (frames.length <= i && !ended) await new Promise<void>((r) => (wake = r));
      return frames[i];
    },
  };
}

/** stderr lines that say nothing about a failure. */
const NOISE = [
  /deprecated pixel format used/,
  /^\s*Last message repeated \d+ times/,
  /^Press \[q\] to stop/,
  /^Stream mapping:/,
  /^\s+Stream #\d+:\d+ -> #/,
];

/**
 * Makes tool output safe to return to clients and log: every URL becomes `<source>` (presigned URLs
 * carry credentials in their query), each given secret becomes `<redacted>` (`<tmp>` for a local path,
 * `<source>` for a URL),
 * and `@ 0x…` pointer addresses are dropped.
 * @param text raw text
 * @param secrets exact strings to remove (URL, directory paths)
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of [...secrets].filter(Boolean).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join(s.startsWith("/") ? "<tmp>" : /^https?:/i.test(s) ? "<source>" : "<redacted>");
  }
  return out
    // A URL ends before whitespace, a quote, or trailing punctuation (ffmpeg prints "URL: message").
    .replace(/\b(?:https?|s3):\/\/[^\s'"]*[^\s'":,.;)]/gi, "<source>")
    .replace(/X-Amz-[A-Za-z-]+=[^\s&'"]+/g, "<redacted>")
    .replace(/ @ 0x[0-9a-f]+\]/gi, "]");
}

/**
 * The last meaningful lines of a tool's stderr, redacted: showinfo and known noise lines removed,
 * consecutive duplicates collapsed, at most `maxLines` lines and `maxChars` characters (the end is kept).
 */
export function stderrTail(
  lines: readonly string[],
  secrets: readonly string[] = [],
  maxLines = 12,
  maxChars = 2000,
): string {
  const kept: string[] = [];
  for (const raw of lines) {
    const line = raw.trimEnd();
    if (!line.trim() || line.includes("[Parsed_showinfo_") || NOISE.some((re) => re.test(line))) continue;
    if (kept.at(-1) === line) continue;
    kept.push(line);
  }
  const text = redact(kept.slice(-maxLines).join("\n"), secrets);
  return text.length > maxChars ? "…" + text.slice(text.length - maxChars + 1) : text;
}

/** Sentence of a job whose source could not be read because the storage failed (same as a failed HeadObject). */
export const STORAGE_UNREADABLE_MESSAGE = "The uploaded video could not be read from storage.";

/** ffmpeg/ffprobe stderr of a network or storage-side failure while reading the presigned source URL. */
const STORAGE_FAILURE =
  /Connection refused|Connection reset by peer|Connection timed out|Network is unreachable|No route to host|Server returned 5\d\d|HTTP error 5\d\d/i;

/** Whether ffmpeg/ffprobe stderr shows the storage failing while the source was read (not a damaged file). */
export function isStorageFailure(stderr: string): boolean {
  return STORAGE_FAILURE.test(stderr);
}

/**
 * One human sentence for a file ffprobe/ffmpeg could not read, from its stderr.
 * A storage failure while reading (connection refused/reset/timed out, HTTP 5xx) gives
 * {@link STORAGE_UNREADABLE_MESSAGE} instead: the file may be fine.
 * Rule: the most specific known cause wins ("moov atom not found", "Invalid data found…", …); otherwise
 * the last line of the (redacted) output.
 * @returns e.g. `The file is not a readable video: moov atom not found`
 */
export function unreadableVideoMessage(stderr: string): string {
  // ffmpeg reads the source over HTTP(S) from the storage: a refused/reset/timed-out connection or a 5xx is
  // the storage failing, not the user's file, which must not be told its video is unreadable.
  if (isStorageFailure(stderr)) return STORAGE_UNREADABLE_MESSAGE;
  const known: [RegExp, string][] = [
    [/moov atom not found/i, "moov atom not found"],
    [/EBML header parsing failed/i, "EBML header parsing failed (damaged Matroska/WebM)"],
    [/Invalid data found when processing input/i, "invalid data found when processing input"],
    [/End of file/i, "the file ends unexpectedly"],
    [/Protocol not on whitelist|Format \S+ is not on whitelist|not on whitelist/i, "unsupported container format"],
  ];
  for (const [re, reason] of known) if (re.test(stderr)) return `The file is not a readable video: ${reason}`;
  const last = redact(stderr).trim().split("\n").at(-1)?.trim();
  return last ? `The file is not a readable video: ${last.slice(0, 200)}` : "The file is not a readable video";
}
