/**
 * Issue 18 item 7: the source object can be replaced through its still-valid upload URL after `complete`.
 * The job carries the ETag recorded at `complete` (`sourceEtag`); every read of the source (HEAD, the
 * ranged GET of its first bytes, each ffprobe/ffmpeg request) carries `If-Match`, so a replaced object
 * fails the job with "The video was replaced after upload completed." and nothing of the new bytes is
 * extracted, whether it was replaced before the job or while it ran. Audit suite `source-swap`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveObjectKey } from "../../../schema/object-keys.ts";
import { buildProbeArgs } from "../../../ffmpeg-container/src/ffmpeg/input-args.ts";
import { buildExtractArgs, buildPacketIndexArgs, buildSeekExtractArgs, DEFAULT_OUTPUT } from "../../../ffmpeg-container/src/jobs/extract/ffmpeg-args.ts";
import { SOURCE_REPLACED_MESSAGE } from "../../../ffmpeg-container/src/jobs/extract/job.ts";
import { recordAudit } from "../../../tools/audit/record.ts";
import { type Harness, jobMessage, objectExists, postJob, startHarness, startJob, testVideo, uploadSource, USER_ID } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  // Seek per target: each image is its own ffmpeg with its own ranged GETs, so a swap mid-job is met.
  h = await startHarness({ intervalStrategy: "seek" });
});
afterAll(async () => {
  await h?.close();
});

/**
 * Uploads franck.mp4 as `videoId`, starts an interval job (N = 2, seeking) on `url` with its ETag, replaces
 * the object by hardware-example.mp4 after 1.5 s (a few images in), and waits for the job's end.
 * @returns the job's last event
 */
async function replacedWhileRunning(url: string, videoId: string) {
  const recorded = await uploadSource(h, videoId, testVideo("franck.mp4"));
  const job = await startJob(url, withEtag(videoId, { mode: "interval", intervalSeconds: 2 }, recorded));
  await new Promise((r) => setTimeout(r, 1500));
  await uploadSource(h, videoId, testVideo("hardware-example.mp4"));
  return (await job.rest).at(-1)!;
}

const withEtag = (videoId: string, options: Parameters<typeof jobMessage>[1], sourceEtag: string) => {
  const m = jobMessage(videoId, options);
  return { ...m, payload: { ...m.payload, sourceEtag } };
};

describe("every ffprobe/ffmpeg read of the source carries If-Match", () => {
  it("the argument builders add -headers 'If-Match: <etag>' for an HTTP input with an ETag, nothing without", () => {
    const input = { url: "https://s3.example/videos/source?X-Amz-Signature=x", ifMatch: '"0123abcd"' };
    const plan = { keyframesOnly: true, select: "1", output: DEFAULT_OUTPUT };
    const all = [
      buildProbeArgs(input),
      buildPacketIndexArgs(input, 0),
      buildSeekExtractArgs(input, 0, 1, 2),
      buildExtractArgs(input, 0, plan, "/tmp/graph.txt"),
    ];
    for (const args of all) {
      const i = args.indexOf("-headers");
      expect(args[i + 1]).toBe('If-Match: "0123abcd"\r\n');
      expect(i).toBeLessThan(args.indexOf("-i"));
      expect(args[args.indexOf("-i") + 1]).toBe(input.url);
    }
    expect(buildProbeArgs(input.url)).not.toContain("-headers");
    expect(() => buildProbeArgs({ url: input.url, ifMatch: '"x"\r\nX-Evil: 1' })).toThrow(RangeError);
  });
});

