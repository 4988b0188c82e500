/**
 * Parsers of flag values shared by several commands (durations of `upload` and `transcode`).
 */
import { usageError } from "./context.ts";

/**
 * Parses a duration: `10`, `10s`, `1.5s`, `500ms`, `2m` (seconds unless a unit is given).
 * @param flag the option's name, for the error message
 * @returns seconds (> 0, or ≥ 0 with `allowZero`)
 * @throws CliError (exit 2) on anything else
 */
export function parseDuration(text: string, flag = "--every", allowZero = false): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min)?\s*$/i.exec(text);
  if (!m) throw usageError(`${flag} takes a duration like 10s, 1.5s, 500ms or 2m, not "${text}"`);
  const value = Number.parseFloat(m[1]!);
  const unit = (m[2] ?? "s").toLowerCase();
  const seconds = unit === "ms" ? value / 1000 : unit === "m" || unit === "min" ? value * 60 : value;
  if (allowZero ? seconds < 0 : !(seconds > 0)) throw usageError(`${flag} must be ${allowZero ? "0 or more" : "greater than 0"}`);
  return seconds;
}
