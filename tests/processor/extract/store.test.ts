/**
 * The end of an extraction stores the manifest while the archive's upload completes (jobs/extract/job.ts).
 * When the archive then fails, the manifest stored beside it is deleted again: a failed job leaves neither,
 * so a redelivered job is not refused as "already stored". The failure is injected into the processor's S3
 * client (the real local S3 server still answers every other request); the archive is one PutObject here
 * (under the 5 MiB part size).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProcessorServer } from "../../../ffmpeg-container/src/runner/server.ts";
import { silentLogger } from "../../../runtime/log.ts";
import { isFinalExtractEvent } from "../../../schema/messages/extract-snapshot.ts";
import { archiveObjectKey, manifestObjectKey } from "../../../schema/object-keys.ts";
import { type Harness, hookedS3Clients, jobMessage, objectExists, postJob, startHarness, testVideo, uploadSource, USER_ID } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("storing the archive and the manifest", () => {
  it("the archive's PUT fails after the manifest was stored: ERROR, and neither object remains", async () => {
    let manifestPut = false;
    // Every client the processor makes for the job's credentials fails the archive's PUT.
    const s3Client = hookedS3Clients(async (c, send) => {
      if (c.command === "PutObjectCommand" && c.key.endsWith("/manifest.json")) manifestPut = true;
      if (c.command === "PutObjectCommand" && c.key.endsWith("/images.zip")) {
        // Fail only once the manifest is stored, so the deletion is what removes it.
        for (let i = 0; i < 100 && !manifestPut; i++) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 100));
        throw Object.assign(new Error("injected: archive upload refused"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
      }
      return send();
    });
    const processor = createProcessorServer(h.config, { log: silentLogger, s3Client });
    const url = await processor.listen();
    try {
      const videoId = "store-archive-fails";
      await uploadSource(h, videoId, testVideo("franck.mp4"));
      const res = await postJob(url, jobMessage(videoId, { mode: "keyframes" }));
      const last = res.events.filter((e) => isFinalExtractEvent(e.type)).at(-1)!;
      expect(last.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
      if (last.type !== "MSG_EXTRACT_SNAPSHOT_ERROR") throw new Error("unreachable");
      expect(last.payload.errorMessage).toBe("The images archive could not be stored.");
      expect(manifestPut).toBe(true);
      expect(await objectExists(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1))).toBe(false);
      expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1))).toBe(false);
    } finally {
      await processor.close({ abortRunning: true });
    }
  });
});
