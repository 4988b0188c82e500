/**
 * Session tokens at rest only as digests: a wrapper around better-auth's database adapter that stores
 * `session.token` as `sha256:<64 hex>` of the token and looks sessions up by that digest.
 *
 * Why a wrapper: better-auth 1.7 has no option to hash session tokens (it has one for verification
 * identifiers, `verification.storeIdentifier: "hashed"`, which ./auth.ts also sets). Its internal adapter
 * creates a session with a random 32-character token, puts the token in the signed cookie / the
 * `set-auth-token` header, and later finds, refreshes and deletes the session `where token = <token>`.
 * This wrapper sits under all of that, on model `session` only:
 *
 * - `create`: stores the digest, and hands the raw token back in the created row (the cookie needs it);
 * - every `where` on `token` (`eq` or `in`) compares digests;
 * - `findOne` / `update` by token answer the raw token the caller presented, so a refreshed cookie keeps it;
 * - rows read by other fields (`findMany` by user, i.e. better-auth's session listing) carry the digest, not
 *   a usable token. The endpoints that list sessions or revoke one by its listed token
 *   ({@link SESSION_LISTING_PATHS}) are disabled for that reason; `revoke-sessions`, `sign-out` and
 *   `change-password` with `revokeOtherSessions` work by user id or by the presented token.
 *
 * A database read therefore yields no working login: the digest is not a token, and presenting it as one
 * (even signed with the secret) only matches the digest of the digest. Sessions created before this
 * wrapper (plain tokens) no longer match and their holders sign in again.
 */
import type { BetterAuthOptions } from "better-auth";
import type { DBAdapter, Where } from "better-auth/adapters";

/** Prefix of a stored digest, naming the hash so that a later change of hash stays recognisable. */
export const SESSION_TOKEN_DIGEST_PREFIX = "sha256:";

/** better-auth endpoints that hand out or take a session token read back from the table (disabled). */
export const SESSION_LISTING_PATHS = ["/list-sessions", "/revoke-session", "/revoke-other-sessions"];

/**
 * The stored form of a session token.
 * @param token the raw token (the part of the signed cookie / bearer value before the `.`)
 * @returns `sha256:` + the lowercase hex SHA-256 of the token's UTF-8 bytes
 */
export async function sessionTokenDigest(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return SESSION_TOKEN_DIGEST_PREFIX + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

type AdapterFactory = (options: BetterAuthOptions) => DBAdapter<BetterAuthOptions>;

/** Replaces the value of every `token` condition by its digest; returns the raw token of an `eq` condition. */
async function digestWhere(where: Where[] | undefined): Promise<{ where: Where[] | undefined; presented?: string }> {
  if (!where) return { where };
  let presented: string | undefined;
  const out: Where[] = [];
  for (const clause of where) {
    if (clause.field !== "token") {
      out.push(clause);
      continue;
    }
    const operator = clause.operator ?? "eq";
    if (operator === "eq" && typeof clause.value === "string") {
      presented = clause.value;
      out.push({ ...clause, value: await sessionTokenDigest(clause.value) });
    } else if (operator === "in" && Array.isArray(clause.value)) {
      out.push({ ...clause, value: await Promise.all((clause.value as unknown[]).map((v) => sessionTokenDigest(String(v)))) });
    } else {
      // Any other comparison on a digest would silently match nothing (or the wrong rows).
      throw new Error(`session token condition with operator ${operator} is not supported on digests`);
    }
  }
  return presented === undefined ? { where: out } : { where: out, presented };
}

/** The row with `token` set back to the raw token the caller knows. */
function withToken<T>(row: T, token: string | undefined): T {
  if (!row || token === undefined || typeof row !== "object") return row;
  return { ...(row as Record<string, unknown>), token } as T;
}

/** Wraps one adapter instance (the main one, or a transaction's). */
function wrapAdapter(inner: DBAdapter<BetterAuthOptions>): DBAdapter<BetterAuthOptions> {
  return {
    ...inner,
    async create<T extends Record<string, unknown>, R = T>(args: Parameters<DBAdapter["create"]>[0] & { data: Omit<T, "id"> }): Promise<R> {
      const data = args.data as Record<string, unknown>;
      const token = typeof data.token === "string" ? data.token : undefined;
      if (args.model !== "session" || token === undefined) return inner.create<T, R>(args);
      const stored = { ...data, token: await sessionTokenDigest(token) } as unknown as Omit<T, "id">;
      return withToken(await inner.create<T, R>({ ...args, data: stored }), token);
    },
    async findOne(args) {
      if (args.model !== "session") return inner.findOne(args);
      const { where, presented } = await digestWhere(args.where);
      return withToken(await inner.findOne({ ...args, where: where ?? [] }), presented);
    },
    async findMany(args) {
      if (args.model !== "session") return inner.findMany(args);
      return inner.findMany({ ...args, where: (await digestWhere(args.where)).where });
    },
    async count(args) {
      if (args.model !== "session") return inner.count(args);
      return inner.count({ ...args, where: (await digestWhere(args.where)).where });
    },
    async update<T>(args: Parameters<DBAdapter["update"]>[0]): Promise<T | null> {
      if (args.model !== "session") return inner.update<T>(args);
      if ("token" in args.update) throw new Error("a session's token is never rewritten");
      const { where, presented } = await digestWhere(args.where);
      return withToken(await inner.update<T>({ ...args, where: where ?? [] }), presented);
    },
    async updateMany(args) {
      if (args.model !== "session") return inner.updateMany(args);
      if ("token" in args.update) throw new Error("a session's token is never rewritten");
      return inner.updateMany({ ...args, where: (await digestWhere(args.where)).where ?? [] });
    },
    async delete(args) {
      if (args.model !== "session") return inner.delete(args);
      return inner.delete({ ...args, where: (await digestWhere(args.where)).where ?? [] });
    },
    async deleteMany(args) {
      if (args.model !== "session") return inner.deleteMany(args);
      return inner.deleteMany({ ...args, where: (await digestWhere(args.where)).where ?? [] });
    },
    async consumeOne(args) {
      if (args.model !== "session") return inner.consumeOne(args);
      const { where, presented } = await digestWhere(args.where);
      return withToken(await inner.consumeOne({ ...args, where: where ?? [] }), presented);
    },
    async incrementOne(args) {
      if (args.model !== "session") return inner.incrementOne(args);
      const { where, presented } = await digestWhere(args.where);
      return withToken(await inner.incrementOne({ ...args, where: where ?? [] }), presented);
    },
    transaction: (callback) => inner.transaction((trx) => callback(wrapAdapter(trx as DBAdapter<BetterAuthOptions>) as typeof trx)),
  };
}

/**
 * better-auth's `database` option with session tokens stored as digests.
 * @param factory the adapter factory better-auth would have been given (e.g. `drizzleAdapter(db, …)`)
 * @returns a factory of the same shape whose adapters store and compare `session.token` as
 *   {@link sessionTokenDigest}
 */
export function withHashedSessionTokens(factory: AdapterFactory): AdapterFactory {
  return (options) => wrapAdapter(factory(options));
}
