/**
 * Which ffmpeg/ffprobe binaries to run: the one resolver of the processor, `npm start`/`npm run demo`'s
 * preflight, the bench and the tests. Each binary is resolved on its own, first match wins:
 *   1. `FFMPEG_PATH` / `FFPROBE_PATH` (the container image sets both);
 *   2. the lean build of `npm run ffmpeg:build` (ffmpeg-container/build/build-ffmpeg.sh) when it exists for the
 *      current configure flags: `<repo>/.cache/ffmpeg/<debian-version>-<flags-hash>/bin/` (root overridable
 *      with `FFMPEG_BUILD_ROOT`, as for the build script);
 *   3. ffmpeg only: the optional npm package `ffmpeg-static` when it installed (its install script downloads
 *      a binary and usually fails offline, so it is normally absent; it ships no ffprobe);
 *   4. `ffmpeg` / `ffprobe` on PATH (e.g. Debian's `apt-get install ffmpeg`).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where a binary came from (resolution order above). */
export type FfmpegSource = "env" | "lean-build" | "ffmpeg-static" | "path";

/** Binaries the processor spawns, and where each came from (logged at startup). */
export interface FfmpegBinaries {
  /** Absolute path, or a bare name that `spawn` looks up on PATH. */
  ffmpeg: string;
  ffprobe: string;
  source: { ffmpeg: FfmpegSource; ffprobe: FfmpegSource };
  /** Measured start of `ffmpeg` (`-version` to exit, the faster of two runs), ms; set by the processor ({@link measureStartMs}). */
  startMs?: number | undefined;
}

/**
 * The configure-flags file of the lean build, found from this module's place in the repository; absent in
 * the bundled container image (no repository there), which then resolves through `FFMPEG_PATH`.
 */
const FLAGS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/configure-flags.txt");

/** Default folder of lean builds: `<repo>/.cache/ffmpeg` (the repository is three levels above ffmpeg-container/build). */
const DEFAULT_BUILD_ROOT = path.resolve(path.dirname(FLAGS_FILE), "../../.cache/ffmpeg");

/**
 * The hash naming a lean build's folder: first 12 hex digits of the SHA-256 of the flags file's lines,
 * trimmed, without `#` comments and blank lines, each ending in `\n` (exactly what build-ffmpeg.sh hashes).
 * @param flagsText the text of configure-flags.txt
 */
export function configureFlagsHash(flagsText: string): string {
  const lines = flagsText.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  return createHash("sha256").update(lines.map((l) => `${l}\n`).join("")).digest("hex").slice(0, 12);
}

/**
 * The folder of the lean build for the current configure flags, or undefined when none was built (or the
 * flags file is absent, as in the bundled image). Several Debian versions built with the same flags: the
 * most recently built one.
 * @param root folder holding the builds (default `FFMPEG_BUILD_ROOT`, else `<repo>/.cache/ffmpeg`)
 * @param flagsFile configure-flags.txt (default ffmpeg-container/build/configure-flags.txt)
 * @returns a folder with executable `bin/ffmpeg` and `bin/ffprobe`
 */
export function leanBuildDir(root = process.env.FFMPEG_BUILD_ROOT || DEFAULT_BUILD_ROOT, flagsFile = FLAGS_FILE): string | undefined {
  if (!existsSync(flagsFile) || !existsSync(root)) return undefined;
  const suffix = `-${configureFlagsHash(readFileSync(flagsFile, "utf8"))}`;
  let best: { dir: string; mtimeMs: number } | undefined;
  for (const name of readdirSync(root)) {
    if (!name.endsWith(suffix)) continue;
    const dir = path.join(root, name);
    const ffmpeg = path.join(dir, "bin/ffmpeg");
    if (!existsSync(ffmpeg) || !existsSync(path.join(dir, "bin/ffprobe"))) continue;
    const { mtimeMs } = statSync(ffmpeg);
    if (!best || mtimeMs > best.mtimeMs) best = { dir, mtimeMs };
  }
  return best?.dir;
}

/**
 * Path of the `ffmpeg-static` binary, or undefined when the package (or its binary) is absent.
 * The specifier is a variable so neither TypeScript nor the bundler needs the package.
 */
