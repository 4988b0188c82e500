/**
 * The job lifecycle's pure rules (edge-api/src/lifecycle/transitions.ts) on the extraction job kind.
 */
import { describe, expect, it } from "vitest";
import type { ExtractSnapshotEvent } from "../../../schema/messages/index.ts";
import type { VideoStatus } from "../../../schema/video-status.ts";
import { extractJob } from "../../../edge-api/src/lifecycle/extract-job.ts";
import { decideEvent } from "../../../edge-api/src/lifecycle/transitions.ts";

describe("state machine", () => {
  it("which processor events apply", () => {
    const rec = (status: VideoStatus, attempt = 1) => ({ status, attempt });
    const ev = (type: ExtractSnapshotEvent["type"], attempt = 1) => ({ phase: extractJob.eventPhase({ type } as ExtractSnapshotEvent), attempt });
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_PROCESSING"), rec("VIDEO_IMAGE_EXTRACTION_QUEUED"))).toBe("apply");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_PROCESSING"), rec("VIDEO_IMAGE_EXTRACTION_PROCESSING"))).toBe("apply");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_SUCCESS"), rec("VIDEO_IMAGE_EXTRACTION_QUEUED"))).toBe("apply");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_ERROR"), rec("VIDEO_IMAGE_EXTRACTION_PROCESSING"))).toBe("apply");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_SUCCESS"), rec("VIDEO_IMAGE_EXTRACTION_SUCCESS"))).toBe("redelivered");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_ERROR"), rec("VIDEO_IMAGE_EXTRACTION_ERROR"))).toBe("redelivered");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_ERROR"), rec("VIDEO_IMAGE_EXTRACTION_SUCCESS"))).toBe("ignore");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_PROCESSING"), rec("VIDEO_IMAGE_EXTRACTION_SUCCESS"))).toBe("ignore");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_SUCCESS", 1), rec("VIDEO_IMAGE_EXTRACTION_QUEUED", 2))).toBe("ignore");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_SUCCESS"), rec("VIDEO_UPLOAD_PENDING"))).toBe("ignore");
    expect(decideEvent(extractJob, ev("MSG_EXTRACT_SNAPSHOT_SUCCESS"), undefined)).toBe("ignore");
  });
});
