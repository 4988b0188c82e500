/**
 * The pipelines `npm run bench` compares, each measured as wall time + peak RSS of its process tree
 * (./proc-tree.ts). Every tool is spawned with an argument array (no shell).
 * - naive: the peer pipeline `ffmpeg -i in -vf fps=1/N out%04d.png` then `zip -9` (fflate level 9
 *   in this process when `zip` is missing: the output says so, and that archiver's memory is then
 *   not in the peak RSS, which follows child processes only).
 * - vidsnap: the real processor server (./processor-child.ts) reading the video from the local
 *   SigV4 S3 server (tools/stack/s3-server.ts, in the bench process) over a presigned URL, writing
 *   the ZIP by multipart upload — the production code path, only the network is loopback. The child
 *   runs a bundle made with esbuild the way ffmpeg-container/Dockerfile builds the image (not the tsx
 *   loader, whose in-process transpiler would add ~40 MB to the measured RSS).
 * - floor: the least decoding an exact answer needs (keyframes: `-skip_frame nokey -f null`;
 *   interval: min(full decode, decode from the keyframe before each target up to it)).
 * Transcoding (`--transcode`): vidsnap's MSG_TRANSCODE job through the same processor child; naive = one
 * ffmpeg run per rendition (each decoding the input again); floor = the processor's own one-run command
 * (one decode, `split`, one encoder per rendition) on local files. All three use the same encoder
 * settings (ffmpeg-container/src/jobs/transcode/ffmpeg-args.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import { createReadStream, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { build } from "esbuild";
import { zipSync } from "fflate";
import { resolveFfmpegBinaries } from "../../ffmpeg-container/src/ffmpeg/binaries.ts";
import { buildProbeArgs } from "../../ffmpeg-container/src/ffmpeg/input-args.ts";
import { sourceFactsFromProbe, type FfprobeOutput } from "../../ffmpeg-container/src/ffmpeg/probe.ts";
import {
  buildPacketIndexArgs,
  buildSeekExtractArgs,
  DEFAULT_OUTPUT,
  imageOutputArgs,
  intervalSelectExpr,
  keyframesSelectExpr,
} from "../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { buildTranscodeArgs } from "../../ffmpeg-container/src/jobs/transcode/ffmpeg-args.ts";
import { planTranscode, type TranscodePlan } from "../../ffmpeg-container/src/jobs/transcode/plan.ts";
import { signJobRequest } from "../../runtime/job-signature.ts";
import { localJobCredentials } from "../stack/r2-temp-credentials.ts";
import { parsePacketIndex, planIntervalTargets } from "../../ffmpeg-container/src/jobs/extract/plan/strategy.ts";
import { createS3Client } from "../../ffmpeg-container/src/s3.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { ExtractSnapshotEvent, extractSnapshotMessage } from "../../schema/messages/extract-snapshot.ts";
import { TranscodeEvent, transcodeMessage } from "../../schema/messages/transcode.ts";
import type { TranscodeRequest } from "../../schema/transcode-options.ts";
import { sourceObjectKey } from "../../schema/object-keys.ts";
import { LOCAL } from "../stack/local-config.ts";
import { startS3Server, type S3ServerHandle } from "../stack/s3-server.ts";
import { LOCAL_PROCESSOR_SHARED_SECRET, localProcessorEnv } from "../stack/stack.ts";
import { cpuSeconds, startRssSampler } from "./proc-tree.ts";

/** One measurement. Sizes in bytes, times in milliseconds. */
export interface Measurement {
  wallMs: number;
  peakRssBytes: number;
  images: number | null;
  zipBytes: number | null;
  /** Free text: strategy used, which floor won, errors. */
  note?: string;
  error?: string;
  /** Transcodes: bytes of every output. */
  outputBytes?: number;
  /** CPU seconds of the pipeline's process tree (user + system, exited children included); absent where /proc is not. */
  cpuSeconds?: number;
  /** vidsnap extractions: the processor's `extraction phases` log line (wall ms per phase). */
  phasesMs?: Record<string, number>;
}

/**
 * The ffmpeg and ffprobe of every row (naive, floor and the processor child, which gets them as FFMPEG_PATH /
 * FFPROBE_PATH): the processor's own resolution (FFMPEG_PATH, the lean build, ffmpeg-static, PATH), so the
 * floor runs the same binary as vidsnap.
 */
