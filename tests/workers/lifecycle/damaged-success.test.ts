/**
 * A SUCCESS on a damaged file (issue 18, "Damaged files"): the processor's `warnings` reach the video record
 * (`warnings` of the API), the success email message and the `video.ready` webhook payload; an intact
 * file's video has no `warnings` field; a new attempt clears them.
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Video } from "../../../schema/api.ts";
import { videos, webhookDeliveries } from "../../../schema/db.ts";
import { api, db, emailsFor, eventually, insertVideo, processorEvent, putSource, runQueue, signUp } from "../support/env.ts";
import { createEndpoint, hookUrl } from "../support/webhooks.ts";

const WARNINGS = ["The file ended early (it looks truncated): images after that point are missing."];

describe("warnings of a damaged file", () => {
  it("SUCCESS with warnings → video.warnings, the success email and the video.ready webhook carry them", async () => {
    const user = await signUp("damaged");
    await createEndpoint(user, { url: hookUrl(`damaged-${user.userId}`), events: ["video.ready"] });
    const videoId = await insertVideo(user.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId, userId: user.userId, attempt: 1 }, { warnings: WARNINGS })]);

    const { video } = (await (await api(`/v1/videos/${videoId}`, { token: user.token })).json()) as { video: Video };
    expect(video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", warnings: WARNINGS });
    const emails = await eventually(async () => {
      const list = await emailsFor(videoId);
      return list.length > 0 ? list : undefined;
    });
    expect(emails[0]).toMatchObject({ type: "MSG_SEND_SNAPSHOT_EXTRACTION_SUCCESS", payload: { warnings: WARNINGS } });
    const [delivery] = await db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.videoId, videoId), eq(webhookDeliveries.eventType, "video.ready")));
    expect((JSON.parse(delivery!.payload) as { data: { video: Video } }).data.video.warnings).toEqual(WARNINGS);
  });

  it("an intact file's video has no warnings field; a new attempt clears stored warnings", async () => {
    const user = await signUp("intact");
    const videoId = await insertVideo(user.userId, { status: "VIDEO_IMAGE_EXTRACTION_PROCESSING", attempt: 1 });
    await runQueue("vidsnap-events", [processorEvent("MSG_EXTRACT_SNAPSHOT_SUCCESS", { videoId, userId: user.userId, attempt: 1 })]);
    const { video } = (await (await api(`/v1/videos/${videoId}`, { token: user.token })).json()) as { video: Video };
    expect(video.status).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(video).not.toHaveProperty("warnings");

    // Whatever a previous attempt left (here forced onto a failed one), the next attempt starts without warnings.
    await db.update(videos).set({ status: "VIDEO_IMAGE_EXTRACTION_ERROR", warnings: WARNINGS }).where(eq(videos.id, videoId));
    await putSource(user.userId, videoId); // a retry checks the uploaded object again
    const retried = await api(`/v1/videos/${videoId}/retry`, { method: "POST", token: user.token });
    expect(retried.status).toBeLessThan(300);
    expect((await db.select().from(videos).where(eq(videos.id, videoId)))[0]!.warnings).toBeNull();
  });
});
