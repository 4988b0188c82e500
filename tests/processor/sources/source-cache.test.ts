/**
 * The processor's local copies of sources (ffmpeg-container/src/sources/source-cache.ts) on a real folder:
 * one download shared by concurrent acquisitions, the size and room rules, least-recently-used eviction
 * that never touches a copy in use, the idle expiry, and failed or short downloads leaving no file. The
 * end-to-end use (jobs and renders reading the copy from the local S3 server) is in
 * ../extract/source-etag.test.ts and ../renders/renders.test.ts.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Storage } from "../../../ffmpeg-container/src/s3.ts";
import { DISK_RESERVE_BYTES, IDLE_MS, NotCopied, readableSource, SourceCache, type OpenSource } from "../../../ffmpeg-container/src/sources/source-cache.ts";

let parentDir: string;
let clock = 1_000_000;
const caches: SourceCache[] = [];

beforeEach(async () => {
  parentDir = await mkdtemp(path.join(os.tmpdir(), "vidsnap-source-cache-test-"));
  clock = 1_000_000;
});
afterEach(async () => {
  for (const c of caches.splice(0)) await c.close();
  await rm(parentDir, { recursive: true, force: true });
});

function cache(maxBytes: number, maxFileBytes = maxBytes, freeBytes = async () => 1e12): SourceCache {
  const c = new SourceCache({ parentDir, maxBytes, maxFileBytes, now: () => clock, freeBytes });
  caches.push(c);
  return c;
}

/** An OpenSource serving `bytes` (declaring `declared` as Content-Length), counting its calls. */
function source(bytes: Buffer, declared: number | null = bytes.length) {
  const calls = { n: 0 };
  const open: OpenSource = async () => {
    calls.n++;
    // Two chunks, the second after a tick: concurrent acquisitions really overlap the download.
    const half = Math.floor(bytes.length / 2);
    async function* chunks() {
      yield bytes.subarray(0, half);
      await new Promise((r) => setTimeout(r, 10));
      yield bytes.subarray(half);
    }
    return { body: Readable.from(chunks()), sizeBytes: declared };
  };
  return { open, calls };
}

const ref = (key: string, etag = '"e1"') => ({ bucket: "videos", key, etag });
const never = new AbortController().signal;

/** Files in the cache's folder (the `vidsnap-sources-*` folder inside parentDir). */
async function filesOnDisk(): Promise<string[]> {
  const [dir] = await readdir(parentDir);
  return dir ? readdir(path.join(parentDir, dir)) : [];
}