export async function ffmpegStaticPath(): Promise<string | undefined> {
  const specifier = "ffmpeg-static";
  try {
    const mod: unknown = await import(specifier);
    const p = (mod as { default?: unknown }).default ?? mod;
    return typeof p === "string" && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves both binaries in the order of this module's header.
 * @param explicit configured paths (`FFMPEG_PATH`, `FFPROBE_PATH`; empty strings count as unset)
 * @param opts.buildRoot folder of lean builds (default as {@link leanBuildDir}); opts.flagsFile likewise
 * @returns the binaries to spawn (nothing is run: a bare name may still be missing from PATH, see
 *   {@link checkFfmpegBinaries})
 */
export async function resolveFfmpegBinaries(
  explicit: { ffmpeg?: string | undefined; ffprobe?: string | undefined },
  opts: { buildRoot?: string; flagsFile?: string } = {},
): Promise<FfmpegBinaries> {
  const lean = leanBuildDir(opts.buildRoot, opts.flagsFile);
  const pick = async (name: "ffmpeg" | "ffprobe", fromEnv: string | undefined): Promise<[string, FfmpegSource]> => {
    if (fromEnv) return [fromEnv, "env"];
    if (lean) return [path.join(lean, "bin", name), "lean-build"];
    const fromNpm = name === "ffmpeg" ? await ffmpegStaticPath() : undefined;
    if (fromNpm) return [fromNpm, "ffmpeg-static"];
    return [name, "path"];
  };
  const [ffmpeg, ffmpegSource] = await pick("ffmpeg", explicit.ffmpeg);
  const [ffprobe, ffprobeSource] = await pick("ffprobe", explicit.ffprobe);
  return { ffmpeg, ffprobe, source: { ffmpeg: ffmpegSource, ffprobe: ffprobeSource } };
}

/** Human label of a source, for logs and the preflight: `FFMPEG_PATH`, `lean build of npm run ffmpeg:build`, `ffmpeg-static`, `PATH`. */
export function describeFfmpegSource(name: "ffmpeg" | "ffprobe", source: FfmpegSource): string {
  switch (source) {
    case "env":
      return name === "ffmpeg" ? "FFMPEG_PATH" : "FFPROBE_PATH";
    case "lean-build":
      return "lean build of npm run ffmpeg:build";
    case "ffmpeg-static":
      return "ffmpeg-static";
    case "path":
      return "PATH";
  }
}

/**
 * How long a binary takes to start and exit (`<bin> -hide_banner -version`), the faster of `runs` runs (the
 * first may read it from disk): about 2 ms for the lean build, 0.13 s for Debian's dynamically linked one.
 * Asynchronous (never `spawnSync`: the tests' S3 server shares the event loop).
 * @returns milliseconds, or undefined when it does not run
 */
export async function measureStartMs(bin: string, runs = 2): Promise<number | undefined> {
  let best: number | undefined;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const ok = await new Promise<boolean>((resolve) => {
      const child = spawn(bin, ["-hide_banner", "-version"], { stdio: "ignore" });
      child.once("error", () => resolve(false));
      child.once("exit", (code) => resolve(code === 0));
    });
    if (!ok) return undefined;
    const ms = performance.now() - started;
    best = best === undefined ? ms : Math.min(best, ms);
  }
  return best === undefined ? undefined : Math.round(best * 10) / 10;
}

/** What running `<binary> -version` showed: its first line, or why it could not run. */
export type FfmpegCheck = { ok: true; version: string } | { ok: false; error: string };

/**
 * Runs `ffmpeg -version` and `ffprobe -version` (about 2 ms each with the lean build, 0.13 s with Debian's)
 * to learn whether the resolved binaries exist and start.
 * @returns per binary its first `-version` line (`ffmpeg version 5.1.9-0+deb12u1-vidsnap …`) or the error
 *   (`ENOENT`, `EACCES`, `exit code 127`, …)
 */
export function checkFfmpegBinaries(bins: Pick<FfmpegBinaries, "ffmpeg" | "ffprobe">): { ffmpeg: FfmpegCheck; ffprobe: FfmpegCheck } {
  const check = (bin: string): FfmpegCheck => {
    const r = spawnSync(bin, ["-hide_banner", "-version"], { encoding: "utf8", timeout: 10_000 });
    if (r.error) return { ok: false, error: (r.error as NodeJS.ErrnoException).code ?? r.error.message };
    if (r.status !== 0) return { ok: false, error: r.signal ? `killed by ${r.signal}` : `exit code ${r.status}` };
    return { ok: true, version: r.stdout.split("\n")[0]?.trim() ?? "" };
  };
  return { ffmpeg: check(bins.ffmpeg), ffprobe: check(bins.ffprobe) };
}
