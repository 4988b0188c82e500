/**
 * Which ffmpeg/ffprobe binaries to run. Order for ffmpeg: `FFMPEG_PATH`, then the optional npm package
 * `ffmpeg-static` when it is installed (its install script downloads a binary and usually fails offline,
 * so it is normally absent), then `ffmpeg` on PATH. For ffprobe: `FFPROBE_PATH`, then `ffprobe` on PATH
 * (ffmpeg-static ships no ffprobe).
 */
import { existsSync } from "node:fs";

/** Binaries the processor spawns. */
export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
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
 * @param explicit configured paths (`FFMPEG_PATH`, `FFPROBE_PATH`)
 * @returns the binaries to spawn; bare names are looked up on PATH by `spawn`
 */
export async function resolveFfmpegBinaries(explicit: { ffmpeg?: string | undefined; ffprobe?: string | undefined }): Promise<FfmpegBinaries> {
  return {
    ffmpeg: explicit.ffmpeg ?? (await ffmpegStaticPath()) ?? "ffmpeg",
    ffprobe: explicit.ffprobe ?? "ffprobe",
  };
}
