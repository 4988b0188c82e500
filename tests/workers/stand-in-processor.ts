/**
 * A stand-in for the ffmpeg processor, run in Node by the global setup on 127.0.0.1 (random port) and
 * reached by the Worker through PROCESSOR_URL, i.e. through the same processor seam the Containers
 * binding uses in production (the one piece that cannot run here).
 *
 * It speaks the processor HTTP protocol of docs/architecture.md (`POST /jobs` → 400 / 409 / 503 /
 * 200 NDJSON events) without ffmpeg. What it does for a video is scripted by the tests:
 *   PUT /__scenario/{videoId}  {"scenario": "success" | "error" | "busy" | "duplicate" | "bad-request" | "truncated" | "noisy" | "stall"
 *                               | "slow" | "hangup" | "unauthorized" | "busy-first"}
 *   GET /__jobs/{videoId}      → {"jobs": [<envelopes received>], "instances": [<x-vidsnap-instance of each job request>],
 *                                 "slotWaits": [<x-vidsnap-slot-wait of each job request, '' when absent>],
 *                                 "disconnects": <streams the client closed early>, "cancels": <DELETE /jobs/…>,
 *                                 "cancelInstances": [<x-vidsnap-instance of each cancel>],
 *                                 "credentials": [<the storage credentials of each job request, null when absent>]}
 * Transcode jobs (MSG_TRANSCODE) are keyed by their transcode id instead, and answered by ./stand-in-transcode.ts
 * (also `DELETE /jobs/{transcodeId}%23{attempt}`, the cancel request). Import jobs (MSG_IMPORT_VIDEO) are keyed
 * by their video id and answered by ./stand-in-import.ts, which reads the outcome from the import's URL.
 * `stall` sends PROCESSING (with progress) and then nothing, keeping the response open until the client
 * closes it (counted in `disconnects`) or 60 s pass. `slow` is `success` stretched over about 3 s (a PROGRESS
 * every 0.5 s); `hangup` closes the connection without an answer; `unauthorized` answers 401 as to a bad signature;
 * `busy-first` answers the first job request 503 (all slots taken) and runs the later ones as `slow` (a
 * transcode: as `stall`, so that it can be cancelled): the
 * Worker's processor instances all reach this one stand-in, so "which instance asked" is the request header.
 * Like the processor, it refuses job requests not signed with `opts.sharedSecret` (401), so every test
 * reaching it proves the Worker signs; `GET /__jobs/{videoId}` also lists the `refused` (unsigned or badly
 * signed) requests. Default scenario: `success`, which writes a manifest.json and a small images.zip to the real S3
 * server (the keys of schema/object-keys.ts) before streaming SUCCESS. Like the processor, it writes with the
 * job's own write credential (`credentials.write` of the body, minted by the Worker from the S3 server's
 * Temporary Credentials stand-in), so a scope that does not cover a job's outputs fails that job.
 * Images on demand: `POST /renders` is forwarded as is to a REAL processor (`opts.rendersUrl`, the
 * ffmpeg-container server started by ./global-setup.ts with real ffmpeg), counted per video
 * (`GET /__renders/{videoId}` → `{"renders": n}`); `PUT /__source/{userId}/{videoId}` `{"file": "franck.mp4"}`
 * stores a video of ../shared/testdata as that video's source object.
 */
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AwsClient } from "aws4fetch";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyJobRequest } from "../../runtime/job-signature.ts";
import {
  extractSnapshotErrorMessage,
  extractSnapshotProcessingMessage,
  extractSnapshotProgressMessage,
  extractSnapshotSuccessMessage,
} from "../../schema/messages/index.ts";
import { archiveObjectKey, manifestObjectKey, s3Uri, sourceObjectKey } from "../../schema/object-keys.ts";
import { testVideo } from "../../tools/paths.ts";
import { SAMPLE_SOURCE_FACTS } from "./fixtures.ts";
import { cancelTranscode, runTranscode } from "./stand-in-transcode.ts";
import { runImport } from "./stand-in-import.ts";
import type { ImportVideoMessage, TranscodeMessage } from "../../schema/messages/index.ts";
import type { JobCredentials, StorageCredential } from "../../schema/storage-credentials.ts";

export type Scenario =
  | "success"
  | "error"
  | "busy"
  | "duplicate"
  | "bad-request"
  | "truncated"
  | "noisy"
  | "stall"
  | "slow"
  | "hangup"
  | "unauthorized"
  | "busy-first";

