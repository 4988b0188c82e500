/**
 * The checks run after every chaos scenario (./scenarios.ts), over HTTP, the Postmark-speaking
 * server's recorded requests, local D1 and the S3 server's data folder:
 * 1. every video ends in VIDEO_IMAGE_EXTRACTION_SUCCESS or _ERROR before the deadline (the cron runs every few
 *    seconds meanwhile, as it would every 15 min); a deleted video answers 404. Anything else is "lost";
 * 2. exactly one email per (video, attempt, outcome) of each finished video: accepted (200) once by the
 *    Postmark-speaking server, and `sent` in D1's `emails`; a second acceptance is a duplicate;
 * 3. every succeeded video has a ZIP whose image entries number `imageCount`, with its manifest;
 * 4. no orphaned objects: under `users/{u}/videos/{v}/` only the source (while the video exists) and the
 *    archive + manifest of its final successful attempt; nothing at all for a deleted video;
 * 5. no job working folder left in the processor's TMPDIR once no job runs;
 * 6. count in = count out: succeeded + failed + deleted + lost = videos.
 * Transcodes of the tracked videos (`TrackedVideo.transcode`) get the same checks: each ends TRANSCODE_SUCCESS
 * with every output of its final attempt present in storage (files downloaded through their links, sizes
 * compared; HLS playlists, segments and the completion marker listed) or TRANSCODE_ERROR with its error email;
 * one email per (transcode, attempt, outcome); nothing stored under the transcode but its final successful
 * attempt (no object of a killed or failed attempt), nothing at all once its video was deleted.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import { archiveUrl, FINAL_STATUSES, TRANSCODE_FINAL_STATUSES, type Transcode, type Video, type VidsnapClient } from "../../client/src/index.ts";
import { COMPLETION_MARKER as TRANSCODE_COMPLETION_MARKER } from "../../ffmpeg-container/src/jobs/transcode/job.ts";
import { LOCAL } from "../stack/local-config.ts";
import type { ChaosStack } from "./harness.ts";

/** A video a scenario created. */
export interface TrackedVideo {
  id: string;
  /** Test file it was made of (for messages). */
  file: string;
  /** Outcome the scenario requires; `either` when the fault may legitimately fail it. */
  expect: "success" | "error" | "either";
  /** Deleted by the scenario: must be gone, with every object. */
  deleted?: boolean;
  /** When it fails, its errorMessage must match (e.g. a storage outage must not be blamed on the file). */
  errorMatch?: RegExp;
  /** The transcode asked with the video (`transcode` of POST /v1/videos), and the outcome it must reach. */
  transcode?: { id: string; expect: "success" | "error" | "either" };
}

/** What a scenario ended with. */
export interface ScenarioResult {
  scenario: string;
  videos: number;
  succeeded: number;
  /** Ended in VIDEO_IMAGE_EXTRACTION_ERROR with its error email sent. */
  failedWithEmail: number;
  deleted: number;
  /** Neither finished (with its email) nor deleted by the deadline. */
  lost: number;
  /** Extra accepted emails for a (video, attempt, outcome) or a (transcode, attempt, outcome). */
  duplicateEmails: number;
  /** Transcodes of the scenario's videos (deleted videos included). */
  transcodes: number;
  /** Ended in TRANSCODE_SUCCESS with every output stored. */
  transcodesSucceeded: number;
  /** Ended in TRANSCODE_ERROR with its error email sent. */
  transcodesFailedWithEmail: number;
  /** Neither finished (with its email and outputs) nor deleted with its video by the deadline. */
  lostTranscodes: number;
  durationSeconds: number;
  /** Every failed check, one sentence each; empty = the scenario passed. */
  problems: string[];
  /** Facts worth showing (fault counts, proxy observations). */
  notes: string[];
}

