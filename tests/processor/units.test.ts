/**
 * Unit tests of the processor's pure parts: ffmpeg/ffprobe argument builders, the interval select
 * expression, image names and timestamps, the JPEG stream splitter (with real ffmpeg JPEGs), the
 * showinfo parser, redaction of tool output, ffprobe → SourceFacts, configuration and S3 URL helpers.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../ffmpeg-container/src/config.ts";
import { JobError } from "../../ffmpeg-container/src/errors.ts";
import {
  buildExtractArgs,
  buildProbeArgs,
  buildVideoFilter,
  formatTimestamp,
  imageEntryName,
  intervalSelectExpr,
} from "../../ffmpeg-container/src/ffmpeg-args.ts";
import { redact, ShowinfoParser, stderrTail, unreadableVideoMessage } from "../../ffmpeg-container/src/ffmpeg-log.ts";
import { resolveFfmpegBinaries } from "../../ffmpeg-container/src/ffmpeg-path.ts";
import { JpegStreamSplitter } from "../../ffmpeg-container/src/jpeg-splitter.ts";
import { parseRate, rotationDegrees, sourceFactsFromProbe } from "../../ffmpeg-container/src/probe.ts";
import { objectUrl, presignGetUrl } from "../../ffmpeg-container/src/s3.ts";

const run = promisify(execFile);
const URL_IN = "http://127.0.0.1:4569/vidsnap-videos/users/u/videos/v/source?X-Amz-Signature=abc";

/** Value following `flag` in an argument array. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe("buildExtractArgs", () => {
  it("keyframes: decode keyframes only, single decoder thread, both before -i", () => {
    const args = buildExtractArgs(URL_IN, 0, { mode: "keyframes" });
    const i = args.indexOf("-i");
    expect(args.indexOf("-skip_frame")).toBeLessThan(i);
    expect(after(args, "-skip_frame")).toBe("nokey");
    expect(args.indexOf("-threads")).toBeLessThan(i);
    expect(after(args, "-threads")).toBe("1");
    expect(after(args, "-i")).toBe(URL_IN);
    expect(after(args, "-vf")).toBe("select='eq(key,1)',showinfo=checksum=0");
    expect(after(args, "-fps_mode")).toBe("passthrough");
    expect(after(args, "-c:v")).toBe("mjpeg");
    expect(Number(after(args, "-q:v"))).toBeGreaterThanOrEqual(2);
    expect(Number(after(args, "-q:v"))).toBeLessThanOrEqual(4);
    expect(after(args, "-f")).toBe("image2pipe");
    expect(args.at(-1)).toBe("pipe:1");
    expect(args).toContain("-nostdin");
  });

  it("interval: no skip_frame, select by N-second buckets, mapped stream", () => {
    const args = buildExtractArgs(URL_IN, 2, { mode: "interval", intervalSeconds: 10 });
    expect(args).not.toContain("-skip_frame");
    expect(after(args, "-map")).toBe("0:2");
    expect(after(args, "-vf")).toBe(`select='${intervalSelectExpr(10)}',showinfo=checksum=0`);
    expect(buildVideoFilter({ mode: "interval", intervalSeconds: 10 })).not.toMatch(/fps=/);
  });

  it("HTTP inputs are restricted to network protocols and video demuxers; local paths are not", () => {
    const args = buildExtractArgs(URL_IN, 0, { mode: "keyframes" });
    expect(after(args, "-protocol_whitelist")).toBe("http,https,tcp,tls");
    expect(after(args, "-format_whitelist")).toContain("mov");
    expect(args.indexOf("-protocol_whitelist")).toBeLessThan(args.indexOf("-i"));
    expect(buildExtractArgs("/tmp/x.mp4", 0, { mode: "keyframes" })).not.toContain("-protocol_whitelist");
  });

  it("rejects a bad stream index", () => {
    expect(() => buildExtractArgs(URL_IN, -1, { mode: "keyframes" })).toThrow(RangeError);
  });
});

describe("buildProbeArgs", () => {
  it("JSON of format and streams, errors only", () => {
    const args = buildProbeArgs(URL_IN);
    expect(after(args, "-v")).toBe("error");
    expect(after(args, "-print_format")).toBe("json");
    expect(args).toContain("-show_format");
    expect(args).toContain("-show_streams");
    expect(args.at(-1)).toBe(URL_IN);
    expect(after(args, "-protocol_whitelist")).toBe("http,https,tcp,tls");
  });
});

describe("intervalSelectExpr", () => {
  it("selects on floor(t/N) buckets with a 1 µs tolerance, never before 0", () => {
    expect(intervalSelectExpr(10)).toBe(
      "gte(t,0)*(isnan(prev_selected_t)+gt(floor((t+0.000001)/10),floor((prev_selected_t+0.000001)/10)))",
    );
    expect(intervalSelectExpr(0.1)).toContain("/0.1)");
    expect(intervalSelectExpr(2.5)).toContain("/2.5)");
  });

  it("rejects non-positive intervals", () => {
    for (const n of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => intervalSelectExpr(n)).toThrow(RangeError);
  });

  it("picks the first frame at or after each k·N (ffmpeg on a synthetic 7 fps clip)", async () => {
    // 7 fps: frames at i/7 s. N = 1: targets 0..4 → frames 0, 7, 14, 21, 28 (exactly on k); N = 0.5 → ceil(3.5k)/7.
    for (const [n, expected] of [
      [1, [0, 1, 2, 3, 4]],
      [0.5, [0, 4 / 7, 1, 11 / 7, 2, 18 / 7, 3, 25 / 7, 4, 32 / 7]],
    ] as const) {
      const { stderr } = await run("ffmpeg", [
        "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=32x32:rate=7:duration=5",
        "-vf", buildVideoFilter({ mode: "interval", intervalSeconds: n }), "-f", "null", "-",
      ]);
      const parser = new ShowinfoParser();
      const times = parser.push(stderr + "\n").map((f) => f.timestampSeconds);
      expect(times).toHaveLength(expected.length);
      times.forEach((t, i) => expect(t).toBeCloseTo(expected[i]!, 6));
    }
  });
});

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

describe("JpegStreamSplitter", () => {
  it("splits real ffmpeg output identically whatever the chunking", async () => {
    const { stdout } = await run(
      "ffmpeg",
      ["-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", "-f", "image2pipe", "pipe:1"],
      { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 },
    );
    const whole = new JpegStreamSplitter().push(stdout);
    expect(whole).toHaveLength(5);
    expect(Buffer.concat(whole).equals(stdout)).toBe(true);
    for (const size of [1, 2, 3, 7, 100, 4096]) {
      const s = new JpegStreamSplitter();
      const images: Buffer[] = [];
      for (let i = 0; i < stdout.length; i += size) images.push(...s.push(stdout.subarray(i, i + size)));
      s.end();
      expect(images.map((b) => b.toString("hex"))).toEqual(whole.map((b) => b.toString("hex")));
    }
  });

  it("ignores FF D9 inside a header segment and handles byte stuffing and restart markers", () => {
    const dqt = [0xff, 0xdb, 0x00, 0x06, 0x00, 0xff, 0xd9, 0x01]; // a table value pair FF D9
    const sos = [0xff, 0xda, 0x00, 0x03, 0x00];
    const entropy = [0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56];
    const image = Buffer.from([0xff, 0xd8, ...dqt, ...sos, ...entropy, 0xff, 0xd9]);
    const s = new JpegStreamSplitter();
    expect(s.push(Buffer.concat([image, image.subarray(0, 5)]))).toEqual([image]);
    expect(s.push(image.subarray(5))).toEqual([image]);
    s.end();
  });

  it("throws on data that is not a JPEG and on a truncated last image", () => {
    expect(() => new JpegStreamSplitter().push(Buffer.from("not a jpeg"))).toThrow(/SOI/);
    const s = new JpegStreamSplitter();
    s.push(Buffer.from([0xff, 0xd8, 0xff]));
    expect(() => s.end()).toThrow(/ended inside an image/);
  });
});

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

describe("configuration", () => {
  const base = {
    S3_ENDPOINT: "http://127.0.0.1:4569",
    S3_ACCESS_KEY_ID: "id",
    S3_SECRET_ACCESS_KEY: "top-secret-value",
    VIDEOS_BUCKET: "v",
    IMAGES_BUCKET: "i",
  };

  it("applies the documented defaults; empty strings count as unset", () => {
    const c = loadConfig({ ...base, FFMPEG_PATH: "", PORT: "" });
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
    expect(loadConfig({ ...base, S3_FORCE_PATH_STYLE: "false", PORT: "8080", HOST: "0.0.0.0" })).toMatchObject({
      port: 8080,
      host: "0.0.0.0",
      s3: { forcePathStyle: false },
    });
  });

  it("names invalid variables without echoing secrets", () => {
    expect(() => loadConfig({ ...base, S3_ENDPOINT: "nope", MAX_CONCURRENT_JOBS: "0" })).toThrow(/S3_ENDPOINT.*MAX_CONCURRENT_JOBS/);
    expect(() => loadConfig({ ...base, MAX_DURATION_SECONDS: "-1", MAX_PIXELS_PER_FRAME: "big", MAX_IMAGES: "0" })).toThrow(
      /MAX_DURATION_SECONDS.*MAX_PIXELS_PER_FRAME.*MAX_IMAGES/,
    );
    try {
      loadConfig({ S3_SECRET_ACCESS_KEY: "top-secret-value" });
    } catch (e) {
      expect(String(e)).toContain("VIDEOS_BUCKET");
      expect(String(e)).not.toContain("top-secret-value");
    }
  });
});

describe("S3 URLs and binaries", () => {
  const s3 = { endpoint: "http://127.0.0.1:4569", region: "us-east-1", accessKeyId: "AK", secretAccessKey: "SK", forcePathStyle: true };

  it("objectUrl: path style and virtual-hosted style, key segments encoded", () => {
    expect(objectUrl(s3, "b", "users/a b/x(1)").toString()).toBe("http://127.0.0.1:4569/b/users/a%20b/x%281%29");
    expect(objectUrl({ ...s3, endpoint: "https://acc.r2.example.com", forcePathStyle: false }, "b", "k/1").toString()).toBe(
      "https://b.acc.r2.example.com/k/1",
    );
  });

  it("presignGetUrl signs in the query with the clamped expiry", async () => {
    const url = new URL(await presignGetUrl(s3, "b", "users/u/videos/v/source", 10_000_000));
    expect(url.pathname).toBe("/b/users/u/videos/v/source");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("604800");
    expect(url.searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("resolveFfmpegBinaries: explicit paths win, otherwise ffmpeg-static or PATH", async () => {
    expect(await resolveFfmpegBinaries({ ffmpeg: "/opt/ff", ffprobe: "/opt/fp" })).toEqual({ ffmpeg: "/opt/ff", ffprobe: "/opt/fp" });
    const auto = await resolveFfmpegBinaries({});
    expect(auto.ffprobe).toBe("ffprobe");
    expect(auto.ffmpeg === "ffmpeg" || auto.ffmpeg.includes("ffmpeg-static")).toBe(true);
  });
});