export interface StandInProcessor {
  url: string;
  close(): Promise<void>;
}

const IMAGES_BUCKET = "vidsnap-images";

/** Bytes the stand-in stores as the archive of a video (tests compare the downloaded ZIP with them). */
export function fakeZipBytes(videoId: string, attempt: number): Uint8Array {
  return new TextEncoder().encode(`PK\u0003\u0004 stand-in archive of ${videoId} attempt ${attempt}`);
}

/** A valid manifest (schema/manifest.ts) of two images. */
export function fakeManifest(videoId: string, attempt: number) {
  return {
    version: 1,
    videoId,
    attempt,
    createdAt: new Date().toISOString(),
    options: { mode: "keyframes" },
    source: SAMPLE_SOURCE_FACTS,
    imageFormat: "jpeg",
    images: [
      { index: 0, fileName: "images/000001_t0000000.000.jpg", timestampSeconds: 0, bytes: 1200, width: 640, height: 360 },
      { index: 1, fileName: "images/000002_t0000010.000.jpg", timestampSeconds: 10, bytes: 1300, width: 640, height: 360 },
    ],
  };
}

/**
 * @param opts.s3Endpoint the local S3 server (credentials S3RVER/S3RVER)
 * @param opts.sharedSecret PROCESSOR_SHARED_SECRET the Worker signs job requests with
 * @param opts.port TCP port on 127.0.0.1, 0 = any free one
 */
