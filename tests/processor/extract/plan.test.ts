/**
 * Target planning (ffmpeg-container/src/jobs/extract/plan/): timestamps, the nearest-keyframe picker,
 * progress spans.
 */
import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../../../ffmpeg-container/src/ffmpeg/probe.ts";
import { planBeforeProbe, planExtraction, planFromOptions, progressSpan, type PlanContext } from "../../../ffmpeg-container/src/jobs/extract/plan/plan.ts";
import { timestampsSelectExpr } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { NearestKeyframePicker } from "../../../ffmpeg-container/src/jobs/extract/plan/keyframe-picker.ts";
import { type KeyframeIndex, planTimestampTargets, resolveTimestampTargets, type TimeWindow } from "../../../ffmpeg-container/src/jobs/extract/plan/strategy.ts";

/** All keyframes through a picker at once: the chosen keyframe times and each target's keyframe. */
function nearestKeyframes(keyframeTimes: number[], targets: number[], window: TimeWindow = {}) {
  const picker = new NearestKeyframePicker<null>(targets, window);
  const keyframes: number[] = [];
  for (const k of keyframeTimes) for (const p of picker.push(k, null)) keyframes.push(p.timeSeconds);
  for (const p of picker.finish()) keyframes.push(p.timeSeconds);
  return { keyframes, perTarget: picker.perTarget };
}

describe("target planning", () => {
  it("resolveTimestampTargets sorts, de-duplicates, and skips what lies outside the window or past the end", () => {
    expect(resolveTimestampTargets([5, 1, 5, 300, 0], {}, 200)).toEqual({ targets: [0, 1, 5], skipped: [300] });
    expect(resolveTimestampTargets([5, 1, 50], { startSeconds: 2, endSeconds: 40 }, null)).toEqual({ targets: [5], skipped: [1, 50] });
  });

  it("planTimestampTargets: first frame at or after each target, each frame once, with its keyframe", () => {
    const index: KeyframeIndex = { frameTimes: [0, 1, 2, 3, 4], keyframeTimes: [0, 3], packetsWithoutPts: 0 };
    expect(planTimestampTargets(index, [0.5, 0.7, 2, 3.5, 9])).toEqual([
      { targetSeconds: 0.5, frameSeconds: 1, keyframeSeconds: 0, framesToDecode: 2 },
      { targetSeconds: 2, frameSeconds: 2, keyframeSeconds: 0, framesToDecode: 3 },
      { targetSeconds: 3.5, frameSeconds: 4, keyframeSeconds: 3, framesToDecode: 2 },
    ]);
  });

  it("timestamps within a window: a target whose frame lies past the end gives no image", () => {
    const index: KeyframeIndex = { frameTimes: [0, 1, 2, 3, 4], keyframeTimes: [0], packetsWithoutPts: 0 };
    expect(planTimestampTargets(index, [0.5, 2.5], { endSeconds: 2.7 }).map((t) => t.frameSeconds)).toEqual([1]);
    expect(planFromOptions({ mode: "timestamps", timestampsSeconds: [2.5], endSeconds: 2.7 }, [2.5]).select).toBe(
      `lte(t,2.700001)*${timestampsSelectExpr([2.5])}`,
    );
  });

  it("nearestKeyframes: nearest (ties to the earlier), within the window, each once", () => {
    const kf = [0, 10, 20, 30];
    expect(nearestKeyframes(kf, [0, 4, 5, 6, 14, 29, 100])).toEqual({ keyframes: [0, 10, 30], perTarget: [0, 0, 0, 10, 10, 30, 30] });
    expect(nearestKeyframes(kf, [0, 12], { startSeconds: 5, endSeconds: 25 }).keyframes).toEqual([10]);
    expect(nearestKeyframes(kf, [1], { startSeconds: 31 })).toEqual({ keyframes: [], perTarget: [Number.NaN] });
  });

  it("NearestKeyframePicker: answers as soon as the next keyframe is seen, holds one keyframe, is done past the last target", () => {
    const picker = new NearestKeyframePicker<string>([4, 6, 14]);
    expect(picker.push(0, "k0")).toEqual([]);
    // 10 arrives: target 4 is nearer to 0, target 6 nearer to 10; 14 still waits (20 could be as near).
    expect(picker.push(10, "k10")).toEqual([
      { timeSeconds: 0, item: "k0" },
      { timeSeconds: 10, item: "k10" },
    ]);
    expect(picker.done).toBe(false);
    // 20: target 14 takes 10, already an image: nothing new, and every target is answered.
    expect(picker.push(20, "k20")).toEqual([]);
    expect(picker.done).toBe(true);
    expect(picker.perTarget).toEqual([0, 10, 10]);
    expect(picker.finish()).toEqual([]);
  });

  it("NearestKeyframePicker: finish gives the last keyframe to pending targets, up to a bound", () => {
    const bounded = new NearestKeyframePicker<null>([0, 13, 20, 30]);
    expect(bounded.push(0, null)).toEqual([]);
    expect(bounded.push(12, null).map((p) => p.timeSeconds)).toEqual([0]);
    // Targets planned to a bound: only those up to it take the last keyframe (30 is dropped).
    expect(bounded.finish(25).map((p) => p.timeSeconds)).toEqual([12]);
    expect(bounded.perTarget).toEqual([0, 12, 12]);
    const none = new NearestKeyframePicker<null>([1, 2], { startSeconds: 5 });
    expect(none.push(3, null)).toEqual([]);
    expect(none.finish()).toEqual([]);
    expect(none.perTarget).toEqual([Number.NaN, Number.NaN]);
  });

  it("NearestKeyframePicker = brute-force nearest on random keyframe layouts, targets and windows", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 300; run++) {
      const keyframes = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => Math.round(rnd() * 100)))].sort((a, b) => a - b);
      const targets = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.round(rnd() * 110)))].sort((a, b) => a - b);
      const window = rnd() < 0.5 ? {} : { startSeconds: Math.round(rnd() * 40), endSeconds: 50 + Math.round(rnd() * 60) };
      const candidates = keyframes.filter((k) => k >= (window.startSeconds ?? 0) && k <= (window.endSeconds ?? Infinity));
      const expectedPerTarget = targets.map((t) =>
        candidates.length === 0 ? Number.NaN : candidates.reduce((best, k) => (Math.abs(k - t) < Math.abs(best - t) ? k : best)),
      );
      const got = nearestKeyframes(keyframes, targets, window);
      expect(got.perTarget).toEqual(expectedPerTarget);
      expect(got.keyframes).toEqual([...new Set(expectedPerTarget.filter((k) => !Number.isNaN(k)))]);
    }
  });

  it("progressSpan: fraction of the window cut to the duration", () => {
    const span = progressSpan(100, { startSeconds: 20, endSeconds: 60 });
    expect([span.fraction(0), span.fraction(20), span.fraction(40), span.fraction(80)]).toEqual([0, 0, 0.5, 1]);
    expect(progressSpan(100, {}).fraction(25)).toBe(0.25);
    expect(progressSpan(50, { endSeconds: 80 }).fraction(25)).toBe(0.5);
    expect(progressSpan(null, {}).fraction(25)).toBe(0);
  });
});

