/**
 * Images of an archive in the browser. The API lists the images (the manifest: `GET /v1/videos/{id}/images`)
 * and answers a presigned URL of the ZIP, not one URL per image; the page reads the images out of the ZIP:
 * {@link loadArchiveImages}: the whole ZIP (fetch, CORS GET on the bucket) unzipped with fflate, each image
 * as a blob: URL (CSP `img-src blob:`); archives above {@link MAX_ARCHIVE_BYTES} are not loaded.
 * Callers revoke the URLs (`URL.revokeObjectURL`) when the view goes away.
 */
import { unzipSync } from "fflate";
import type { ImageList } from "../../client/src/index.ts";

/** Largest archive the image grid loads into memory, bytes. */
export const MAX_ARCHIVE_BYTES = 200_000_000;

/** MIME type of an image entry: the manifest's; archives made before formats existed hold JPEGs only (schema/manifest.ts). */
function imageType(image: ImageList["images"][number]): string {
  return image.contentType ?? "image/jpeg";
}

/**
 * Downloads the archive and returns one blob: URL per image of `list`, by index.
 * @throws Error when the download fails or the archive is larger than {@link MAX_ARCHIVE_BYTES}
 */
export async function loadArchiveImages(list: ImageList, signal?: AbortSignal): Promise<Map<number, string>> {
  if ((list.zip.sizeBytes ?? 0) > MAX_ARCHIVE_BYTES) {
    throw new Error(`The archive is too large to preview here (${Math.round((list.zip.sizeBytes ?? 0) / 1e6)} MB): download the ZIP instead.`);
  }
  const res = await fetch(list.zip.url, { signal });
  if (!res.ok) throw new Error(`The archive could not be read (HTTP ${res.status}).`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const wanted = new Set(list.images.map((i) => i.fileName));
  const files = unzipSync(bytes, { filter: (f) => wanted.has(f.name) });
  const urls = new Map<number, string>();
  for (const image of list.images) {
    const data = files[image.fileName];
    if (data) urls.set(image.index, URL.createObjectURL(new Blob([data], { type: imageType(image) })));
  }
  return urls;
}