export const BENCH_FFMPEG = await resolveFfmpegBinaries({
  ffmpeg: process.env.FFMPEG_PATH || undefined,
  ffprobe: process.env.FFPROBE_PATH || undefined,
});

/** One ffmpeg/ffprobe pair the rows are measured with; `name` labels the rows (`lean`, `PATH`, `FFMPEG_PATH`). */
export interface BenchBuild {
  name: string;
  ffmpeg: string;
  ffprobe: string;
}

/** The absolute path of `name` on PATH, undefined when absent. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const file = path.join(dir, name);
    if (dir && existsSync(file)) return file;
  }
  return undefined;
}

/**
 * The builds the vidsnap, naive and floor rows run with, side by side in one run (issue 17: every row with
 * both builds): {@link BENCH_FFMPEG} first (FFMPEG_PATH, else the lean build), then the ffmpeg and ffprobe
 * on PATH (Debian's, dynamically linked) when they are other files. Each row's floor and naive use the same
 * binary as its vidsnap row. `--build <name>` keeps one of them.
 */
export const BENCH_BUILDS: BenchBuild[] = (() => {
  const first: BenchBuild = {
    name: BENCH_FFMPEG.source.ffmpeg === "lean-build" ? "lean" : BENCH_FFMPEG.source.ffmpeg === "env" ? "FFMPEG_PATH" : "PATH",
    ffmpeg: BENCH_FFMPEG.ffmpeg,
    ffprobe: BENCH_FFMPEG.ffprobe,
  };
  const ffmpeg = onPath("ffmpeg");
  const ffprobe = onPath("ffprobe");
  const same = (a: string, b: string | undefined) => b !== undefined && (a === b || path.basename(a) === a);
  if (first.name === "PATH" || !ffmpeg || !ffprobe || (same(first.ffmpeg, ffmpeg) && same(first.ffprobe, ffprobe))) return [first];
  return [first, { name: "PATH", ffmpeg, ffprobe }];
})();

/** Children spawned by {@link runTool} that are alive now (the roots the RSS sampler follows). */
const liveChildren = new Set<number>();

/**
 * Runs a tool to completion. @returns exit code and the stderr tail
 * @param cmd binary; @param args argument array; @param cwd working folder
 */
