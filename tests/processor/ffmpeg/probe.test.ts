/**
 * ffprobe output → SourceFacts (ffmpeg-container/src/ffmpeg/probe.ts).
 */
import { describe, expect, it } from "vitest";
import { JobError } from "../../../ffmpeg-container/src/runner/errors.ts";
import { parseRate, rotationDegrees, sourceFactsFromProbe } from "../../../ffmpeg-container/src/ffmpeg/probe.ts";

describe("ffprobe → SourceFacts", () => {
  const video = { index: 1, codec_type: "video", codec_name: "h264", width: 1920, height: 1080, avg_frame_rate: "30000/1001" };

  it("takes the first real video stream and the container facts", () => {
    const { facts, streamIndex } = sourceFactsFromProbe(
      {
        format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "12.5", size: "1000" },
        streams: [{ index: 0, codec_type: "audio", codec_name: "aac" }, video],
      },
      2000,
    );
    expect(streamIndex).toBe(1);
    expect(facts).toEqual({
      formatName: "mov,mp4,m4a,3gp,3g2,mj2",
      durationSeconds: 12.5,
      sizeBytes: 1000,
      videoCodec: "h264",
      width: 1920,
      height: 1080,
      frameRate: 29.97,
      rotationDegrees: 0,
    });
  });

  it("skips cover art, uses the HEAD size and stream duration as fallbacks", () => {
    const { facts, streamIndex } = sourceFactsFromProbe(
      {
        format: { format_name: "matroska,webm" },
        streams: [
          { index: 0, codec_type: "video", codec_name: "mjpeg", width: 300, height: 300, disposition: { attached_pic: 1 } },
          { ...video, index: 2, duration: "3.5", avg_frame_rate: "0/0" },
        ],
      },
      777,
    );
    expect(streamIndex).toBe(2);
    expect(facts).toMatchObject({ durationSeconds: 3.5, sizeBytes: 777, frameRate: null });
  });

  it("refuses files without a video stream", () => {
    const probe = { format: { format_name: "ogg" }, streams: [{ index: 0, codec_type: "audio", codec_name: "vorbis" }] };
    expect(() => sourceFactsFromProbe(probe, null)).toThrow(JobError);
    expect(() => sourceFactsFromProbe(probe, null)).toThrow(/contains no video stream/);
  });

  it("rotation: display matrix (counter-clockwise) and legacy rotate tag → clockwise degrees", () => {
    expect(rotationDegrees({ index: 0, side_data_list: [{ side_data_type: "Display Matrix", rotation: -90 }] })).toBe(90);
    expect(rotationDegrees({ index: 0, side_data_list: [{ side_data_type: "Display Matrix", rotation: 90 }] })).toBe(270);
    expect(rotationDegrees({ index: 0, tags: { rotate: "180" } })).toBe(180);
    expect(rotationDegrees({ index: 0 })).toBe(0);
  });

  it("parseRate", () => {
    expect(parseRate("24/1")).toBe(24);
    expect(parseRate("0/0")).toBeNull();
    expect(parseRate(undefined)).toBeNull();
  });
});
