/**
 * Which extractions read a local copy of their source (ffmpeg-container/src/sources/source-cache.ts), on real
 * ffmpeg and the local S3 server: a job carrying `sourceEtag` copies a small source; a single-pass job
 * (keyframes) leaves a source over SINGLE_PASS_COPY_MAX_BYTES (16 MiB) to its presigned URL, while an
 * interval job (many reads) copies it; no `sourceEtag` or SOURCE_CACHE_BYTES=0 reads over HTTP. Each job's
 * `extraction phases` log line says how it read (`localCopy`), and every job's images are the same either way.
 * The copy's GET is the job's source check: the source gets no HEAD then, and the outputs only the runner's.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SINGLE_PASS_COPY_MAX_BYTES } from "../../../ffmpeg-container/src/jobs/extract/job.ts";
import { sourceObjectKey } from "../../../schema/object-keys.ts";
import type { ExtractionOptions } from "../../../schema/extraction-options.ts";
import { type Harness, hookedS3Clients, jobMessage, postJob, startHarness, testVideo, uploadSource, USER_ID } from "../harness.ts";

const run = promisify(execFile);
let h: Harness;
let work: string;
let large: string;

beforeAll(async () => {
  h = await startHarness();
  work = await mkdtemp(path.join(os.tmpdir(), "vidsnap-local-copy-"));
  // franck.mp4 (3.4 MB) played 6 times, stream copy: ~20 MB, over the single-pass limit, made here.
  large = path.join(work, "franck-x6.mp4");
  await run("ffmpeg", ["-v", "error", "-stream_loop", "5", "-i", testVideo("franck.mp4"), "-map", "0:v:0", "-c", "copy", "-y", large]);
}, 60_000);
afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Uploads `file` as `videoId`, runs one job (with the ETag unless `withEtag` is false) on `url`. @returns its `localCopy` and image count */
async function extraction(videoId: string, file: string, options: ExtractionOptions, opts: { withEtag?: boolean; url?: string } = {}) {
  const sourceEtag = await uploadSource(h, videoId, file);
  const m = jobMessage(videoId, options);
  const res = await postJob(opts.url ?? h.url, opts.withEtag === false ? m : { ...m, payload: { ...m.payload, sourceEtag } });
  const last = res.events.at(-1)!;
  expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
  const line = h.logs.filter((l) => l.msg === "extraction phases" && String(l.fields.jobId).startsWith(`${videoId}#`)).at(-1);
  return { localCopy: line?.fields.localCopy, images: last.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" ? last.payload.imageCount : -1 };
}

describe("local copies of sources in extractions", () => {
  it("a keyframes job with sourceEtag copies a small source; without it, it reads over HTTP; same images", async () => {
    const copied = await extraction("small-copy", testVideo("franck.mp4"), { mode: "keyframes" });
    expect(copied.localCopy).toBe("downloaded");
    const overHttp = await extraction("small-http", testVideo("franck.mp4"), { mode: "keyframes" }, { withEtag: false });
    expect(overHttp.localCopy).toEqual({ none: "no recorded ETag" });
    expect(copied.images).toBe(overHttp.images);
  });

  it("a single-pass job leaves a source over 16 MiB to its URL; an interval job copies it", async () => {
    expect((await stat(large)).size).toBeGreaterThan(SINGLE_PASS_COPY_MAX_BYTES);
    const keyframes = await extraction("large-keyframes", large, { mode: "keyframes" });
    expect(keyframes.localCopy).toEqual({ none: expect.stringMatching(/over the copy limit \(16777216\)/) });
    const interval = await extraction("large-interval", large, { mode: "interval", intervalSeconds: 60 });
    expect(interval.localCopy).toBe("downloaded");
    expect(interval.images).toBeGreaterThan(10);
  }, 60_000);

  it("the copy's GET checks the source: no HEAD of it, and the outputs get only the runner's HEADs; without an ETag the source gets its HEAD", async () => {
    /** Storage calls of the processor's job clients: `Command bucket/key`. */
    const calls: string[] = [];
    const s3Client = hookedS3Clients((c, send) => {
      calls.push(`${c.command} ${c.bucket}/${c.key}`);
      return send();
    });
    const { url } = await h.extraProcessor({}, { s3Client });
    {
      const heads = (videoId: string) => ({
        source: calls.filter((c) => c === `HeadObjectCommand ${h.config.videosBucket}/${sourceObjectKey(USER_ID, videoId)}`).length,
        outputs: calls.filter((c) => c.startsWith(`HeadObjectCommand ${h.config.imagesBucket}/`) && c.includes(`/${videoId}/`)).length,
        sourceGets: calls.filter((c) => c.startsWith(`GetObjectCommand ${h.config.videosBucket}/`) && c.includes(`/${videoId}/`)).length,
      });
      const copied = await extraction("calls-copy", testVideo("franck.mp4"), { mode: "keyframes" }, { url });
      expect(copied.localCopy).toBe("downloaded");
      // The runner's two HEADs (archive, manifest) beside the job's start; the job repeats neither.
      expect(heads("calls-copy")).toEqual({ source: 0, outputs: 2, sourceGets: 1 });
      const refused = await extraction("calls-large", large, { mode: "keyframes" }, { url });
      // Refused for its size once the GET answered: that answer was the check.
      expect(refused.localCopy).toEqual({ none: expect.stringMatching(/over the copy limit/) });
      expect(heads("calls-large")).toEqual({ source: 0, outputs: 2, sourceGets: 1 });
      const overHttp = await extraction("calls-http", testVideo("franck.mp4"), { mode: "keyframes" }, { url, withEtag: false });
      expect(overHttp.localCopy).toEqual({ none: "no recorded ETag" });
      expect(heads("calls-http")).toEqual({ source: 1, outputs: 2, sourceGets: 0 });
    }
  }, 60_000);

  it("SOURCE_CACHE_BYTES=0 reads over HTTP", async () => {
    const off = await h.extraProcessor({ sourceCacheBytes: 0 });
    const r = await extraction("cache-off", testVideo("franck.mp4"), { mode: "keyframes" }, { url: off.url });
    expect(r.localCopy).toEqual({ none: "disabled" });
  });
});
