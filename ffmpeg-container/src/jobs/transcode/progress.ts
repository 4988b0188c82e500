/**
 * ffmpeg's `-progress` output: blocks of `key=value` lines, each ending with `progress=continue` (or
 * `progress=end` for the last one), e.g. `out_time_us=8554000`, `speed=4.49x` (`N/A` until known).
 * Turned into the PROGRESS event's figures: fraction of the (trimmed) duration encoded, speed in × real
 * time and the seconds left.
 */

/** One complete `-progress` block. */
export interface ProgressSample {
  /** Media time written so far, seconds (the furthest output), null when ffmpeg printed `N/A`. */
  outTimeSeconds: number | null;
  /** Encode speed, × real time, null when `N/A`. */
  speed: number | null;
  /** The block ended with `progress=end`: ffmpeg finished. */
  ended: boolean;
}

/** Incremental parser: feed stdout text in any split with {@link push}. */
export class ProgressParser {
  private partial = "";
  private fields = new Map<string, string>();

  /** @returns the blocks completed by this text, in order */
  push(text: string): ProgressSample[] {
    const lines = (this.partial + text).split(/\r?\n/);
    this.partial = lines.pop() ?? "";
    const samples: ProgressSample[] = [];
    for (const line of lines) {
      const eq = line.indexOf("=");
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      if (key !== "progress") {
        this.fields.set(key, value);
        continue;
      }
      samples.push(this.sample(value === "end"));
      this.fields.clear();
    }
    return samples;
  }

  private sample(ended: boolean): ProgressSample {
    // out_time_us is the precise one; out_time_ms is also microseconds (a long-standing ffmpeg quirk).
    const us = Number(this.fields.get("out_time_us") ?? this.fields.get("out_time_ms"));
    const speedText = this.fields.get("speed");
    const speed = speedText !== undefined ? Number(speedText.replace(/x$/, "")) : Number.NaN;
    return {
      // Before the first frame ffmpeg prints out_time_us=N/A, or a negative value.
      outTimeSeconds: Number.isFinite(us) && us >= 0 ? us / 1e6 : null,
      speed: Number.isFinite(speed) && speed >= 0 ? speed : null,
      ended,
    };
  }
}

/** The PROGRESS event's figures. */
export interface ProgressFigures {
  /** 0..1 of the output duration encoded (1 once ffmpeg ended). */
  fraction: number;
  /** × real time, null until known. */
  speed: number | null;
  /** Seconds left at the current speed, null until speed and duration are known. */
  etaSeconds: number | null;
}

/**
 * @param sample a parsed block
 * @param durationSeconds the outputs' expected duration (trim applied), null when unknown (fraction
 *   stays 0 until the end and no ETA is given)
 */
export function progressFigures(sample: ProgressSample, durationSeconds: number | null): ProgressFigures {
  if (sample.ended) return { fraction: 1, speed: sample.speed, etaSeconds: 0 };
  if (durationSeconds === null || durationSeconds <= 0 || sample.outTimeSeconds === null) {
    return { fraction: 0, speed: sample.speed, etaSeconds: null };
  }
  const fraction = Math.min(1, sample.outTimeSeconds / durationSeconds);
  const left = Math.max(0, durationSeconds - sample.outTimeSeconds);
  const etaSeconds = sample.speed !== null && sample.speed > 0 ? Math.round((left / sample.speed) * 10) / 10 : null;
  return { fraction, speed: sample.speed, etaSeconds };
}