export interface VerifyOptions {
  /** Time allowed for every video to finish and every email to be accepted, ms. */
  deadlineMs: number;
  /** Cron period while waiting, ms (default 5000). */
  cronEveryMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for the scenario's videos to settle, then runs every check.
 * @param startedAt when the scenario started (epoch ms), for its duration
 * @returns the result; `problems` lists each failed check
 */
export async function verifyScenario(
  scenario: string,
  stack: ChaosStack,
  api: VidsnapClient,
  tracked: TrackedVideo[],
  startedAt: number,
  opts: VerifyOptions,
): Promise<ScenarioResult> {
  const deadline = Date.now() + opts.deadlineMs;
  const problems: string[] = [];
  const notes: string[] = [];
  const finals = new Map<string, Video>();
  const gone = new Set<string>();
  /** Final state of each tracked transcode, by video id (absent: not final, or its video is gone). */
  const transcodeFinals = new Map<string, Transcode>();
  const transcodeGone = new Set<string>();
  const withTranscode = tracked.filter((v) => v.transcode);
  let lastCron = 0;

  // 1. Every video finishes (or is gone, when deleted).
  while (Date.now() < deadline) {
    for (const v of tracked) {
      if (finals.has(v.id) || gone.has(v.id)) continue;
      const { data, response } = await api.GET("/v1/videos/{id}", { params: { path: { id: v.id } } });
      if (response.status === 404) {
        gone.add(v.id);
        continue;
      }
      if (!data) continue; // e.g. 503 while storage is down: ask again
      if (FINAL_STATUSES.includes(data.video.status)) finals.set(v.id, data.video);
    }
    for (const v of withTranscode) {
      if (transcodeFinals.has(v.id) || transcodeGone.has(v.id)) continue;
      const { data, response } = await api.GET("/v1/videos/{id}/transcodes/{tid}", { params: { path: { id: v.id, tid: v.transcode!.id } } });
      if (response.status === 404) {
        transcodeGone.add(v.id);
        continue;
      }
      if (data && TRANSCODE_FINAL_STATUSES.includes(data.transcode.status)) transcodeFinals.set(v.id, data.transcode);
    }
    if (finals.size + gone.size === tracked.length && transcodeFinals.size + transcodeGone.size === withTranscode.length) break;
    if (Date.now() - lastCron >= (opts.cronEveryMs ?? 5_000)) {
      lastCron = Date.now();
      await stack.cron().catch((e: unknown) => notes.push(`cron run failed: ${(e as Error).message}`));
    }
    await sleep(500);
  }

  const lostIds = new Set<string>();
  for (const v of tracked) {
    if (v.deleted) {
      if (!gone.has(v.id)) {
        lostIds.add(v.id);
        problems.push(`deleted video ${v.id} is still there`);
      }
      continue;
    }
    if (gone.has(v.id)) {
      lostIds.add(v.id);
      problems.push(`video ${v.id} (${v.file}) disappeared`);
      continue;
    }
    const final = finals.get(v.id);
    if (!final) {
      lostIds.add(v.id);
      const video = (await api.GET("/v1/videos/{id}", { params: { path: { id: v.id } } }).catch(() => undefined))?.data?.video;
      problems.push(`video ${v.id} (${v.file}) stuck in ${video?.status ?? "?"} attempt ${video?.attempt ?? "?"}`);
      continue;
    }
    const outcome = final.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? "success" : "error";
    if (outcome === "error" && v.errorMatch && !v.errorMatch.test(final.errorMessage ?? "")) {
      problems.push(`video ${v.id} (${v.file}) failed with "${final.errorMessage}", expected ${v.errorMatch}`);
    }
    if (v.expect !== "either" && v.expect !== outcome) {
      problems.push(`video ${v.id} (${v.file}) ended in ${outcome}, expected ${v.expect}: ${final.errorMessage ?? ""} ${final.errorDescription ?? ""}`.trim());
    }
  }

  const lostTranscodes = new Set<string>();
  for (const v of withTranscode) {
    const tid = v.transcode!.id;
    if (v.deleted || gone.has(v.id)) {
      if (!transcodeGone.has(v.id)) {
        lostTranscodes.add(tid);
        problems.push(`transcode ${tid} of deleted video ${v.id} is still there`);
      }
      continue;
    }
    const final = transcodeFinals.get(v.id);
    if (!final) {
      lostTranscodes.add(tid);
      const t = (await api.GET("/v1/videos/{id}/transcodes/{tid}", { params: { path: { id: v.id, tid } } }).catch(() => undefined))?.data?.transcode;
      problems.push(transcodeGone.has(v.id) ? `transcode ${tid} of ${v.id} disappeared` : `transcode ${tid} of ${v.id} stuck in ${t?.status ?? "?"} attempt ${t?.attempt ?? "?"}`);
      continue;
    }
    const outcome = final.status === "TRANSCODE_SUCCESS" ? "success" : "error";
    if (v.transcode!.expect !== "either" && v.transcode!.expect !== outcome) {
      problems.push(`transcode ${tid} of ${v.id} ended in ${outcome}, expected ${v.transcode!.expect}: ${final.errorMessage ?? ""} ${final.errorDescription ?? ""}`.trim());
    }
  }

  // 2. Exactly one email per (video, attempt, outcome) and per (transcode, attempt, outcome), accepted by
  // Postmark and `sent` in D1. Keys: `${videoId}#${attempt}#${outcome}`, plus `#${transcodeId}` for a transcode's.
  const wanted = new Map<string, Video>();
  for (const [id, video] of finals) {
    wanted.set(`${id}#${video.attempt}#${video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" ? "success" : "error"}`, video);
  }
  const wantedTranscode = new Map<string, Transcode>();
  for (const [id, t] of transcodeFinals) {
    if (gone.has(id)) continue;
    wantedTranscode.set(`${id}#${t.attempt}#${t.status === "TRANSCODE_SUCCESS" ? "success" : "error"}#${t.id}`, t);
  }
  const accepted = async () => {
    const counts = new Map<string, number>();
    for (const r of await stack.postmark.requests()) {
      if (r.status !== 200) continue;
      const m = (r.body as { Metadata?: { videoId?: string; transcodeId?: string; attempt?: string; outcome?: string } }).Metadata ?? {};
      const key = `${m.videoId}#${m.attempt}#${m.outcome}${m.transcodeId ? `#${m.transcodeId}` : ""}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  const allWanted = () => [...wanted.keys(), ...wantedTranscode.keys()];
  let counts = await accepted();
  while (allWanted().some((k) => !counts.has(k)) && Date.now() < deadline) {
    await sleep(1_000);
    counts = await accepted();
  }
  // Let delayed duplicate deliveries (events copies, email retries) land before counting.
  await waitForQuiet(stack, 6_000);
  counts = await accepted();
  const trackedIds = new Set(tracked.map((v) => v.id));
  let duplicateEmails = 0;
  for (const [key, n] of counts) {
    if (!trackedIds.has(key.split("#")[0]!)) continue;
    if (n > 1) {
      duplicateEmails += n - 1;
      problems.push(`email ${key} accepted ${n} times`);
    }
  }
  const missingEmail = new Set<string>();
  for (const [key, video] of wanted) {
    if (!counts.has(key)) {
      missingEmail.add(video.id);
      problems.push(`no email accepted for ${key}`);
    }
  }
  const ids = [...finals.keys()];
  if (ids.length > 0) {
    const rows = await stack.d1<{ video_id: string; attempt: number; outcome: string; status: string }>(
      `SELECT video_id, attempt, outcome, status FROM emails WHERE job_id = '' AND video_id IN (${ids.map((i) => `'${i.replace(/'/g, "")}'`).join(",")})`,
    );
    const byKey = new Map(rows.map((r) => [`${r.video_id}#${r.attempt}#${r.outcome}`, r]));
    for (const [key, video] of wanted) {
      const row = byKey.get(key);
      if (!row || row.status !== "sent") {
        missingEmail.add(video.id);
        problems.push(`D1 email row for ${key} is ${row ? row.status : "missing"}, expected sent`);
      }
    }
  }
  const missingTranscodeEmail = new Set<string>();
  for (const [key, t] of wantedTranscode) {
    if (!counts.has(key)) {
      missingTranscodeEmail.add(t.id);
      problems.push(`no email accepted for transcode ${key}`);
    }
  }
  const tids = [...wantedTranscode.values()].map((t) => t.id);
  if (tids.length > 0) {
    const rows = await stack.d1<{ video_id: string; job_id: string; attempt: number; outcome: string; status: string }>(
      `SELECT video_id, job_id, attempt, outcome, status FROM emails WHERE job_id IN (${tids.map((i) => `'${i.replace(/'/g, "")}'`).join(",")})`,
    );
    const byKey = new Map(rows.map((r) => [`${r.video_id}#${r.attempt}#${r.outcome}#${r.job_id}`, r]));
    for (const [key, t] of wantedTranscode) {
      const row = byKey.get(key);
      if (!row || row.status !== "sent") {
        missingTranscodeEmail.add(t.id);
        problems.push(`D1 email row for transcode ${key} is ${row ? row.status : "missing"}, expected sent`);
      }
    }
  }
  for (const id of missingEmail) lostIds.add(id);
  for (const tid of missingTranscodeEmail) lostTranscodes.add(tid);

  // 3. Succeeded videos have a ZIP with imageCount images.
  let succeeded = 0;
  let failedWithEmail = 0;
  for (const [id, video] of finals) {
    if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") {
      try {
        const res = await fetch(await archiveUrl(api, id));
        if (!res.ok) throw new Error(`archive download answered ${res.status}`);
        const entries = unzipSync(new Uint8Array(await res.arrayBuffer()));
        const images = Object.keys(entries).filter((n) => n.startsWith("images/"));
        const manifest = JSON.parse(new TextDecoder().decode(entries["manifest.json"])) as { images: unknown[] };
        if (images.length !== video.imageCount || manifest.images.length !== video.imageCount) {
          problems.push(`ZIP of ${id} has ${images.length} images (manifest ${manifest.images.length}), imageCount ${video.imageCount}`);
        } else if (!missingEmail.has(id)) succeeded++;
      } catch (e) {
        problems.push(`ZIP of ${id} unusable: ${(e as Error).message}`);
      }
    } else {
      if (!missingEmail.has(id)) failedWithEmail++;
      notes.push(`${id} (${tracked.find((v) => v.id === id)?.file}) failed: ${video.errorMessage ?? "?"}`);
    }
  }

  // 4. No orphaned objects. 5. No leftover temp folders.
  const objects = listObjects(stack.s3Dir);
  const expected = new Set<string>();
  // Transcodes: every output of the final successful attempt is stored (files fetched through their links,
  // sizes as answered), with its playlists, segments and completion marker; those are the only objects.
  let transcodesSucceeded = 0;
  let transcodesFailedWithEmail = 0;
  for (const v of withTranscode) {
    const t = transcodeFinals.get(v.id);
    if (!t || v.deleted || gone.has(v.id)) continue;
    if (t.status === "TRANSCODE_ERROR") {
      if (!missingTranscodeEmail.has(t.id)) transcodesFailedWithEmail++;
      notes.push(`transcode ${t.id} of ${v.id} failed: ${t.errorMessage ?? "?"}`);
      continue;
    }
    const prefix = `/videos/${v.id}/transcodes/${t.id}/attempts/${t.attempt}/`;
    const stored = objects.filter((o) => o.startsWith(`${LOCAL.videosBucket}/`) && o.includes(prefix));
    const names = new Set(stored.map((o) => o.slice(o.indexOf(prefix) + prefix.length)));
    const missing: string[] = [];
    if (!names.has(TRANSCODE_COMPLETION_MARKER)) missing.push(TRANSCODE_COMPLETION_MARKER);
    for (const o of t.outputs) {
      if (o.format === "hls") {
        const playlist = o.rendition === "hls" ? "hls/master.m3u8" : `hls/${o.rendition.slice("hls-".length)}/index.m3u8`;
        if (!names.has(playlist)) missing.push(playlist);
        if (o.rendition !== "hls" && ![...names].some((n) => n.startsWith(`hls/${o.rendition.slice("hls-".length)}/seg-`))) missing.push(`${o.rendition} segments`);
        continue;
      }
      const file = `${o.rendition}.${o.format}`;
      if (!names.has(file)) {
        missing.push(file);
        continue;
      }
      try {
        const res = await fetch(o.url);
        const bytes = res.ok ? (await res.arrayBuffer()).byteLength : -1;
        if (bytes !== o.sizeBytes) problems.push(`transcode ${t.id} output ${o.rendition}: link answered ${res.status} with ${bytes} bytes, sizeBytes ${o.sizeBytes}`);
      } catch (e) {
        problems.push(`transcode ${t.id} output ${o.rendition} unusable: ${(e as Error).message}`);
      }
    }
    if (t.outputs.length === 0) missing.push("any output");
    if (missing.length > 0) {
      lostTranscodes.add(t.id);
      problems.push(`transcode ${t.id} of ${v.id} succeeded but storage lacks ${missing.join(", ")}`);
      continue;
    }
    for (const o of stored) expected.add(o);
    if (!missingTranscodeEmail.has(t.id)) transcodesSucceeded++;
  }
  for (const v of tracked) {
    if (v.deleted || gone.has(v.id)) continue;
    const final = finals.get(v.id);
    for (const o of objects) {
      const key = o.split("/").slice(1).join("/");
      if (!key.includes(`/videos/${v.id}/`)) continue;
      if (o.startsWith(`${LOCAL.videosBucket}/`) && key.endsWith(`/videos/${v.id}/source`)) expected.add(o);
      if (final?.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS" && o.startsWith(`${LOCAL.imagesBucket}/`)) {
        const prefix = `/videos/${v.id}/attempts/${final.attempt}/`;
        if (key.includes(prefix) && (key.endsWith("images.zip") || key.endsWith("manifest.json"))) expected.add(o);
      }
    }
  }
  const orphans = objects.filter((o) => tracked.some((v) => o.includes(`/videos/${v.id}/`)) && !expected.has(o));
  for (const o of orphans) problems.push(`orphaned object ${o}`);
  const uploads = countMultipartUploads(stack.s3Dir);
  if (uploads > 0) notes.push(`${uploads} incomplete multipart upload(s) left by killed jobs (bucket lifecycle aborts them)`);
  const leftovers = await jobFoldersWhileIdle(stack);
  if (leftovers === undefined) notes.push("jobs of another scenario kept running: temp folder check left to that scenario");
  else if (leftovers.length > 0) problems.push(`processor temp folders left: ${leftovers.join(", ")}`);

  // 6. Count in = count out.
  const deleted = tracked.filter((v) => v.deleted && gone.has(v.id)).length;
  const lost = lostIds.size;
  if (succeeded + failedWithEmail + deleted + lost !== tracked.length) {
    // A video whose ZIP check failed is counted nowhere: it is a failed check, listed in problems.
    notes.push(`${tracked.length - succeeded - failedWithEmail - deleted - lost} video(s) failed a ZIP check`);
  }
  return {
    scenario,
    videos: tracked.length,
    succeeded,
    failedWithEmail,
    deleted,
    lost,
    duplicateEmails,
    transcodes: withTranscode.length,
    transcodesSucceeded,
    transcodesFailedWithEmail,
    lostTranscodes: lostTranscodes.size,
    durationSeconds: Math.round((Date.now() - startedAt) / 1000),
    problems,
    notes,
  };
}

