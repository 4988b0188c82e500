/**
 * Local copies of sources on the processor's disk: a job or render downloads its source once, in one
 * GET, and ffprobe and every ffmpeg run then read the file instead of making their own ranged requests
 * through the storage (issue 17 "read the input once"). A multi-read plan (the interval strategy's packet
 * index and one seek per image, a thumbnail of an MP4 whose index is at its end) costs one request instead
 * of several per read, and the renders that follow an upload (thumbnails, storyboard) read the copy too.
 *
 * Rules:
 * - Only sources with a known ETag are copied, downloaded with `If-Match` on it, and keyed by (bucket,
 *   object key, ETag): a copy only ever holds the bytes the video was completed with, and a replaced
 *   object is a new key whose download fails like any read of it.
 * - A source larger than `maxFileBytes`, or whose Content-Length is unknown, is not copied (the caller
 *   reads it over its presigned URL, as before); nor is one that would not fit in `maxBytes` after evicting
 *   every unused copy, or would leave less than {@link DISK_RESERVE_BYTES} free on the disk.
 * - A copy in use (acquired, not released) is never removed. Unused copies go least recently used first
 *   when space is needed, and after {@link IDLE_MS} unused in any case: a deleted video's bytes do not stay
 *   on the instance for long.
 * - Concurrent acquisitions of one source share one download. A failed download leaves no file; why a
 *   source was not copied reaches the caller, which logs it with its job or request id (`localCopy`).
 * - Files are named by the SHA-256 of the key, in a folder made for this cache (mode 0700), removed by
 *   {@link SourceCache.close}; the processor's working root (runner/work-root.ts) holds it, so a SIGKILLed
 *   processor's copies are removed by the next one.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rename, rm, stat, statfs, unlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { SourceInput } from "../ffmpeg/input-args.ts";
import type { Storage } from "../s3.ts";

/** Name prefix of the cache's folder in the processor's TMPDIR. */
export const SOURCE_CACHE_FOLDER_PREFIX = "vidsnap-sources-";

/** Unused copies are removed after this long, ms (as long as a render's probe result is cached). */
export const IDLE_MS = 10 * 60_000;
/** Free disk space a download must leave, bytes: work folders (transcodes, renders) need room too. */
export const DISK_RESERVE_BYTES = 512 * 1024 * 1024;

/** Where a source lives in the storage, and the ETag its copy must have. */
export interface SourceRef {
  bucket: string;
  key: string;
  etag: string;
}

/** A conditional GET of the source: its body and Content-Length (null when the store does not say). */
export type OpenSource = (signal: AbortSignal) => Promise<{ body: Readable; sizeBytes: number | null }>;

/** A copy in use: read `path`, then call `release` once (in a `finally`). */
export interface LocalCopy {
  /** Absolute path of the file. */
  path: string;
  sizeBytes: number;
  /** Whether this acquisition downloaded it (false: another job or render had). */
  downloaded: boolean;
  release(): void;
}

interface Entry {
  file: string;
  /** Bytes reserved (the Content-Length) while downloading, then the file's size. */
  sizeBytes: number;
  /** Acquisitions not released yet. */
  pins: number;
  lastUsed: number;
  /** Settles when the file is complete; rejects when the download failed (the entry is gone then). */
  ready: Promise<void>;
}

/** Why a source was not copied (logged by callers as `localCopy`). */
export class NotCopied extends Error {
  override readonly name = "NotCopied";
  /**
   * @param sourceBytes the Content-Length of the conditional GET when the storage answered it (the source
   *   exists with the recorded ETag and this size) before the copy was refused; absent otherwise
   */
  constructor(
    message: string,
    readonly sourceBytes?: number,
  ) {
    super(message);
  }
}

export interface SourceCacheOptions {
  /** Parent folder; the cache makes its own folder in it. */
  parentDir: string;
  /** Most bytes of all copies together; 0 disables the cache. */
  maxBytes: number;
  /** Largest source copied, bytes. */
  maxFileBytes: number;
  /** Epoch ms (tests). */
  now?: () => number;
  /** Free bytes of the disk holding `dir` (tests); default statfs. */
  freeBytes?: (dir: string) => Promise<number>;
}

