/**
 * Streams a ZIP archive into S3 while it is being written: fflate's streaming `Zip` produces the bytes,
 * a bounded `PassThrough` carries them to `@aws-sdk/lib-storage`'s `Upload` (multipart when over one
 * part). Memory stays around `queueSize × partSize` plus one image, whatever the archive size.
 * JPEG entries are stored (`ZipPassThrough`: JPEG does not compress further); manifest.json is deflated
 * (docs/architecture.md "ZIP layout").
 */
import { PassThrough } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";
import { JobError } from "./errors.ts";

/**
 * Largest archive this writer produces: fflate writes no ZIP64, so a ZIP is limited to 65,535 entries
 * and 4 GiB offsets. Both limits keep a margin for manifest.json.
 */
export const MAX_ZIP_ENTRIES = 65_000;
export const MAX_ZIP_BYTES = 4 * 1024 ** 3 - 64 * 1024 ** 2;

/** Multipart part size, bytes: 5 MiB, the S3/R2 minimum for all parts but the last. */
export const PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Parts uploaded at once. */
export const UPLOAD_QUEUE_SIZE = 2;

/** One ZIP being written to `bucket/key`. Call {@link addFile}…, then {@link finish} or {@link abort}. */
export class ArchiveUpload {
  /** Bytes of ZIP produced so far (= uploaded once finished). */
  bytes = 0;
  /** Files added so far. */
  private entries = 0;
  private readonly body = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly zip: Zip;
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private finished = false;

  /**
   * Starts the upload immediately (it reads the stream as the ZIP grows).
   * @param client S3 client
   * @param bucket images bucket
   * @param key object key (`archiveObjectKey`)
   */
  constructor(client: S3Client, bucket: string, key: string) {
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
    this.upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: this.body, ContentType: "application/zip" },
      partSize: PART_SIZE_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      // Abort the multipart upload on failure so no orphan parts are billed.
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
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
