/**
 * ZIP entry names of images (ffmpeg-container/src/jobs/extract/archive.ts).
 */
import { describe, expect, it } from "vitest";
import { formatTimestamp, imageEntryName } from "../../../ffmpeg-container/src/jobs/extract/archive.ts";

describe("image names", () => {
  it("1-based six-digit order and seconds with milliseconds", () => {
    expect(imageEntryName(0, 12.5)).toBe("images/000001_t0000012.500.jpg");
    expect(imageEntryName(41, 0)).toBe("images/000042_t0000000.000.jpg");
    expect(imageEntryName(9, 3599.9996)).toBe("images/000010_t0003600.000.jpg");
  });

  it("formatTimestamp rounds to ms and clamps invalid input to 0", () => {
    expect(formatTimestamp(0.0004)).toBe("0000000.000");
    expect(formatTimestamp(0.0005)).toBe("0000000.001");
    expect(formatTimestamp(10.2001)).toBe("0000010.200");
    expect(formatTimestamp(1234567.891)).toBe("1234567.891");
    expect(formatTimestamp(-1)).toBe("0000000.000");
    expect(formatTimestamp(Number.NaN)).toBe("0000000.000");
  });

  it("rejects a negative index", () => {
    expect(() => imageEntryName(-1, 0)).toThrow(RangeError);
  });
});
