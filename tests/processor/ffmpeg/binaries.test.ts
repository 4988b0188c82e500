/**
 * The one ffmpeg/ffprobe resolver (ffmpeg-container/src/ffmpeg/binaries.ts): its order (FFMPEG_PATH →
 * lean build → ffmpeg-static → PATH), the lean build's folder name agreeing with the build script's
 * (ffmpeg-container/build/build-ffmpeg.sh --print-hash), and `-version` checks of real and missing binaries.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkFfmpegBinaries,
  configureFlagsHash,
  leanBuildDir,
  measureStartMs,
  resolveFfmpegBinaries,
} from "../../../ffmpeg-container/src/ffmpeg/binaries.ts";
import { REPO_ROOT } from "../../../tools/paths.ts";

const SCRIPT = path.join(REPO_ROOT, "ffmpeg-container/build/build-ffmpeg.sh");
const FLAGS = path.join(REPO_ROOT, "ffmpeg-container/build/configure-flags.txt");
const tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-binaries-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fake build folder `<root>/<name>/bin/{ffmpeg,ffprobe}` whose binaries print a version line. */
function fakeBuild(root: string, name: string, bins: readonly string[] = ["ffmpeg", "ffprobe"]): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, "bin"), { recursive: true });
  for (const b of bins) {
    const file = path.join(dir, "bin", b);
    writeFileSync(file, `#!/bin/sh\necho "${b} version fake-${name}"\n`);
    chmodSync(file, 0o755);
  }
  return dir;
}

describe("configure flags hash", () => {
  it("equals the build script's, so the resolver finds what `npm run ffmpeg:build` built", () => {
    const fromScript = execFileSync("bash", [SCRIPT, "--print-hash"], { encoding: "utf8" }).trim();
    expect(fromScript).toMatch(/^[0-9a-f]{12}$/);
    expect(configureFlagsHash(readFileSync(FLAGS, "utf8"))).toBe(fromScript);
  });

  it("ignores comments, blank lines and indentation, not flags", () => {
    const base = configureFlagsHash("--enable-gpl\n--disable-everything\n");
    expect(configureFlagsHash("# why\n  --enable-gpl  \n\n--disable-everything")).toBe(base);
    expect(configureFlagsHash("--enable-gpl\n--disable-everything\n--enable-zlib\n")).not.toBe(base);
  });
});

describe("leanBuildDir", () => {
  const flagsFile = path.join(tmp, "flags.txt");
  writeFileSync(flagsFile, "--enable-gpl\n");
  const hash = configureFlagsHash("--enable-gpl\n");

  it("finds the folder of the current flags with both binaries, newest build first", () => {
    const root = path.join(tmp, "root-found");
    const older = fakeBuild(root, `5.1.8-0+deb12u1-${hash}`);
    const newer = fakeBuild(root, `5.1.9-0+deb12u1-${hash}`);
    fakeBuild(root, "5.1.9-0+deb12u1-000000000000"); // other flags
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(path.join(older, "bin/ffmpeg"), past, past);
    expect(leanBuildDir(root, flagsFile)).toBe(newer);
  });

  it("skips a build without ffprobe, an unfinished one, and a missing root or flags file", () => {
    const root = path.join(tmp, "root-partial");
    fakeBuild(root, `5.1.9-0+deb12u1-${hash}`, ["ffmpeg"]);
    fakeBuild(root, `5.1.9-0+deb12u1-${hash}.partial`);
    expect(leanBuildDir(root, flagsFile)).toBeUndefined();
    expect(leanBuildDir(path.join(tmp, "nowhere"), flagsFile)).toBeUndefined();
    expect(leanBuildDir(root, path.join(tmp, "no-flags.txt"))).toBeUndefined();
  });
});

