/**
 * Hostile inputs: a corpus generated here, at run time, from the real files in
 * ../shared/testdata (nothing is committed): playlists that point at local files and at a listener this
 * test runs, a header that declares 30000x30000, a 10-hour stream, empty/random/truncated/bit-flipped
 * files, an image and a text file renamed `.mp4`, audio. Each job must end in one clear event within
 * its time limit, leave no temp file, keep the processor serving, make no request to the listener and
 * never put local file content (/etc/passwd) in an event, a log line or an uploaded object.
 * Then one test per resource limit (duration, pixels, images) with low configured values on real files.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isFinalExtractEvent } from "../../schema/messages/extract-snapshot.ts";
import type { ExtractionOptions } from "../../schema/extraction-options.ts";
import { archiveObjectKey, manifestObjectKey } from "../../schema/object-keys.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { type Harness, jobMessage, leftoverTempFiles, mintedCredentialSecrets, objectExists, postJob, startHarness, testVideo, uploadSource, USER_ID } from "./harness.ts";

const run = promisify(execFile);

/** Wall-clock limit of every corpus job (the processor's JOB_TIMEOUT_SECONDS in this suite). */
const JOB_TIMEOUT_SECONDS = 20;

let h: Harness;
let corpusDir: string;
/**
 * Requests for the decoy's secret path prefix (must stay empty). Only the corpus names that prefix: another
 * suite's client that finds the decoy on a port its own server used to hold is not counted, only reported.
 */
const listenerHits: string[] = [];
/** Path prefix of every decoy URL in the corpus, unguessable by anything else on this machine. */
const DECOY_PREFIX = `/decoy-${crypto.randomUUID()}`;
let listener: http.Server;
let listenerUrl: string;
/** A line of /etc/passwd that must never appear in any output. */
const passwdMarker = (() => {
  try {
    return readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("root:")) ?? "root:x:0:0";
  } catch {
    return "root:x:0:0";
  }
})();

