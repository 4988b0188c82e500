/**
 * Pure parts of the transcode: the plan (heights, widths from the displayed aspect, upscale rule, names,
 * trim, HLS ladder), the disk estimate, and the ffmpeg argument builders.
 */
import { describe, expect, it } from "vitest";
import {
  buildTranscodeArgs,
  filterGraph,
  hlsArgs,
  outputArgs,
  trimArgs,
  vp9Args,
  x264Args,
} from "../../../ffmpeg-container/src/jobs/transcode/ffmpeg-args.ts";
import { checkDiskEstimate, displaySize, estimateOutputBytes, outputWidth, planTranscode, type TranscodeSource } from "../../../ffmpeg-container/src/jobs/transcode/plan.ts";
import { JobError } from "../../../ffmpeg-container/src/runner/errors.ts";

const hd: TranscodeSource = { width: 1920, height: 1080, sampleAspectRatio: 1, rotationDegrees: 0, frameRate: 30, durationSeconds: 100, hasAudio: true };

describe("plan", () => {
  it("displayed size applies pixel aspect and rotation; widths follow it, even", () => {
    expect(displaySize({ ...hd, rotationDegrees: 90 })).toEqual({ width: 1080, height: 1920 });
    // DVD PAL 720x576 with 16:11 pixels (≈ 1047x576 displayed).
    expect(displaySize({ ...hd, width: 720, height: 576, sampleAspectRatio: 16 / 11 }).width).toBeCloseTo(1047.27, 1);
    expect(outputWidth(720, { width: 1920, height: 1080 })).toBe(1280);
    expect(outputWidth(480, { width: 1920, height: 1080 })).toBe(854);
    expect(outputWidth(240, { width: 240, height: 320 })).toBe(180);
    expect(outputWidth(360, { width: 1047.27, height: 576 })).toBe(654);
  });

  it("names, sizes, files and encoder choices per rendition, in request order", () => {
    const plan = planTranscode(
      {
        renditions: [
          { format: "mp4", height: 720, quality: "high" },
          { format: "webm", videoBitrateKbps: 1500, audio: false },
          { format: "hls", heights: [720, 360], segmentSeconds: 4, segmentFormat: "ts" },
        ],
      },
      hd,
    );
    expect(plan.outputs.map((o) => [o.rendition, o.width, o.height, o.file, o.audio])).toEqual([
      ["mp4-720", 1280, 720, "mp4-720.mp4", true],
      ["webm", 1920, 1080, "webm.webm", false],
      ["hls-720", 1280, 720, "hls/720/index.m3u8", true],
      ["hls-360", 640, 360, "hls/360/index.m3u8", true],
    ]);
    expect(plan.outputs[0]).toMatchObject({ quality: "high", videoBitrateKbps: undefined });
    expect(plan.outputs[1]).toMatchObject({ quality: "medium", videoBitrateKbps: 1500 });
    expect(plan.outputs[2]!.hls).toEqual({ segmentSeconds: 4, segmentFormat: "ts" });
    expect(plan.hlsMaster).toEqual({ rendition: "hls", file: "hls/master.m3u8" });
    expect(plan).toMatchObject({ startSeconds: 0, readSeconds: null, durationSeconds: 100 });
  });

  it("no height = the source's up to 1080; the default HLS ladder drops the taller rungs", () => {
    const small = { ...hd, width: 360, height: 288 };
    const plan = planTranscode({ renditions: [{ format: "mp4" }, { format: "hls" }] }, small);
    expect(plan.outputs.map((o) => `${o.rendition} ${o.width}x${o.height}`)).toEqual(["mp4 360x288", "hls-288 360x288"]);
    const uhd = planTranscode({ renditions: [{ format: "mp4" }, { format: "hls" }] }, { ...hd, width: 3840, height: 2160 });
    expect(uhd.outputs.map((o) => o.rendition)).toEqual(["mp4", "hls-1080", "hls-720", "hls-480", "hls-360"]);
    expect(uhd.outputs[0]!.height).toBe(1080);
    expect(planTranscode({ renditions: [{ format: "hls" }] }, { ...hd, height: 600, width: 800 }).outputs.map((o) => o.height)).toEqual([480, 360]);
  });

  it("a height above the source is refused without upscale, made at the source's height with it", () => {
    const small = { ...hd, width: 320, height: 240 };
    expect(() => planTranscode({ renditions: [{ format: "webm", height: 360 }] }, small)).toThrow(JobError);
    expect(() => planTranscode({ renditions: [{ format: "webm", height: 360 }] }, small)).toThrow(
      /^Rendition webm-360 asks for 360 pixels high, but the video is only 240 pixels high; vidsnap never upscales/,
    );
    const up = planTranscode({ renditions: [{ format: "webm", height: 360 }, { format: "hls", heights: [720, 480, 240] }], upscale: true }, small);
    expect(up.outputs.map((o) => `${o.rendition} ${o.width}x${o.height}`)).toEqual(["webm-360 320x240", "hls-240 320x240"]);
    // Rotated phone video: 1920x1080 coded, shown 1080x1920: 1080 fits, 1440 fits, 2160 does not.
    const phone = { ...hd, rotationDegrees: 270 };
    expect(planTranscode({ renditions: [{ format: "mp4", height: 1440 }] }, phone).outputs[0]).toMatchObject({ width: 810, height: 1440 });
    expect(() => planTranscode({ renditions: [{ format: "mp4", height: 2160 }] }, phone)).toThrow(/only 1920 pixels high/);
  });

  it("two renditions with one name are refused; audio needs the source's", () => {
    expect(() => planTranscode({ renditions: [{ format: "mp4", height: 480 }, { format: "mp4", height: 480, quality: "low" }] }, hd)).toThrow(
      /Two renditions are both named mp4-480/,
    );
    expect(planTranscode({ renditions: [{ format: "mp4", audio: true }] }, { ...hd, hasAudio: false }).outputs[0]!.audio).toBe(false);
  });

  it("trim: read span and duration, clamped to the source; a start past the end is refused", () => {
    expect(planTranscode({ renditions: [{ format: "mp4" }], startSeconds: 10, endSeconds: 40 }, hd)).toMatchObject({ startSeconds: 10, readSeconds: 30, durationSeconds: 30 });
    expect(planTranscode({ renditions: [{ format: "mp4" }], startSeconds: 90, endSeconds: 400 }, hd)).toMatchObject({ readSeconds: 10, durationSeconds: 10 });
    expect(planTranscode({ renditions: [{ format: "mp4" }], startSeconds: 90 }, hd)).toMatchObject({ readSeconds: null, durationSeconds: 10 });
    expect(planTranscode({ renditions: [{ format: "mp4" }], endSeconds: 5 }, { ...hd, durationSeconds: null })).toMatchObject({ readSeconds: 5, durationSeconds: 5 });
    expect(planTranscode({ renditions: [{ format: "mp4" }] }, { ...hd, durationSeconds: null }).durationSeconds).toBeNull();
    expect(() => planTranscode({ renditions: [{ format: "mp4" }], startSeconds: 100 }, hd)).toThrow(/startSeconds \(100\) is at or past the end of the video \(100 s\)/);
  });
});