describe("resolveFfmpegBinaries", () => {
  const flagsFile = path.join(tmp, "flags-resolve.txt");
  writeFileSync(flagsFile, "--enable-gpl\n--enable-libx264\n");
  const root = path.join(tmp, "root-resolve");
  const lean = fakeBuild(root, `5.1.9-0+deb12u1-${configureFlagsHash("--enable-gpl\n--enable-libx264\n")}`);
  const empty = path.join(tmp, "root-empty");
  mkdirSync(empty);

  it("FFMPEG_PATH / FFPROBE_PATH win over everything", async () => {
    const b = await resolveFfmpegBinaries({ ffmpeg: "/opt/ff", ffprobe: "/opt/fp" }, { buildRoot: root, flagsFile });
    expect(b).toEqual({ ffmpeg: "/opt/ff", ffprobe: "/opt/fp", source: { ffmpeg: "env", ffprobe: "env" } });
  });

  it("then the lean build, each binary on its own (FFMPEG_PATH alone leaves ffprobe to the lean build)", async () => {
    const b = await resolveFfmpegBinaries({ ffmpeg: "/opt/ff" }, { buildRoot: root, flagsFile });
    expect(b).toEqual({ ffmpeg: "/opt/ff", ffprobe: path.join(lean, "bin/ffprobe"), source: { ffmpeg: "env", ffprobe: "lean-build" } });
    const both = await resolveFfmpegBinaries({}, { buildRoot: root, flagsFile });
    expect(both.ffmpeg).toBe(path.join(lean, "bin/ffmpeg"));
    expect(both.source).toEqual({ ffmpeg: "lean-build", ffprobe: "lean-build" });
  });

  it("without a lean build: ffmpeg-static when it installed, else PATH; ffprobe always PATH", async () => {
    const b = await resolveFfmpegBinaries({}, { buildRoot: empty, flagsFile });
    expect(b.ffprobe).toBe("ffprobe");
    expect(b.source.ffprobe).toBe("path");
    if (b.source.ffmpeg === "ffmpeg-static") expect(b.ffmpeg).toContain("ffmpeg-static");
    else expect(b).toMatchObject({ ffmpeg: "ffmpeg", source: { ffmpeg: "path" } });
  });
});

describe("checkFfmpegBinaries", () => {
  it("reports the first -version line of binaries that run", async () => {
    const b = await resolveFfmpegBinaries({});
    const c = checkFfmpegBinaries(b);
    expect(c.ffmpeg).toMatchObject({ ok: true, version: expect.stringMatching(/^ffmpeg version /) });
    expect(c.ffprobe).toMatchObject({ ok: true, version: expect.stringMatching(/^ffprobe version /) });
  });

  it("reports ENOENT for a missing binary and the exit code of one that fails", () => {
    const failing = path.join(tmp, "failing");
    writeFileSync(failing, "#!/bin/sh\nexit 3\n");
    chmodSync(failing, 0o755);
    const c = checkFfmpegBinaries({ ffmpeg: path.join(tmp, "absent/ffmpeg"), ffprobe: failing });
    expect(c.ffmpeg).toEqual({ ok: false, error: "ENOENT" });
    expect(c.ffprobe).toEqual({ ok: false, error: "exit code 3" });
  });
});

describe("measureStartMs", () => {
  it("times a start of the resolved ffmpeg; a missing or failing binary gives undefined", async () => {
    const b = await resolveFfmpegBinaries({});
    const ms = await measureStartMs(b.ffmpeg);
    expect(ms).toBeGreaterThan(0);
    // The lean build starts in ~2 ms, Debian's in ~0.13 s; anything near a second means something else was timed.
    expect(ms).toBeLessThan(1000);
    const failing = path.join(tmp, "failing-start");
    writeFileSync(failing, "#!/bin/sh\nexit 3\n");
    chmodSync(failing, 0o755);
    expect(await measureStartMs(failing)).toBeUndefined();
    expect(await measureStartMs(path.join(tmp, "absent/ffmpeg"))).toBeUndefined();
  });
});
