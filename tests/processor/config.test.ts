/**
 * Processor configuration from the environment (ffmpeg-container/src/config.ts): defaults, empty
 * strings as unset, problems named without values.
 */
import { describe, expect, it } from "vitest";
import { loadProcessorConfig } from "../../ffmpeg-container/src/config.ts";

describe("configuration", () => {
  const base = {
    S3_ENDPOINT: "http://127.0.0.1:4569",
    VIDEOS_BUCKET: "v",
    IMAGES_BUCKET: "i",
    PROCESSOR_SHARED_SECRET: "config-test-shared-secret-0123456789abcdef",
  };

  it("applies the documented defaults; empty strings count as unset", () => {
    const c = loadProcessorConfig({ ...base, FFMPEG_PATH: "", PORT: "" });
    expect(c).toMatchObject({
      host: "127.0.0.1",
      port: 8788,
      maxConcurrentJobs: 2,
      jobTimeoutSeconds: 900,
      maxDurationSeconds: 14_400,
      maxPixelsPerFrame: 36_000_000,
      maxImages: 10_000,
      progressIntervalMs: 2000,
      s3: { forcePathStyle: true, region: "auto" },
    });
    expect(c.ffmpegPath).toBeUndefined();
    expect(loadProcessorConfig({ ...base, S3_FORCE_PATH_STYLE: "false", PORT: "8080", HOST: "0.0.0.0" })).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      s3: { forcePathStyle: false },
    });
  });

  it("requires no storage key and reads none (every job brings its own credentials)", () => {
    const c = loadProcessorConfig({ ...base, S3_ACCESS_KEY_ID: "AKIA-left-in-env", S3_SECRET_ACCESS_KEY: "top-secret-value" });
    expect(Object.keys(c.s3).sort()).toEqual(["endpoint", "forcePathStyle", "region"]);
    expect(JSON.stringify(c)).not.toContain("top-secret-value");
    expect(JSON.stringify(c)).not.toContain("AKIA-left-in-env");
  });

  it("names invalid variables without echoing secrets", () => {
    expect(() => loadProcessorConfig({ ...base, S3_ENDPOINT: "nope", MAX_CONCURRENT_JOBS: "0" })).toThrow(/S3_ENDPOINT.*MAX_CONCURRENT_JOBS/);
    expect(() => loadProcessorConfig({ ...base, MAX_DURATION_SECONDS: "-1", MAX_PIXELS_PER_FRAME: "big", MAX_IMAGES: "0" })).toThrow(
      /MAX_DURATION_SECONDS.*MAX_PIXELS_PER_FRAME.*MAX_IMAGES/,
    );
    try {
      loadProcessorConfig({ S3_SECRET_ACCESS_KEY: "top-secret-value" });
    } catch (e) {
      expect(String(e)).toContain("VIDEOS_BUCKET");
      expect(String(e)).not.toContain("top-secret-value");
    }
  });
});
