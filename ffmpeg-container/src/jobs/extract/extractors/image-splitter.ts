/**
 * Splitters of the concatenated image stream ffmpeg writes with `-f image2pipe`, one per archive format
 * (schema/extraction-options.ts `format`). Each follows the format's own framing, never a byte search:
 * - JPEG: marker structure (./jpeg-splitter.ts);
 * - PNG: 8-byte signature, then chunks `length (4, big-endian) · type (4) · data · CRC (4)` up to `IEND`
 *   (PNG specification, section 5);
 * - WebP: one RIFF file per image, `RIFF · size (4, little-endian) · WEBP …`, `size` counting the bytes
 *   after the size field (plus one pad byte when odd; RIFF rule).
 */
import type { ImageFormat } from "../../../../../schema/extraction-options.ts";
import { JpegStreamSplitter } from "./jpeg-splitter.ts";

/** A streaming splitter: feed chunks with `push` (returns the images completed), call `end` at the end. */
export interface ImageStreamSplitter {
  push(chunk: Uint8Array): Buffer[];
  /** @throws Error when the stream ended inside an image */
  end(): void;
}

/** The splitter of `format`'s stream. */
export function createImageSplitter(format: ImageFormat): ImageStreamSplitter {
  switch (format) {
    case "jpeg":
      return new JpegStreamSplitter();
    case "png":
      return new LengthFramedSplitter("PNG", pngImageLength);
    case "webp":
      return new LengthFramedSplitter("WebP", webpImageLength);
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Largest accepted image, bytes (a 36-megapixel RGB PNG is about 110 MB uncompressed). */
const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

/**
 * Length of the PNG at the start of `buf`, or undefined when more bytes are needed.
 * @throws Error when the bytes are not a PNG
 */
export function pngImageLength(buf: Buffer): number | undefined {
  if (buf.length < 8) return undefined;
  if (!buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error("image stream: PNG signature expected");
  let pos = 8;
  for (;;) {
    if (buf.length < pos + 8) return undefined;
    const length = buf.readUInt32BE(pos);
    const type = buf.toString("latin1", pos + 4, pos + 8);
    pos += 12 + length;
    if (pos > MAX_IMAGE_BYTES) throw new Error("image stream: PNG larger than the limit");
    if (type === "IEND") return buf.length >= pos ? pos : undefined;
  }
}

/**
 * Length of the WebP (RIFF) file at the start of `buf`, or undefined when more bytes are needed.
 * @throws Error when the bytes are not a RIFF WEBP file
 */
export function webpImageLength(buf: Buffer): number | undefined {
  if (buf.length < 12) return undefined;
  if (buf.toString("latin1", 0, 4) !== "RIFF" || buf.toString("latin1", 8, 12) !== "WEBP") {
    throw new Error("image stream: RIFF WEBP header expected");
  }
  const size = buf.readUInt32LE(4);
  const total = 8 + size + (size % 2);
  if (total > MAX_IMAGE_BYTES) throw new Error("image stream: WebP larger than the limit");
  return buf.length >= total ? total : undefined;
}

/** Splitter for formats whose length is known from their own header/chunk structure. */
class LengthFramedSplitter implements ImageStreamSplitter {
  private buf = Buffer.alloc(0);

  constructor(
    private readonly name: string,
    private readonly lengthOf: (buf: Buffer) => number | undefined,
  ) {}

  push(chunk: Uint8Array): Buffer[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const n = this.lengthOf(this.buf);
      if (n === undefined) break;
      out.push(Buffer.from(this.buf.subarray(0, n)));
      this.buf = this.buf.subarray(n);
    }
    return out;
  }

  end(): void {
    if (this.buf.length > 0) throw new Error(`image stream ended inside a ${this.name} image (${this.buf.length} bytes left)`);
  }
}
