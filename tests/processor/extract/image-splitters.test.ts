/**
 * Splitters of ffmpeg's image2pipe stream (JPEG with real ffmpeg output, PNG, WebP).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { JpegStreamSplitter } from "../../../ffmpeg-container/src/jobs/extract/extractors/jpeg-splitter.ts";
import { createImageSplitter } from "../../../ffmpeg-container/src/jobs/extract/extractors/image-splitter.ts";

const run = promisify(execFile);

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

describe("PNG and WebP stream splitters", () => {
  it.each([
    ["png", ["-c:v", "png"]],
    ["webp", ["-c:v", "libwebp"]],
  ] as const)("%s: real ffmpeg output splits into the same images whatever the chunking", async (format, codec) => {
    const { stdout } = (await run(
      "ffmpeg",
      ["-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", ...codec, "-f", "image2pipe", "pipe:1"],
      { encoding: "buffer", maxBuffer: 64 * 1024 * 1024 },
    )) as unknown as { stdout: Buffer };
    for (const chunkSize of [1, 7, 4096, stdout.length]) {
      const splitter = createImageSplitter(format);
      const images: Buffer[] = [];
      for (let i = 0; i < stdout.length; i += chunkSize) images.push(...splitter.push(stdout.subarray(i, i + chunkSize)));
      splitter.end();
      expect(images).toHaveLength(5);
      expect(Buffer.concat(images).equals(stdout)).toBe(true);
    }
    const cut = createImageSplitter(format);
    cut.push(stdout.subarray(0, stdout.length - 3));
    expect(() => cut.end()).toThrow(/ended inside/);
    expect(() => createImageSplitter(format).push(Buffer.from("not an image at all"))).toThrow(/expected/);
  });
});