/** Deterministic pseudo-random bytes (SHA-256 chain of a seed). */
function pseudoRandomBytes(n: number, seed: string): Buffer {
  const out: Buffer[] = [];
  let block = createHash("sha256").update(seed).digest();
  for (let size = 0; size < n; size += block.length) {
    out.push(block);
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.concat(out).subarray(0, n);
}

/** An AVI of one tiny MJPEG frame whose headers are rewritten to declare 30000x30000 and an unknown codec. */
async function hugeDeclaredAvi(file: string): Promise<void> {
  const tiny = path.join(corpusDir, "tiny.avi");
  await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=red:s=16x16:r=1", "-frames:v", "1", "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", tiny]);
  const b = await readFile(tiny);
  // avih: 'avih', size, then 8 DWORDs before dwWidth, dwHeight.
  const avih = b.indexOf("avih");
  b.writeUInt32LE(30000, avih + 8 + 32);
  b.writeUInt32LE(30000, avih + 8 + 36);
  // strf of the video stream = BITMAPINFOHEADER: biSize, biWidth, biHeight, planes+bitcount, biCompression.
  const strf = b.indexOf("strf");
  b.writeInt32LE(30000, strf + 12);
  b.writeInt32LE(30000, strf + 16);
  b.write("QQQQ", strf + 8 + 16, "latin1");
  // strh fccHandler: the same unknown codec, so no decoder checks (or allocates) the size.
  const strh = b.indexOf("strh");
  b.write("QQQQ", strh + 12, "latin1");
  await writeFile(file, b);
}

interface CorpusCase {
  name: string;
  /** File name inside the corpus folder (uploaded as the source object). */
  file: string;
  make(file: string): Promise<void>;
  /** Expected ERROR message; `success-or-error` for a damaged video that may still partly decode. */
  expected: RegExp | "success-or-error";
}

const corpus: CorpusCase[] = [
  {
    name: "HLS playlist → file:///etc/passwd",
    file: "hls-file.mp4",
    make: (f) => writeFile(f, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"),
    expected: /^Playlists \(HLS\/DASH\/concat\) are not accepted\.$/,
  },
  {
    name: "HLS playlist → http listener",
    file: "hls-http.mp4",
    make: (f) =>
      writeFile(f, `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n${listenerUrl}/x.ts\n#EXTINF:10.0,\n${listenerUrl}/y.ts\n#EXT-X-ENDLIST\n`),
    expected: /^Playlists \(HLS\/DASH\/concat\) are not accepted\.$/,
  },
  {
    name: "concat list → /etc/passwd",
    file: "concat.mp4",
    make: (f) => writeFile(f, `ffconcat version 1.0\nfile '/etc/passwd'\nfile '${listenerUrl}/z.mp4'\n`),
    expected: /^Playlists \(HLS\/DASH\/concat\) are not accepted\.$/,
  },
  {
    name: "DASH manifest → file: and listener",
    file: "dash.mp4",
    make: (f) =>
      writeFile(
        f,
        `<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4">
      <Representation id="1" bandwidth="1000" width="16" height="16"><BaseURL>file:///etc/passwd</BaseURL></Representation>
      <Representation id="2" bandwidth="2000" width="16" height="16"><BaseURL>${listenerUrl}/dash.mp4</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>
`,
      ),
    expected: /^Playlists \(HLS\/DASH\/concat\) are not accepted\.$/,
  },
  {
    name: "header declares 30000x30000",
    file: "huge.mp4",
    make: hugeDeclaredAvi,
    expected: /^The video's frames are 30000x30000 pixels \(900 megapixels\); the limit is 36 megapixels per frame\.$/,
  },
  {
    name: "10-hour stream of 16x16 frames",
    file: "ten-hours.mp4",
    make: async (f) => {
      // 36000 frames at 1 fps, MPEG-4 Part 2 in Matroska: ~0.6 MB, generated in about half a second.
      const mkv = path.join(corpusDir, "ten-hours.mkv");
      await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=black:s=16x16:r=1", "-t", "36000", "-c:v", "mpeg4", "-g", "3600", mkv]);
      await writeFile(f, await readFile(mkv));
    },
    expected: /^The video is 10:00:00 long; the limit is 4:00:00\.$/,
  },
  { name: "zero bytes", file: "zero.mp4", make: (f) => writeFile(f, ""), expected: /^The file is empty \(0 bytes\), not a video\.$/ },
  {
    name: "random bytes",
    file: "random.mp4",
    make: (f) => writeFile(f, pseudoRandomBytes(256 * 1024, "vidsnap-hostile")),
    expected: /^The file is not a readable video: invalid data found when processing input$/,
  },
  {
    name: "truncated franck.mp4 (first 1 MB)",
    file: "truncated.mp4",
    make: async (f) => writeFile(f, (await readFile(testVideo("franck.mp4"))).subarray(0, 1_000_000)),
    expected: /^The file is not a readable video: moov atom not found$/,
  },
  {
    name: "bit-flipped franck.mp4 (64 KiB in the middle)",
    file: "bitflip.mp4",
    make: async (f) => {
      const b = await readFile(testVideo("franck.mp4"));
      const mid = Math.floor(b.length / 2);
      for (let i = mid; i < mid + 64 * 1024; i += 7) b[i] = b[i]! ^ 0xff;
      await writeFile(f, b);
    },
    expected: "success-or-error",
  },
  {
    name: "PNG renamed .mp4",
    file: "png.mp4",
    make: (f) => run("ffmpeg", ["-v", "error", "-y", "-ss", "5", "-i", testVideo("franck.mp4"), "-frames:v", "1", "-c:v", "png", "-f", "image2", f]).then(() => undefined),
    expected: /^The file is a PNG image, not a video\.$/,
  },
  {
    name: "JPEG renamed .mp4",
    file: "jpeg.mp4",
    make: (f) => run("ffmpeg", ["-v", "error", "-y", "-ss", "5", "-i", testVideo("franck.mp4"), "-frames:v", "1", "-c:v", "mjpeg", "-f", "image2", f]).then(() => undefined),
    expected: /^The file is a JPEG image, not a video\.$/,
  },
  {
    name: "shell script renamed .mp4",
    file: "script.mp4",
    make: (f) => writeFile(f, "#!/bin/sh\ncat /etc/passwd\ncurl http://127.0.0.1/\n"),
    expected: /^The file is a text file \(a script, list or document\), not a video\.$/,
  },
  {
    name: "WAV audio renamed .mp4",
    file: "wav.mp4",
    make: (f) =>
      run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "pcm_s16le", "-f", "wav", f]).then(() => undefined),
    expected: /^The file is audio only, not a video\.$/,
  },
  {
    name: "audio-only Ogg (sunflower-slow-drag.ogg)",
    file: "audio.mp4",
    make: async (f) => writeFile(f, await readFile(testVideo("sunflower-slow-drag.ogg"))),
    expected: /^The file contains no video stream\.$/,
  },
];

async function healthz(baseUrl = h.url) {
  const res = await fetch(`${baseUrl}/healthz`);
  return { status: res.status, body: (await res.json()) as { ok: boolean; runningJobs: number } };
}