describe("a source replaced after complete", () => {
  it("with the ETag of complete: SUCCESS as before", async () => {
    const recorded = await uploadSource(h, "etag-same", testVideo("hardware-example.mp4"));
    const res = await postJob(h.url, withEtag("etag-same", { mode: "keyframes" }, recorded));
    const last = res.events.at(-1)!;
    recordAudit({ case: "job with the ETag recorded at complete, object unchanged", expected: "SUCCESS", got: last.type.replace("MSG_EXTRACT_SNAPSHOT_", ""), ok: last.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" });
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
  });

  it("replaced before the job started: ERROR 'replaced after upload completed', nothing extracted", async () => {
    const recorded = await uploadSource(h, "etag-before", testVideo("hardware-example.mp4"));
    await uploadSource(h, "etag-before", testVideo("display-dual-monitors.webm"));
    const res = await postJob(h.url, withEtag("etag-before", { mode: "keyframes" }, recorded));
    const last = res.events.at(-1)!;
    const got = last.type === "MSG_EXTRACT_SNAPSHOT_ERROR" ? `ERROR ${last.payload.errorMessage}` : last.type;
    recordAudit({ case: "object replaced between complete and the job (If-Match)", expected: `ERROR ${SOURCE_REPLACED_MESSAGE}`, got, ok: got === `ERROR ${SOURCE_REPLACED_MESSAGE}` });
    expect(got).toBe(`ERROR ${SOURCE_REPLACED_MESSAGE}`);
    if (last.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(last.payload.errorDescription).toMatch(/412/);
    expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, "etag-before", 1))).toBe(false);
  });

  it("replaced while the job runs, read over HTTP (no local copy): the next read is refused, ERROR 'replaced after upload completed'", async () => {
    // SOURCE_CACHE_BYTES=0: every ffmpeg run reads the object itself, each request with If-Match.
    const overHttp = await h.extraProcessor({ intervalStrategy: "seek", sourceCacheBytes: 0 });
    const last = await replacedWhileRunning(overHttp.url, "etag-during");
    const got = last.type === "MSG_EXTRACT_SNAPSHOT_ERROR" ? `ERROR ${last.payload.errorMessage}` : last.type;
    recordAudit({ case: "object replaced while the job reads it (If-Match on every ranged GET)", expected: `ERROR ${SOURCE_REPLACED_MESSAGE}`, got, ok: got === `ERROR ${SOURCE_REPLACED_MESSAGE}` });
    expect(got).toBe(`ERROR ${SOURCE_REPLACED_MESSAGE}`);
    expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, "etag-during", 1))).toBe(false);
  });

  it("replaced while the job runs, with a local copy: the job reads the copy of the completed bytes, SUCCESS with their images", async () => {
    const last = await replacedWhileRunning(h.url, "etag-copy");
    const got = last.type.replace("MSG_EXTRACT_SNAPSHOT_", "");
    recordAudit({ case: "object replaced while the job reads its local copy (downloaded with If-Match)", expected: "SUCCESS with the completed video's images", got, ok: got === "SUCCESS" });
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type !== "MSG_EXTRACT_SNAPSHOT_SUCCESS") return;
    // franck.mp4 (200 s), not the replacement (hardware-example.mp4, 0.3 s).
    expect(last.payload.source.durationSeconds).toBeGreaterThan(20);
    expect(last.payload.imageCount).toBeGreaterThan(5);
    const phases = h.logs.filter((l) => l.msg === "extraction phases" && JSON.stringify(l.fields).includes("etag-copy"));
    expect(phases.at(-1)?.fields.localCopy).toBe("downloaded");
  });

  it("a local copy is keyed by the ETag: a job carrying the replacement's ETag downloads the new bytes", async () => {
    const franckEtag = await uploadSource(h, "etag-rekey", testVideo("franck.mp4"));
    const first = await postJob(h.url, withEtag("etag-rekey", { mode: "keyframes" }, franckEtag));
    expect(first.events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const replacementEtag = await uploadSource(h, "etag-rekey", testVideo("hardware-example.mp4"));
    const m = withEtag("etag-rekey", { mode: "keyframes" }, replacementEtag);
    const second = await postJob(h.url, { ...m, payload: { ...m.payload, attempt: 2 } });
    const last = second.events.at(-1)!;
    expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    if (last.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS") expect(last.payload.source.durationSeconds).toBeLessThan(2);
  });

  it("a job message without sourceEtag (queued before the field existed) reads without the condition", async () => {
    await uploadSource(h, "etag-none", testVideo("hardware-example.mp4"));
    const res = await postJob(h.url, jobMessage("etag-none", { mode: "keyframes" }));
    expect(res.events.at(-1)!.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
  });
});
