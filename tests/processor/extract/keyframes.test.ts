/**
 * Keyframe mode against real videos of four containers (MP4 with moov at the end, AVI, WebM, Ogg) plus
 * the two codecs where `-skip_frame nokey` alone is wrong (Cinepak ignores it; Theora with frame threads
 * loses keyframes). Expected counts come from ffprobe (packets flagged K), computed here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffprobeKeyframeCount, ffprobeKeyframeTimes, type Harness, runSuccessfulJob, startHarness, testVideo } from "../harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("keyframes mode", () => {
  it.each([
    ["franck.mp4", 20, { formatName: "mov,mp4,m4a,3gp,3g2,mj2", videoCodec: "h264", width: 360, height: 288 }],
    ["vtest.avi", 4, { formatName: "avi", videoCodec: "msmpeg4v3", width: 768, height: 576 }],
    ["display-dual-monitors.webm", 11, { formatName: "matroska,webm", videoCodec: "vp8", width: 1024, height: 768 }],
    ["boswars_intro.ogg", 4, { formatName: "ogg", videoCodec: "theora", width: 1024, height: 768 }],
    ["tree.avi", undefined, { formatName: "avi", videoCodec: "cinepak", width: 320, height: 240 }],
    ["sample_iPod.m4v", 7, { videoCodec: "h264", width: 320, height: 240 }],
  ] as const)("%s: one image per key-flagged packet", async (name, readmeCount, facts) => {
    const file = testVideo(name);
    const expected = await ffprobeKeyframeCount(file);
    if (readmeCount !== undefined) expect(expected).toBe(readmeCount); // testdata README
    const videoId = `kf-${name.replace(/\W/g, "-")}`;
    const { manifest, success } = await runSuccessfulJob(h, videoId, file, { mode: "keyframes" });

    expect(success.imageCount).toBe(expected);
    expect(success.source).toMatchObject({ ...facts, rotationDegrees: 0 });
    // Each image is a keyframe: its timestamp is the pts of a key-flagged packet.
    const keyTimes = await ffprobeKeyframeTimes(file);
    expect(keyTimes).toHaveLength(expected);
    manifest.images.forEach((image, i) => {
      expect(Math.abs(image.timestampSeconds - keyTimes[i]!), `image ${i}`).toBeLessThan(0.002);
      expect(image.width).toBe(facts.width);
      expect(image.height).toBe(facts.height);
    });
  });
});
