/**
 * Default allow-list of uploadable video types: file extensions and the MIME types a client may
 * declare for them. The edge API refuses any other (extension, contentType) pair before signing an
 * upload URL; the processor later checks the real container with ffprobe.
 *
 * MIME types follow IANA registrations and what browsers send (`video/quicktime` for .mov,
 * `video/x-msvideo` for .avi, `video/mp2t` for .ts, `video/ogg` / `application/ogg` for Ogg).
 */
export const DEFAULT_VIDEO_TYPES: Readonly<Record<string, readonly string[]>> = {
  mp4: ["video/mp4"],
  m4v: ["video/x-m4v", "video/mp4"],
  mov: ["video/quicktime"],
  mkv: ["video/x-matroska", "video/matroska"],
  webm: ["video/webm"],
  avi: ["video/x-msvideo", "video/avi", "video/msvideo"],
  mpg: ["video/mpeg"],
  mpeg: ["video/mpeg"],
  ts: ["video/mp2t"],
  ogv: ["video/ogg"],
  ogg: ["video/ogg", "application/ogg"],
};

/**
 * Parses an allow-list override such as `"mp4=video/mp4;webm=video/webm"` (configuration variable
 * ALLOWED_VIDEO_TYPES). An empty or missing value yields {@link DEFAULT_VIDEO_TYPES}.
 * @throws Error when an entry has no extension or no MIME type.
 */
export function parseVideoTypes(spec: string | undefined): Readonly<Record<string, readonly string[]>> {
  if (!spec || !spec.trim()) return DEFAULT_VIDEO_TYPES;
  const out: Record<string, string[]> = {};
  for (const entry of spec.split(";").map((s) => s.trim()).filter(Boolean)) {
    const [ext, mimes] = entry.split("=");
    const types = (mimes ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
    if (!ext?.trim() || types.length === 0) throw new Error(`invalid ALLOWED_VIDEO_TYPES entry: ${entry}`);
    out[ext.trim().toLowerCase().replace(/^\./, "")] = types;
  }
  return out;
}

/** Lower-case extension of a file name without the dot, or "" when it has none. */
export function fileExtension(filename: string): string {
  const dot = filename.lastIndexOf(".");
  return dot > 0 ? filename.slice(dot + 1).toLowerCase() : "";
}
