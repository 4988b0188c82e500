/**
 * Damaged sources: what ffmpeg's stderr says about decode errors and files that end early, collected over
 * every ffmpeg run of a job into the job's `warnings` (manifest, SUCCESS event, video record, email,
 * webhook). A damaged file is decoded as far as it can be (`-max_error_rate 1`, ../jobs/extract/ffmpeg-args.ts);
 * the job fails only when no usable image came out (issue 18, "Damaged files").
 * Patterns are ffmpeg 5.1's messages, checked on damaged copies of the testdata videos (zeroed ranges,
 * truncations, a corrupted header; tests/processor/extract/damaged.test.ts).
 */
import { redact } from "./stderr.ts";

/** Lines of a decoder or demuxer that met damaged data (the file may still decode around it). */
const DECODE_ERROR =
  /Error while decoding stream|corrupt input packet|Packet corrupt|Invalid NAL unit size|error while decoding MB|concealing \d+ DC|Invalid data found when processing input|invalid as first byte of an EBML number|decode_slice_header error|Error splitting the input into NAL units|Invalid frame header|Error parsing/i;
/** Lines of a demuxer that hit the end of the data before the end the container announced. */
const ENDED_EARLY = /partial file|File ended prematurely|Unexpected end of file|truncated|stream ends prematurely/i;
/** Known lines that look alarming but appear on intact files (boswars_intro.ogg logs this twice). */
const BENIGN = /keyframe not correctly marked/i;

/** An HTTP refusal of the source read (4xx: a failed If-Match after a swap, an expired URL, a missing object). */
const READ_REFUSED = /Server returned 4\d\d|Server returned 4XX|HTTP error 4\d\d/i;

/**
 * True when ffmpeg's stderr shows the storage refusing the read (HTTP 4xx): the file is not damaged, the
 * read was refused (e.g. the source was replaced: If-Match answered 412), so the run must fail the job
 * rather than be decoded around.
 */
export function isReadRefused(stderr: string): boolean {
  return READ_REFUSED.test(stderr);
}

/** What one ffmpeg run's stderr says about damage. */
export interface DamageFindings {
  /** Lines reporting damaged data. */
  decodeErrors: number;
  /** The demuxer reached the end of the data early (a truncated file). */
  endedEarly: boolean;
  /** The first such line, redacted (for the warning's detail). */
  firstLine?: string;
}

/**
 * @param lines stderr lines of one ffmpeg run (showinfo lines may be included; they never match)
 * @param hide strings to remove from the quoted line (the presigned URL, local folders)
 * @returns the decode errors and whether the file ended early
 */
export function damageFindings(lines: readonly string[], hide: readonly string[] = []): DamageFindings {
  let decodeErrors = 0;
  let endedEarly = false;
  let firstLine: string | undefined;
  for (const line of lines) {
    if (line.includes("[Parsed_showinfo_") || BENIGN.test(line)) continue;
    const ended = ENDED_EARLY.test(line);
    const damaged = DECODE_ERROR.test(line);
    if (!ended && !damaged) continue;
    if (ended) endedEarly = true;
    if (damaged) decodeErrors++;
    firstLine ??= redact(line.trim(), hide).slice(0, 200);
  }
  return { decodeErrors, endedEarly, ...(firstLine ? { firstLine } : {}) };
}

/** Most warnings one job reports (the schema's bound). */
export const MAX_WARNINGS = 10;

/**
 * The damage met by all ffmpeg runs of one job, turned into warnings (one human sentence each) at the end.
 * Each run records its findings; a run that stopped early (ffmpeg failed after images came out) or a target
 * that could not be decoded (seek strategy) is recorded with its position.
 */
export class DamageLog {
  private decodeErrors = 0;
  private endedEarly = false;
  private firstLine: string | undefined;
  private readonly stops: string[] = [];

  /** Adds one run's findings. */
  record(findings: DamageFindings): void {
    this.decodeErrors += findings.decodeErrors;
    this.endedEarly ||= findings.endedEarly;
    this.firstLine ??= findings.firstLine;
  }

  /**
   * A decode that could not go on: the images before it are kept.
   * @param afterSeconds timestamp of the last image it produced (undefined: none), seconds
   * @param reason one short redacted line (ffmpeg's last error)
   */
  stoppedEarly(afterSeconds: number | undefined, reason: string): void {
    const where = afterSeconds === undefined ? "before its first image" : `after the image at ${afterSeconds.toFixed(3)} s`;
    this.stops.push(`Decoding stopped ${where} because the video is damaged (${reason || "ffmpeg failed"}); later images may be missing.`);
  }

  /** A wanted image (interval or timestamps target) that could not be decoded, at `targetSeconds`. */
  targetSkipped(targetSeconds: number): void {
    this.stops.push(`No image could be decoded at ${targetSeconds.toFixed(3)} s: the video is damaged there.`);
  }

  /** True when anything was recorded. */
  get damaged(): boolean {
    return this.decodeErrors > 0 || this.endedEarly || this.stops.length > 0;
  }

  /** The job's warnings, at most {@link MAX_WARNINGS}, each one sentence; empty for an intact file. */
  warnings(): string[] {
    const out: string[] = [];
    if (this.endedEarly) out.push("The file ended early (it looks truncated): images after that point are missing.");
    if (this.decodeErrors > 0) {
      out.push(
        `The video has damaged parts (${this.decodeErrors} decode error${this.decodeErrors === 1 ? "" : "s"}${this.firstLine ? `, first: ${this.firstLine}` : ""}); the images come from the parts that could be decoded.`,
      );
    }
    const room = MAX_WARNINGS - out.length;
    if (this.stops.length > room) {
      out.push(...this.stops.slice(0, room - 1), `… and ${this.stops.length - room + 1} more places where decoding failed.`);
    } else {
      out.push(...this.stops);
    }
    return out.map((w) => w.slice(0, 500));
  }
}
