/**
 * The archive writer: a ZIP streamed into S3 while it is being written. fflate's streaming `Zip` produces
 * the bytes, a bounded `PassThrough` carries them to the storage's streaming upload, so memory stays
 * around two upload parts plus one image, whatever the archive size. Images are stored (already
 * compressed); manifest.json is deflated (docs/architecture.md "ZIP layout").
 */
import { PassThrough } from "node:stream";
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { IMAGE_FORMATS, type ImageFormat } from "../../../../schema/extraction-options.ts";
import { JobError } from "../../runner/errors.ts";
import type { Storage, StreamUpload } from "../../s3.ts";

/**
 * Largest archive this writer produces: fflate writes no ZIP64, so a ZIP is limited to 65,535 entries
 * and 4 GiB offsets. Both limits keep a margin for manifest.json.
 */
export const MAX_ZIP_ENTRIES = 65_000;
export const MAX_ZIP_BYTES = 4 * 1024 ** 3 - 64 * 1024 ** 2;

/** One ZIP being written to `bucket/key`. Call {@link addFile}…, then {@link finish} or {@link abort}. */
export class ArchiveUpload {
  /** Bytes of ZIP produced so far (= uploaded once finished). */
  bytes = 0;
  /** Files added so far. */
  private entries = 0;
  private readonly body = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly zip: Zip;
  private readonly upload: StreamUpload;
  private readonly done: Promise<unknown>;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private finished = false;

  /**
   * Starts the upload immediately (it reads the stream as the ZIP grows).
   * @param storage where the archive goes
   * @param bucket images bucket
   * @param key object key (`archiveObjectKey`)
   */
  constructor(storage: Storage, bucket: string, key: string) {
    let rejectFailed!: (e: Error) => void;
    this.failed = new Promise<never>((_, reject) => (rejectFailed = reject));
    this.failed.catch(() => undefined);
    const fail = (e: Error) => {
      if (this.failure) return;
      this.failure = e;
      rejectFailed(e);
    };
    this.zip = new Zip((err, chunk, final) => {
      if (err) return fail(err);
      this.bytes += chunk.length;
      this.body.write(chunk);
      if (final) this.body.end();
    });
    this.upload = storage.uploadStream(bucket, key, this.body, "application/zip");
    this.done = this.upload.done;
    this.done.catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
  }

  /**
   * Adds one stored (uncompressed) file and waits while the upload is behind (backpressure).
   * @param name entry name, e.g. `images/000001_t0000000.000.jpg`
   * @param data file bytes
   * @param mtime modification time recorded in the ZIP
   * @throws the upload's error when it failed; JobError past {@link MAX_ZIP_ENTRIES} / {@link MAX_ZIP_BYTES}
   */
  async addFile(name: string, data: Uint8Array, mtime: Date): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.entries >= MAX_ZIP_ENTRIES || this.bytes + data.length > MAX_ZIP_BYTES) {
      throw new JobError(
        "The video produces too many images for one archive; choose a longer interval.",
        `ZIP limits without ZIP64: ${MAX_ZIP_ENTRIES} images, ${MAX_ZIP_BYTES} bytes`,
      );
    }
    this.entries++;
    const file = new ZipPassThrough(name);
    file.mtime = mtime;
    this.zip.add(file);
    file.push(data, true);
    if (this.body.writableNeedDrain) {
      let onDrain!: () => void;
      const drained = new Promise<void>((resolve) => {
        onDrain = resolve;
        this.body.once("drain", resolve);
      });
      try {
        await Promise.race([drained, this.failed]);
      } finally {
        this.body.off("drain", onDrain);
      }
    }
  }

  /**
   * Adds the deflated `manifest.json`, ends the ZIP and waits for the upload to complete.
   * @param manifestJson serialised manifest
   * @param mtime modification time recorded in the ZIP
   * @returns total ZIP size in bytes
   * @throws the upload's error
   */
  async finish(manifestJson: string, mtime: Date): Promise<number> {
    if (this.failure) throw this.failure;
    const manifest = new ZipDeflate("manifest.json", { level: 9 });
    manifest.mtime = mtime;
    this.zip.add(manifest);
    manifest.push(new TextEncoder().encode(manifestJson), true);
    this.zip.end();
    await Promise.race([this.done, this.failed]);
    this.finished = true;
    return this.bytes;
  }

  /** Stops the upload and discards what was sent (AbortMultipartUpload). Safe to call at any time. */
  async abort(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      this.zip.terminate();
    } catch {
      // already ended
    }
    await this.upload.abort().catch(() => undefined);
    this.body.destroy();
    await this.done.catch(() => undefined);
  }
}

/**
 * `images/000001_t0000012.500.jpg` (`.png`, `.webp`): the ZIP entry name of an image (docs/architecture.md "ZIP layout").
 * @param index 0-based order of the image; the name uses index + 1, six digits
 * @param timestampSeconds presentation time, seconds (≥ 0), rendered with millisecond precision
 * @param format image format: the extension (`.jpg`, `.png`, `.webp`; schema IMAGE_FORMATS)
 */
export function imageEntryName(index: number, timestampSeconds: number, format: ImageFormat = "jpeg"): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`bad image index ${index}`);
  return `images/${String(index + 1).padStart(6, "0")}_t${formatTimestamp(timestampSeconds)}.${IMAGE_FORMATS[format].extension}`;
}

/**
 * `0000012.500` for 12.5 s: seconds zero-padded to 7 digits, a dot, milliseconds (rounded).
 * Negative or non-finite input is clamped to 0.
 */
export function formatTimestamp(seconds: number): string {
  const ms = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 0;
  return `${String(Math.floor(ms / 1000)).padStart(7, "0")}.${String(ms % 1000).padStart(3, "0")}`;
}
