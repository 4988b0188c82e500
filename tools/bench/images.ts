/**
 * The images-on-demand section of `npm run bench` (`-- --images`; issue 16, README "Performance"): through
 * the whole local stack (edge-api under `wrangler dev` → ProcessorContainer object → processor → S3), side by
 * side with plain ffmpeg on the local file:
 * - cold thumbnail at 10 random times each 7 s after a keyframe (every one a new, uncached image) vs the
 *   floor: one ffmpeg with an accurate input seek (decodes from the previous keyframe to `time`), medians;
 * - warm thumbnail: the same URL again (images bucket / Cache API), median of 20;
 * - storyboard sprite (cold) vs its floor (keyframes-only decode into the same tiles) and vs the naive
 *   `fps=N/d,scale,tile` over every frame;
 * - animated GIF 5 s at 10 fps, 480 px wide (cold) vs the same command run plainly.
 * Every row names the ffmpeg build each side ran (issue 17: the floor uses vidsnap's own binary; the
 * processor's is read from its "ffmpeg binaries" log line) and adds the floor with the other build (lean vs
 * Debian's, when both exist) and vidsnap's own render arguments run plainly on the local file (what is left
 * is the stack's cost: Worker, object, processor HTTP, ranged reads from S3). The whole section with
 * Debian's build: `FFMPEG_PATH=/usr/bin/ffmpeg FFPROBE_PATH=/usr/bin/ffprobe npm run bench -- --images`.
 * Timings are wall clock of this process, HTTP included; expect ±10 % between runs on a shared machine.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { authenticate, createVidsnapClient, waitForVideo } from "../../client/src/index.ts";
import { uploadVideoFile } from "../../client/src/upload.ts";
import { storyboardPlan, ThumbnailQuery, thumbnailSpec } from "../../schema/image-options.ts";
import { checkFfmpegBinaries, leanBuildDir } from "../../ffmpeg-container/src/ffmpeg/binaries.ts";
import { buildStoryboardArgs, buildThumbnailArgs } from "../../ffmpeg-container/src/renders/args.ts";
import { freePort } from "../free-port.ts";
import { startStack } from "../stack/stack.ts";
import { BENCH_FFMPEG } from "./pipelines.ts";

/** One compared measurement, milliseconds. */
export interface ImagesRow {
  input: string;
  what: string;
  vidsnapMs: number;
  /** The ffmpeg build the processor ran, e.g. `lean 5.1.9-0+deb12u1-vidsnap`. */
  vidsnapBuild: string;
  floorMs: number | null;
  /** The ffmpeg build the floor (and naive, same-args) ran: the bench's, which must be vidsnap's. */
  floorBuild: string;
  /** The floor with the other build (Debian's when the lean one is vidsnap's, and back), when present. */
  floorOtherMs: number | null;
  otherBuild: string | null;
  /** vidsnap's own ffmpeg arguments of the render, run plainly on the local file (null: not comparable). */
  sameArgsMs: number | null;
  naiveMs: number | null;
  vsFloor: number | null;
  note?: string;
}

