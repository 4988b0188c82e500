/**
 * The probe results of recently rendered sources, in memory: a burst of renders of one video (a list's
 * thumbnails, a storyboard and its cues, scrubbing) probes it once. Each render of a cached source skips
 * the HEAD and ffprobe (~0.15–0.3 s through the storage); its ffmpeg reads still carry `If-Match` with the
 * source's ETag, so a replaced object fails the render instead of serving other bytes.
 * Keyed by (user, video, source ETag); entries live {@link PROBE_TTL_MS} with an ETag (the key pins the
 * bytes), {@link PROBE_TTL_NO_ETAG_MS} without; at most {@link PROBE_CACHE_ENTRIES}, oldest evicted first.
 */
import type { ProbeResult } from "../ffmpeg/probe.ts";

/** Most sources remembered (a probe result is under 1 kB). */
export const PROBE_CACHE_ENTRIES = 256;
/** Lifetime of an entry whose source ETag is known, ms. */
export const PROBE_TTL_MS = 10 * 60_000;
/** Lifetime of an entry without a source ETag (older videos), ms. */
export const PROBE_TTL_NO_ETAG_MS = 60_000;

export class ProbeCache {
  private readonly entries = new Map<string, { probe: ProbeResult; expires: number }>();

  /** @param now epoch ms (tests) */
  constructor(private readonly now: () => number = Date.now) {}

  private static key(userId: string, videoId: string, etag: string | undefined): string {
    return `${userId}/${videoId}/${etag ?? ""}`;
  }

  /** @returns the cached probe of that source, or undefined (absent or expired) */
  get(userId: string, videoId: string, etag: string | undefined): ProbeResult | undefined {
    const key = ProbeCache.key(userId, videoId, etag);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.probe;
  }

  set(userId: string, videoId: string, etag: string | undefined, probe: ProbeResult): void {
    const key = ProbeCache.key(userId, videoId, etag);
    this.entries.delete(key);
    this.entries.set(key, { probe, expires: this.now() + (etag ? PROBE_TTL_MS : PROBE_TTL_NO_ETAG_MS) });
    while (this.entries.size > PROBE_CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Forgets a source (its render failed: the next one probes again). */
  delete(userId: string, videoId: string, etag: string | undefined): void {
    this.entries.delete(ProbeCache.key(userId, videoId, etag));
  }
}
