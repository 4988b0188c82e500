/**
 * Progress on stderr: a redrawn bar when stderr is a terminal, otherwise a plain line at most every
 * few seconds (and at the end), so logs of scripts and CI stay readable. Silent with `--json`.
 */
import type { CliContext } from "./context.ts";

export interface ProgressBar {
  /** @param fraction 0..1 (clamped); @param suffix text after the percentage (e.g. bytes, status) */
  update(fraction: number, suffix?: string): void;
  /** Draws the final state (`fraction`, default 1) and ends the line. */
  done(suffix?: string, fraction?: number): void;
}

const WIDTH = 30;
/** Plain (non-TTY) mode prints at most one line per this many ms. */
const PLAIN_INTERVAL_MS = 2_000;
/** TTY mode redraws at most once per this many ms. */
const TTY_INTERVAL_MS = 80;

/** Renders `[#####-----]  42%` for a fraction 0..1. */
export function renderBar(fraction: number, width = WIDTH): string {
  const f = Number.isFinite(fraction) ? Math.max(0, Math.min(1, fraction)) : 0;
  const done = Math.round(f * width);
  return `[${"#".repeat(done)}${"-".repeat(width - done)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

/**
 * @param label fixed-width name shown first (`upload`, `extraction`)
 * @returns a bar that writes to `ctx.io.stderr`, or a no-op one with `--json`
 */
export function createProgressBar(ctx: CliContext, label: string): ProgressBar {
  if (ctx.json) return { update() {}, done() {} };
  const stderr = ctx.io.stderr;
  const tty = stderr.isTTY === true;
  let last = 0;
  let lastLine = "";
  let finished = false;
  const line = (fraction: number, suffix?: string) => `${label.padEnd(10)} ${renderBar(fraction)}${suffix ? ` ${suffix}` : ""}`;
  return {
    update(fraction, suffix) {
      if (finished) return;
      const now = Date.now();
      const text = line(fraction, suffix);
      if (tty) {
        if (now - last < TTY_INTERVAL_MS || text === lastLine) return;
        stderr.write(`\r${text}\x1b[K`);
      } else {
        if (now - last < PLAIN_INTERVAL_MS || text === lastLine) return;
        stderr.write(`${text}\n`);
      }
      last = now;
      lastLine = text;
    },
    done(suffix, fraction = 1) {
      if (finished) return;
      finished = true;
      const text = line(fraction, suffix);
      if (tty) stderr.write(`\r${text}\x1b[K\n`);
      else if (text !== lastLine) stderr.write(`${text}\n`); // not twice the same plain line
    },
  };
}
