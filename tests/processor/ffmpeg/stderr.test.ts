/**
 * Reading ffmpeg's stderr (ffmpeg-container/src/ffmpeg/stderr.ts): showinfo frames, redaction, and the
 * error sentence of a failed read: a storage failure (signature rejected, 5xx, connection refused) reads
 * as one, while real damage keeps its own sentence.
 */
import { describe, expect, it } from "vitest";
import { isStorageFailure, redact, ShowinfoParser, stderrTail, STORAGE_UNREADABLE_MESSAGE, unreadableVideoMessage } from "../../../ffmpeg-container/src/ffmpeg/stderr.ts";

const URL_IN = "http://127.0.0.1:4569/vidsnap-videos/users/u/videos/v/source?X-Amz-Signature=abc";

describe("ShowinfoParser", () => {
  const config = "[Parsed_showinfo_1 @ 0x55d0c0] config in time_base: 1/12288, frame_rate: 24/1\n";
  const frame = (n: number, pts: string, t: string) =>
    `[Parsed_showinfo_1 @ 0x55d0c0] n:${String(n).padStart(4)} pts:${pts.padStart(7)} pts_time:${t} pos: 1 fmt:yuv420p sar:1/1 s:360x288 i:P iskey:1 type:I checksum:0\n`;

  it("computes exact times from pts and the time base, across chunk boundaries", () => {
    const p = new ShowinfoParser();
    const other: string[] = [];
    const text = config + frame(0, "0", "0") + "[mov @ 0x1] something else\n" + frame(1, "12779438", "1039.99");
    const frames = [...p.push(text.slice(0, 150), (l) => other.push(l)), ...p.push(text.slice(150), (l) => other.push(l))];
    expect(frames).toEqual([
      { n: 0, timestampSeconds: 0, width: 360, height: 288 },
      { n: 1, timestampSeconds: 12779438 / 12288, width: 360, height: 288 },
    ]);
    expect(frames[1]!.timestampSeconds).toBeCloseTo(1039.993, 3); // pts_time shows only 1039.99
    expect(other).toEqual(["[mov @ 0x1] something else"]);
  });

  it("falls back to pts_time without a time base, and to the previous time for NOPTS", () => {
    const p = new ShowinfoParser();
    expect(p.push(frame(0, "5", "2.5") + frame(1, "NOPTS", "NOPTS")).map((f) => f.timestampSeconds)).toEqual([2.5, 2.5]);
  });
});

describe("redaction and error messages", () => {
  it("removes URLs, signatures, local paths and pointer addresses", () => {
    const text = `[mov,mp4 @ 0x55ae6e537640] moov atom not found\n${URL_IN}: Invalid data\nopening /tmp/x/vidsnap-job-1/a X-Amz-Credential=AK%2F`;
    const out = redact(text, ["/tmp/x"]);
    expect(out).toBe("[mov,mp4] moov atom not found\n<source>: Invalid data\nopening <tmp>/vidsnap-job-1/a <redacted>");
  });

  it("stderrTail drops showinfo and noise lines and keeps the end", () => {
    const lines = [
      "[Parsed_showinfo_0 @ 0x1] n: 0 pts: 0",
      "[swscaler @ 0x2] deprecated pixel format used, make sure you did set range correctly",
      "a",
      "a",
      ...Array.from({ length: 20 }, (_, i) => `line ${i}`),
    ];
    const tail = stderrTail(lines, [], 3);
    expect(tail).toBe("line 17\nline 18\nline 19");
    expect(stderrTail(["x".repeat(5000)], [], 12, 100)).toHaveLength(100);
  });

  it("unreadableVideoMessage names the known causes", () => {
    expect(unreadableVideoMessage("[mov @ 0x1] moov atom not found\nx: Invalid data found when processing input")).toBe(
      "The file is not a readable video: moov atom not found",
    );
    expect(unreadableVideoMessage("x: Invalid data found when processing input")).toBe(
      "The file is not a readable video: invalid data found when processing input",
    );
    expect(unreadableVideoMessage(`${URL_IN}: weird failure`)).toBe("The file is not a readable video: <source>: weird failure");
  });
});

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