/** The processor's local copies of sources (see the module docstring). One per processor. */
export class SourceCache {
  private readonly entries = new Map<string, Entry>();
  private dir: Promise<string> | undefined;
  private readonly now: () => number;
  private readonly freeBytes: (dir: string) => Promise<number>;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: SourceCacheOptions) {
    this.now = opts.now ?? Date.now;
    this.freeBytes =
      opts.freeBytes ??
      (async (dir) => {
        const s = await statfs(dir);
        return s.bavail * s.bsize;
      });
  }

  /** Whether copies are made at all (`maxBytes` > 0). */
  get enabled(): boolean {
    return this.opts.maxBytes > 0 && this.opts.maxFileBytes > 0;
  }

  /** Bytes held by copies and downloads now. */
  get usedBytes(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.sizeBytes;
    return n;
  }

  /**
   * The local copy of a source, downloaded now unless another acquisition has it or is fetching it.
   * @param ref bucket, key and the ETag the bytes must have
   * @param open the conditional GET (called only when a download starts)
   * @param signal aborts the wait (and the download this call started)
   * @param maxFileBytes a lower size limit for this source than the cache's (a single-pass read gains less)
   * @returns the copy, to release when done
   * @throws NotCopied when the source is not copied (too large, no room, download failed: read it over
   *   HTTP instead; the message says why), or `signal.reason` when aborted
   */
  async acquire(ref: SourceRef, open: OpenSource, signal: AbortSignal, maxFileBytes = this.opts.maxFileBytes): Promise<LocalCopy> {
    if (!this.enabled || this.closed) throw new NotCopied("local copies are disabled");
    const id = createHash("sha256").update(`${ref.bucket}\n${ref.key}\n${ref.etag}`).digest("hex");
    let entry = this.entries.get(id);
    let downloaded = false;
    if (!entry) {
      // In the map before the first await: a concurrent acquisition of this source waits for this download.
      const started: Entry = { file: "", sizeBytes: 0, pins: 0, lastUsed: this.now(), ready: Promise.resolve() };
      started.ready = this.download(id, started, open, signal, Math.min(maxFileBytes, this.opts.maxFileBytes));
      this.entries.set(id, started);
      entry = started;
      downloaded = true;
    }
    entry.pins++;
    try {
      await abortable(entry.ready, signal);
    } catch (e) {
      entry.pins--;
      signal.throwIfAborted();
      if (!(e instanceof NotCopied)) throw new NotCopied(`download failed: ${(e as Error).message}`);
      // Only the acquisition whose GET it was may take its answer for a check of the source now.
      throw downloaded || e.sourceBytes === undefined ? e : new NotCopied(e.message);
    }
    entry.lastUsed = this.now();
    const held = entry;
    let released = false;
    this.scheduleSweep();
    return {
      path: held.file,
      sizeBytes: held.sizeBytes,
      downloaded,
      release: () => {
        if (released) return;
        released = true;
        held.pins--;
        held.lastUsed = this.now();
      },
    };
  }

  /** Removes every copy not in use, stops the sweep and removes the folder. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    const dir = await this.dir?.catch(() => undefined);
    // Downloads still running fail on their own once the folder is gone.
    if (dir) await rm(dir, { recursive: true, force: true });
    this.entries.clear();
  }

  /** Removes unused copies idle for {@link IDLE_MS} (run every minute while copies exist). */
  async sweep(): Promise<void> {
    const cutoff = this.now() - IDLE_MS;
    const idle = [...this.entries].filter(([, e]) => e.pins === 0 && e.lastUsed <= cutoff);
    await Promise.all(idle.map(([id, e]) => this.remove(id, e)));
    if (this.entries.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  private scheduleSweep(): void {
    if (this.sweepTimer || this.closed) return;
    this.sweepTimer = setInterval(() => void this.sweep().catch(() => undefined), 60_000);
    this.sweepTimer.unref();
  }

  private folder(): Promise<string> {
    // mkdtemp makes it 0700: only the processor's uid reads users' videos.
    return (this.dir ??= mkdtemp(path.join(this.opts.parentDir, SOURCE_CACHE_FOLDER_PREFIX)));
  }

  private async remove(id: string, entry: Entry): Promise<void> {
    if (this.entries.get(id) === entry) this.entries.delete(id);
    if (entry.file) await unlink(entry.file).catch(() => undefined);
  }

  /**
   * Frees room for `bytes` more: unused copies, least recently used first. A download in flight is pinned by
   * the acquisition that started it until it ends (that acquisition's abort also aborts the download), so it
   * is not taken for an unused copy.
   * @returns false when even that is not enough
   */
  private async makeRoom(bytes: number, except: Entry): Promise<boolean> {
    const unused = [...this.entries].filter(([, e]) => e !== except && e.pins === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    const others = () => this.usedBytes - except.sizeBytes;
    while (others() + bytes > this.opts.maxBytes) {
      const next = unused.shift();
      if (!next) return false;
      await this.remove(next[0], next[1]);
    }
    return true;
  }

  private async download(id: string, entry: Entry, open: OpenSource, signal: AbortSignal, maxFileBytes: number): Promise<void> {
    let part: string | undefined;
    try {
      entry.file = path.join(await this.folder(), id);
      part = `${entry.file}.part`;
      const { body, sizeBytes } = await open(signal);
      try {
        if (sizeBytes === null) throw new NotCopied("the storage gave no Content-Length");
        if (sizeBytes > maxFileBytes) throw new NotCopied(`${sizeBytes} bytes is over the copy limit (${maxFileBytes})`, sizeBytes);
        if (!(await this.makeRoom(sizeBytes, entry))) throw new NotCopied(`no room: copies in use hold ${this.usedBytes} of ${this.opts.maxBytes} bytes`, sizeBytes);
        entry.sizeBytes = sizeBytes;
        const dir = path.dirname(entry.file);
        const free = await this.freeBytes(dir);
        if (free - sizeBytes < DISK_RESERVE_BYTES) throw new NotCopied(`the disk has ${free} bytes free; a copy must leave ${DISK_RESERVE_BYTES}`, sizeBytes);
        await pipeline(body, createWriteStream(part, { mode: 0o600 }), { signal });
        const written = (await stat(part)).size;
        if (written !== sizeBytes) throw new NotCopied(`the download ended after ${written} of ${sizeBytes} bytes`);
        await rename(part, entry.file);
      } finally {
        if (!body.destroyed) body.destroy();
      }
    } catch (e) {
      if (this.entries.get(id) === entry) this.entries.delete(id);
      if (part) await unlink(part).catch(() => undefined);
      throw e;
    }
  }
}

/** `p`, or `signal.reason` as soon as the signal aborts. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** What a job or render reads, and how it got it. */
export interface ReadableSource {
  input: SourceInput;
  /** `downloaded` by this job or render, `reused` (another one had copied it), or `none` (read over HTTP: why). */
  localCopy: "downloaded" | "reused" | { none: string };
  /**
   * The source's size, bytes, when known without a HEAD: the local copy's (its bytes are the ones the
   * recorded ETag names), or the Content-Length of this read's own conditional GET when the storage answered
   * it but the source was not copied (over the size limit, no room). Absent otherwise (read over HTTP
   * without a GET answered: no ETag, copies disabled, the GET failed): the caller checks the source itself.
   */
  sizeBytes?: number;
  /** Ends the use of the local copy (no-op for a URL). Call once, when every read is done. */
  release(): void;
}

/**
 * The input of a job or render: the local copy of the source when {@link SourceCache} makes or has one,
 * else its presigned URL with `If-Match` (as before local copies existed).
 * @param cache the processor's cache; absent = the URL
 * @param ref bucket, key and the recorded ETag (none = never copied: nothing pins the bytes)
 * @param presign makes the presigned GET URL, called only when the source is read over HTTP (signing
 *   costs 1–5 ms of the event loop that a read of the copy does not need)
 * @param maxFileBytes largest source copied for this read (default: the cache's `SOURCE_CACHE_MAX_FILE_BYTES`)
 * @throws `signal.reason` when aborted, the error of `presign`; never for a failed copy (the URL is the fallback)
 */
export async function readableSource(
  cache: SourceCache | undefined,
  storage: Storage,
  ref: { bucket: string; key: string; etag: string | undefined },
  presign: () => Promise<string>,
  signal: AbortSignal,
  maxFileBytes?: number,
): Promise<ReadableSource> {
  const overHttp = async (why: string, sizeBytes?: number): Promise<ReadableSource> => ({
    input: { url: await presign(), ifMatch: ref.etag },
    localCopy: { none: why },
    ...(sizeBytes === undefined ? {} : { sizeBytes }),
    release: () => undefined,
  });
  if (!cache?.enabled) return overHttp("disabled");
  const etag = ref.etag;
  if (etag === undefined) return overHttp("no recorded ETag");
  try {
    const copy = await cache.acquire({ bucket: ref.bucket, key: ref.key, etag }, (s) => storage.openRead(ref.bucket, ref.key, s, etag), signal, maxFileBytes);
    return { input: { localCopy: copy.path }, localCopy: copy.downloaded ? "downloaded" : "reused", sizeBytes: copy.sizeBytes, release: copy.release };
  } catch (e) {
    signal.throwIfAborted();
    return overHttp((e as Error).message, e instanceof NotCopied ? e.sourceBytes : undefined);
  }
}
