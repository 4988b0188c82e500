/**
 * Lists a user's videos newest first (created_at desc, id desc) with keyset pagination. The cursor is
 * opaque to clients: base64url of `{"c": createdAtMs, "i": id}` of the last row of the previous page.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { ListVideosQuery, VideoList } from "../../../../schema/api.ts";
import { videos } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { toVideo } from "./serialize.ts";

interface Cursor {
  c: number;
  i: string;
}

/** @returns base64url (no padding) of the cursor JSON */
export function encodeCursor(cursor: Cursor): string {
  const bytes = new TextEncoder().encode(JSON.stringify(cursor));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** @throws ProblemError `validation` (400) when the cursor is not one this API produced */
export function decodeCursor(value: string): Cursor {
  try {
    const b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const parsed: unknown = JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0))));
    if (
      parsed &&
      typeof parsed === "object" &&
      Number.isFinite((parsed as Cursor).c) &&
      typeof (parsed as Cursor).i === "string"
    ) {
      return { c: (parsed as Cursor).c, i: (parsed as Cursor).i };
    }
  } catch {
    /* fall through */
  }
  throw new ProblemError("validation", "The cursor is not valid; use `nextCursor` of a previous page.", {
    errors: [{ path: "cursor", message: "invalid cursor" }],
  });
}

/**
 * @param query validated query: `limit` 1..100, optional `cursor` and `status` filter
 * @returns one page and the cursor of the next (null on the last page)
 */
export async function listVideos(deps: Deps, userId: string, query: ListVideosQuery): Promise<VideoList> {
  const conditions: SQL[] = [eq(videos.userId, userId)];
  if (query.status) conditions.push(eq(videos.status, query.status));
  if (query.cursor) {
    const cursor = decodeCursor(query.cursor);
    const at = new Date(cursor.c);
    conditions.push(or(lt(videos.createdAt, at), and(eq(videos.createdAt, at), lt(videos.id, cursor.i)))!);
  }
  const rows = await deps.db
    .select()
    .from(videos)
    .where(and(...conditions))
    .orderBy(desc(videos.createdAt), desc(videos.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toVideo),
    nextCursor: rows.length > query.limit && last ? encodeCursor({ c: last.createdAt.getTime(), i: last.id }) : null,
  };
}
