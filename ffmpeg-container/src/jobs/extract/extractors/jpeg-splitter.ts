/**
 * Splits the concatenated JPEG stream of `ffmpeg -f image2pipe -c:v mjpeg` into whole images.
 *
 * It follows the JPEG marker structure (ITU T.81 Annex B) instead of searching for the bytes FF D9,
 * which may legally occur inside a header segment (e.g. a quantisation table): after SOI (FF D8) every
 * segment carries a 2-byte big-endian length; after SOS (FF DA) comes entropy-coded data in which FF is
 * always followed by 00 (stuffing) or a restart marker D0–D7, so the next other marker there is either
 * EOI (FF D9, end of image) or a further segment (progressive scans).
 */

type State = "soi" | "marker" | "entropy";

/** Streaming splitter: feed chunks with {@link push}, call {@link end} when the stream ends. */
export class JpegStreamSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Scan position in `buf`; bytes before it belong to the current image (or were skipped). */
  private pos = 0;
  private state: State = "soi";

  /** Bytes received since the last whole image that do not form an image yet. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  /**
   * @param chunk next bytes of the stream, any size
   * @returns the images completed by this chunk, each an independent Buffer from SOI to EOI inclusive
   * @throws Error when the data between images is not a JPEG start (FF D8)
   */
  push(chunk: Uint8Array): Buffer[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const image = this.scan();
      if (!image) return out;
      out.push(image);
    }
  }

  /** @throws Error when the stream ended inside an image (truncated output). */
  end(): void {
    if (this.buf.length > 0) throw new Error(`JPEG stream ended inside an image (${this.buf.length} bytes pending)`);
  }

  /** Advances through `buf`; returns one finished image or undefined when more bytes are needed. */
  private scan(): Buffer | undefined {
    const b = this.buf;
    for (;;) {
      if (this.state === "soi") {
        if (b.length < 2) return undefined;
        if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error("JPEG stream does not start with SOI (FF D8)");
        this.pos = 2;
        this.state = "marker";
      } else if (this.state === "marker") {
        // Markers may be preceded by fill bytes FF.
        let p = this.pos;
        while (p < b.length && b[p] === 0xff && b[p + 1] === 0xff) p++;
        if (p + 1 >= b.length) return undefined;
        if (b[p] !== 0xff) throw new Error(`JPEG marker expected at byte ${p}`);
        const marker = b[p + 1]!;
        if (marker === 0xd9) return this.take(p + 2);
        if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
          this.pos = p + 2; // stand-alone markers: no length
          continue;
        }
        if (p + 3 >= b.length) return undefined;
        const length = b.readUInt16BE(p + 2);
        if (length < 2) throw new Error(`JPEG segment with bad length ${length}`);
        if (p + 2 + length > b.length) return undefined;
        this.pos = p + 2 + length;
        if (marker === 0xda) this.state = "entropy";
      } else {
        let p = this.pos;
        for (;;) {
          p = b.indexOf(0xff, p);
          if (p < 0 || p + 1 >= b.length) {
            // Resume at the unmatched FF (or the end) once more bytes arrive.
            this.pos = p < 0 ? b.length : p;
            return undefined;
          }
          const next = b[p + 1]!;
          if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
            p += 2;
            continue;
          }
          if (next === 0xff) {
            p += 1;
            continue;
          }
          break;
        }
        this.pos = p;
        this.state = "marker";
      }
    }
  }

  /** Cuts bytes [0, end) out as one image and resets for the next. */
  private take(end: number): Buffer {
    const image = Buffer.from(this.buf.subarray(0, end));
    this.buf = this.buf.subarray(end);
    this.pos = 0;
    this.state = "soi";
    return image;
  }
}
