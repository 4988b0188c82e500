import type { AnyJobKind } from "../runner/job-kind.ts";
import { extractKind } from "./extract/kind.ts";
import { importKind } from "./import/kind.ts";
import { transcodeKind } from "./transcode/kind.ts";

/** Every job kind the processor runs; `POST /jobs` picks one by the envelope's `type`. */
export const JOB_KINDS: readonly AnyJobKind[] = [extractKind, transcodeKind, importKind];
