/**
 * Rate limits on the routes strangers can hammer, with Cloudflare's Workers Rate Limiting binding
 * (`[[ratelimits]]` in wrangler.toml: `simple = { limit, period }`, period 10 or 60 s). Locally and in the
 * workers tests miniflare simulates the same binding (fixed in-memory windows), so there is no second
 * implementation; the limits themselves live in wrangler.toml per environment (high at the top level, where
 * the test suites sign up many users; production values in [env.production]).
 *
 * - {@link authRateLimit}: every `POST /api/auth/*` (sign-up, sign-in, password change…) per route and client
 *   IP, the IP taken from `cf-connecting-ip` only (set by Cloudflare; a client cannot choose it there).
 * - {@link accountRateLimit}: `POST /api/auth/sign-in/email` and `…/send-verification-email` per route and
 *   target address (normalized: trimmed, lower case; the counter key holds its SHA-256, not the address),
 *   binding `ACCOUNT_RATE_LIMITER`: many IPs together get one budget of guesses per account, and one inbox
 *   one budget of verification emails. Every attempt counts, right or wrong (the binding cannot be asked
 *   without counting); a refused owner waits out the window (60 s at most).
 * - {@link videoCreationRateLimit}: `POST /v1/videos` per authenticated user.
 * - {@link webhookRateLimit}: `POST /v1/webhooks` (create), `POST /v1/webhooks/{id}/test` and
 *   `POST /v1/webhooks/{id}/rotate-secret` per authenticated user, each action with a budget of its own: a
 *   test ping makes the Worker POST to a URL the user chose, so unlimited pings would flood that URL.
 * - {@link consumeRateLimit} with `IMAGE_RATE_LIMITER`: uncached renders of images on demand per user,
 *   counted by the service only when the image is not cached (services/images/serve-image.ts).
 *
 * Refusal: 429 problem `https://vidsnap.dev/problems/rate-limited` with `Retry-After: 60`. The binding does
 * not say when its window ends; 60 s is the longest period it supports, so waiting that long always helps.
 * A missing binding answers 500 `server-misconfigured` (fail closed) rather than letting requests through.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./context.ts";
import type { Env } from "./env.ts";
import type { Logger } from "../../runtime/log.ts";
import { ProblemError } from "./errors.ts";

/** Seconds a refused client is told to wait (`Retry-After`): the longest period of the binding. */
export const RETRY_AFTER_SECONDS = 60;

/** The rate limiting bindings of the Worker (names in wrangler.toml `[[ratelimits]]`). */
export type RateLimitBinding = keyof Pick<
  Env,
  "AUTH_RATE_LIMITER" | "ACCOUNT_RATE_LIMITER" | "VIDEO_RATE_LIMITER" | "WEBHOOK_RATE_LIMITER" | "IMAGE_RATE_LIMITER"
>;

/** What a limiter needs from the binding: Cloudflare's `RateLimit` interface. */
export type Limiter = Pick<RateLimit, "limit">;

interface RateLimitOptions {
  /** Binding consulted. */
  binding: RateLimitBinding;
  /** Label in logs and in the problem detail, e.g. `sign-in`. */
  scope: (c: Context<AppEnv>) => string;
  /** Key of the counter (e.g. `ip:203.0.113.9`); the scope is prepended. Undefined: the request is not counted. */
  key: (c: Context<AppEnv>) => string | undefined | Promise<string | undefined>;
  /** HTTP methods counted; other methods pass untouched. */
  methods: readonly string[];
}

/**
 * Builds a middleware that counts one request against `binding` under `scope:key`.
 * @returns a Hono middleware; throws {@link ProblemError} `rate-limited` (429, `Retry-After`) when the
 *   binding refuses, `server-misconfigured` (500) when the binding is missing
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!options.methods.includes(c.req.method)) return next();
    const key = await options.key(c);
    if (key === undefined) return next();
    await consumeRateLimit(c.env, c.var.log, options.binding, options.scope(c), key);
    await next();
  };
}

/**
 * Counts one request against `binding` under `scope:key` (the one refusal rule of every limiter here).
 * @throws ProblemError `rate-limited` (429, `Retry-After`) when the binding refuses, `server-misconfigured`
 *   (500) when the binding is missing
 */
export async function consumeRateLimit(env: Env, log: Logger, binding: RateLimitBinding, scope: string, key: string): Promise<void> {
  const limiter: Limiter | undefined = env[binding];
  if (!limiter) {
    log.error("rate limiting binding missing", { binding });
    throw new ProblemError("server-misconfigured", "The server is misconfigured; the operators have been told.");
  }
  const { success } = await limiter.limit({ key: `${scope}:${key}` });
  if (!success) {
    log.warn("rate limited", { binding, scope });
    throw new ProblemError("rate-limited", `Too many ${scope} requests; retry after ${RETRY_AFTER_SECONDS} seconds.`, {
      headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
    });
  }
}

