/**
 * End to end: starts the whole local stack exactly as `npm start` does (tools/stack/start.ts in a child
 * process, own ports and data folder) and drives it only over HTTP: sign-up, presigned upload,
 * complete, progress, images list, ZIP download and unzip, and the email at a local Postmark-speaking
 * server; then a corrupted video ending in VIDEO_IMAGE_EXTRACTION_ERROR with its error email, and a
 * retry after the good bytes were uploaded that ends in success.
 */
import { copyFileSync, createReadStream, openSync, statSync, writeSync, closeSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  archiveUrl,
  authenticate,
  createVidsnapClient,
  unwrap,
  uploadInstructionsOf,
  VidsnapApiError,
  waitForVideo,
  type VidsnapClient,
} from "../../client/src/index.ts";
import type { UploadInstructions } from "../../schema/api.ts";
import { Manifest } from "../../schema/manifest.ts";
import { testVideo } from "../../tools/paths.ts";
import { verificationEmailIn, verifyAddress } from "../../tools/stack/local-emails.ts";
import { postmarkRequests } from "../../tools/stack/postmark-control.ts";
import type { PostmarkMock } from "../../tools/stack/postmark-server.ts";
import { startE2eStack, waitFor, type E2eStack } from "./support/local-stack.ts";

const POSTMARK_TOKEN = "test-token-e2e"; // the Postmark-speaking server accepts tokens starting with test-token
let e2e: E2eStack;
let postmark: PostmarkMock;
let dataDir: string;
let baseUrl: string;

interface SentEmail {
  To: string;
  Subject: string;
  TextBody: string;
}

/** Outcome emails the Postmark-speaking server accepted with our token (answered 200); the address verification email is left out. */
async function sentEmails(to: string): Promise<SentEmail[]> {
  const requests = await postmarkRequests(postmark.host, POSTMARK_TOKEN);
  return requests
    .map((r) => ({ status: r.status, body: r.body as SentEmail & { Tag?: string } }))
    .filter((r) => r.status === 200 && r.body.To.includes(to) && r.body.Tag !== "email-verification")
    .map((r) => r.body);
}

/** A signed-up user's typed client, the address verified through its email (outcome emails need it). */
async function signUp(email: string, name: string): Promise<VidsnapClient> {
  const { token } = await authenticate(baseUrl, "sign-up", { email, password: "correct-horse-battery", name });
  await verifyAddress(async () => verificationEmailIn(await postmarkRequests(postmark.host, POSTMARK_TOKEN), email));
  return createVidsnapClient({ baseUrl, token });
}