describe("SourceCache", () => {
  it("downloads once for concurrent acquisitions, and the file holds the bytes", async () => {
    const c = cache(1000);
    const bytes = Buffer.from("a".repeat(300) + "b".repeat(300));
    const s = source(bytes);
    const [a, b] = await Promise.all([c.acquire(ref("k"), s.open, never), c.acquire(ref("k"), s.open, never)]);
    expect(s.calls.n).toBe(1);
    expect([a.downloaded, b.downloaded].sort()).toEqual([false, true]);
    expect(a.path).toBe(b.path);
    expect(await readFile(a.path)).toEqual(bytes);
    const again = await c.acquire(ref("k"), s.open, never);
    expect(again.downloaded).toBe(false);
    expect(s.calls.n).toBe(1);
    for (const h of [a, b, again]) h.release();
  });

  it("keys copies by ETag: another ETag of the same object is another download", async () => {
    const c = cache(1000);
    const s = source(Buffer.alloc(100, 1));
    const a = await c.acquire(ref("k", '"e1"'), s.open, never);
    const b = await c.acquire(ref("k", '"e2"'), s.open, never);
    expect(s.calls.n).toBe(2);
    expect(a.path).not.toBe(b.path);
    a.release();
    b.release();
  });

  it("refuses a source over the file limit, one without Content-Length, and a disk with too little free space", async () => {
    const c = cache(1000, 100);
    await expect(c.acquire(ref("big"), source(Buffer.alloc(101)).open, never)).rejects.toThrow(/over the copy limit/);
    await expect(c.acquire(ref("unknown"), source(Buffer.alloc(10), null).open, never)).rejects.toThrow(/no Content-Length/);
    const tight = cache(1000, 1000, async () => DISK_RESERVE_BYTES + 50);
    await expect(tight.acquire(ref("k"), source(Buffer.alloc(100)).open, never)).rejects.toThrow(/must leave/);
    expect(c.usedBytes + tight.usedBytes).toBe(0);
  });

  it("a copy refused once the GET answered carries that answer's size for the acquisition that sent it, not for one sharing it", async () => {
    const c = cache(1000, 100);
    const big = source(Buffer.alloc(150));
    const [first, sharing] = await Promise.allSettled([c.acquire(ref("big"), big.open, never), c.acquire(ref("big"), big.open, never)]);
    expect(big.calls.n).toBe(1);
    const reasons = [first, sharing].map((r) => (r.status === "rejected" ? (r.reason as NotCopied) : undefined));
    expect(reasons.every((e) => e instanceof NotCopied && /over the copy limit/.test(e.message))).toBe(true);
    // Only the first one's own GET said the source exists with this ETag and 150 bytes.
    expect(reasons.map((e) => e?.sourceBytes)).toEqual([150, undefined]);
    // No answer, no size: a source without Content-Length, a failed GET.
    const unknown = await c.acquire(ref("unknown"), source(Buffer.alloc(10), null).open, never).catch((e: NotCopied) => e);
    expect(unknown).toBeInstanceOf(NotCopied);
    expect((unknown as NotCopied).sourceBytes).toBeUndefined();
    const refused = await c.acquire(ref("gone"), async () => Promise.reject(new Error("NotFound")), never).catch((e: NotCopied) => e);
    expect((refused as NotCopied).sourceBytes).toBeUndefined();
  });

  it("readableSource presigns only for a read over HTTP; a source refused for its size keeps the GET's size", async () => {
    const c = cache(1000, 100);
    let presigned = 0;
    const presign = async () => {
      presigned++;
      return "https://storage.invalid/videos/k?X-Amz-Signature=x";
    };
    /** The one Storage call readableSource makes: the copy's conditional GET. */
    const storageServing = (bytes: Buffer) => ({ openRead: (_b: string, _k: string, s: AbortSignal) => source(bytes).open(s) }) as unknown as Storage;
    const copied = await readableSource(c, storageServing(Buffer.alloc(80)), ref("small"), presign, never);
    expect(copied).toMatchObject({ localCopy: "downloaded", sizeBytes: 80 });
    expect(presigned).toBe(0);
    copied.release();
    const big = await readableSource(c, storageServing(Buffer.alloc(150)), ref("big"), presign, never);
    expect(big).toMatchObject({ input: { url: expect.stringMatching(/^https:/), ifMatch: '"e1"' }, localCopy: { none: expect.stringMatching(/over the copy limit/) }, sizeBytes: 150 });
    const noEtag = await readableSource(c, storageServing(Buffer.alloc(10)), { bucket: "videos", key: "k", etag: undefined }, presign, never);
    expect(noEtag).toMatchObject({ localCopy: { none: "no recorded ETag" } });
    expect(noEtag.sizeBytes).toBeUndefined();
    expect(presigned).toBe(2);
  });

  it("a short download (fewer bytes than Content-Length) or a failed one leaves no file and is retried next time", async () => {
    const c = cache(1000);
    const short = source(Buffer.alloc(50), 80);
    await expect(c.acquire(ref("k"), short.open, never)).rejects.toBeInstanceOf(NotCopied);
    const failing: OpenSource = async () => ({
      body: Readable.from(
        (async function* () {
          yield Buffer.alloc(10);
          throw new Error("connection reset");
        })(),
      ),
      sizeBytes: 80,
    });
    await expect(c.acquire(ref("k2"), failing, never)).rejects.toThrow(/connection reset/);
    expect(await filesOnDisk()).toEqual([]);
    expect(c.usedBytes).toBe(0);
    const good = await c.acquire(ref("k"), source(Buffer.alloc(80)).open, never);
    expect(good.sizeBytes).toBe(80);
    good.release();
  });

  it("evicts unused copies least recently used first, never one in use; refuses when only copies in use remain", async () => {
    const c = cache(300);
    const a = await c.acquire(ref("a"), source(Buffer.alloc(100)).open, never);
    clock += 10;
    const b = await c.acquire(ref("b"), source(Buffer.alloc(100)).open, never);
    clock += 10;
    a.release();
    clock += 10;
    b.release();
    const held = await c.acquire(ref("c"), source(Buffer.alloc(100)).open, never);
    // Full (300 of 300): d evicts a (released first), not b.
    const d = await c.acquire(ref("d"), source(Buffer.alloc(100)).open, never);
    expect(c.usedBytes).toBe(300);
    const bAgain = source(Buffer.alloc(100));
    (await c.acquire(ref("b"), bAgain.open, never)).release();
    expect(bAgain.calls.n).toBe(0);
    const aAgain = source(Buffer.alloc(100));
    // a was evicted: downloading it again evicts b (the only unused copy); c and d are in use.
    const a2 = await c.acquire(ref("a"), aAgain.open, never);
    expect(aAgain.calls.n).toBe(1);
    // c, d and a are in use: no room for a fourth.
    await expect(c.acquire(ref("e"), source(Buffer.alloc(100)).open, never)).rejects.toThrow(/no room/);
    expect((await filesOnDisk()).length).toBe(3);
    for (const x of [held, d, a2]) x.release();
  });

  it("removes copies unused for IDLE_MS, keeps those in use", async () => {
    const c = cache(1000);
    const a = await c.acquire(ref("a"), source(Buffer.alloc(10)).open, never);
    const b = await c.acquire(ref("b"), source(Buffer.alloc(10)).open, never);
    a.release();
    clock += IDLE_MS + 1;
    await c.sweep();
    expect(c.usedBytes).toBe(10);
    expect((await filesOnDisk()).length).toBe(1);
    b.release();
    clock += IDLE_MS + 1;
    await c.sweep();
    expect(await filesOnDisk()).toEqual([]);
  });

  it("is off with maxBytes 0, and an aborted wait rejects with the signal's reason", async () => {
    await expect(cache(0).acquire(ref("k"), source(Buffer.alloc(1)).open, never)).rejects.toThrow(/disabled/);
    const c = cache(1000);
    const controller = new AbortController();
    const waiting = c.acquire(ref("k"), source(Buffer.alloc(100)).open, controller.signal);
    controller.abort(new Error("job cancelled"));
    await expect(waiting).rejects.toThrow("job cancelled");
  });

  it("close removes the folder", async () => {
    const c = cache(1000);
    (await c.acquire(ref("k"), source(Buffer.alloc(10)).open, never)).release();
    await c.close();
    expect(await readdir(parentDir)).toEqual([]);
  });
});
