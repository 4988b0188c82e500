/**
 * Vocabulary of a video's timeline (`video_events`, `GET /v1/videos/{id}/events`; written only by
 * edge-api/src/lifecycle/timeline.ts): which job a timeline event is about, who caused it, and the statuses
 * it may name.
 */
import { z } from "zod";
import { TranscodeStatus } from "./transcode-status.ts";
import { VideoStatus } from "./video-status.ts";

/**
 * The job a timeline event is about: `video` the record itself (created), `extract` its image extraction
 * (the video row's own status), `transcode` one transcode (`jobId` = its id); `import` and `generation` are
 * reserved for videos that come from elsewhere (issue 15).
 */
export const TimelineJobKind = z.enum(["video", "extract", "transcode", "import", "generation"]);
export type TimelineJobKind = z.infer<typeof TimelineJobKind>;

/**
 * Who caused a change: `user` a request of the owner (create, complete, retry, delete), `processor` an event
 * of the processor, `api` the API on its own (a job given up after its deliveries, the processor unreachable,
 * a lost event relay), `cron` the scheduled sweep (lease recovery, lease give-up), `generator` an external
 * generator's callback.
 */
export const TimelineSource = z.enum(["api", "processor", "cron", "generator", "user"]);
export type TimelineSource = z.infer<typeof TimelineSource>;

/** `toStatus` of a transcode's deletion (the row is gone; the video's timeline keeps the moment). */
export const TRANSCODE_DELETED = "TRANSCODE_DELETED";

/** Every status a timeline event may name: the video's, a transcode's, and {@link TRANSCODE_DELETED}. */
export const TimelineStatus = z.enum([...VideoStatus.options, ...TranscodeStatus.options, TRANSCODE_DELETED]);
export type TimelineStatus = z.infer<typeof TimelineStatus>;

/** Longest `message` stored, characters (longer ones are cut with "…"). */
export const TIMELINE_MESSAGE_MAX_CHARS = 500;
