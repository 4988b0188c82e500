/**
 * The import job kind end to end in the processor: signed MSG_IMPORT_VIDEO on POST /jobs, a real local HTTP
 * server as the remote side (./remote-server.ts), the real SigV4-checking S3 server. ENVIRONMENT=local (http
 * and loopback allowed, as in the local stack); the production rules are in ./ssrf.test.ts.
 */
import { readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImportVideoEvent, importVideoMessage, type ImportVideoEvent as Event } from "../../../schema/messages/import.ts";
import { s3Uri, sourceObjectKey } from "../../../schema/object-keys.ts";
import { getObject, leftoverTempFiles, objectExists, postJob, startHarness, testVideo, USER_ID, type Harness } from "../harness.ts";
import { startRemoteServer, type RemoteServer } from "./remote-server.ts";

let h: Harness;
let remote: RemoteServer;
const MAX_BYTES = 20 * 1024 * 1024;

beforeAll(async () => {
  // Short timeouts so the silent-server cases end in about a second; progress every 50 ms.
  h = await startHarness({ environment: "local", importIdleTimeoutMs: 1000, importConnectTimeoutMs: 2000, progressIntervalMs: 50 });
  remote = await startRemoteServer();
});
afterAll(async () => {
  await remote?.close();
  await h?.close();
});

let n = 0;
/** Runs one import of `url` and returns its events. */
async function importUrl(url: string, opts: { maxBytes?: number; videoId?: string } = {}) {
  const videoId = opts.videoId ?? `imp-${++n}`;
  const res = await postJob<Event>(h.url, importVideoMessage({ videoId, userId: USER_ID, attempt: 1, url, maxBytes: opts.maxBytes ?? MAX_BYTES }), {}, ImportVideoEvent);
  expect(res.status).toBe(200);
  const last = res.events.at(-1)!;
  return { videoId, events: res.events, last, key: sourceObjectKey(USER_ID, videoId) };
}

function errorOf(last: Event): { errorMessage: string; errorDescription: string } {
  if (last.type !== "MSG_IMPORT_VIDEO_ERROR") throw new Error(`expected an ERROR, got ${last.type}`);
  return last.payload;
}

describe("import: files served OK", () => {
  it("streams a video with content-length into the source object, byte for byte, with progress in bytes", async () => {
    const file = testVideo("franck.mp4");
    const size = statSync(file).size;
    const { events, last, key } = await importUrl(`${remote.url}/files/franck.mp4`);
    expect(events[0]!.type).toBe("MSG_IMPORT_VIDEO_PROCESSING");
    expect(last).toMatchObject({ type: "MSG_IMPORT_VIDEO_SUCCESS", payload: { sizeBytes: size, contentType: "video/mp4", sourceUri: s3Uri(h.config.videosBucket, key) } });
    expect(Buffer.from(await getObject(h, h.config.videosBucket, key)).equals(readFileSync(file))).toBe(true);
    const progress = events.filter((e) => e.type === "MSG_IMPORT_VIDEO_PROGRESS").map((e) => e.payload as { importedBytes: number; totalBytes: number | null; fraction: number | null });
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p.totalBytes).toBe(size);
      expect(p.fraction).toBeCloseTo(p.importedBytes / size, 6);
    }
    expect(progress.map((p) => p.importedBytes)).toEqual([...progress.map((p) => p.importedBytes)].sort((a, b) => a - b));
    expect(await leftoverTempFiles(h)).toEqual([]);
  });

  it("streams a chunked body (no content-length): sizes counted, fraction unknown", async () => {
    const file = testVideo("vtest.avi");
    const { events, last, key } = await importUrl(`${remote.url}/chunked/vtest.avi`);
    expect(last).toMatchObject({ type: "MSG_IMPORT_VIDEO_SUCCESS", payload: { sizeBytes: statSync(file).size, contentType: "application/octet-stream" } });
    expect(Buffer.from(await getObject(h, h.config.videosBucket, key)).equals(readFileSync(file))).toBe(true);
    for (const e of events) if (e.type === "MSG_IMPORT_VIDEO_PROGRESS" && e.payload.importedBytes < statSync(file).size) expect(e.payload.fraction).toBeNull();
  });

  it("follows a chain of 5 redirects", async () => {
    const { last } = await importUrl(`${remote.url}/redirect/5`);
    expect(last).toMatchObject({ type: "MSG_IMPORT_VIDEO_SUCCESS", payload: { sizeBytes: statSync(testVideo("hardware-example.mp4")).size } });
  });

  it("reports an already stored source of an earlier attempt as is, without downloading again", async () => {
    const first = await importUrl(`${remote.url}/files/hardware-example.mp4`);
    const before = remote.requests.length;
    const again = await importUrl(`${remote.url}/files/hardware-example.mp4`, { videoId: first.videoId });
    expect(again.last).toMatchObject({ type: "MSG_IMPORT_VIDEO_SUCCESS", payload: { sizeBytes: statSync(testVideo("hardware-example.mp4")).size } });
    expect(remote.requests.length).toBe(before);
  });
});

