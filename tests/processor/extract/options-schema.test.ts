/**
 * The ExtractionOptions schema and manifests written before image formats existed.
 */
import { describe, expect, it } from "vitest";
import { ExtractionOptions } from "../../../schema/extraction-options.ts";
import { Manifest } from "../../../schema/manifest.ts";

describe("ExtractionOptions schema", () => {
  const issues = (v: unknown) => {
    const r = ExtractionOptions.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };

  it("accepts every mode with its options, and old stored options", () => {
    for (const v of [
      { mode: "keyframes" },
      { mode: "interval", intervalSeconds: 10 },
      { mode: "interval", intervalSeconds: 5, accuracy: "keyframe", format: "webp", quality: 60, maxWidth: 640, startSeconds: 5, endSeconds: 60, maxImages: 10 },
      { mode: "scene", sceneThreshold: 0.4, format: "png", maxHeight: 480 },
      { mode: "timestamps", timestampsSeconds: [0, 1.5, 1.5, 99], accuracy: "exact" },
    ]) {
      expect(issues(v), JSON.stringify(v)).toEqual([]);
    }
    expect(ExtractionOptions.parse({ mode: "interval" })).toEqual({ mode: "interval", intervalSeconds: 10 });
  });

  it("refuses bad values at the field's path", () => {
    expect(issues({ mode: "keyframes", startSeconds: 10, endSeconds: 10 })).toEqual(["endSeconds"]);
    expect(issues({ mode: "keyframes", endSeconds: 5, startSeconds: 8 })).toEqual(["endSeconds"]);
    expect(issues({ mode: "keyframes", quality: 0 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", quality: 101 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", quality: 50.5 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", format: "png", quality: 50 })).toEqual(["quality"]);
    expect(issues({ mode: "keyframes", format: "gif" })).toEqual(["format"]);
    expect(issues({ mode: "scene", sceneThreshold: 1.5 })).toEqual(["sceneThreshold"]);
    expect(issues({ mode: "scene", sceneThreshold: -0.1 })).toEqual(["sceneThreshold"]);
    expect(issues({ mode: "timestamps", timestampsSeconds: [] })).toEqual(["timestampsSeconds"]);
    expect(issues({ mode: "timestamps", timestampsSeconds: Array.from({ length: 1001 }, (_, i) => i) })).toEqual(["timestampsSeconds"]);
    expect(issues({ mode: "timestamps", timestampsSeconds: [1, -1] })).toEqual(["timestampsSeconds.1"]);
    expect(issues({ mode: "timestamps" })).toEqual(["timestampsSeconds"]);
    expect(issues({ mode: "interval", accuracy: "nearest" })).toEqual(["accuracy"]);
    expect(issues({ mode: "keyframes", maxImages: 0 })).toEqual(["maxImages"]);
    expect(issues({ mode: "keyframes", maxWidth: 8 })).toEqual(["maxWidth"]);
  });

  it("manifests written before formats existed still parse (JPEG)", () => {
    const old = {
      version: 1,
      videoId: "v",
      attempt: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      options: { mode: "keyframes" },
      source: { formatName: "mov", durationSeconds: 1, sizeBytes: 1, videoCodec: "h264", width: 2, height: 2, frameRate: 1, rotationDegrees: 0 },
      imageFormat: "jpeg",
      images: [{ index: 0, fileName: "images/000001_t0000000.000.jpg", timestampSeconds: 0, bytes: 10 }],
    };
    expect(Manifest.parse(old)).toMatchObject({ imageFormat: "jpeg", contentType: "image/jpeg" });
  });
});
