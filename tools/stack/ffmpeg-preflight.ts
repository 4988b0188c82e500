/**
 * Preflight of `npm start` and `npm run demo`: before anything starts, resolve ffmpeg and ffprobe the way the
 * processor will (ffmpeg-container/src/ffmpeg/binaries.ts) and run `-version` on both. Without it a machine
 * lacking ffmpeg starts the whole stack and only then fails every job with `ffprobe: ENOENT`.
 */
import {
  checkFfmpegBinaries,
  describeFfmpegSource,
  resolveFfmpegBinaries,
  type FfmpegBinaries,
} from "../../ffmpeg-container/src/ffmpeg/binaries.ts";

/** Result of {@link ffmpegPreflight}: the binaries and one line per binary, or the message to stop with. */
export type FfmpegPreflight =
  | { ok: true; bins: FfmpegBinaries; lines: string[] }
  | { ok: false; bins: FfmpegBinaries; message: string };

/**
 * The commands that provide ffmpeg and ffprobe, printed when either is missing: Debian's package, vidsnap's
 * lean build, or paths to binaries the user already has.
 * @param command what the user ran, repeated with the variables (`npm start`, `npm run demo`)
 */
export function ffmpegInstallHelp(command: string): string {
  return [
    "Install them with one of:",
    "  sudo apt-get install ffmpeg        Debian/Ubuntu's ffmpeg (macOS: brew install ffmpeg)",
    "  npm run ffmpeg:build               vidsnap's lean build from Debian 12's source (Debian 12 only, about 10 minutes on 2 cores)",
    "or point to binaries you already have:",
    `  FFMPEG_PATH=/path/to/ffmpeg FFPROBE_PATH=/path/to/ffprobe ${command}`,
  ].join("\n");
}

/**
 * Resolves and runs both binaries.
 * @param command what the user ran (`npm start`, `npm run demo`), for the help text
 * @param env where `FFMPEG_PATH` / `FFPROBE_PATH` are read (default `process.env`; empty counts as unset)
 * @returns ok with `ffmpeg: <path> (<source>) <version line>` lines, or the multi-line message naming each
 *   missing binary, why it failed (`ENOENT`, exit code) and {@link ffmpegInstallHelp}
 */
export async function ffmpegPreflight(command: string, env: NodeJS.ProcessEnv = process.env): Promise<FfmpegPreflight> {
  const bins = await resolveFfmpegBinaries({ ffmpeg: env.FFMPEG_PATH || undefined, ffprobe: env.FFPROBE_PATH || undefined });
  const checks = checkFfmpegBinaries(bins);
  const names = ["ffmpeg", "ffprobe"] as const;
  const failed = names.filter((n) => !checks[n].ok);
  if (failed.length === 0) {
    const lines = names.map((n) => {
      const c = checks[n];
      return `${n}: ${bins[n]} (${describeFfmpegSource(n, bins.source[n])})${c.ok ? `, ${c.version}` : ""}`;
    });
    return { ok: true, bins, lines };
  }
  const reasons = failed.map((n) => {
    const c = checks[n];
    return `  ${n}: ${bins[n]} (${describeFfmpegSource(n, bins.source[n])}): ${c.ok ? "" : c.error}`;
  });
  const message = [
    `vidsnap needs ffmpeg and ffprobe to process videos, and ${failed.join(" and ")} ${failed.length > 1 ? "do" : "does"} not run:`,
    ...reasons,
    ffmpegInstallHelp(command),
    "Nothing was started.",
  ].join("\n");
  return { ok: false, bins, message };
}
