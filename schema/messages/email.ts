/** Every message of the `vidsnap-email` queue, one discriminated union on `type` (the email consumer's input). */
import { z } from "zod";
import { SendEmailVerificationMessage } from "./account-email.ts";
import {
  SendSnapshotExtractionErrorMessage,
  SendSnapshotExtractionSuccessMessage,
  SendVideoGenerationErrorMessage,
  SendVideoImportErrorMessage,
} from "./snapshot-email.ts";
import { SendTranscodeErrorMessage, SendTranscodeSuccessMessage } from "./transcode-email.ts";

export const EmailMessage = z.discriminatedUnion("type", [
  SendSnapshotExtractionSuccessMessage,
  SendSnapshotExtractionErrorMessage,
  SendVideoImportErrorMessage,
  SendVideoGenerationErrorMessage,
  SendTranscodeSuccessMessage,
  SendTranscodeErrorMessage,
  SendEmailVerificationMessage,
]);
export type EmailMessage = z.infer<typeof EmailMessage>;
