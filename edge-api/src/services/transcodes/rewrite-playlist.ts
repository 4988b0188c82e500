/**
 * Rewriting of stored HLS playlists (RFC 8216) for playback through the API: every URI of a playlist
 * (lines that are not tags, and `URI="…"` attributes of tags such as `#EXT-X-MAP`) is resolved against the
 * playlist's own object key and replaced by what `mapUri` answers: a tokenized playlist URL for variants,
 * a presigned GET URL for init and media segments. Pure apart from `mapUri`.
 */

/** A playlist URI that cannot be served (absolute, outside the transcode, or unknown). */
export class PlaylistRewriteError extends Error {
  override name = "PlaylistRewriteError";
}

/**
 * Object key a relative playlist URI points to.
 * @param playlistKey key of the playlist holding the URI
 * @returns the key, or undefined for an absolute URI (scheme or leading `/`)
 */
export function resolvePlaylistUri(playlistKey: string, uri: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith("/")) return undefined;
  const base = new URL(`https://objects.invalid/${playlistKey.split("/").map(encodeURIComponent).join("/")}`);
  const resolved = new URL(uri, base);
  if (resolved.host !== base.host) return undefined;
  return decodeURIComponent(resolved.pathname.slice(1));
}

/**
 * @param text the stored playlist
 * @param playlistKey its object key (URIs are relative to its folder)
 * @param mapUri new URI for an object key, or undefined to refuse it
 * @returns the playlist with every URI replaced (line endings normalised to `\n`)
 * @throws PlaylistRewriteError when a URI is absolute or refused; the caller answers 502 (a stored playlist
 *   is the processor's output, never the user's)
 */
export async function rewritePlaylist(
  text: string,
  playlistKey: string,
  mapUri: (key: string) => Promise<string | undefined>,
): Promise<string> {
  const replace = async (uri: string): Promise<string> => {
    const key = resolvePlaylistUri(playlistKey, uri);
    const mapped = key === undefined ? undefined : await mapUri(key);
    if (mapped === undefined) throw new PlaylistRewriteError(`playlist ${playlistKey} refers to ${uri.slice(0, 200)}, which is not served`);
    return mapped;
  };
  if (!text.startsWith("#EXTM3U")) throw new PlaylistRewriteError(`${playlistKey} is not an M3U8 playlist`);
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "") {
      out.push("");
    } else if (line.startsWith("#")) {
      // Attribute values are quoted strings without quotes inside (RFC 8216 §4.2).
      const uris = [...line.matchAll(/URI="([^"]*)"/g)];
      let rewritten = line;
      for (const m of uris) rewritten = rewritten.replace(m[0], `URI="${await replace(m[1]!)}"`);
      out.push(rewritten);
    } else {
      out.push(await replace(line));
    }
  }
  return out.join("\n");
}