describe("planBeforeProbe", () => {
  const probe: ProbeResult = {
    facts: { formatName: "mov,mp4,m4a,3gp,3g2,mj2", durationSeconds: 200, sizeBytes: 1, videoCodec: "h264", width: 360, height: 288, frameRate: 24, rotationDegrees: 0 },
    streamIndex: 0,
    timeBase: "1/12288",
    startSeconds: 0,
    sampleAspectRatio: 1,
    audioStreamIndex: null,
  };
  // Keyframes and scene plans read nothing from the context.
  const ctx = {} as PlanContext;

  it("keyframes and scene without a start: the plan planExtraction makes, its span waiting for the duration", async () => {
    for (const options of [
      { mode: "keyframes" },
      { mode: "keyframes", endSeconds: 60, maxImages: 5, format: "png" },
      { mode: "scene", sceneThreshold: 0.3 },
    ] as const) {
      const early = planBeforeProbe(options)!;
      const late = await planExtraction(ctx, "/v.mp4", probe, options);
      expect(early.sequential).toEqual(late.sequential);
      expect(early.output).toEqual(late.output);
      expect(early.span.to).toBe(options.mode === "keyframes" && "endSeconds" in options ? 60 : null);
      expect(late.span.to).toBe("endSeconds" in options ? 60 : 200);
    }
  });

  it("every plan that needs the facts waits for the probe", () => {
    expect(planBeforeProbe({ mode: "keyframes", startSeconds: 10 })).toBeNull();
    expect(planBeforeProbe({ mode: "scene", startSeconds: 0 })).toBeNull();
    expect(planBeforeProbe({ mode: "interval", intervalSeconds: 10 })).toBeNull();
    expect(planBeforeProbe({ mode: "interval", intervalSeconds: 10, accuracy: "keyframe" })).toBeNull();
    expect(planBeforeProbe({ mode: "timestamps", timestampsSeconds: [1] })).toBeNull();
  });
});
