/** A local file as the byte source of an upload (Node: `node:fs`), read range by range, never whole. */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { UploadError, type ByteSource } from "./upload-protocol.ts";

/**
 * @param filePath a regular file
 * @returns the source: its size, its base name, no declared type, and `slice` streaming a byte range
 * @throws UploadError when the file cannot be read
 */
export async function fileSource(filePath: string): Promise<ByteSource> {
  let size: number;
  try {
    const s = await stat(filePath);
    if (!s.isFile()) throw new Error("not a regular file");
    size = s.size;
  } catch (err) {
    throw new UploadError(`Cannot read ${filePath}: ${(err as Error).message}`, { cause: err });
  }
  return {
    size,
    name: path.basename(filePath),
    type: "",
    slice(start, end) {
      const file = end <= start ? Readable.from([]) : createReadStream(filePath, { start, end: end - 1, highWaterMark: 256 * 1024 });
      return Readable.toWeb(file) as ReadableStream<Uint8Array>;
    },
  };
}