/** Every file stored in the images bucket of the local S3 server (what the processor uploaded). */
async function imagesBucketFiles(): Promise<string[]> {
  const root = path.join(h.dataDir, "s3", h.config.imagesBucket);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/**
 * Uploads `file`, runs one keyframes job and checks what holds for every hostile input.
 * @returns the terminal event's type and message, and the elapsed time
 */
async function runHostileJob(baseUrl: string, videoId: string, file: string, options: ExtractionOptions = { mode: "keyframes" }) {
  const sourceEtag = await uploadSource(h, videoId, file);
  const started = Date.now();
  // With the ETag the API records at complete, as in production: the processor reads its local copy of the
  // source (ffmpeg-container/src/sources/source-cache.ts, `file` protocol only) under the same whitelists.
  const message = jobMessage(videoId, options);
  const res = await postJob(baseUrl, { ...message, payload: { ...message.payload, sourceEtag } });
  const elapsedMs = Date.now() - started;
  expect(res.status).toBe(200);
  expect(res.events[0]!.type).toBe("MSG_EXTRACT_SNAPSHOT_PROCESSING");
  const terminal = res.events.filter((e) => isFinalExtractEvent(e.type));
  expect(terminal).toHaveLength(1);
  const last = terminal[0]!;
  expect(last.payload).toMatchObject({ videoId, userId: USER_ID, attempt: 1 });
  const text = JSON.stringify(res.events);
  expect(text).not.toContain(passwdMarker);
  expect(text).not.toContain("root:");
  for (const secret of ["X-Amz-", ...mintedCredentialSecrets(), h.tmpDir, h.dataDir]) expect(text).not.toContain(secret);
  expect(elapsedMs).toBeLessThan(JOB_TIMEOUT_SECONDS * 1000 + 2000);
  expect(await leftoverTempFiles(h)).toEqual([]);
  expect(await healthz(baseUrl)).toEqual({ status: 200, body: { ok: true, runningJobs: 0, waitingJobs: 0 } });
  if (last.type === "MSG_EXTRACT_SNAPSHOT_ERROR") {
    expect(await objectExists(h, h.config.imagesBucket, archiveObjectKey(USER_ID, videoId, 1))).toBe(false);
    expect(await objectExists(h, h.config.imagesBucket, manifestObjectKey(USER_ID, videoId, 1))).toBe(false);
    return { type: last.type, message: last.payload.errorMessage, description: last.payload.errorDescription, elapsedMs };
  }
  return { type: last.type, message: "", description: "", elapsedMs };
}

beforeAll(async () => {
  h = await startHarness({ jobTimeoutSeconds: JOB_TIMEOUT_SECONDS });
  corpusDir = path.join(h.dataDir, "corpus");
  await mkdir(corpusDir);
  listener = http.createServer((req, res) => {
    const hit = `${req.method} ${req.url}`;
    if (req.url?.startsWith(DECOY_PREFIX)) listenerHits.push(hit);
    else console.warn(`decoy listener: stray request not from the corpus: ${hit} (user-agent ${req.headers["user-agent"] ?? "none"})`);
    res.end("#EXTM3U\n");
  });
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}${DECOY_PREFIX}`;
  for (const c of corpus) await c.make(path.join(corpusDir, c.file));
});

afterAll(async () => {
  listener?.close();
  await h?.close();
});

/** Records a resource-limit case for `npm run audit:security` (the test's own assertions stay as they are). */
function auditLimit(name: string, expectedMessage: string | null, got: { type: string; message: string }) {
  const outcome = got.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" ? "SUCCESS" : `ERROR ${got.message}`;
  const expected = expectedMessage === null ? "SUCCESS" : `ERROR ${expectedMessage}`;
  recordAudit({ case: name, expected, got: outcome, ok: outcome === expected });
}

describe("hostile-input corpus", () => {
  const results: { name: string; got: string }[] = [];

  it.each(corpus.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const got = await runHostileJob(h.url, `hostile-${path.basename(c.file, ".mp4")}`, path.join(corpusDir, c.file));
    results.push({ name: c.name, got: got.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" ? "SUCCESS" : `ERROR ${got.message}` });
    recordAudit({
      case: c.name,
      expected: c.expected === "success-or-error" ? "SUCCESS, or ERROR with a clear message" : `ERROR /${c.expected.source}/`,
      got: results.at(-1)!.got,
      ok: c.expected === "success-or-error" ? got.type === "MSG_EXTRACT_SNAPSHOT_SUCCESS" || got.message.length > 10 : got.type === "MSG_EXTRACT_SNAPSHOT_ERROR" && c.expected.test(got.message),
    });
    if (c.expected === "success-or-error") {
      if (got.type === "MSG_EXTRACT_SNAPSHOT_ERROR") expect(got.message.length).toBeGreaterThan(10);
    } else {
      expect(got.type).toBe("MSG_EXTRACT_SNAPSHOT_ERROR");
      expect(got.message).toMatch(c.expected);
    }
  });

  it("no request reached the listener; no local file content in logs or uploaded objects", async () => {
    recordAudit({ case: "requests reaching the test's listener", expected: "0", got: String(listenerHits.length), ok: listenerHits.length === 0 });
    const logText = JSON.stringify(h.logs);
    const inLogs = logText.includes(passwdMarker) || logText.includes("root:");
    recordAudit({ case: "/etc/passwd content in processor logs", expected: "none", got: inLogs ? "FOUND" : "none", ok: !inLogs });
    expect(listenerHits).toEqual([]);
    const logs = JSON.stringify(h.logs);
    expect(logs).not.toContain(passwdMarker);
    expect(logs).not.toContain("root:");
    for (const file of await imagesBucketFiles()) {
      expect((await readFile(file)).includes(passwdMarker), file).toBe(false);
    }
    // The table (case → outcome) for the report / audit.
    console.log(results.map((r) => `${r.name} | ${r.got}`).join("\n"));
  });
});

describe("resource limits, low values on real files", () => {
  it("MAX_DURATION_SECONDS: franck.mp4 (200 s) against 60 s, refused before any image is stored", async () => {
    const p = await h.extraProcessor({ maxDurationSeconds: 60 });
    const got = await runHostileJob(p.url, "limit-duration", testVideo("franck.mp4"));
    auditLimit("MAX_DURATION_SECONDS=60, franck.mp4 (200 s)", "The video is 0:03:20 long; the limit is 0:01:00.", got);
    expect(got.message).toBe("The video is 0:03:20 long; the limit is 0:01:00.");
    expect(got.description).toMatch(/MAX_DURATION_SECONDS=60; .*no image was stored/);
    await p.processor.close();
  });

  it("MAX_PIXELS_PER_FRAME: hardware-example.mp4 (1280x720) against 500000", async () => {
    const p = await h.extraProcessor({ maxPixelsPerFrame: 500_000 });
    const got = await runHostileJob(p.url, "limit-pixels", testVideo("hardware-example.mp4"));
    auditLimit("MAX_PIXELS_PER_FRAME=500000, 1280x720", "The video's frames are 1280x720 pixels (0.92 megapixels); the limit is 0.5 megapixels per frame.", got);
    expect(got.message).toBe("The video's frames are 1280x720 pixels (0.92 megapixels); the limit is 0.5 megapixels per frame.");
    expect(got.description).toContain("MAX_PIXELS_PER_FRAME=500000");
    await p.processor.close();
  });

  it("MAX_IMAGES: franck.mp4 keyframes (20) against 5 stops ffmpeg at image 6", async () => {
    const p = await h.extraProcessor({ maxImages: 5 });
    const got = await runHostileJob(p.url, "limit-images", testVideo("franck.mp4"));
    auditLimit("MAX_IMAGES=5, franck.mp4 keyframes (20)", "The video gives more than 5 images; the limit is 5 images per job. Choose a longer interval.", got);
    expect(got.message).toBe("The video gives more than 5 images; the limit is 5 images per job. Choose a longer interval.");
    expect(got.description).toContain("MAX_IMAGES=5; ffmpeg was stopped");
    await p.processor.close();
  });

  it("MAX_IMAGES with the seek strategy: the plan (20 images) is refused before decoding", async () => {
    const p = await h.extraProcessor({ maxImages: 5, intervalStrategy: "seek" });
    const got = await runHostileJob(p.url, "limit-images-seek", testVideo("franck.mp4"), { mode: "interval", intervalSeconds: 10 });
    auditLimit("MAX_IMAGES=5, interval plan of 20 (seek)", "The video gives more than 5 images; the limit is 5 images per job. Choose a longer interval.", got);
    expect(got.message).toBe("The video gives more than 5 images; the limit is 5 images per job. Choose a longer interval.");
    expect(got.description).toBe("MAX_IMAGES=5; the interval plan has 20 images, nothing was decoded.");
    await p.processor.close();
  });

  it("at the limit exactly, the job succeeds (franck.mp4 keyframes with MAX_IMAGES=20)", async () => {
    const p = await h.extraProcessor({ maxImages: 20 });
    const got = await runHostileJob(p.url, "limit-images-exact", testVideo("franck.mp4"));
    auditLimit("MAX_IMAGES=20, franck.mp4 keyframes (20): at the limit", null, got);
    expect(got.type).toBe("MSG_EXTRACT_SNAPSHOT_SUCCESS");
    await p.processor.close();
  });
});
