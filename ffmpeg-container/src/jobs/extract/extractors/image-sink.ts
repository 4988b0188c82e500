import { IMAGE_FORMATS, type ImageFormat } from "../../../../../schema/extraction-options.ts";
import type { ManifestImage } from "../../../../../schema/manifest.ts";
import { imageLimitError } from "../../../ffmpeg/input-checks.ts";
import type { ShowinfoFrame } from "../../../ffmpeg/stderr.ts";
import { JobError } from "../../../runner/errors.ts";
import { storageError } from "../../../s3.ts";
import { imageEntryName, type ArchiveUpload } from "../archive.ts";

/** An image's manifest timestamp: the frame's time, seconds, ≥ 0, rounded to the microsecond. */
export function manifestTimestamp(seconds: number): number {
  return Math.round(Math.max(0, seconds) * 1e6) / 1e6;
}

/**
 * Where every extractor puts its images: each goes into the archive under its entry name and into the
 * manifest list, in order. One image past `maxImages` (MAX_IMAGES) is an error, which stops the decode.
 * With `heldUntil`, the first image waits for that promise (the probe's checks of a decode that started
 * before them): nothing enters the archive before it resolves, and its rejection is thrown by {@link add}.
 * The decode loop awaits `add`, so ffmpeg meanwhile blocks on its full stdout pipe.
 */
export class ImageSink {
  /** The manifest entries so far, in order. */
  readonly images: ManifestImage[] = [];
  private readonly mtime = new Date();

  constructor(
    private readonly archive: ArchiveUpload,
    private readonly format: ImageFormat,
    private readonly maxImages: number,
    private readonly signal: AbortSignal,
    private heldUntil?: Promise<unknown>,
  ) {}

  /** Timestamp of the last image stored, seconds (undefined before the first). */
  get lastTimestamp(): number | undefined {
    return this.images.at(-1)?.timestampSeconds;
  }

  /**
   * Stores one image.
   * @param data the encoded image
   * @param info its showinfo frame (timestamp, size)
   * @throws JobError past MAX_IMAGES, or when the archive upload failed; the rejection of `heldUntil`
   */
  async add(data: Buffer, info: ShowinfoFrame): Promise<void> {
    if (this.heldUntil) {
      await this.heldUntil;
      this.heldUntil = undefined;
    }
    const index = this.images.length;
    if (index >= this.maxImages) throw imageLimitError(this.maxImages);
    // The file name is derived from the manifest's (rounded) timestamp.
    const timestampSeconds = manifestTimestamp(info.timestampSeconds);
    const fileName = imageEntryName(index, timestampSeconds, this.format);
    await this.archive.addFile(fileName, data, this.mtime).catch((e: unknown) => {
      throw storageError("The images archive could not be stored.", e, this.signal);
    });
    this.images.push({
      index,
      fileName,
      timestampSeconds,
      bytes: data.length,
      ...(info.width && info.height ? { width: info.width, height: info.height } : {}),
      contentType: IMAGE_FORMATS[this.format].contentType,
    });
  }

  /**
   * @param emptyMessage errorMessage when no image was stored
   * @returns the manifest entries, in order
   * @throws JobError when there is none
   */
  finish(emptyMessage = "No image could be decoded from the video."): ManifestImage[] {
    if (this.images.length === 0) throw new JobError(emptyMessage, "ffmpeg produced no frame");
    return this.images;
  }
}
