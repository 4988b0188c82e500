/**
 * Damaged files (issue 18, reliability): copies of the testdata videos damaged by the test itself (zeroed
 * ranges, truncations, a corrupted header) are decoded as far as they can be. A job ends in SUCCESS with
 * `warnings` (SUCCESS event and manifest) when decode errors happened or the file ended early, and in
 * ERROR only when no usable image came out. Intact files carry no warnings.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { damageFindings, DamageLog, isReadRefused, MAX_WARNINGS } from "../../../ffmpeg-container/src/ffmpeg/damage.ts";
import type { ExtractionOptions } from "../../../schema/extraction-options.ts";
import { fetchArchive, type Harness, jobMessage, postJob, startHarness, testVideo, uploadSource } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/**
 * Writes a damaged copy of a testdata video into the harness's folder.
 * @param zero byte ranges [fraction of the size, length in bytes] overwritten with zeros
 * @param keep fraction of the file kept (a truncation), default 1
 */
async function damagedCopy(file: string, name: string, opts: { zero?: [number, number][]; keep?: number }): Promise<string> {
  const bytes = Buffer.from(await readFile(testVideo(file)));
  for (const [at, length] of opts.zero ?? []) bytes.fill(0, Math.floor(bytes.length * at), Math.floor(bytes.length * at) + length);
  const out = path.join(h.dataDir, name);
  await writeFile(out, bytes.subarray(0, Math.floor(bytes.length * (opts.keep ?? 1))));
  return out;
}

async function runOn(videoId: string, file: string, options: ExtractionOptions = { mode: "keyframes" }) {
  await uploadSource(h, videoId, file);
  const res = await postJob(h.url, jobMessage(videoId, options));
  expect(res.status).toBe(200);
  return res.events.at(-1)!;
}

describe("damage in ffmpeg's stderr", () => {
  it("decode errors and early ends are found; intact-file noise is not", () => {
    expect(damageFindings(["[h264 @ 0x1] Invalid NAL unit size (0 > 44).", "Error while decoding stream #0:1: Invalid data found when processing input"])).toMatchObject({ decodeErrors: 2, endedEarly: false });
    expect(damageFindings(["[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] stream 1, offset 0x14ce93: partial file"]).endedEarly).toBe(true);
    expect(damageFindings(["[matroska,webm @ 0x1] File ended prematurely"]).endedEarly).toBe(true);
    expect(damageFindings(["[ogg @ 0x1] Broken file, keyframe not correctly marked.", "[Parsed_showinfo_1 @ 0x1] n: 0 pts: 0"])).toEqual({ decodeErrors: 0, endedEarly: false });
  });

  it("an HTTP refusal of the read (a 412 after a swap) is not damage: it must fail the job", () => {
    expect(isReadRefused("[http @ 0x1] HTTP error 412 Precondition Failed\n<source>: Server returned 4XX Client Error, but not one of 40{0,1,3,4}")).toBe(true);
    expect(isReadRefused("<source>: Server returned 403 Forbidden (access denied)")).toBe(true);
    expect(isReadRefused("[h264 @ 0x1] Invalid NAL unit size (0 > 44).")).toBe(false);
  });

  it("the warnings are bounded and one sentence each", () => {
    const log = new DamageLog();
    log.record({ decodeErrors: 3, endedEarly: true, firstLine: "Invalid NAL unit size" });
    for (let i = 0; i < 30; i++) log.targetSkipped(i);
    const warnings = log.warnings();
    expect(warnings).toHaveLength(MAX_WARNINGS);
    expect(warnings[0]).toMatch(/ended early/);
    expect(warnings[1]).toMatch(/3 decode errors/);
    expect(warnings.at(-1)).toMatch(/and 23 more/);
  });
});

