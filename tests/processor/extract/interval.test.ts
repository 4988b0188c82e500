/**
 * Interval mode: one image at the first frame whose time is at or after each of 0, N, 2N, … below the
 * duration, checked against the frame timestamps ffprobe reports for the same file (not hard-coded).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TIMESTAMP_EPSILON_SECONDS } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { ffprobeFrameTimes, type Harness, jobMessage, postJob, runSuccessfulJob, startHarness, testVideo, uploadSource } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  // Progress events every 100 ms instead of 2 s so the longer jobs here show some.
  h = await startHarness({ progressIntervalMs: 100 });
});
afterAll(async () => {
  await h?.close();
});

/** The distinct first frames at or after k·N for every k·N < duration (the contract of the mode). */
function expectedTimes(times: number[], duration: number, n: number): number[] {
  const sorted = [...times].sort((a, b) => a - b);
  const out: number[] = [];
  for (let k = 0; k * n < duration; k++) {
    const t = sorted.find((x) => x >= k * n - TIMESTAMP_EPSILON_SECONDS);
    if (t !== undefined && out.at(-1) !== t) out.push(t);
  }
  return out;
}

describe("interval mode", () => {
  it.each([
    ["franck.mp4", 10, 20], // 200 s → 0, 10, … 190
    ["vtest.avi", 10, 8], // 79.5 s → 0, 10, … 70
    ["display-dual-monitors.webm", 5, 8], // 37.1 s → 0, 5, … 35
    ["tree.avi", 5, 6], // 29.6 s, irregular frame spacing → first frame after each target
    ["vtest.avi", 1, 80], // ~6 MB of JPEGs: the archive goes up as a multipart upload
  ] as const)("%s every %d s", async (name, n, count) => {
    const file = testVideo(name);
    const { times, duration } = await ffprobeFrameTimes(file);
    const expected = expectedTimes(times, duration, n);
    expect(expected).toHaveLength(count);
    const { manifest, success, events } = await runSuccessfulJob(h, `iv-${n}-${name.replace(/\W/g, "-")}`, file, {
      mode: "interval",
      intervalSeconds: n,
    });
    expect(success.imageCount).toBe(count);
    manifest.images.forEach((image, i) => {
      expect(Math.abs(image.timestampSeconds - expected[i]!), `image ${i} at ${image.timestampSeconds}`).toBeLessThan(0.001);
    });
    if (n === 1) {
      expect(success.zipSizeBytes).toBeGreaterThan(5 * 1024 * 1024);
      const progress = events.flatMap((e) => (e.type === "MSG_EXTRACT_SNAPSHOT_PROGRESS" ? [e.payload] : []));
      expect(progress.length).toBeGreaterThan(0);
      for (const [i, p] of progress.entries()) {
        expect(p.fraction).toBeGreaterThanOrEqual(i > 0 ? progress[i - 1]!.fraction : 0);
        expect(p.imagesSoFar).toBeLessThanOrEqual(count);
      }
    }
  });

  it("a sequential pass stops once every target has its image (interval and timestamps), with the same images", async () => {
    const sequential = await h.extraProcessor({ intervalStrategy: "sequential" });
    const file = testVideo("franck.mp4");
    const { times, duration } = await ffprobeFrameTimes(file);
    const stopOf = (videoId: string) => h.logs.find((l) => l.msg === "decode stopped early" && String(l.fields.jobId).startsWith(`${videoId}#`))?.fields;

    // 200 s every 150 s: targets 0 and 150; the 50 s after the second image are not decoded.
    const expected = expectedTimes(times, duration, 150);
    expect(expected).toHaveLength(2);
    const interval = await runSuccessfulJob(h, "iv-stop-early", file, { mode: "interval", intervalSeconds: 150 }, sequential.url);
    expect(interval.manifest.images.map((i) => i.timestampSeconds)).toEqual(expected.map((t) => expect.closeTo(t, 3)));
    expect(stopOf("iv-stop-early")).toMatchObject({ reason: "every target has its image", images: 2, atSeconds: expect.closeTo(expected[1]!, 3) });

    const timestamps = await runSuccessfulJob(h, "ts-stop-early", file, { mode: "timestamps", timestampsSeconds: [3, 40] }, sequential.url);
    expect(timestamps.manifest.images).toHaveLength(2);
    expect(stopOf("ts-stop-early")).toMatchObject({ images: 2, atSeconds: expect.closeTo(timestamps.manifest.images[1]!.timestampSeconds, 3) });
    expect(timestamps.manifest.images[1]!.timestampSeconds).toBeLessThan(40.1);

    // A video shorter than N: its first frame, and nothing after it is decoded.
    await runSuccessfulJob(h, "iv-stop-first", testVideo("boswars_intro.ogg"), { mode: "interval", intervalSeconds: 10 }, sequential.url);
    expect(stopOf("iv-stop-first")).toMatchObject({ images: 1, atSeconds: expect.closeTo(0, 2) });
  });

  it("hardware-example.mp4 (0.33 s) every 10 s: exactly one image, at the start", async () => {
    const { manifest, success } = await runSuccessfulJob(h, "iv-short", testVideo("hardware-example.mp4"), {
      mode: "interval",
      intervalSeconds: 10,
    });
    expect(success.imageCount).toBe(1);
    expect(manifest.images[0]!.timestampSeconds).toBeLessThan(0.05);
    expect(manifest.images[0]).toMatchObject({ width: 1280, height: 720 });
    expect(success.source.durationSeconds).toBeLessThan(1);
    // One target at 0: the sequential pass decodes one frame, so no packet index is read to price seeks,
    // also from the local copy (where a seek costs a tenth and decoding all 10 frames would have priced one).
    const sourceEtag = await uploadSource(h, "iv-short-copy", testVideo("hardware-example.mp4"));
    const m = jobMessage("iv-short-copy", { mode: "interval", intervalSeconds: 10 });
    expect((await postJob(h.url, { ...m, payload: { ...m.payload, sourceEtag } })).events.at(-1)?.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const decision = h.logs.find((l) => l.msg === "interval strategy" && l.fields.jobId === "iv-short-copy#1")?.fields;
    expect(decision).toMatchObject({ strategy: "sequential", reason: expect.stringMatching(/^one seek per target cannot beat the sequential decode/) });
  });
});
