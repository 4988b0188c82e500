/**
 * Authentication: better-auth (email + password, bearer plugin) over D1 through the drizzle adapter,
 * mounted at `/api/auth/*`, and the `/v1/*` middleware that resolves `Authorization: Bearer <token>`.
 *
 * - Tables: better-auth's core `user`, `session`, `account`, `verification` from schema/db.ts. The adapter
 *   addresses drizzle's field names (camelCase, e.g. `emailVerified`), which are better-auth's own
 *   field names, so no field mapping is needed; the SQL columns are snake_case.
 * - Sign-up/sign-in answer the session token in the `set-auth-token` header (bearer plugin); clients send
 *   it back as `Authorization: Bearer <token>`.
 * - Passwords: at least 10 characters (hashing costs ~100 ms CPU on workerd).
 * - `trustedOrigins`: PUBLIC_BASE_URL plus TRUSTED_ORIGINS; other browser origins get 403 from better-auth.
 */
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { betterAuth } from "better-auth/minimal";
import { bearer } from "better-auth/plugins/bearer";
import type { MiddlewareHandler } from "hono";
import { account, session, user, verification } from "../../schema/db.ts";
import { createDb } from "./db.ts";
import type { Config, Env } from "./env.ts";
import { ProblemError } from "./errors.ts";
import type { AppEnv } from "./context.ts";

/** Minimum password length for sign-up and password changes. */
export const MIN_PASSWORD_LENGTH = 10;

function buildAuth(env: Env, config: Config) {
  return betterAuth({
    appName: "vidsnap",
    baseURL: config.publicBaseUrl,
    basePath: "/api/auth",
    secret: config.betterAuthSecret,
    trustedOrigins: [config.publicBaseUrl, ...config.trustedOrigins],
    database: drizzleAdapter(createDb(env.DB), {
      provider: "sqlite",
      schema: { user, session, account, verification },
    }),
    emailAndPassword: { enabled: true, minPasswordLength: MIN_PASSWORD_LENGTH },
    plugins: [bearer()],
    telemetry: { enabled: false },
    // better-auth's limiter (per isolate memory): on outside local, where tests sign up many users.
    rateLimit: { enabled: config.environment !== "local" },
    advanced: {
      // Client IPs for better-auth's rate limiter: Cloudflare's header only.
      ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] },
      useSecureCookies: config.publicBaseUrl.startsWith("https://"),
    },
  });
}

export type Auth = ReturnType<typeof buildAuth>;

/**
 * better-auth checks `Origin` against trustedOrigins whenever Fetch Metadata headers (`Sec-Fetch-*`) are
 * present, and Node's fetch (undici) sends `Sec-Fetch-Mode: cors` on every request, so a Node API client
 * without `Origin` got 403 MISSING_OR_NULL_ORIGIN. A request with neither `Origin` nor `Cookie` cannot be
 * a browser CSRF attempt (browsers send `Origin` on every POST, per the Fetch standard), so for those
 * the Fetch Metadata headers are dropped before better-auth sees them. Browser requests are unchanged.
 * @param request the incoming `/api/auth/*` request
 * @returns the same request, or a copy without `sec-fetch-*` headers
 */
export function asApiClientRequest(request: Request): Request {
  if (request.headers.has("origin") || request.headers.has("cookie")) return request;
  const names = [...request.headers.keys()].filter((name) => name.startsWith("sec-fetch-"));
  if (names.length === 0) return request;
  const headers = new Headers(request.headers);
  for (const name of names) headers.delete(name);
  return new Request(request, { headers });
}

const cache = new WeakMap<object, Auth>();

/**
 * The better-auth instance of this env, built once per env object (per isolate in practice).
 * @param env Worker bindings (uses `DB`)
 * @param config validated config (secret, base URL, trusted origins)
 */
export function getAuth(env: Env, config: Config): Auth {
  let auth = cache.get(env);
  if (!auth) {
    auth = buildAuth(env, config);
    cache.set(env, auth);
  }
  return auth;
}

/**
 * `/v1/*` guard: resolves the bearer token (or session cookie) with `auth.api.getSession` and sets
 * `c.var.user`. Missing or invalid credentials → 401 problem `unauthorized` (with `WWW-Authenticate`).
 */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const auth = getAuth(c.env, c.var.config);
  const result = await auth.api.getSession({ headers: c.req.raw.headers });
  if (!result) {
    const hasCredentials = c.req.header("authorization") !== undefined;
    throw new ProblemError(
      "unauthorized",
      hasCredentials ? "The bearer token is invalid or expired." : "Send `Authorization: Bearer <token>` (from /api/auth sign-in).",
      { headers: { "www-authenticate": 'Bearer realm="vidsnap"' } },
    );
  }
  c.set("user", { id: result.user.id, email: result.user.email, name: result.user.name });
  c.set("log", c.var.log.child({ userId: result.user.id }));
  await next();
};
