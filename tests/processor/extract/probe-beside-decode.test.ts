/**
 * Keyframes and scene jobs start ffmpeg while ffprobe still runs (jobs/extract/job.ts): the images are held
 * back until the probe's checks pass, and a failed check kills ffmpeg with nothing stored. Here the real
 * ffprobe is made slow (a wrapper that sleeps 1 s before running it) and both tools record when they
 * start and end, so the test sees the decode running beside the probe, then what the job stored.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveFfmpegBinaries } from "../../../ffmpeg-container/src/ffmpeg/binaries.ts";
import { isFinalExtractEvent } from "../../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import {
  ffprobeKeyframeCount,
  type Harness,
  jobMessage,
  leftoverTempFiles,
  objectExists,
  postJob,
  runSuccessfulJob,
  startHarness,
  testVideo,
  uploadSource,
  USER_ID,
} from "../harness.ts";

/** How long the wrapped ffprobe sleeps before probing, seconds. */
const PROBE_DELAY_SECONDS = 1;

let h: Harness;
let dir: string;
let marks: string;

/**
 * Writes an executable shell wrapper of `binary` that appends `<name> start <ns>` to the marks file; with
 * `delaySeconds` it sleeps that long first and appends `<name> end <ns>` after the tool exits, otherwise it
 * `exec`s the tool (so killing the wrapper kills the tool, as in production).
 */
async function wrapper(name: string, binary: string, delaySeconds: number): Promise<string> {
  const file = path.join(dir, `${name}-wrapper.sh`);
  const mark = (event: string) => `echo "${name} ${event} $(date +%s%N)" >> '${marks}'`;
  const lines =
    delaySeconds > 0
      ? ["#!/bin/sh", mark("start"), `sleep ${delaySeconds}`, `'${binary}' "$@"`, "code=$?", mark("end"), "exit $code"]
      : ["#!/bin/sh", mark("start"), `exec '${binary}' "$@"`];
  await writeFile(file, `${lines.join("\n")}\n`);
  await chmod(file, 0o755);
  return file;
}

/** The marks written so far, as `{tool, event, ns}`. */
async function readMarks(): Promise<{ tool: string; event: string; ns: bigint }[]> {
  const text = await readFile(marks, "utf8").catch(() => "");
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [tool, event, ns] = l.split(" ");
      return { tool: tool!, event: event!, ns: BigInt(ns!) };
    });
}

/** Nanoseconds of the first mark of `tool`/`event`. @throws when there is none */
function markOf(m: Awaited<ReturnType<typeof readMarks>>, tool: string, event: string): bigint {
  const found = m.find((x) => x.tool === tool && x.event === event);
  if (!found) throw new Error(`no ${tool} ${event} mark in ${JSON.stringify(m.map((x) => `${x.tool} ${x.event}`))}`);
  return found.ns;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-probe-beside-"));
  marks = path.join(dir, "marks.txt");
  const bins = await resolveFfmpegBinaries({});
  h = await startHarness({
    ffprobePath: await wrapper("ffprobe", bins.ffprobe, PROBE_DELAY_SECONDS),
    ffmpegPath: await wrapper("ffmpeg", bins.ffmpeg, 0),
  });
});

afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the safety probe beside the decode", () => {
  it("keyframes: ffmpeg starts while ffprobe runs; the job stores every keyframe with the probed facts", async () => {
    await writeFile(marks, "");
    const file = testVideo("franck.mp4");
    const { manifest, success } = await runSuccessfulJob(h, "beside-ok", file, { mode: "keyframes" });
    expect(success.imageCount).toBe(await ffprobeKeyframeCount(file));
    expect(manifest.source).toMatchObject({ formatName: "mov,mp4,m4a,3gp,3g2,mj2", videoCodec: "h264", width: 360, height: 288 });
    const m = await readMarks();
    expect(markOf(m, "ffmpeg", "start") < markOf(m, "ffprobe", "end"), "ffmpeg started before ffprobe ended").toBe(true);
    const phases = h.logs.filter((l) => l.msg === "extraction phases").at(-1)!.fields.phasesMs as Record<string, number>;
    expect(phases.probe).toBeGreaterThanOrEqual(PROBE_DELAY_SECONDS * 1000);
    expect(Object.keys(phases)).toEqual(expect.arrayContaining(["inputChecks", "probe", "plan", "decode", "store"]));
  });

  it("a failed probe check while images wait: the limit's ERROR, ffmpeg killed, nothing stored", async () => {
    await writeFile(marks, "");
    // 360x288 = 103,680 pixels: over the limit, under the decoder's guard (2 × limit + 1 Mpx), so ffmpeg decodes.
    const p = await h.extraProcessor({ maxPixelsPerFrame: 50_000 });
    const videoId = "beside-limit";
    await uploadSource(h, videoId, testVideo("franck.mp4"));
    const res = await postJob(p.url, jobMessage(videoId, { mode: "keyframes" }));
    const last = res.events.filter((e) => isFinalExtractEvent(e.type)).at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
    expect(last.payload.errorMessage).toBe("The video's frames are 360x288 pixels (0.1 megapixels); the limit is 0.05 megapixels per frame.");
    expect(last.payload.errorDescription).toContain("no image was stored");
    // No PROGRESS: no image went into the archive.
    expect(res.events.some((e) => e.type === "MSG_EXTRACT_SNAPSHOT_PROGRESS")).toBe(false);
    const m = await readMarks();
    expect(markOf(m, "ffmpeg", "start") < markOf(m, "ffprobe", "end"), "ffmpeg started before ffprobe ended").toBe(true);
    expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1))).toBe(false);
    expect(await objectExists(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1))).toBe(false);
    expect(await leftoverTempFiles(h)).toEqual([]);
    await p.processor.close();
  });
});
