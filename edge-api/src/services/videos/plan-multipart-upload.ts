/**
 * Chooses the part size and count of a multipart upload, within the S3/R2 rules
 * (../shared/toolchain-notes.md; R2 "Multipart upload" limits): every part but the last has the same size,
 * 5 MiB..5 GiB; the last one may be smaller; at most 10,000 parts.
 */

/** Smallest part S3/R2 accept (all parts but the last), bytes. */
export const MIN_PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Largest part S3/R2 accept, bytes. */
export const MAX_PART_SIZE_BYTES = 5 * 1024 * 1024 * 1024;
/** Most parts of one multipart upload (S3/R2). */
export const MAX_PARTS = 10_000;
const MIB = 1024 * 1024;

/** Geometry of a multipart upload. */
export interface MultipartPlan {
  /** Size of every part but the last, bytes. */
  partSizeBytes: number;
  /** Number of parts, 1..10,000. */
  partCount: number;
}

/**
 * @param sizeBytes size of the whole file, ≥ 1 byte
 * @param preferredPartSizeBytes MULTIPART_PART_SIZE_BYTES (5 MiB..5 GiB)
 * @returns the preferred part size, or the smallest whole number of MiB that keeps the file within
 *   10,000 parts when the preferred size would need more
 * @throws RangeError when even 5 GiB parts need more than 10,000 (files over ~48.8 TiB)
 */
export function planMultipartUpload(sizeBytes: number, preferredPartSizeBytes: number): MultipartPlan {
  let partSizeBytes = Math.min(MAX_PART_SIZE_BYTES, Math.max(MIN_PART_SIZE_BYTES, preferredPartSizeBytes));
  if (Math.ceil(sizeBytes / partSizeBytes) > MAX_PARTS) {
    partSizeBytes = Math.min(MAX_PART_SIZE_BYTES, Math.ceil(sizeBytes / MAX_PARTS / MIB) * MIB);
  }
  const partCount = Math.max(1, Math.ceil(sizeBytes / partSizeBytes));
  if (partCount > MAX_PARTS) throw new RangeError(`${sizeBytes} bytes need more than ${MAX_PARTS} parts of 5 GiB`);
  return { partSizeBytes, partCount };
}

/**
 * @param partNumber 1..plan.partCount
 * @returns the exact size of that part, bytes (the last part holds the remainder)
 */
export function multipartPartSize(sizeBytes: number, plan: MultipartPlan, partNumber: number): number {
  return Math.min(plan.partSizeBytes, sizeBytes - (partNumber - 1) * plan.partSizeBytes);
}
