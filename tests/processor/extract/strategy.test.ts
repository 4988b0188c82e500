/**
 * The seek-or-sequential rule (ffmpeg-container/src/jobs/extract/plan/strategy.ts): packet index,
 * interval targets, overhead, decision.
 */
import { describe, expect, it } from "vitest";
import { buildSeekExtractArgs } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { chooseIntervalStrategy, type KeyframeIndex, parsePacketIndex, planIntervalTargets, SEEK_MAX_WORK_RATIO_LOCAL, SEEK_OVERHEAD_PIXELS, SEEK_OVERHEAD_PIXELS_LOCAL, seekMightPay, seekOverheadFrames, seekOverheadPixels } from "../../../ffmpeg-container/src/jobs/extract/plan/strategy.ts";

describe("interval strategy: pure functions", () => {
  const idx = (frames: number[], keys: number[]): KeyframeIndex => ({ frameTimes: frames, keyframeTimes: keys, packetsWithoutPts: 0 });

  it("parsePacketIndex: exact times from integer pts, shifted by the start, sorted; N/A counted", () => {
    const index = parsePacketIndex("0,K_\n2048,__\n1024,__\n12288,K_\nN/A,__\n", "1/12288", 0);
    expect(index.frameTimes).toEqual([0, 1024 / 12288, 2048 / 12288, 1]);
    expect(index.keyframeTimes).toEqual([0, 1]);
    expect(index.packetsWithoutPts).toBe(1);
    // hardware-example.mp4: start_time printed 0.033008 = 507 ticks of 1/15360 after ffmpeg's rounding.
    const shifted = parsePacketIndex("507,K_\n1019,__\n", "1/15360", 0.033008);
    expect(shifted.frameTimes).toEqual([0, 512 / 15360]);
    expect(() => parsePacketIndex("", "0/1", 0)).toThrow(RangeError);
  });

  it("planIntervalTargets: first frame at or after each k·N, distinct, with the keyframe before it", () => {
    // 1 fps for 25 s, keyframes at 0, 8, 16, 24.
    const frames = Array.from({ length: 25 }, (_, i) => i);
    const plan = planIntervalTargets(idx(frames, [0, 8, 16, 24]), 10);
    expect(plan.map((t) => [t.targetSeconds, t.frameSeconds, t.keyframeSeconds, t.framesToDecode])).toEqual([
      [0, 0, 0, 1],
      [10, 10, 8, 3],
      [20, 20, 16, 5],
    ]);
    // A gap longer than N: the frame at 35 answers targets 20 and 30 once; negative times never count.
    const gap = planIntervalTargets(idx([-0.5, 0.2, 9.9999995, 35], [-0.5, 35]), 10);
    expect(gap.map((t) => [t.targetSeconds, t.frameSeconds])).toEqual([
      [0, 0.2],
      [10, 9.9999995], // within the 1 µs epsilon of 10
      [20, 35],
    ]);
    expect(gap[0]!.framesToDecode).toBe(2); // from the keyframe at -0.5
  });

  it("seekOverheadFrames / seekMightPay", () => {
    expect(seekOverheadFrames(1920, 1080)).toBe(49);
    expect(seekOverheadFrames(360, 288)).toBe(965);
    // franck.mp4 (360x288, 24 fps, 200 s), N = 10: 20 × 965 > 0.5 × 4800.
    expect(seekMightPay(200, 24, 10, 360, 288)).toBe(false);
    // 1080p 30 fps, 1 h, N = 60: 60 × 49 ≪ 54 000.
    expect(seekMightPay(3600, 30, 60, 1920, 1080)).toBe(true);
    expect(seekMightPay(null, 30, 60, 1920, 1080)).toBe(false);
    expect(seekMightPay(3600, null, 60, 1920, 1080)).toBe(false);
    // Reading the local copy, a seek costs a tenth: franck.mp4 at N = 10 is worth the index (20 × 97 ≤ 2400).
    expect(seekOverheadFrames(360, 288, SEEK_OVERHEAD_PIXELS_LOCAL)).toBe(97);
    expect(seekMightPay(200, 24, 10, 360, 288, SEEK_OVERHEAD_PIXELS_LOCAL)).toBe(true);
    // N = 2 stays sequential with the local work ratio too (100 × 97 = 9700 > 1.1 × 4800); N = 4 may seek (4850 ≤ 5280).
    expect(seekMightPay(200, 24, 2, 360, 288, SEEK_OVERHEAD_PIXELS_LOCAL)).toBe(false);
    expect(seekMightPay(200, 24, 2, 360, 288, SEEK_OVERHEAD_PIXELS_LOCAL, SEEK_MAX_WORK_RATIO_LOCAL)).toBe(false);
    expect(seekMightPay(200, 24, 4, 360, 288, SEEK_OVERHEAD_PIXELS_LOCAL, SEEK_MAX_WORK_RATIO_LOCAL)).toBe(true);
  });

  it("a seek's overhead adds the binary's start beyond the lean build's: Debian's ffmpeg keeps franck.mp4 at N = 10 sequential", () => {
    // The lean build (4–7 ms measured) and noise up to 20 ms change nothing.
    expect(seekOverheadPixels(true, undefined)).toBe(SEEK_OVERHEAD_PIXELS_LOCAL);
    expect(seekOverheadPixels(true, 7)).toBe(SEEK_OVERHEAD_PIXELS_LOCAL);
    expect(seekOverheadPixels(false, 20)).toBe(SEEK_OVERHEAD_PIXELS);
    // Debian's build, 64 ms: 44 ms more at half a megapixel per ms.
    expect(seekOverheadPixels(true, 64)).toBe(SEEK_OVERHEAD_PIXELS_LOCAL + 22_000_000);
    // franck.mp4 (360x288, 200 s at 24 fps) every 10 s from its local copy: worth the index with the lean
    // build (20 × 97 frames), not with Debian's (20 × 309 frames > 1.1 × 4800).
    expect(seekMightPay(200, 24, 10, 360, 288, seekOverheadPixels(true, 5), SEEK_MAX_WORK_RATIO_LOCAL)).toBe(true);
    expect(seekMightPay(200, 24, 10, 360, 288, seekOverheadPixels(true, 64), SEEK_MAX_WORK_RATIO_LOCAL)).toBe(false);
    // The 1350x1080 input still seeks with Debian's build: 20 × 23 frames of overhead on 4800.
    expect(seekMightPay(200, 24, 10, 1350, 1080, seekOverheadPixels(true, 64), SEEK_MAX_WORK_RATIO_LOCAL)).toBe(true);
  });

  /** 1080p, 30 fps, 600 s, keyframe every `gop` seconds. */
  const longVideo = (gop: number): KeyframeIndex => {
    const frames = Array.from({ length: 600 * 30 }, (_, i) => i / 30);
    return idx(frames, frames.filter((_, i) => i % (gop * 30) === 0));
  };
  const base = { codec: "h264", formatName: "mov,mp4,m4a,3gp,3g2,mj2", width: 1920, height: 1080, intervalSeconds: 60 };

  it("reading the local copy, the work ratio is 1.1: N = 7 on 10 s GOPs (15,850 of 18,000 frames) seeks, over HTTP it does not", () => {
    const local = chooseIntervalStrategy({ ...base, intervalSeconds: 7, index: longVideo(10), maxWorkRatio: SEEK_MAX_WORK_RATIO_LOCAL });
    expect(local.strategy).toBe("seek");
    expect(local.reason).toMatch(/≤ 1\.1 × 18000/);
    expect(chooseIntervalStrategy({ ...base, intervalSeconds: 7, index: longVideo(10) }).strategy).toBe("sequential");
  });

  it("a sequential pass that stops at the last target is costed up to that target's frame, not the whole video", () => {
    const local = { ...base, index: longVideo(10), seekOverheadPixels: SEEK_OVERHEAD_PIXELS_LOCAL, maxWorkRatio: SEEK_MAX_WORK_RATIO_LOCAL };
    // N = 250 on 600 s: targets 0, 250, 500; the pass stops after the frame at 500 s (frame 15,000).
    expect(chooseIntervalStrategy({ ...local, intervalSeconds: 250, sequentialStopsAtLastTarget: true }).sequentialFrames).toBe(15_001);
    expect(chooseIntervalStrategy({ ...local, intervalSeconds: 250 }).sequentialFrames).toBe(18_000);
    // N = 700: one target, at 0. Stopping there, the pass decodes one frame, which one seek (its overhead
    // alone is 5 frames) cannot beat; decoding to the end, a seek would have won.
    const one = chooseIntervalStrategy({ ...local, intervalSeconds: 700, sequentialStopsAtLastTarget: true });
    expect(one).toMatchObject({ strategy: "sequential", sequentialFrames: 1 });
    expect(chooseIntervalStrategy({ ...local, intervalSeconds: 700 }).strategy).toBe("seek");
  });

  it("chooses seek for short GOPs far apart from each other, sequential when the GOP is long", () => {
    const short = chooseIntervalStrategy({ ...base, index: longVideo(2) });
    expect(short.strategy).toBe("seek");
    expect(short.targets).toHaveLength(10);
    expect(short.seekFrames).toBe(10 * (1 + 49));
    const long = chooseIntervalStrategy({ ...base, intervalSeconds: 10, index: longVideo(10) });
    // N = 10 on 10 s GOPs: every target is a keyframe, one frame + overhead each → seek.
    expect(long.strategy).toBe("seek");
    // N = 7: the targets fall inside the GOPs, ~5 s of decoding each → sequential.
    const offGrid = chooseIntervalStrategy({ ...base, intervalSeconds: 7, index: longVideo(10) });
    expect(offGrid.strategy).toBe("sequential");
    expect(offGrid.reason).toMatch(/seek work/);
  });

  it("falls back to sequential for unverified codecs/containers and untrusted indexes", () => {
    const index = longVideo(2);
    expect(chooseIntervalStrategy({ ...base, codec: "hevc", index }).strategy).toBe("sequential");
    // H.264 outside MOV/MP4: K may be a recovery point, not an IDR.
    expect(chooseIntervalStrategy({ ...base, formatName: "matroska,webm", index }).strategy).toBe("sequential");
    expect(chooseIntervalStrategy({ ...base, formatName: "mpegts", index }).strategy).toBe("sequential");
    expect(chooseIntervalStrategy({ ...base, codec: "vp8", formatName: "matroska,webm", index }).strategy).toBe("seek");
    expect(chooseIntervalStrategy({ ...base, index: { ...index, packetsWithoutPts: 1 } }).reason).toMatch(/without pts/);
    const allKey = { ...index, keyframeTimes: index.frameTimes };
    expect(chooseIntervalStrategy({ ...base, index: allKey }).reason).toMatch(/every packet is flagged key/);
    expect(chooseIntervalStrategy({ ...base, index: { ...index, keyframeTimes: [] } }).strategy).toBe("sequential");
    expect(chooseIntervalStrategy({ ...base, index: { ...index, keyframeTimes: [5] } }).reason).toMatch(/no keyframe before/);
  });

  it("buildSeekExtractArgs: seek flags before -i only with a keyframe time > 0", () => {
    const args = buildSeekExtractArgs("https://x/v.mp4", 1, 8.3333331, 10);
    const i = args.indexOf("-i");
    expect(args.slice(args.indexOf("-ss"), args.indexOf("-ss") + 5)).toEqual(["-ss", "8.333334", "-noaccurate_seek", "-copyts", "-start_at_zero"]);
    expect(args.indexOf("-ss")).toBeLessThan(i);
    expect(args).toContain("-protocol_whitelist");
    expect(args).toContain("select='gte(t,0)*gte(t,10-0.000001)',showinfo=checksum=0");
    expect(args.slice(args.indexOf("-frames:v"), args.indexOf("-frames:v") + 2)).toEqual(["-frames:v", "1"]);
    expect(buildSeekExtractArgs("/v.mp4", 0, 0, 0)).not.toContain("-ss");
    expect(buildSeekExtractArgs("/v.mp4", 0, Number.NaN, 0)).not.toContain("-ss");
    expect(() => buildSeekExtractArgs("/v.mp4", 0, 1, -1)).toThrow(RangeError);
  });
});
