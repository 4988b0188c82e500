/**
 * The runner's check that a job's outputs are not stored yet (`JobKind.alreadyStored`) runs beside the job's
 * start rather than before it (ffmpeg-container/src/runner/job-stream.ts): the source's download does not
 * wait for the output HEADs, the answer's status does, and a job whose output the check finds stored is
 * answered 409 having written nothing. Real processor, real S3 server; the output HEADs are slowed so the
 * order of the calls is plain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import {
  getObject,
  type Harness,
  hookedS3Clients,
  jobMessage,
  leftoverTempFiles,
  postJob,
  startHarness,
  testVideo,
  uploadSource,
  USER_ID,
  waitUntil,
} from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/** How long each HEAD of the images bucket (the output check) is held before it is sent. */
const SLOW_HEAD_MS = 400;

/** A processor whose output HEADs are slow, and the ordered log of its job clients' calls (`start|end Command bucket/key`). */
async function slowOutputChecks() {
  const calls: string[] = [];
  const s3Client = hookedS3Clients(async (c, send) => {
    const name = `${c.command} ${c.bucket}/${c.key}`;
    calls.push(`start ${name}`);
    if (c.command === "HeadObjectCommand" && c.bucket === h.config.imagesBucket) await new Promise((r) => setTimeout(r, SLOW_HEAD_MS));
    try {
      return await send();
    } finally {
      calls.push(`end ${name}`);
    }
  });
  const { url } = await h.extraProcessor({}, { s3Client });
  return { url, calls };
}

describe("the runner's output check beside the job's start", () => {
  it("the source's GET is sent while the output HEADs are pending; the job then succeeds", async () => {
    const { url, calls } = await slowOutputChecks();
    const sourceEtag = await uploadSource(h, "beside-ok", testVideo("franck.mp4"));
    const m = jobMessage("beside-ok", { mode: "keyframes" });
    const res = await postJob(url, { ...m, payload: { ...m.payload, sourceEtag } });
    expect(res.status).toBe(200);
    expect(res.events.at(-1)?.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const sourceGet = calls.findIndex((c) => c.startsWith(`start GetObjectCommand ${h.config.videosBucket}/`));
    const firstHeadAnswered = calls.findIndex((c) => c.startsWith(`end HeadObjectCommand ${h.config.imagesBucket}/`));
    expect(sourceGet, calls.join("\n")).toBeGreaterThanOrEqual(0);
    expect(firstHeadAnswered, calls.join("\n")).toBeGreaterThan(sourceGet);
    // Nothing was written before the check answered: every write comes after both HEADs ended.
    const lastHeadAnswered = calls.findLastIndex((c) => c.startsWith(`end HeadObjectCommand ${h.config.imagesBucket}/`));
    const firstWrite = calls.findIndex((c) => /^start (PutObject|CreateMultipartUpload)Command /.test(c));
    expect(firstWrite, calls.join("\n")).toBeGreaterThan(lastHeadAnswered);
  });

  it("a finished attempt sent again: 409 after the check, the job started beside it wrote nothing and left no folder", async () => {
    const videoId = "beside-finished";
    const sourceEtag = await uploadSource(h, videoId, testVideo("franck.mp4"));
    const m = jobMessage(videoId, { mode: "keyframes" });
    const first = await postJob(h.url, { ...m, payload: { ...m.payload, sourceEtag } });
    expect(first.events.at(-1)?.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    const zip = await getObject(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1));
    const manifest = await getObject(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1));

    const { url, calls } = await slowOutputChecks();
    const again = jobMessage(videoId, { mode: "interval", intervalSeconds: 5 });
    const res = await postJob(url, { ...again, payload: { ...again.payload, sourceEtag } });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ type: "https://vidsnap.dev/problems/job-already-finished", status: 409 });
    // The job did start beside the check (its source's GET), and stored nothing.
    expect(calls.some((c) => c.startsWith(`start GetObjectCommand ${h.config.videosBucket}/`)), calls.join("\n")).toBe(true);
    expect(calls.filter((c) => /(PutObject|CreateMultipartUpload|DeleteObject)Command/.test(c)), calls.join("\n")).toEqual([]);
    expect(Buffer.from(await getObject(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1))).equals(Buffer.from(zip))).toBe(true);
    expect(Buffer.from(await getObject(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1))).equals(Buffer.from(manifest))).toBe(true);
    expect(h.logs.some((l) => l.msg === "job aborted: output already stored" && l.fields.jobId === `${videoId}#1`)).toBe(true);
    await waitUntil("the job's folder removed", async () => (await leftoverTempFiles(h)).length === 0);
  });
});