export function runTool(cmd: string, args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"], shell: false });
    if (child.pid) liveChildren.add(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout = (stdout + c).slice(-8 * 1024 * 1024)));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr = (stderr + c).slice(-4000)));
    child.once("error", reject);
    child.once("close", (code) => {
      if (child.pid) liveChildren.delete(child.pid);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Measures `fn` (which spawns through {@link runTool}): wall time and peak RSS of the live children's trees. */
async function measureChildren(fn: () => Promise<Omit<Measurement, "wallMs" | "peakRssBytes">>): Promise<Measurement> {
  const sampler = startRssSampler(() => liveChildren);
  const started = performance.now();
  const before = cpuSeconds();
  try {
    const r = await fn();
    const wallMs = performance.now() - started;
    const after = cpuSeconds();
    // The tools are this process's children, reaped when they exit.
    const cpu = before && after && r.cpuSeconds === undefined ? { cpuSeconds: Math.round((after.reapedChildren - before.reapedChildren) * 100) / 100 } : {};
    return { wallMs, peakRssBytes: sampler.stop(), ...r, ...cpu };
  } catch (e) {
    const wallMs = performance.now() - started;
    return { wallMs, peakRssBytes: sampler.stop(), images: null, zipBytes: null, error: (e as Error).message };
  }
}

/** True when the `zip` binary can be run. */
export const HAVE_ZIP = spawnSync("zip", ["-v"], { stdio: "ignore" }).status === 0;

/**
 * The naive peer pipeline: PNGs at `fps=1/N` (N = 10 by default) into a temp folder, then `zip -9` of them.
 * @param input local video path
 * @param intervalSeconds N, seconds
 * @param build the ffmpeg to run
 */
export function runNaive(input: string, intervalSeconds = 10, build: BenchBuild = BENCH_BUILDS[0]!): Promise<Measurement> {
  return measureChildren(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-naive-"));
    try {
      const ff = await runTool(build.ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", input, "-vf", `fps=1/${intervalSeconds}`, path.join(dir, "out%04d.png")]);
      if (ff.code !== 0) throw new Error(`ffmpeg: ${ff.stderr.trim().split("\n").pop()}`);
      const pngs = (await readdir(dir)).filter((f) => f.endsWith(".png")).sort();
      // fps=1/N rounds to frames near N/2, 3N/2, … s: a video shorter than ~N/2 gets no image, nothing to zip.
      if (pngs.length === 0) return { images: 0, zipBytes: null, note: `no image: fps=1/${intervalSeconds} gives none under ~${intervalSeconds / 2} s` };
      const zipPath = path.join(dir, "out.zip");
      if (HAVE_ZIP) {
        // -j: store names without the temp folder; -q: quiet; the file list is passed as arguments.
        const z = await runTool("zip", ["-9", "-q", "-j", zipPath, ...pngs.map((p) => path.join(dir, p))]);
        if (z.code !== 0) throw new Error(`zip: ${z.stderr.trim()}`);
      } else {
        const files = Object.fromEntries(pngs.map((p) => [p, readFileSync(path.join(dir, p))]));
        writeFileSync(zipPath, zipSync(files, { level: 9 }));
      }
      return { images: pngs.length, zipBytes: statSync(zipPath).size, note: HAVE_ZIP ? "zip -9" : "fflate level 9 (no zip binary)" };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Floor of keyframes mode (issue 17: the fastest plain ffmpeg command for the same output, on a local file,
 * with the same binary): the keyframes as JPEG files of vidsnap's default quality, with default threads and
 * with `-threads 1`; the faster of those that write every keyframe (Theora with frame threads loses some)
 * counts. The note also gives the decode alone (`-f null`, no JPEG: this bench's floor before issue 17).
 * @param input local video path
 * @param build the ffmpeg to run
 */
export async function runFloorKeyframes(input: string, build: BenchBuild = BENCH_BUILDS[0]!): Promise<Measurement> {
  const jpegs = async (threads: string[]) =>
    measureChildren(async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-floor-"));
      try {
        const r = await runTool(build.ffmpeg, [
          "-hide_banner", "-nostdin", "-loglevel", "error", ...threads, "-skip_frame", "nokey", "-i", input, "-map", "0:v:0",
          // As vidsnap: one image per key-flagged frame (Cinepak ignores -skip_frame), none duplicated.
          "-fps_mode", "passthrough", "-vf", `select='${keyframesSelectExpr()}'`,
          ...imageOutputArgs(DEFAULT_OUTPUT).slice(0, -3), path.join(dir, "%06d.jpg"),
        ]);
        if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr.trim().split("\n").pop()}`);
        return { images: (await readdir(dir)).length, zipBytes: null };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  const decodeOnly = await measureChildren(async () => {
    // -threads 1 as in vidsnap's keyframe mode: Theora with frame threads fails on skipped frames.
    const r = await runTool(build.ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1", "-skip_frame", "nokey", "-i", input, "-map", "0:v:0", "-f", "null", "-"]);
    if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr.trim().split("\n").pop()}`);
    return { images: null, zipBytes: null };
  });
  const one = await jpegs(["-threads", "1"]);
  const auto = await jpegs([]);
  const complete = [one, auto].filter((m) => !m.error && m.images === Math.max(one.images ?? 0, auto.images ?? 0));
  const fastest = complete.sort((a, b) => a.wallMs - b.wallMs)[0] ?? one;
  const s = (m: Measurement) => (m.error ? "failed" : `${(m.wallMs / 1000).toFixed(2)} s`);
  return {
    ...fastest,
    note: `JPEG: -threads 1 ${s(one)}${one.images !== null ? ` (${one.images})` : ""}, default threads ${s(auto)}${auto.images !== null ? ` (${auto.images})` : ""}; decode only ${s(decodeOnly)}`,
  };
}

/** Stream index, time base and start of the first video stream (ffprobe). */
function probeVideo(input: string): { index: number; timeBase: string; start: number } {
  const r = spawnSync(BENCH_FFMPEG.ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", input], { encoding: "utf8" });
  const j = JSON.parse(r.stdout) as {
    format: { start_time?: string };
    streams: { index: number; codec_type: string; time_base: string; disposition?: { attached_pic?: number } }[];
  };
  const v = j.streams.find((s) => s.codec_type === "video" && !s.disposition?.attached_pic)!;
  return { index: v.index, timeBase: v.time_base, start: Number(j.format.start_time ?? 0) || 0 };
}

/**
 * Floor of interval mode (issue 17: the fastest plain ffmpeg for the same output, on a local file, with the same
 * binary): the faster of (a) one decode of the whole video stream writing the interval's JPEGs (the select of
 * vidsnap's sequential plan), with default threads and with `-threads 1`, and (b) for each target, decoding from
 * the keyframe before it up to it and writing that JPEG (the processor's seek command, to a file), two at a
 * time. Reading the keyframe index is not counted.
 * @param intervalSeconds N, seconds
 * @param build the ffmpeg to run
 */
export async function runFloorInterval(input: string, intervalSeconds: number, build: BenchBuild = BENCH_BUILDS[0]!): Promise<Measurement> {
  const jpegArgs = imageOutputArgs(DEFAULT_OUTPUT).slice(0, -3);
  const inTempDir = (fn: (dir: string) => Promise<void>) =>
    measureChildren(async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-floor-"));
      try {
        await fn(dir);
        return { images: (await readdir(dir)).length, zipBytes: null };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  const full = async (threads: string[]) =>
    inTempDir(async (dir) => {
      const r = await runTool(build.ffmpeg, [
        "-hide_banner", "-nostdin", "-loglevel", "error", ...threads, "-i", input, "-map", "0:v:0",
        "-fps_mode", "passthrough", "-vf", `select='${intervalSelectExpr(intervalSeconds, 0)}'`,
        ...jpegArgs, path.join(dir, "%06d.jpg"),
      ]);
      if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr.trim().split("\n").pop()}`);
    });
  const fullAuto = await full([]);
  const fullOne = await full(["-threads", "1"]);
  const v = probeVideo(input);
  const idx = await runTool(build.ffprobe, buildPacketIndexArgs(input, v.index));
  const targets = planIntervalTargets(parsePacketIndex(idx.stdout, v.timeBase, v.start), intervalSeconds);
  const seeks = await inTempDir(async (dir) => {
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const i = next++;
        const t = targets[i]!;
        const args = buildSeekExtractArgs(input, v.index, t.keyframeSeconds, t.targetSeconds);
        // The processor's seek command, its JPEG written to a file instead of a pipe.
        const r = await runTool(build.ffmpeg, [...args.slice(0, -3), path.join(dir, `${String(i).padStart(6, "0")}.jpg`)]);
        if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr.trim().split("\n").pop()}`);
      }
    };
    await Promise.all([worker(), worker()]);
  });
  const s = (m: Measurement) => (m.error ? "failed" : `${(m.wallMs / 1000).toFixed(2)} s`);
  const best = [fullAuto, fullOne, seeks].filter((m) => !m.error).sort((a, b) => a.wallMs - b.wallMs)[0] ?? fullAuto;
  return {
    ...best,
    note: `JPEG: full decode ${s(fullAuto)} (-threads 1 ${s(fullOne)}), decode-to-each-target ${s(seeks)} (${targets.length} targets)`,
  };
}

/** The vidsnap processor in a child process, fed through the local S3 server. */
export class VidsnapRunner {
  private constructor(
    private readonly s3Server: S3ServerHandle,
    private readonly s3: S3Client,
    private readonly dataDir: string,
    private readonly children: {
      pid: number;
      url: string;
      kill(): void;
      lastNote: () => string | undefined;
      lastPhases: () => Record<string, number> | undefined;
      resetNote(): void;
    }[],
  ) {}

  /**
   * Starts the S3 server (this process) and one processor child per interval strategy setting.
   * @param build the ffmpeg and ffprobe the children run (FFMPEG_PATH / FFPROBE_PATH)
   */
  static async start(settings: string[], build: BenchBuild = BENCH_BUILDS[0]!): Promise<VidsnapRunner> {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-"));
    await mkdir(path.join(dataDir, "tmp"));
    const s3Server = await startS3Server({ directory: path.join(dataDir, "s3"), port: 0 });
    const s3Config = {
      endpoint: s3Server.endpoint,
      region: LOCAL.s3Region,
      forcePathStyle: true,
    };
    const bundle = path.join(dataDir, "processor-child.mjs");
    await bundleProcessorChild(bundle);
    const children = await Promise.all(settings.map((s) => startChild(bundle, s, s3Server.endpoint, path.join(dataDir, "tmp"), build)));
    // The bench's own client (uploads, reads) plays the owner with the S3 server's key; the processor children have none.
    return new VidsnapRunner(s3Server, createS3Client(s3Config, { accessKeyId: LOCAL.s3AccessKeyId, secretAccessKey: LOCAL.s3SecretAccessKey }), dataDir, children);
  }

  /** The local file of each uploaded video (see {@link run}). */
  private readonly files = new Map<string, string>();

  /**
   * Uploads a local file as source of `videoId` (not timed). @returns its ETag, which jobs carry as
   * `sourceEtag` as the API's do (recorded at `complete`)
   */
  async upload(videoId: string, file: string): Promise<string> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: LOCAL.videosBucket,
        Key: sourceObjectKey("bench", videoId),
        Body: createReadStream(file),
        ContentLength: statSync(file).size,
      }),
    );
    this.files.set(videoId, file);
    return out.ETag!;
  }

  /**
   * A fresh upload of `videoId`'s file under a new video id for one run (not timed), removed after it: every
   * run starts with no local copy of its source on the processor, as a job right after an upload does.
   */
  private async freshSource<T>(videoId: string, attempt: number, fn: (runVideoId: string, etag: string) => Promise<T>): Promise<T> {
    const file = this.files.get(videoId);
    if (!file) throw new Error(`${videoId} was not uploaded`);
    const runVideoId = `${videoId}-run${attempt}`;
    const etag = await this.upload(runVideoId, file);
    try {
      return await fn(runVideoId, etag);
    } finally {
      this.files.delete(runVideoId);
      await this.s3.send(new DeleteObjectCommand({ Bucket: LOCAL.videosBucket, Key: sourceObjectKey("bench", runVideoId) }));
    }
  }

  /** Last attempt number used: every run is a new attempt, as the processor never replaces a finished one's output. */
  private attempts = 0;

  /**
   * Runs one job (a new attempt) on processor child `which` and measures it: wall time from POST /jobs to
   * the last NDJSON line, peak RSS of that processor's tree (Node server + its ffmpeg/ffprobe children).
   */
  async run(which: number, videoId: string, options: ExtractionOptions): Promise<Measurement> {
    const attempt = ++this.attempts;
    const child = this.children[which]!;
    child.resetNote();
    const { wallMs, peakRssBytes, lastLine, cpu } = await this.freshSource(videoId, attempt, (runVideoId, sourceEtag) =>
      this.post(child, extractSnapshotMessage({ videoId: runVideoId, userId: "bench", attempt, options, sourceEtag })),
    );
    const last = ExtractSnapshotEvent.parse(JSON.parse(lastLine));
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") {
      const p = last.payload as { errorMessage?: string };
      return { wallMs, peakRssBytes, images: null, zipBytes: null, error: p.errorMessage ?? last.type };
    }
    const strategy = child.lastNote();
    const phasesMs = child.lastPhases();
    return {
      wallMs,
      peakRssBytes,
      ...cpu,
      ...(phasesMs ? { phasesMs } : {}),
      images: last.payload.imageCount,
      zipBytes: last.payload.zipSizeBytes,
      ...(strategy ? { note: strategy } : {}),
    };
  }

  /**
   * Runs one transcode on processor child `which` and measures it like {@link run}.
   * @returns the measurement with the outputs' total bytes (`outputBytes`) and the processor's encode speed in `note`
   */
  async runTranscode(which: number, videoId: string, transcode: TranscodeRequest): Promise<Measurement> {
    const attempt = ++this.attempts;
    const child = this.children[which]!;
    const { wallMs, peakRssBytes, lastLine, cpu } = await this.freshSource(videoId, attempt, (runVideoId) =>
      this.post(child, transcodeMessage({ transcodeId: `t-${runVideoId}`, videoId: runVideoId, userId: "bench", attempt, transcode })),
    );
    const last = TranscodeEvent.parse(JSON.parse(lastLine));
    if (last.type !== "MSG_TRANSCODE_SUCCESS") {
      const p = last.payload as { errorMessage?: string };
      return { wallMs, peakRssBytes, images: null, zipBytes: null, error: p.errorMessage ?? last.type };
    }
    const { outputs, elapsedSeconds } = last.payload;
    return {
      wallMs,
      peakRssBytes,
      images: null,
      zipBytes: null,
      ...cpu,
      outputBytes: outputs.reduce((n, o) => n + o.sizeBytes, 0),
      note: `encode ${elapsedSeconds.toFixed(2)} s in the processor; ${outputs.map((o) => `${o.rendition} ${o.width}x${o.height} ${o.bitrateKbps} kbit/s`).join(", ")}`,
    };
  }

  /**
   * POSTs a signed job (as the Worker signs it) and reads the NDJSON answer to its end, sampling the
   * child's tree RSS meanwhile. @returns wall time, peak RSS, the last line and the CPU seconds of the
   *   processor child and its reaped ffprobe/ffmpeg children (`cpu` is empty where /proc is not)
   */
  private async post(
    child: { pid: number; url: string },
    message: unknown,
  ): Promise<{ wallMs: number; peakRssBytes: number; lastLine: string; cpu: { cpuSeconds?: number } }> {
    const before = cpuSeconds(child.pid);
    // As the Worker sends it: the envelope plus the job's storage credentials (the processor holds no key).
    const body = JSON.stringify({ ...(message as object), credentials: localJobCredentials(message) });
    const headers = { "content-type": "application/json", ...(await signJobRequest(LOCAL_PROCESSOR_SHARED_SECRET, body)) };
    const sampler = startRssSampler(() => [child.pid]);
    const started = performance.now();
    const res = await fetch(`${child.url}/jobs`, { method: "POST", headers, body });
    const text = await res.text();
    const wallMs = performance.now() - started;
    const peakRssBytes = sampler.stop();
    const after = cpuSeconds(child.pid);
    if (res.status !== 200) throw new Error(`POST /jobs answered ${res.status}: ${text.slice(0, 300)}`);
    const total = (c: { own: number; reapedChildren: number }) => c.own + c.reapedChildren;
    const cpu = before && after ? { cpuSeconds: Math.round((total(after) - total(before)) * 100) / 100 } : {};
    return { wallMs, peakRssBytes, lastLine: text.trim().split("\n").pop()!, cpu };
  }

  /** Stops the children and the S3 server, removes the data folder. */
  async close(): Promise<void> {
    for (const c of this.children) c.kill();
    this.s3.destroy();
    await this.s3Server.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Bundles ./processor-child.ts into one ESM file with the options of ffmpeg-container/Dockerfile
 * (platform node, a `require` shim for the AWS SDK's CommonJS parts).
 * @param outfile where to write it
 */
async function bundleProcessorChild(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(path.dirname(new URL(import.meta.url).pathname), "processor-child.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    outfile,
    logLevel: "warning",
    banner: { js: "import { createRequire as __vidsnapCreateRequire } from 'node:module'; const require = __vidsnapCreateRequire(import.meta.url);" },
  });
}

/** Spawns the bundled ./processor-child.ts with plain Node and waits for its listening line. */
async function startChild(bundle: string, setting: string, endpoint: string, tmpDir: string, build: BenchBuild) {
  const child = spawn(process.execPath, [bundle], {
    stdio: ["ignore", "pipe", "inherit"],
    shell: false,
    env: {
      ...localProcessorEnv(0, endpoint),
      FFMPEG_PATH: build.ffmpeg,
      FFPROBE_PATH: build.ffprobe,
      JOB_TIMEOUT_SECONDS: "900",
      TMPDIR: tmpDir,
      BENCH_INTERVAL_STRATEGY: setting,
      // The AWS SDK's Node 20 deprecation notice is noise here.
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1",
      NODE_NO_WARNINGS: "1",
    },
  });
  let lastNote: string | undefined;
  let lastPhases: Record<string, number> | undefined;
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`processor child exited with ${code}`)));
    lines.on("line", (line) => {
      try {
        const j = JSON.parse(line) as {
          benchListening?: string;
          msg?: string;
          strategy?: string;
          reason?: string;
          ms?: number;
          segments?: number;
          phasesMs?: Record<string, number>;
        };
        if (j.benchListening) resolve(j.benchListening);
        // `ms`: time the choice took (keyframe index read over HTTP included when it was read).
        if (j.msg === "interval strategy") lastNote = `strategy ${j.strategy}, chosen in ${j.ms} ms (${j.reason})`;
        if (j.msg === "extraction phases") lastPhases = j.phasesMs;
        if (j.msg === "keyframe accuracy") lastNote = "keyframes-only decode, nearest keyframe picked";
        if (j.msg === "parallel segments") lastNote = `${lastNote ? `${lastNote}; ` : ""}decoded as ${j.segments} halves in parallel`;
      } catch {
        // not JSON
      }
    });
  });
  return {
    pid: child.pid!,
    url,
    kill: () => child.kill("SIGTERM"),
    lastNote: () => lastNote,
    lastPhases: () => lastPhases,
    resetNote: () => {
      lastNote = undefined;
      lastPhases = undefined;
    },
  };
}

