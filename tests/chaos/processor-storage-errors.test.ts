/**
 * Found by the S3-outage chaos scenario: ffmpeg failing to reach the storage was reported to the user as
 * "The file is not a readable video: <source>: Connection refused". A storage failure while reading the source
 * must read as one (ffmpeg-container/src/ffmpeg-log.ts), while real damage keeps its own sentence.
 */
import { describe, expect, it } from "vitest";
import { isStorageFailure, STORAGE_UNREADABLE_MESSAGE, unreadableVideoMessage } from "../../ffmpeg-container/src/ffmpeg-log.ts";

describe("unreadableVideoMessage and storage failures", () => {
  it.each([
    "http://127.0.0.1:4569/vidsnap-videos/users/u/videos/v/source?X-Amz-Signature=abc: Connection refused",
    "[tcp @ 0x55] Connection to tcp://127.0.0.1:4569 failed: Connection refused",
    "[http @ 0x1] Stream ends prematurely at 1000, should be 2000\nx: Connection reset by peer",
    "[tcp @ 0x2] Connection to tcp://r2.example:443 failed: Connection timed out",
    "[http @ 0x3] HTTP error 503 Service Unavailable\nx: Server returned 5XX Server Error reply",
  ])("a storage failure is not blamed on the file: %s", (stderr) => {
    expect(unreadableVideoMessage(stderr)).toBe(STORAGE_UNREADABLE_MESSAGE);
  });

  it("a damaged file keeps its specific cause", () => {
    expect(unreadableVideoMessage("[mov,mp4 @ 0x1] moov atom not found\nx: Invalid data found when processing input")).toBe(
      "The file is not a readable video: moov atom not found",
    );
    expect(unreadableVideoMessage("[http @ 0x1] HTTP error 404 Not Found\nx: Server returned 404 Not Found")).not.toBe(
      STORAGE_UNREADABLE_MESSAGE,
    );
  });
});

describe("isStorageFailure", () => {
  it("tells a storage failure from a damaged file", () => {
    expect(isStorageFailure("[tcp @ 0x1] Connection to tcp://127.0.0.1:1 failed: Connection refused")).toBe(true);
    expect(isStorageFailure("[h264 @ 0x1] error while decoding MB 3 4")).toBe(false);
  });
});