describe("disk estimate", () => {
  it("bitrate × duration × margin per output; refused above the bound or the free space", () => {
    const plan = planTranscode({ renditions: [{ format: "mp4", height: 720, videoBitrateKbps: 2000 }, { format: "mp4", height: 480, audio: false }] }, hd);
    // (2000 + 128) kbit/s × 100 s × 1.5 = 39.9 MB; 854×480×30×0.1 = 1229.76 kbit/s × 100 s × 1.5 = 23.06 MB.
    expect(estimateOutputBytes(plan.outputs[0]!, 100, 30)).toBe(39_900_000);
    expect(estimateOutputBytes(plan.outputs[1]!, 100, 30)).toBe(23_058_000);
    expect(checkDiskEstimate(plan, 30, 1e12, 1e12)).toBe(62_958_000);
    expect(() => checkDiskEstimate(plan, 30, 1e12, 50_000_000)).toThrow(/need about 0\.06 GB of disk; the limit is 0\.05 GB per transcode/);
    expect(() => checkDiskEstimate(plan, 30, 60_000_000, 1e12)).toThrow(/more than the 0\.06 GB free on the processor/);
    expect(checkDiskEstimate({ ...plan, durationSeconds: null }, 30, 0, 0)).toBe(0);
  });
});

describe("ffmpeg arguments", () => {
  it("trim as input options", () => {
    expect(trimArgs({ startSeconds: 0, readSeconds: null })).toEqual([]);
    expect(trimArgs({ startSeconds: 2.5, readSeconds: 10 })).toEqual(["-ss", "2.5", "-t", "10"]);
  });

  it("one decode split into scaled, square-pixel 4:2:0 copies", () => {
    expect(filterGraph(0, [{ width: 1280, height: 720 }])).toBe("[0:0]scale=1280:720,setsar=1,format=yuv420p[v0]");
    expect(filterGraph(1, [{ width: 1280, height: 720 }, { width: 640, height: 360 }])).toBe(
      "[0:1]split=2[s0][s1];[s0]scale=1280:720,setsar=1,format=yuv420p[v0];[s1]scale=640:360,setsar=1,format=yuv420p[v1]",
    );
  });

  it("encoders: x264 veryfast High with CRF or capped bitrate; VP9 realtime row-mt", () => {
    expect(x264Args({ quality: "medium", videoBitrateKbps: undefined })).toEqual(["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-crf", "23"]);
    expect(x264Args({ quality: "low", videoBitrateKbps: 1000 })).toEqual([
      "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-b:v", "1000k", "-maxrate", "1500k", "-bufsize", "2000k",
    ]);
    expect(vp9Args({ quality: "high", videoBitrateKbps: undefined })).toEqual([
      "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-crf", "28", "-b:v", "0",
    ]);
  });

  it("outputs: mp4 faststart with AAC-LC, webm with Opus, HLS with keyframes on segment boundaries", () => {
    const plan = planTranscode(
      { renditions: [{ format: "mp4", height: 720 }, { format: "webm", height: 480, audio: false }, { format: "hls", heights: [360], segmentSeconds: 6 }] },
      hd,
    );
    const [mp4, webm, hls] = plan.outputs;
    const m = outputArgs(mp4!, 0, 1);
    expect(m.slice(0, 4)).toEqual(["-map", "[v0]", "-map", "0:1"]);
    expect(m).toEqual(expect.arrayContaining(["-map_metadata", "-1", "-c:a", "aac", "-profile:a", "aac_low"]));
    expect(m.slice(-5)).toEqual(["-movflags", "+faststart", "-f", "mp4", "mp4-720.mp4"]);
    const w = outputArgs(webm!, 1, 1);
    expect(w).not.toContain("0:1");
    expect(w).not.toContain("-c:a");
    expect(w.slice(-3)).toEqual(["-f", "webm", "webm-480.webm"]);
    const s = outputArgs(hls!, 2, 1);
    expect(s).toEqual(expect.arrayContaining(["-force_key_frames", "expr:gte(t,n_forced*6)"]));
    expect(s.slice(-hlsArgs("hls/360/index.m3u8", hls!.hls!).length - 1)).toEqual([...hlsArgs("hls/360/index.m3u8", hls!.hls!), "hls/360/index.m3u8"]);
    expect(hlsArgs("hls/360/index.m3u8", { segmentSeconds: 6, segmentFormat: "fmp4" })).toEqual([
      "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
      "-start_number", "1", "-hls_segment_filename", "hls/360/seg-%05d.m4s", "-hls_flags", "independent_segments",
    ]);
    expect(hlsArgs("hls/360/index.m3u8", { segmentSeconds: 4, segmentFormat: "ts" })).toContain("hls/360/seg-%05d.ts");
  });

  it("the whole command: one input with the safety options, progress on stdout, one filter graph", () => {
    const plan = planTranscode({ renditions: [{ format: "mp4", height: 720 }, { format: "mp4", height: 480 }], startSeconds: 5, endSeconds: 20 }, hd);
    const args = buildTranscodeArgs({ url: "https://s3.example/v?X-Amz-Signature=x", videoStreamIndex: 0, audioStreamIndex: 1 }, plan);
    expect(args.filter((a) => a === "-i")).toHaveLength(1);
    expect(args).toEqual(expect.arrayContaining(["-progress", "pipe:1", "-nostdin", "-protocol_whitelist", "-format_whitelist"]));
    const i = args.indexOf("-i");
    expect(args.slice(i - 4, i)).toEqual(["-ss", "5", "-t", "15"]);
    expect(args[args.indexOf("-filter_complex") + 1]).toContain("split=2");
    expect(args.at(-1)).toBe("mp4-480.mp4");
  });
});