export async function startStandInProcessor(opts: { s3Endpoint: string; sharedSecret: string; port?: number; rendersUrl?: string }): Promise<StandInProcessor> {
  const renders = new Map<string, number>();
  const scenarios = new Map<string, Scenario>();
  const jobs = new Map<string, unknown[]>();
  const disconnects = new Map<string, number>();
  const cancels = new Map<string, number>();
  const instances = new Map<string, string[]>();
  const cancelInstances = new Map<string, string[]>();
  const slotWaits = new Map<string, string[]>();
  const noteInstance = (map: Map<string, string[]>, id: string, req: http.IncomingMessage) => {
    map.set(id, [...(map.get(id) ?? []), String([req.headers["x-vidsnap-instance"]].flat()[0] ?? "")]);
    if (map === instances) slotWaits.set(id, [...(slotWaits.get(id) ?? []), String([req.headers["x-vidsnap-slot-wait"]].flat()[0] ?? "")]);
  };
  const refused: string[] = [];
  const credentialsOf = new Map<string, (JobCredentials | null)[]>();
  /** Stores objects with `credential` (the job's write credential), or the S3 server's own key when absent (test set-up). */
  const putWith = (credential?: StorageCredential) => {
    const s3 = new AwsClient({
      ...(credential ? { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey, sessionToken: credential.sessionToken } : { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }),
      region: "us-east-1",
      service: "s3",
      retries: 0,
    });
    return async (bucket: string, key: string, body: Uint8Array | string, contentType: string) => {
      const res = await s3.fetch(`${opts.s3Endpoint}/${bucket}/${key}`, {
        method: "PUT",
        body,
        headers: { "content-type": contentType },
      });
      if (!res.ok) throw new Error(`stand-in PUT ${key} → ${res.status}: ${await res.text()}`);
    };
  };
  const putSource = putWith();

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const body = await readBody(req);
      if (req.method === "POST" && url.pathname === "/renders" && opts.rendersUrl) {
        const videoId = String((JSON.parse(body) as { videoId?: unknown }).videoId);
        renders.set(videoId, (renders.get(videoId) ?? 0) + 1);
        const headers = Object.fromEntries(Object.entries(req.headers).flatMap(([k, v]) => (typeof v === "string" && k !== "host" && k !== "content-length" ? [[k, v]] : [])));
        const answer = await fetch(`${opts.rendersUrl}/renders`, { method: "POST", headers, body });
        res.writeHead(answer.status, Object.fromEntries(answer.headers));
        return res.end(Buffer.from(await answer.arrayBuffer()));
      }
      const rendersPath = /^\/__renders\/(.+)$/.exec(url.pathname);
      if (req.method === "GET" && rendersPath) return send(res, 200, { renders: renders.get(decodeURIComponent(rendersPath[1]!)) ?? 0 });
      const sourcePath = /^\/__source\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method === "PUT" && sourcePath) {
        const file = testVideo((JSON.parse(body) as { file: string }).file);
        await putSource("vidsnap-videos", sourceObjectKey(sourcePath[1]!, sourcePath[2]!), new Uint8Array(await readFile(file)), "video/mp4");
        return send(res, 204);
      }
      const scenarioPath = /^\/__scenario\/(.+)$/.exec(url.pathname);
      if (req.method === "PUT" && scenarioPath) {
        scenarios.set(decodeURIComponent(scenarioPath[1]!), JSON.parse(body).scenario as Scenario);
        return send(res, 204);
      }
      const jobsPath = /^\/__jobs\/(.+)$/.exec(url.pathname);
      if (req.method === "GET" && jobsPath) {
        const id = decodeURIComponent(jobsPath[1]!);
        return send(res, 200, {
          jobs: jobs.get(id) ?? [],
          disconnects: disconnects.get(id) ?? 0,
          refused: refused.filter((r) => r === id).length,
          cancels: cancels.get(id) ?? 0,
          instances: instances.get(id) ?? [],
          cancelInstances: cancelInstances.get(id) ?? [],
          slotWaits: slotWaits.get(id) ?? [],
          credentials: credentialsOf.get(id) ?? [],
        });
      }
      if (req.method === "GET" && url.pathname === "/healthz") return send(res, 200, { ok: true, runningJobs: 0, waitingJobs: 0 });
      const cancelPath = /^\/jobs\/([^/]+)$/.exec(url.pathname);
      if (req.method === "DELETE" && cancelPath) {
        const header = (name: string) => [req.headers[name]].flat()[0];
        const verdict = await verifyJobRequest(opts.sharedSecret, body, { timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER) });
        if (!verdict.ok) return send(res, 401, problem(401, `signature ${verdict.reason}`));
        const key = decodeURIComponent(cancelPath[1]!);
        const id = key.split("#")[0]!;
        cancels.set(id, (cancels.get(id) ?? 0) + 1);
        noteInstance(cancelInstances, id, req);
        const status = cancelTranscode(key);
        return status === 204 ? send(res, 204) : send(res, 404, problem(404, "no such job running"));
      }
      if (req.method !== "POST" || url.pathname !== "/jobs") return send(res, 404, problem(404, "no such route"));

      let job: { type?: string; payload?: { videoId: string; userId: string; attempt: number } };
      let credentials: JobCredentials | undefined;
      try {
        // Like the processor: the envelope, plus the job's storage credentials beside it.
        ({ credentials, ...job } = JSON.parse(body) as typeof job & { credentials?: JobCredentials });
      } catch {
        return send(res, 400, problem(400, "body is not JSON"));
      }
      const header = (name: string) => [req.headers[name]].flat()[0];
      const verdict = await verifyJobRequest(opts.sharedSecret, body, { timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER) });
      if (!verdict.ok) {
        refused.push(String(job.payload?.videoId));
        return send(res, 401, problem(401, `signature ${verdict.reason}`));
      }
      // Every write goes through the job's own write credential, as the processor's do: a scope the Worker
      // got wrong fails the job here.
      const jobId = job.type === "MSG_TRANSCODE" ? (job as unknown as TranscodeMessage).payload.transcodeId : String(job.payload?.videoId);
      credentialsOf.set(jobId, [...(credentialsOf.get(jobId) ?? []), credentials ?? null]);
      if (!credentials?.write) return send(res, 400, problem(400, "the job carries no write credential"));
      const putObject = putWith(credentials.write);
      if (job.type === "MSG_TRANSCODE" && job.payload) {
        const transcode = job as unknown as TranscodeMessage;
        const id = transcode.payload.transcodeId;
        jobs.set(id, [...(jobs.get(id) ?? []), job]);
        noteInstance(instances, id, req);
        let scenario = scenarios.get(id) ?? "success";
        if (scenario === "busy-first") {
          if (jobs.get(id)!.length === 1) return send(res, 503, problem(503, "too many jobs"), { "retry-after": "1" });
          scenario = "stall";
        }
        if (scenario === "busy") return send(res, 503, problem(503, "too many jobs"), { "retry-after": "1" });
        if (scenario === "duplicate") return send(res, 409, problem(409, "already running"));
        if (scenario === "bad-request") return send(res, 400, problem(400, "invalid envelope"));
        const line = async (value: unknown) => {
          res.write(JSON.stringify(value) + "\n");
          await new Promise((r) => setTimeout(r, 5));
        };
        return await runTranscode(transcode, scenario, res, line, putObject);
      }
      if (job.type === "MSG_IMPORT_VIDEO" && job.payload) {
        const id = job.payload.videoId;
        jobs.set(id, [...(jobs.get(id) ?? []), job]);
        return await runImport(job as unknown as ImportVideoMessage, res, putObject);
      }
      if (job.type !== "MSG_EXTRACT_SNAPSHOT" || !job.payload) return send(res, 400, problem(400, "not a job envelope"));
      const { videoId, userId, attempt } = job.payload;
      jobs.set(videoId, [...(jobs.get(videoId) ?? []), job]);
      noteInstance(instances, videoId, req);
      let scenario = scenarios.get(videoId) ?? "success";
      if (scenario === "busy-first") {
        if (jobs.get(videoId)!.length === 1) return send(res, 503, problem(503, "too many jobs"), { "retry-after": "1" });
        scenario = "slow";
      }
      const ref = { videoId, userId, attempt };

      switch (scenario) {
        case "busy":
          return send(res, 503, problem(503, "too many jobs"), { "retry-after": "1" });
        case "duplicate":
          return send(res, 409, problem(409, "already running"));
        case "bad-request":
          return send(res, 400, problem(400, "invalid envelope"));
        case "unauthorized":
          return send(res, 401, problem(401, "signature mismatch"));
        case "hangup":
          req.socket.destroy();
          return;
      }

      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const line = async (value: unknown) => {
        res.write(typeof value === "string" ? value : JSON.stringify(value) + "\n");
        await new Promise((r) => setTimeout(r, 5));
      };
      await line(extractSnapshotProcessingMessage(ref));
      if (scenario === "truncated") return res.end();
      if (scenario === "stall") {
        await line(extractSnapshotProcessingMessage({ ...ref, progress: { fraction: 0.2, images: 1 } }));
        const timer = setTimeout(() => res.end(), 60_000);
        timer.unref();
        res.on("close", () => {
          clearTimeout(timer);
          if (!res.writableFinished) disconnects.set(videoId, (disconnects.get(videoId) ?? 0) + 1);
        });
        return;
      }
      if (scenario === "noisy") {
        await line("this is not json\n");
        await line({ type: "MSG_UNKNOWN" });
        await line(extractSnapshotProcessingMessage({ ...ref, videoId: "someone-else", progress: { fraction: 0.9, images: 9 } }));
      }
      if (scenario === "slow") {
        for (let i = 1; i <= 6; i++) {
          await new Promise((r) => setTimeout(r, 500));
          await line(extractSnapshotProgressMessage({ ...ref, fraction: i / 10, imagesSoFar: i }));
        }
      }
      await line(extractSnapshotProcessingMessage({ ...ref, progress: { fraction: 0.5, images: 1 } }));
      // What the real processor sends now (MSG_EXTRACT_SNAPSHOT_PROGRESS): the relay must not end on it.
      await line(extractSnapshotProgressMessage({ ...ref, fraction: 0.6, imagesSoFar: 2 }));
      if (scenario === "error") {
        await line(
          extractSnapshotErrorMessage({
            ...ref,
            errorMessage: "The file is not a video we can read.",
            errorDescription: "ffprobe: Invalid data found when processing input",
          }),
        );
        return res.end();
      }
      const manifestKey = manifestObjectKey(userId, videoId, attempt);
      const archiveKey = archiveObjectKey(userId, videoId, attempt);
      const zip = fakeZipBytes(videoId, attempt);
      await putObject(IMAGES_BUCKET, archiveKey, zip, "application/zip");
      await putObject(IMAGES_BUCKET, manifestKey, JSON.stringify(fakeManifest(videoId, attempt)), "application/json");
      // The last line has no trailing newline: the consumer must still read it.
      res.end(
        JSON.stringify(
          extractSnapshotSuccessMessage({
            ...ref,
            archiveUri: s3Uri(IMAGES_BUCKET, archiveKey),
            manifestUri: s3Uri(IMAGES_BUCKET, manifestKey),
            imageCount: 2,
            zipSizeBytes: zip.byteLength,
            source: fakeManifest(videoId, attempt).source,
          }),
        ),
      );
    } catch (err) {
      if (!res.headersSent) send(res, 500, problem(500, String(err)));
      else res.destroy(err as Error);
    }
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (data += c));
    req.on("end", () => resolve(data));
    req.on("error", reject);
  });
}

function problem(status: number, detail: string) {
  return { type: "about:blank", title: "stand-in", status, detail };
}

function send(res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res
    .writeHead(status, {
      ...headers,
      "content-type": status >= 400 ? "application/problem+json" : "application/json",
    })
    .end(JSON.stringify(body));
}