/** PUTs `file` to a presigned single-PUT URL with the headers it was signed with (streamed). */
async function putFile(upload: UploadInstructions, file: string): Promise<void> {
  const res = await fetch(upload.url, {
    method: upload.method,
    headers: upload.headers,
    body: Readable.toWeb(createReadStream(file)) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  const text = await res.text();
  if (!res.ok) throw new Error(`upload → ${res.status}: ${text.slice(0, 300)}`);
}

const byId = (id: string) => ({ params: { path: { id } } });

beforeAll(async () => {
  e2e = await startE2eStack({ postmarkToken: POSTMARK_TOKEN, dataPrefix: "vidsnap-e2e-" });
  ({ baseUrl, dataDir, postmark } = e2e);
}, 150_000);

afterAll(async () => {
  await e2e?.stop();
}, 30_000);

describe("local stack, over HTTP only", () => {
  it("turns a real video into a ZIP of its keyframes and emails the user", async () => {
    const api = await signUp("e2e-ok@example.com", "E2E OK");
    const file = testVideo("display-dual-monitors.webm");

    const created = unwrap(
      await api.POST("/v1/videos", { body: { filename: "screencast.webm", contentType: "video/webm", sizeBytes: statSync(file).size } }),
    );
    const { video } = created;
    const upload = uploadInstructionsOf(created);
    expect(video.status).toBe("VIDEO_UPLOAD_PENDING");
    expect(upload.method).toBe("PUT");
    await putFile(upload as UploadInstructions, file);
    const completed = unwrap(await api.POST("/v1/videos/{id}/complete", { ...byId(video.id), body: {} }));
    expect(completed.video.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    // Completing twice queues nothing new.
    expect(unwrap(await api.POST("/v1/videos/{id}/complete", { ...byId(video.id), body: {} })).video.attempt).toBe(1);

    const seen = new Set<string>();
    const done = await waitForVideo(api, video.id, { onUpdate: (v) => seen.add(v.status), timeoutMs: 120_000 });
    expect(done.status, `${done.errorMessage} ${done.errorDescription}\n${e2e.log().slice(-3000)}`).toBe(
      "VIDEO_IMAGE_EXTRACTION_SUCCESS",
    );
    expect(done.imageCount).toBe(11); // ffprobe counts 11 keyframes (testdata README)
    expect(done.progress).toBe(1);

    const list = unwrap(await api.GET("/v1/videos/{id}/images", byId(video.id)));
    expect(list.imageCount).toBe(11);
    expect(list.images.map((i) => i.index)).toEqual([...Array(11).keys()]);
    const zip = await fetch(await archiveUrl(api, video.id));
    expect(zip.status).toBe(200);
    const zipBytes = new Uint8Array(await zip.arrayBuffer());
    expect(zipBytes.byteLength).toBe(list.zip.sizeBytes);
    const entries = unzipSync(zipBytes);
    const manifest = Manifest.parse(JSON.parse(new TextDecoder().decode(entries["manifest.json"])));
    expect(manifest.images.map((i) => i.fileName)).toEqual(list.images.map((i) => i.fileName));
    for (const image of manifest.images) {
      const bytes = entries[image.fileName]!;
      expect(bytes.byteLength).toBe(image.bytes);
      expect([bytes[0], bytes[1], bytes.at(-2), bytes.at(-1)]).toEqual([0xff, 0xd8, 0xff, 0xd9]); // JPEG SOI … EOI
    }

    const email = await waitFor("the success email", async () => (await sentEmails("e2e-ok@example.com"))[0]);
    expect(email.Subject).toMatch(/ready|images/i);
    expect(email.TextBody).toContain("11");
  }, 180_000);

  it("ends a corrupted video in VIDEO_IMAGE_EXTRACTION_ERROR with an error email, and retry works", async () => {
    const api = await signUp("e2e-bad@example.com", "E2E Bad");
    const good = testVideo("franck.mp4"); // moov atom at the end
    const corrupted = path.join(dataDir, "franck-corrupted.mp4");
    copyFileSync(good, corrupted);
    // Same size, tail (where the moov atom lives) zeroed: ffmpeg answers "moov atom not found".
    const size = statSync(good).size;
    const fd = openSync(corrupted, "r+");
    writeSync(fd, Buffer.alloc(1_000_000), 0, 1_000_000, size - 1_000_000);
    closeSync(fd);

    const created = unwrap(
      await api.POST("/v1/videos", {
        body: { filename: "franck.mp4", contentType: "video/mp4", sizeBytes: size, options: { mode: "interval", intervalSeconds: 50 } },
      }),
    );
    const { video } = created;
    const upload = uploadInstructionsOf(created);
    expect(upload.method).toBe("PUT");
    await putFile(upload as UploadInstructions, corrupted);
    unwrap(await api.POST("/v1/videos/{id}/complete", { ...byId(video.id), body: {} }));
    const failed = await waitForVideo(api, video.id, { timeoutMs: 120_000 });
    expect(failed.status).toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
    expect(failed.errorMessage).toBeTruthy();
    expect(failed.attempt).toBe(1);

    const errorEmail = await waitFor("the error email", async () => (await sentEmails("e2e-bad@example.com"))[0]);
    expect(errorEmail.TextBody).toContain(failed.errorMessage!);
    expect((await api.GET("/v1/videos/{id}/images", byId(video.id))).response.status).toBe(409);

    // The good bytes, same size and type, through the same presigned URL; then retry.
    await putFile(upload as UploadInstructions, good);
    const retried = unwrap(await api.POST("/v1/videos/{id}/retry", byId(video.id)));
    expect(retried.video.status).toBe("VIDEO_IMAGE_EXTRACTION_QUEUED");
    expect(retried.video.attempt).toBe(2);
    const ok = await waitForVideo(api, video.id, { timeoutMs: 120_000 });
    expect(ok.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(ok.imageCount).toBe(4); // 0, 50, 100, 150 s of a 200 s video
    // Retry from a non-error state is refused.
    const again = await api.POST("/v1/videos/{id}/retry", byId(video.id));
    expect(() => unwrap(again)).toThrow(VidsnapApiError);

    await waitFor("the success email of attempt 2", async () =>
      (await sentEmails("e2e-bad@example.com")).length >= 2 ? true : undefined,
    );
    const emails = await sentEmails("e2e-bad@example.com");
    expect(emails).toHaveLength(2); // one per attempt and outcome, none twice
    expect(emails[1]!.Subject).toMatch(/ready|images/i);
  }, 240_000);
});