describe("import: refused answers and bodies (nothing stored)", () => {
  const cases: [string, string, RegExp, number?][] = [
    ["a 404", "/status/404", /^The URL answered HTTP 404 Not Found, not a video\.$/],
    ["a 500", "/status/500", /^The URL answered HTTP 500 Internal Server Error, not a video\.$/],
    ["an HTML page", "/page.html", /^The URL answered a web page \(HTML\), not a video\.$/],
    ["an HTML page served as video/mp4", "/disguised-page.mp4", /web page \(HTML\)/],
    ["a playlist", "/list.m3u8", /^Playlists \(HLS\/DASH\/concat\) are not accepted\.$/],
    ["an image", "/image.png", /^The file is a PNG image, not a video\.$/],
    ["an empty body", "/empty", /^The file is empty/],
    ["an endless body", "/endless", /^The file is larger than the limit of 1048576 bytes\.$/, 1024 * 1024],
    ["a body longer than allowed, no content-length", "/chunked/vtest.avi", /^The file is larger than the limit of 1048576 bytes\.$/, 1024 * 1024],
    ["a content-length above the limit", "/huge", /^The file is 10000000000 bytes; the limit is 20971520 bytes\.$/],
    ["a body that goes silent", "/stall", /^The URL's server stopped sending for 1 s\.$/],
    ["a server that never answers", "/no-headers", /^The URL's server stopped answering for 1 s\.$/],
    ["more than 5 redirects", "/redirect/6", /^The URL redirected more than 5 times\.$/],
    ["a redirect to a private address", "/redirect/2?to=http://10.0.0.7/x.mp4", /^The URL is refused: its redirect 2 must not point to private addresses\.$/],
    ["a redirect to the metadata address in IPv6 form", "/redirect/1?to=http://[::ffff:169.254.169.254]/latest", /^The URL is refused: its redirect 1 must not point to cloud metadata addresses\.$/],
    ["a redirect to an unparsable location", "/bad-redirect", /^The URL answered a redirect \(HTTP 302\) without a valid location\.$/],
    ["a redirect to another scheme", "/redirect/1?to=file:///etc/passwd", /^The URL is refused: its redirect 1 must use http or https\.$/],
  ];
  for (const [name, path, message, maxBytes] of cases) {
    it(`refuses ${name}`, async () => {
      const started = Date.now();
      const { last, key } = await importUrl(`${remote.url}${path}`, maxBytes ? { maxBytes } : {});
      expect(errorOf(last).errorMessage).toMatch(message);
      expect((last.payload as { retryable?: boolean }).retryable).toBeUndefined();
      expect(await objectExists(h, h.config.videosBucket, key)).toBe(false);
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  }

  it("leaves no work folder behind", async () => {
    expect(await leftoverTempFiles(h)).toEqual([]);
  });
});
