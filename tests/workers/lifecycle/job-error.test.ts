/** The ERROR fields every job kind shares (schema/messages/job-error.ts), as the API writes them on the processor's behalf. */
import { describe, expect, it } from "vitest";
import { API_SERVICE } from "../../../schema/messages/envelope.ts";
import { ExtractSnapshotErrorMessage } from "../../../schema/messages/extract-snapshot.ts";
import { ImportVideoErrorMessage } from "../../../schema/messages/import.ts";
import {
  ERROR_DESCRIPTION_MAX_CHARS,
  ERROR_MESSAGE_MAX_CHARS,
  JobErrorFields,
  jobErrorFields,
} from "../../../schema/messages/job-error.ts";
import { TranscodeErrorMessage } from "../../../schema/messages/transcode.ts";
import { extractJob } from "../../../edge-api/src/lifecycle/extract-job.ts";
import { importJob } from "../../../edge-api/src/lifecycle/import-job.ts";
import { transcodeJob } from "../../../edge-api/src/lifecycle/transcode-job.ts";

describe("jobErrorFields", () => {
  it("cuts both texts to the schema's limits and sets retryable only when true", () => {
    const long = jobErrorFields("m".repeat(900), "d".repeat(9000), { retryable: true });
    expect(long.errorMessage).toHaveLength(ERROR_MESSAGE_MAX_CHARS);
    expect(long.errorDescription).toHaveLength(ERROR_DESCRIPTION_MAX_CHARS);
    expect(long.retryable).toBe(true);
    expect(JobErrorFields.parse(long)).toEqual(long);
    const permanent = jobErrorFields("Boom.", "detail", { retryable: false });
    expect(permanent).toEqual({ errorMessage: "Boom.", errorDescription: "detail" });
    expect("retryable" in permanent).toBe(false);
  });

  it("every job kind's ERROR event written by the API carries them and passes its own schema", () => {
    const ref = { id: "vid_1234567890abcdef", userId: "user_1", attempt: 3 };
    const transcodeRef = { id: "trc_1234567890abcdef", userId: "user_1", attempt: 2, parentId: ref.id };
    const cases = [
      [extractJob.errorEvent(ref, "Gone.", "x".repeat(5000), { retryable: true }), ExtractSnapshotErrorMessage],
      [importJob.errorEvent(ref, "Gone.", "x".repeat(5000)), ImportVideoErrorMessage],
      [transcodeJob.errorEvent(transcodeRef, "Gone.", "x".repeat(5000), { retryable: true }), TranscodeErrorMessage],
    ] as const;
    const payloads = cases.map(([event, schema]) => {
      const parsed = schema.parse(event);
      expect(parsed.sender).toBe(API_SERVICE);
      expect(parsed.payload.errorDescription).toHaveLength(ERROR_DESCRIPTION_MAX_CHARS);
      return parsed.payload as JobErrorFields;
    });
    expect(payloads[0]?.retryable).toBe(true);
    expect(payloads[1] && "retryable" in payloads[1]).toBe(false);
    expect(payloads[2]).toMatchObject({ transcodeId: transcodeRef.id, videoId: ref.id, attempt: 2, retryable: true });
  });
});