/** The client IP as Cloudflare reports it; `unknown` when absent (local tools calling the Worker directly). */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("cf-connecting-ip")?.trim() || "unknown";
}

/** Auth routes with a budget of their own; every other `POST /api/auth/*` path shares the `auth` budget. */
export const AUTH_SCOPES: readonly string[] = [
  "sign-in/email",
  "sign-up/email",
  "change-password",
  "reset-password",
  "sign-out",
  "send-verification-email",
];

/** Auth routes with a budget per target address as well ({@link accountRateLimit}). */
export const ACCOUNT_SCOPES: readonly string[] = ["sign-in/email", "send-verification-email"];

/**
 * The budget of an auth path: its own for {@link AUTH_SCOPES} (compared after lower-casing and collapsing
 * slashes, so `//Sign-In/email/` cannot open a fresh counter), else the shared `auth`.
 * @param path request path, e.g. `/api/auth/sign-in/email`
 */
export function authScope(path: string): string {
  const normalized = path.toLowerCase().replace(/\/+/g, "/").replace(/^\/api\/auth\//, "").replace(/\/$/, "");
  return AUTH_SCOPES.includes(normalized) ? normalized : "auth";
}

/**
 * `POST /api/auth/*`: per route (`sign-in/email`, `sign-up/email`, …) and client IP, binding
 * `AUTH_RATE_LIMITER`. Mount on `/api/auth/*` before better-auth's handler.
 */
export const authRateLimit: MiddlewareHandler<AppEnv> = rateLimit({
  binding: "AUTH_RATE_LIMITER",
  scope: (c) => authScope(c.req.path),
  key: (c) => `ip:${clientIp(c)}`,
  methods: ["POST"],
});

/**
 * The address an auth request is about, normalized as better-auth does (lower case) and trimmed.
 * @returns the address, or undefined when the body is not JSON with a string `email` (better-auth answers it)
 */
async function requestEmail(c: Context<AppEnv>): Promise<string | undefined> {
  try {
    const body = (await c.req.raw.clone().json()) as { email?: unknown } | null;
    return typeof body?.email === "string" && body.email.trim() !== "" ? body.email.trim().toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Lowercase hex SHA-256 of a string: the counter key of an address, so the limiter never holds it. */
async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * `POST /api/auth/sign-in/email` and `POST /api/auth/send-verification-email`: per route and target
 * address, binding `ACCOUNT_RATE_LIMITER`. Mount on `/api/auth/*` after {@link authRateLimit}; other auth
 * routes pass untouched.
 */
export const accountRateLimit: MiddlewareHandler<AppEnv> = rateLimit({
  binding: "ACCOUNT_RATE_LIMITER",
  scope: (c) => `${authScope(c.req.path)} per account`,
  key: async (c) => {
    if (!ACCOUNT_SCOPES.includes(authScope(c.req.path))) return undefined;
    const email = await requestEmail(c);
    return email === undefined ? undefined : `email:${await sha256Hex(email)}`;
  },
  methods: ["POST"],
});

/**
 * `POST /v1/videos`: per authenticated user (session or API key alike), binding `VIDEO_RATE_LIMITER`.
 * Mount on `/v1/videos` after `requireUser`.
 */
export const videoCreationRateLimit: MiddlewareHandler<AppEnv> = rateLimit({
  binding: "VIDEO_RATE_LIMITER",
  scope: () => "video creation",
  key: (c) => `user:${c.var.user.id}`,
  methods: ["POST"],
});

/** The webhook actions (and the generators', registered and signed the same way), each with a budget of its own per user. */
export type WebhookAction =
  | "webhook creation"
  | "webhook test"
  | "webhook secret rotation"
  | "generator creation"
  | "generator secret rotation";

/**
 * `POST /v1/webhooks` (creation), `POST /v1/webhooks/{id}/test`, `POST /v1/webhooks/{id}/rotate-secret`:
 * per authenticated user and action, binding `WEBHOOK_RATE_LIMITER`. Per user rather than per endpoint, so
 * ten endpoints do not make ten test budgets. Mount each on its own route, after `requireUser`.
 * @param action the budget counted, also the label of logs and the problem detail
 */
export function webhookRateLimit(action: WebhookAction): MiddlewareHandler<AppEnv> {
  return rateLimit({
    binding: "WEBHOOK_RATE_LIMITER",
    scope: () => action,
    key: (c) => `user:${c.var.user.id}`,
    methods: ["POST"],
  });
}
