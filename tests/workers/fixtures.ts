/**
 * Test data shared by the workerd tests and the Node-side stand-in processor (plain values only, so
 * both runtimes can import it).
 */
import type { SourceFacts } from "../../schema/manifest.ts";

/** ffprobe facts of a 12.5 s 640x360 H.264 MP4, as the processor would report them. */
export const SAMPLE_SOURCE_FACTS: SourceFacts = {
  formatName: "mov,mp4,m4a,3gp,3g2,mj2",
  durationSeconds: 12.5,
  sizeBytes: 1000,
  videoCodec: "h264",
  width: 640,
  height: 360,
  frameRate: 25,
  rotationDegrees: 0,
};