/** The JSON object of a stack log line (`[name] … {json}`), or undefined. */
function logRecord(line: string): Record<string, unknown> | undefined {
  const i = line.indexOf("{");
  if (i < 0) return undefined;
  try {
    return JSON.parse(line.slice(i)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * Where the cold thumbnails' time went, medians in ms, from the stack's log lines: wrangler dev's own line per
 * request (`[wrangler:info] GET <path> 200 OK (N ms)`: the Worker's whole time, its proxy included) and the
 * processor's `render done` (its own time, of which ffmpeg). The rest of the client's time is HTTP to
 * wrangler; Worker minus processor is the Worker's own work (session and video queries, images-bucket miss,
 * render budget) plus the ProcessorContainer object's hop.
 */
function coldBreakdown(lines: string[], clientMs: number): string {
  const records = lines.map(logRecord).filter((r): r is Record<string, unknown> => r !== undefined);
  const nums = (field: string) =>
    records.filter((r) => r.msg === "render done" && r.render === "thumbnail" && typeof r[field] === "number").map((r) => r[field] as number);
  const processor = nums("ms");
  const ffmpeg = nums("ffmpegMs");
  const worker = lines.flatMap((l) => {
    const m = /GET \S+\/thumbnail\.jpg\S* 200 OK \((\d+)ms\)/.exec(l);
    return m ? [Number(m[1])] : [];
  });
  if (processor.length === 0 || worker.length === 0) return "breakdown: log lines missing";
  const m = (xs: number[]) => Math.round(median(xs));
  return (
    `breakdown (medians): client ${Math.round(clientMs)} = HTTP to wrangler ${Math.round(clientMs) - m(worker)} + Worker ${m(worker)} ` +
    `(own work and object hop ${m(worker) - m(processor)} + processor ${m(processor)}, of which ffmpeg ${m(ffmpeg)})`
  );
}

/** A binary and its label: where it came from and its version, e.g. `lean 5.1.9-0+deb12u1-vidsnap`. */
interface Build {
  ffmpeg: string;
  label: string;
}

/** Label of an ffmpeg binary: `lean`, `PATH`, `FFMPEG_PATH`… and the version from `-version`. */
function buildLabel(ffmpeg: string, source: string): string {
  const check = checkFfmpegBinaries({ ffmpeg, ffprobe: ffmpeg }).ffmpeg;
  const version = check.ok ? (check.version.match(/^ffmpeg version (\S+)/)?.[1] ?? check.version) : `unusable (${check.error})`;
  return `${source === "lean-build" ? "lean" : source === "path" ? "PATH" : source === "env" ? "FFMPEG_PATH" : source} ${version}`;
}

/** The other build to time the floors with: Debian's on PATH when the bench runs the lean one, else the lean one. */
function otherBuild(): Build | null {
  if (BENCH_FFMPEG.source.ffmpeg === "lean-build") {
    const label = buildLabel("ffmpeg", "path");
    return label.includes("unusable") ? null : { ffmpeg: "ffmpeg", label };
  }
  const lean = leanBuildDir();
  return lean ? { ffmpeg: path.join(lean, "bin/ffmpeg"), label: buildLabel(path.join(lean, "bin/ffmpeg"), "lean-build") } : null;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Wall time of one local ffmpeg run, ms (stdout discarded). @throws Error when it fails
 * @param bin the binary (default the bench's, which is vidsnap's)
 */
function timeFfmpeg(args: string[], bin = BENCH_FFMPEG.ffmpeg): number {
  const t = performance.now();
  const r = spawnSync(bin, ["-hide_banner", "-nostdin", "-loglevel", "error", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr.toString().slice(-300)}`);
  return performance.now() - t;
}

/** Keyframe times, duration, size and stream index of a local file's first video stream (ffprobe packets flagged K). */
function keyframes(file: string): { times: number[]; duration: number; width: number; height: number; index: number } {
  const r = spawnSync(BENCH_FFMPEG.ffprobe, ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags:stream=index,width,height:format=duration", "-of", "json", file], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const j = JSON.parse(r.stdout) as { packets: { pts_time?: string; flags: string }[]; streams: { index: number; width: number; height: number }[]; format: { duration: string } };
  const times = j.packets.filter((p) => p.flags.includes("K") && p.pts_time !== undefined).map((p) => Number(p.pts_time)).sort((a, b) => a - b);
  return { times, duration: Number(j.format.duration), width: j.streams[0]!.width, height: j.streams[0]!.height, index: j.streams[0]!.index };
}

/**
 * Runs the section on each input through one stack.
 * @param files local videos (franck.mp4, the derived 1080p 200 s input)
 * @returns the rows (also printed)
 */
export async function imagesSection(files: string[]): Promise<ImagesRow[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-bench-images-"));
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  // The stack's last lines, printed when a step fails.
  const tail: string[] = [];
  // The processor logs the binaries it resolved at its first job or render.
  let vidsnapBuild = "unknown (no \"ffmpeg binaries\" log line)";
  const onLine = (line: string) => {
    const json = line.startsWith("[processor] ") && line.includes('"ffmpeg binaries"') ? line.slice("[processor] ".length) : undefined;
    if (json) {
      const b = JSON.parse(json) as { ffmpeg: string; ffmpegSource: string };
      vidsnapBuild = buildLabel(b.ffmpeg, b.ffmpegSource);
      if (path.resolve(b.ffmpeg) !== path.resolve(BENCH_FFMPEG.ffmpeg) && b.ffmpeg !== BENCH_FFMPEG.ffmpeg) vidsnapBuild += ` (NOT the floor's ${BENCH_FFMPEG.ffmpeg})`;
    }
    if (tail.push(line) > 200) tail.shift();
    if (recording) recorded.push(line);
    if (line.includes('"msg":"image rendered"')) {
      const r = logRecord(line);
      if (typeof r?.requestId === "string") storedRenders.add(r.requestId);
    }
  };
  /** Request ids whose render the Worker logged as stored (`image rendered`, written once its images-bucket PUT ended). */
  const storedRenders = new Set<string>();
  /** Lines of the stack while the cold thumbnails run (their logs give the breakdown). */
  let recording = false;
  let recorded: string[] = [];
  const stack = await startStack({ dataDir, apiPort, processorPort, s3Port, log: onLine });
  const floorBuild = buildLabel(BENCH_FFMPEG.ffmpeg, BENCH_FFMPEG.source.ffmpeg);
  const other = otherBuild();
  const rows: ImagesRow[] = [];
  let step = "sign-up";
  try {
    const { token } = await authenticate(stack.apiUrl, "sign-up", { email: "bench-images@vidsnap.local", password: "bench-password-123", name: "bench" });
    let lastRequestId: string | null = null;
    /**
     * Waits (at most 5 s) until the last request's render is stored. The S3 server runs in this process and
     * the floors below block it (spawnSync): a PUT left pending would otherwise be served in front of the
     * next cold request's own storage reads and count in its time.
     */
    const renderStored = async () => {
      const id = lastRequestId;
      for (const until = Date.now() + 5000; id && !storedRenders.has(id) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 5));
    };
    const get = async (pathAndQuery: string): Promise<number> => {
      step = pathAndQuery;
      const t = performance.now();
      const send = () => fetch(stack.apiUrl + pathAndQuery, { headers: { authorization: `Bearer ${token}` } });
      // A kept-alive connection the server closed while a long local ffmpeg ran fails at once ("other side
      // closed"): the GET is sent again on a new connection (its time counts from the first try).
      const res = await send().catch(send);
      await res.arrayBuffer();
      lastRequestId = res.headers.get("x-request-id");
      const ms = performance.now() - t;
      if (res.status !== 200) throw new Error(`${pathAndQuery} answered ${res.status}`);
      return ms;
    };
    for (const file of files) {
      const input = path.basename(file);
      step = `upload of ${input}`;
      const video = await uploadVideoFile({ baseUrl: stack.apiUrl, token, filePath: file, options: { mode: "keyframes", maxImages: 1 } });
      // Its (tiny) extraction job finishes first, so nothing else runs during the measurements.
      await waitForVideo(createVidsnapClient({ baseUrl: stack.apiUrl, token }), video.id);
      const base = `/v1/videos/${video.id}`;
      const kf = keyframes(file);
      // 10 times, each 7 s after a keyframe (random keyframes, with a random millisecond so every URL is new).
      const candidates = kf.times.filter((k) => k + 7.5 < kf.duration);
      const times = Array.from({ length: 10 }, (_, i) => {
        const k = candidates[Math.floor(Math.random() * candidates.length)]!;
        return Math.round((k + 7 + i / 1000) * 1000) / 1000;
      });
      // One warm-up render (container start, ffmpeg binaries resolved), not timed.
      await get(`${base}/thumbnail.jpg?time=0.5`);
      const cold = [];
      const floor = [];
      const floorOther = [];
      const sameArgs = [];
      recorded = [];
      recording = true;
      for (const t of times) {
        cold.push(await get(`${base}/thumbnail.jpg?time=${t}`));
        await renderStored();
        const floorArgs = ["-ss", String(t), "-i", file, "-map", "0:v:0", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "3", "-f", "image2pipe", "-"];
        floor.push(timeFfmpeg(floorArgs));
        if (other) floorOther.push(timeFfmpeg(floorArgs, other.ffmpeg));
        const spec = thumbnailSpec("jpg", ThumbnailQuery.parse({ time: String(t) }));
        if (spec.kind === "thumbnail") sameArgs.push(timeFfmpeg(buildThumbnailArgs(file, kf.index, spec, t, { seek: true })));
      }
      // The last log lines may still be in the pipes.
      await new Promise((r) => setTimeout(r, 300));
      recording = false;
      const breakdown = coldBreakdown(recorded, median(cold));
      const warm = [];
      for (let i = 0; i < 20; i++) warm.push(await get(`${base}/thumbnail.jpg?time=${times[0]}`));
      const plan = storyboardPlan(kf.duration, kf.width, kf.height);
      const story = await get(`${base}/storyboard.jpg`);
      await renderStored();
      const storyFloorArgs = [
        "-threads", "1", "-skip_frame", "nokey", "-i", file, "-map", "0:v:0",
        "-vf", `select='eq(key,1)',fps=fps=${plan.tiles.length}/${kf.duration}:start_time=0,scale=${plan.tileWidth}:${plan.tileHeight},tile=${plan.columns}x${plan.rows}`,
        "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "5", "-f", "image2pipe", "-",
      ];
      const storyFloor = timeFfmpeg(storyFloorArgs);
      const storyFloorOther = other ? timeFfmpeg(storyFloorArgs, other.ffmpeg) : null;
      const storySame = timeFfmpeg(buildStoryboardArgs(file, kf.index, plan, "jpg"));
      const storyNaive = timeFfmpeg([
        "-i", file, "-map", "0:v:0",
        "-vf", `fps=${plan.tiles.length}/${kf.duration},scale=${plan.tileWidth}:-2,tile=${plan.columns}x${plan.rows}`,
        "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "5", "-f", "image2pipe", "-",
      ]);
      const gif = await get(`${base}/animated.gif?start=20&end=25&fps=10&width=480`);
      const gifArgs = [
        "-ss", "20", "-t", "5", "-i", file,
        "-filter_complex", "[0:v:0]fps=10,scale=480:-1:flags=lanczos,split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle",
        "-loop", "0", "-f", "gif", "-",
      ];
      const gifPlain = timeFfmpeg(gifArgs);
      const gifPlainOther = other ? timeFfmpeg(gifArgs, other.ffmpeg) : null;
      const ms = (v: number | null) => (v === null ? null : Math.round(v));
      const r = (what: string, v: number, f: number | null, more: { other?: number | null; same?: number | null; naive?: number | null; note?: string } = {}): ImagesRow => ({
        input,
        what,
        vidsnapMs: Math.round(v),
        vidsnapBuild,
        floorMs: ms(f),
        floorBuild,
        floorOtherMs: ms(more.other ?? null),
        otherBuild: other?.label ?? null,
        sameArgsMs: ms(more.same ?? null),
        naiveMs: ms(more.naive ?? null),
        vsFloor: f === null ? null : Math.round((v / f) * 100) / 100,
        ...(more.note ? { note: more.note } : {}),
      });
      rows.push(
        r("cold thumbnail (median of 10, 7 s after a keyframe)", median(cold), median(floor), {
          other: floorOther.length ? median(floorOther) : null,
          same: median(sameArgs),
          note: `floor: ffmpeg -ss t (accurate) on the local file; ${breakdown}`,
        }),
        r("warm thumbnail (median of 20)", median(warm), null, { note: "target < 30 ms" }),
        r(`storyboard ${plan.tiles.length} tiles (cold)`, story, storyFloor, { other: storyFloorOther, same: storySame, naive: storyNaive, note: "floor: keyframes-only decode; naive: fps=N/d over every frame" }),
        r("animated GIF 5 s 10 fps 480 px (cold)", gif, gifPlain, { other: gifPlainOther, note: "floor: the same ffmpeg command, plainly" }),
      );
    }
  } catch (err) {
    console.error(`images section failed at ${step}; the stack's last lines:\n${tail.join("\n")}`);
    throw err;
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  console.log("\n## images on demand — through the local stack (Worker → ProcessorContainer → processor → S3) vs plain ffmpeg on the local file, ms");
  console.log(`vidsnap ran ${rows[0]?.vidsnapBuild ?? vidsnapBuild}; floor, same args and naive ran ${floorBuild}; floor (other) ran ${other?.label ?? "- (no other build)"}`);
  const cols = ["input", "what", "vidsnap", "floor", "vs floor", "same args", "floor (other)", "naive", "vidsnap build", "note"];
  const n = (v: number | null) => (v === null ? "-" : String(v));
  const cells = rows.map((x) => [
    x.input, x.what, String(x.vidsnapMs), n(x.floorMs), x.vsFloor === null ? "-" : `${x.vsFloor.toFixed(2)}x`, n(x.sameArgsMs), n(x.floorOtherMs), n(x.naiveMs),
    x.vidsnapBuild.split(" (")[0]!.split(" ")[0]!, x.note ?? "",
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const fmt = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]!))).join("  ");
  console.log(fmt(cols));
  for (const c of cells) console.log(fmt(c));
  return rows;
}