/** Waits until the proxy saw no running job for `quietMs` (delayed copies and retries land meanwhile). */
async function waitForQuiet(stack: ChaosStack, quietMs: number): Promise<void> {
  let quietSince = Date.now();
  const limit = Date.now() + 60_000;
  while (Date.now() - quietSince < quietMs && Date.now() < limit) {
    if (stack.proxy.running().length > 0) quietSince = Date.now();
    await sleep(500);
  }
}

/**
 * Objects stored by the S3 server, as `bucket/key`, read from its data folder
 * (`<dir>/<bucket>/<key>._S3rver_object`; multipart upload parts under `._S3rver_uploads` are not objects).
 */
export function listObjects(s3Dir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name === "._S3rver_uploads") continue;
        walk(full, rel ? `${rel}/${name}` : name);
      } else if (name.endsWith("._S3rver_object")) {
        out.push(`${rel}/${name.slice(0, -"._S3rver_object".length)}`);
      }
    }
  };
  if (existsSync(s3Dir)) walk(s3Dir, "");
  return out;
}

/** Time without any job at the proxy before the temp folders are listed, ms. */
const IDLE_BEFORE_FOLDER_CHECK_MS = 2_000;

/**
 * Job working folders left while no job runs: scenarios run side by side (tests/chaos), so a folder of another
 * scenario's running job is not a leftover. The listing counts only after {@link IDLE_BEFORE_FOLDER_CHECK_MS}
 * without a running or new job at the proxy, and when none started while listing (a processor SIGKILLed by the
 * kill scenario leaves its folders until its restart, 0.5 s later, sweeps them); tried for up to 60 s.
 * @returns the folders, or undefined when the processor never was idle
 */