/**
 * The processor's plan of a transcode of a local file (ffprobe through the processor's own parser).
 * @returns the plan and the stream indexes
 */
function planLocalTranscode(input: string, request: TranscodeRequest): { plan: TranscodePlan; video: number; audio: number | null } {
  const r = spawnSync(BENCH_FFMPEG.ffprobe, buildProbeArgs(input), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ffprobe: ${r.stderr.trim()}`);
  const probe = sourceFactsFromProbe(JSON.parse(r.stdout) as FfprobeOutput, statSync(input).size);
  const plan = planTranscode(request, {
    ...probe.facts,
    sampleAspectRatio: probe.sampleAspectRatio,
    hasAudio: probe.audioStreamIndex !== null,
  });
  return { plan, video: probe.streamIndex, audio: probe.audioStreamIndex };
}

/**
 * Runs transcode commands in a fresh temp folder (each its own ffmpeg), in order.
 * @returns the outputs' bytes and the CPU seconds of the ffmpeg runs (this process's reaped children)
 */
async function runTranscodeCommands(commands: string[][], files: string[]): Promise<{ outputBytes: number; cpuSeconds?: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-transcode-"));
  const before = cpuSeconds();
  try {
    for (const args of commands) {
      const r = await runTool(BENCH_FFMPEG.ffmpeg, args, dir);
      if (r.code !== 0) throw new Error(`ffmpeg: ${r.stderr.trim().split("\n").pop()}`);
    }
    const after = cpuSeconds();
    return {
      outputBytes: files.reduce((n, f) => n + statSync(path.join(dir, f)).size, 0),
      // This process's reaped children: the ffmpeg runs (the processor child is alive, not reaped).
      ...(before && after ? { cpuSeconds: Math.round((after.reapedChildren - before.reapedChildren) * 100) / 100 } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Naive transcoding: one ffmpeg run per rendition, one after the other, each decoding the input again,
 * with the processor's encoder settings (its argument builder, given one output at a time).
 * @param input local video path
 */
export function runNaiveTranscode(input: string, request: TranscodeRequest): Promise<Measurement> {
  return measureChildren(async () => {
    const { plan, video, audio } = planLocalTranscode(input, request);
    const commands = plan.outputs.map((o) => buildTranscodeArgs({ url: input, videoStreamIndex: video, audioStreamIndex: audio }, { ...plan, outputs: [o] }));
    const out = await runTranscodeCommands(commands, plan.outputs.map((o) => o.file));
    return { images: null, zipBytes: null, ...out, note: `${commands.length} ffmpeg runs` };
  });
}

/**
 * Floor of transcoding: the processor's own command (one decode, `split`, every encoder) on local files:
 * no S3 read, no probe, no measuring, no upload.
 * @param input local video path
 */
export function runFloorTranscode(input: string, request: TranscodeRequest): Promise<Measurement> {
  return measureChildren(async () => {
    const { plan, video, audio } = planLocalTranscode(input, request);
    const args = buildTranscodeArgs({ url: input, videoStreamIndex: video, audioStreamIndex: audio }, plan);
    const out = await runTranscodeCommands([args], plan.outputs.map((o) => o.file));
    return { images: null, zipBytes: null, ...out, note: "1 ffmpeg run, split" };
  });
}
