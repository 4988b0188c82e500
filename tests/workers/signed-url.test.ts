/**
 * Signed URL tokens (edge-api/src/signed-url.ts) and the playlist rewriting of HLS playback
 * (edge-api/src/services/transcodes/rewrite-playlist.ts), as units.
 */
import { describe, expect, it } from "vitest";
import { signUrlToken, verifyUrlToken } from "../../edge-api/src/signed-url.ts";
import { PlaylistRewriteError, resolvePlaylistUri, rewritePlaylist } from "../../edge-api/src/services/transcodes/rewrite-playlist.ts";

const SECRET = "a-test-auth-secret-of-at-least-32-characters";
const scope = ["hls", "video-1", "transcode-1", "1"];

describe("signed URL tokens", () => {
  it("verify under the same secret, scope and before the expiry only", async () => {
    const now = Date.UTC(2026, 0, 1);
    const exp = now / 1000 + 60;
    const token = await signUrlToken(SECRET, scope, exp);
    expect(token).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(await verifyUrlToken(SECRET, scope, token, now)).toEqual({ ok: true, expiresAt: exp });
    expect(await verifyUrlToken(SECRET, scope, token, exp * 1000)).toEqual({ ok: false, reason: "expired" });
    expect(await verifyUrlToken(SECRET, ["hls", "video-1", "transcode-2", "1"], token, now)).toEqual({ ok: false, reason: "bad-signature" });
    expect(await verifyUrlToken(SECRET, ["hls", "video-1", "transcode-1", "2"], token, now)).toEqual({ ok: false, reason: "bad-signature" });
    expect(await verifyUrlToken(`${SECRET}-rotated`, scope, token, now)).toEqual({ ok: false, reason: "bad-signature" });
    // A later expiry with the old signature, or a malformed value, is refused.
    expect(await verifyUrlToken(SECRET, scope, `${exp + 3600}.${token.split(".")[1]}`, now)).toEqual({ ok: false, reason: "bad-signature" });
    for (const bad of ["", "abc", `${exp}.`, `${exp}.${"A".repeat(44)}`, `-1.${token.split(".")[1]}`]) {
      expect(await verifyUrlToken(SECRET, scope, bad, now)).toEqual({ ok: false, reason: "malformed" });
    }
  });

  it("keeps scope parts apart: a newline inside a part is refused", async () => {
    await expect(signUrlToken(SECRET, ["hls", "a\nb"], 1)).rejects.toThrow(/newline/);
    const joined = await signUrlToken(SECRET, ["ab", "c"], 2_000_000_000);
    expect((await verifyUrlToken(SECRET, ["a", "bc"], joined, 0)).ok).toBe(false);
  });
});

describe("playlist rewriting", () => {
  const key = "users/u/videos/v/transcodes/t/attempts/1/hls/360/index.m3u8";

  it("resolves relative URIs against the playlist's folder; absolute ones are not resolved", () => {
    expect(resolvePlaylistUri(key, "seg-00001.m4s")).toBe("users/u/videos/v/transcodes/t/attempts/1/hls/360/seg-00001.m4s");
    expect(resolvePlaylistUri(key, "../720/index.m3u8")).toBe("users/u/videos/v/transcodes/t/attempts/1/hls/720/index.m3u8");
    // `..` cannot climb above the bucket's root; the caller then finds the key outside the transcode.
    expect(resolvePlaylistUri(key, `${"../".repeat(8)}other/x`)).toBe("users/u/other/x");
    expect(resolvePlaylistUri(key, `${"../".repeat(20)}other/x`)).toBe("other/x");
    expect(resolvePlaylistUri(key, "https://evil.example/x.ts")).toBeUndefined();
    expect(resolvePlaylistUri(key, "/etc/passwd")).toBeUndefined();
    expect(resolvePlaylistUri(key, "//evil.example/x")).toBeUndefined();
  });

  it("replaces segment lines and URI attributes, keeps tags, normalises CRLF", async () => {
    const text = '#EXTM3U\r\n#EXT-X-MAP:URI="init.mp4"\r\n#EXTINF:6.0,\r\nseg-00001.m4s\r\n#EXT-X-ENDLIST\r\n';
    const out = await rewritePlaylist(text, key, async (k) => `https://signed/${k.split("/").pop()}`);
    expect(out).toBe('#EXTM3U\n#EXT-X-MAP:URI="https://signed/init.mp4"\n#EXTINF:6.0,\nhttps://signed/seg-00001.m4s\n#EXT-X-ENDLIST\n');
  });

  it("refuses a playlist naming anything the mapper refuses, or that is not M3U8", async () => {
    const only = async (k: string) => (k.startsWith("users/u/videos/v/transcodes/t/attempts/1/") ? "ok" : undefined);
    await expect(rewritePlaylist("#EXTM3U\n../../../../../../../../other/secret\n", key, only)).rejects.toBeInstanceOf(PlaylistRewriteError);
    await expect(rewritePlaylist("#EXTM3U\nhttps://evil.example/x.ts\n", key, only)).rejects.toBeInstanceOf(PlaylistRewriteError);
    await expect(rewritePlaylist("<html>", key, only)).rejects.toBeInstanceOf(PlaylistRewriteError);
  });
});