async function jobFoldersWhileIdle(stack: ChaosStack): Promise<string[] | undefined> {
  const limit = Date.now() + 60_000;
  let quietSince = Date.now();
  let seen = stack.proxy.jobs.length;
  while (Date.now() < limit) {
    if (stack.proxy.running().length > 0 || stack.proxy.jobs.length !== seen) {
      quietSince = Date.now();
      seen = stack.proxy.jobs.length;
    } else if (Date.now() - quietSince >= IDLE_BEFORE_FOLDER_CHECK_MS) {
      const folders = jobFolders(stack.processorTmpDir);
      if (stack.proxy.running().length === 0 && stack.proxy.jobs.length === seen) return folders;
    }
    await sleep(250);
  }
  return undefined;
}

/** Job working folders (`vidsnap-job-*`) under TMPDIR, directly or in a processor's `vidsnap-processor-<pid>` root. */
function jobFolders(tmpDir: string): string[] {
  if (!existsSync(tmpDir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(tmpDir)) {
    if (name.startsWith("vidsnap-job-")) out.push(name);
    if (name.startsWith("vidsnap-processor-")) {
      for (const inner of readdirSync(path.join(tmpDir, name))) if (inner.startsWith("vidsnap-job-")) out.push(`${name}/${inner}`);
    }
  }
  return out;
}

function countMultipartUploads(s3Dir: string): number {
  let n = 0;
  if (!existsSync(s3Dir)) return 0;
  for (const bucket of readdirSync(s3Dir)) {
    const uploads = path.join(s3Dir, bucket, "._S3rver_uploads");
    if (existsSync(uploads)) n += readdirSync(uploads).length;
  }
  return n;
}