describe("jobs on damaged copies", () => {
  it("64 KiB zeroed at 40 % (sample_iPod.m4v): SUCCESS with all 7 keyframes and a decode-error warning", async () => {
    const file = await damagedCopy("sample_iPod.m4v", "ipod-zeroed.m4v", { zero: [[0.4, 64 * 1024]] });
    const last = await runOn("dmg-zeroed", file);
    expect(last.type, JSON.stringify(last.payload)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") throw new Error("unreachable");
    expect(last.payload.imageCount).toBe(7);
    expect(last.payload.warnings?.join(" ")).toMatch(/damaged parts \(\d+ decode error/);
    const { manifest } = await fetchArchive(h, "dmg-zeroed");
    expect(manifest.warnings).toEqual(last.payload.warnings);
    expect(manifest.images).toHaveLength(7);
  });

  it("64 KiB zeroed at 40 %, interval 10 (a sequential pass stopped after its last target, at 80 s): the damage it met is reported", async () => {
    const file = await damagedCopy("sample_iPod.m4v", "ipod-zeroed-iv.m4v", { zero: [[0.4, 64 * 1024]] });
    const last = await runOn("dmg-zeroed-iv", file, { mode: "interval", intervalSeconds: 10 });
    expect(last.type, JSON.stringify(last.payload)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") throw new Error("unreachable");
    expect(h.logs.some((l) => l.msg === "decode stopped early" && l.fields.jobId === "dmg-zeroed-iv#1")).toBe(true);
    expect(last.payload.warnings?.join(" ")).toMatch(/damaged parts \(\d+ decode error/);
  });

  it("truncated to 60 % (sample_iPod.m4v, moov at the start): SUCCESS with the images before the cut and an 'ended early' warning", async () => {
    const file = await damagedCopy("sample_iPod.m4v", "ipod-truncated.m4v", { keep: 0.6 });
    const last = await runOn("dmg-truncated", file);
    expect(last.type, JSON.stringify(last.payload)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") throw new Error("unreachable");
    expect(last.payload.imageCount).toBeGreaterThan(0);
    expect(last.payload.imageCount).toBeLessThan(7);
    expect(last.payload.warnings?.[0]).toMatch(/ended early/);
  });

  it("truncated WebM (display-dual-monitors.webm at 60 %), interval mode: SUCCESS with an 'ended early' warning", async () => {
    const file = await damagedCopy("display-dual-monitors.webm", "webm-truncated.webm", { keep: 0.6 });
    const last = await runOn("dmg-webm", file, { mode: "interval", intervalSeconds: 5 });
    expect(last.type, JSON.stringify(last.payload)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") throw new Error("unreachable");
    expect(last.payload.imageCount).toBeGreaterThan(0);
    expect(last.payload.warnings?.join(" ")).toMatch(/ended early/);
  });

  it("zeroed ranges in a WebM (display-dual-monitors.webm at 40 %): SUCCESS with a warning", async () => {
    const file = await damagedCopy("display-dual-monitors.webm", "webm-zeroed.webm", { zero: [[0.4, 64 * 1024]] });
    const last = await runOn("dmg-webm-zeroed", file);
    expect(last.type, JSON.stringify(last.payload)).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") throw new Error("unreachable");
    expect(last.payload.imageCount).toBeGreaterThan(0);
    expect(last.payload.warnings?.length).toBeGreaterThan(0);
  });

  it("a corrupted header (the first 4 KiB of sample_iPod.m4v zeroed: ftyp and moov gone): ERROR, no archive", async () => {
    const file = await damagedCopy("sample_iPod.m4v", "ipod-header.m4v", { zero: [[0, 4096]] });
    const last = await runOn("dmg-header", file);
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
    expect(last.payload.errorMessage).toMatch(/not a readable video|No usable image|damaged/);
    expect(last.payload.retryable).toBeUndefined();
  });

  it("an intact file carries no warnings", async () => {
    const last = await runOn("dmg-intact", testVideo("sample_iPod.m4v"));
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    expect(last.payload).not.toHaveProperty("warnings");
    expect((await fetchArchive(h, "dmg-intact")).manifest).not.toHaveProperty("warnings");
  });
});
