/**
 * Upload allow-list check (schema/video-types.ts, overridable with ALLOWED_VIDEO_TYPES): the file
 * extension must be listed and the declared MIME type must be one of that extension's types.
 */
import { fileExtension } from "../../../../schema/video-types.ts";
import { ProblemError } from "../../errors.ts";

/**
 * @param filename original file name, e.g. `clip.MOV`
 * @param contentType declared MIME type; parameters (`; codecs=...`) and case are ignored
 * @param allowList extension → accepted MIME types
 * @returns the normalized MIME type (lower case, no parameters) the upload will be signed with
 * @throws ProblemError `unsupported-video-type` (415) for an unknown extension or a mismatched type
 */
export function checkVideoType(
  filename: string,
  contentType: string,
  allowList: Readonly<Record<string, readonly string[]>>,
): string {
  const ext = fileExtension(filename);
  const mime = contentType.split(";")[0]!.trim().toLowerCase();
  const accepted = ext ? allowList[ext] : undefined;
  if (!accepted) {
    throw new ProblemError(
      "unsupported-video-type",
      `Files ending in ${ext ? `.${ext}` : "no extension"} are not accepted; allowed: ${Object.keys(allowList).map((e) => `.${e}`).join(", ")}.`,
    );
  }
  if (!accepted.includes(mime)) {
    throw new ProblemError(
      "unsupported-video-type",
      `A .${ext} file must be declared as ${accepted.join(" or ")}, not ${mime || "an empty type"}.`,
    );
  }
  return mime;
}
