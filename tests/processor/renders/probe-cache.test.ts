/** The renders' probe cache (ffmpeg-container/src/renders/probe-cache.ts): keys, lifetimes, eviction. */
import { describe, expect, it } from "vitest";
import { PROBE_CACHE_ENTRIES, PROBE_TTL_MS, PROBE_TTL_NO_ETAG_MS, ProbeCache } from "../../../ffmpeg-container/src/renders/probe-cache.ts";
import type { ProbeResult } from "../../../ffmpeg-container/src/ffmpeg/probe.ts";

const probe = (streamIndex: number) => ({ streamIndex }) as unknown as ProbeResult;

describe("ProbeCache", () => {
  it("keys on user, video and source ETag; entries expire", () => {
    let now = 0;
    const c = new ProbeCache(() => now);
    c.set("u", "v", '"e1"', probe(1));
    c.set("u", "w", undefined, probe(2));
    expect(c.get("u", "v", '"e1"')?.streamIndex).toBe(1);
    // Another ETag (a replaced source) or another user is another source.
    expect(c.get("u", "v", '"e2"')).toBeUndefined();
    expect(c.get("x", "v", '"e1"')).toBeUndefined();
    now = PROBE_TTL_NO_ETAG_MS;
    expect(c.get("u", "w", undefined)).toBeUndefined();
    expect(c.get("u", "v", '"e1"')).toBeDefined();
    now = PROBE_TTL_MS;
    expect(c.get("u", "v", '"e1"')).toBeUndefined();
  });
  it("evicts the oldest beyond its size; delete forgets", () => {
    const c = new ProbeCache();
    for (let i = 0; i <= PROBE_CACHE_ENTRIES; i++) c.set("u", `v${i}`, '"e"', probe(i));
    expect(c.get("u", "v0", '"e"')).toBeUndefined();
    expect(c.get("u", `v${PROBE_CACHE_ENTRIES}`, '"e"')?.streamIndex).toBe(PROBE_CACHE_ENTRIES);
    c.delete("u", "v1", '"e"');
    expect(c.get("u", "v1", '"e"')).toBeUndefined();
  });
});
