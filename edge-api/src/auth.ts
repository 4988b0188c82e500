/**
 * Authentication: better-auth (email + password, bearer plugin, API keys) over D1 through the drizzle
 * adapter, mounted at `/api/auth/*`, and the `/v1/*` guard {@link requireUser}.
 *
 * - Tables: better-auth's core `user`, `session`, `account`, `verification` and the api-key plugin's
 *   `apikey` from schema/db.ts. The adapter addresses drizzle's field names (camelCase, e.g.
 *   `emailVerified`), which are better-auth's own field names, so no field mapping is needed; the SQL
 *   columns are snake_case.
 * - Sign-up/sign-in answer the session token in the `set-auth-token` header (bearer plugin); clients send
 *   it back as `Authorization: Bearer <token>`.
 * - Sessions ({@link SESSION_EXPIRES_IN_SECONDS}, {@link SESSION_UPDATE_AGE_SECONDS}): a session lives
 *   7 days and is extended (to 7 days from then) when used more than a day after its last extension, so
 *   an active client stays signed in and an idle token dies within a week. Expired sessions get 401.
 * - Passwords (./password-policy.ts): 10..128 characters, not a common password, not the email; checked
 *   by a before-hook on sign-up, change-password and reset-password (400 `{code, message}` from better-auth).
 * - API keys (@better-auth/api-key): `vsk_` + 64 letters, stored as SHA-256 only, shown once. Managed by our
 *   own `/v1/api-keys` routes only: the plugin's HTTP endpoints under `/api/auth/api-key/*` are disabled
 *   (`disabledPaths`), its server-side functions are used. The plugin's per-key usage limits are off: rate
 *   limits are the Workers bindings of ./rate-limit.ts (which also replaced better-auth's in-memory limiter).
 * - `trustedOrigins`: PUBLIC_BASE_URL plus TRUSTED_ORIGINS; other browser origins get 403 from better-auth on
 *   `/api/auth/*`, and 403 `cross-site-request` on `/v1/*` mutations signed in with the cookie (./cross-site.ts).
 */
import { apiKey as apiKeyPlugin } from "@better-auth/api-key";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { betterAuth } from "better-auth/minimal";
import { bearer } from "better-auth/plugins/bearer";
import type { Context, MiddlewareHandler } from "hono";
import { API_KEY_PREFIX } from "../../schema/api-keys.ts";
import { account, apiKey, session, user, verification } from "../../schema/db.ts";
import type { AppEnv } from "./context.ts";
import { createDb } from "./db.ts";
import { SESSION_LISTING_PATHS, withHashedSessionTokens } from "./auth-session-tokens.ts";
import type { Config, Env } from "./env.ts";
import { refuseCrossSiteCookieRequest } from "./cross-site.ts";
import { ProblemError } from "./errors.ts";
import { createLogger } from "../../runtime/log.ts";
import { checkPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "./password-policy.ts";
import { sendVerificationEmail } from "./services/users/send-verification-email.ts";
import { checkName } from "./user-name.ts";
import { isApiKeyLike, verifyApiKey } from "./services/api-keys/verify-api-key.ts";

export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH };

/** Lifetime of a session, seconds (7 days). */
export const SESSION_EXPIRES_IN_SECONDS = 7 * 86_400;
/** A session used this long after its last extension is extended again, seconds (1 day). */
export const SESSION_UPDATE_AGE_SECONDS = 86_400;

/** The plugin's HTTP endpoints, replaced by `/v1/api-keys` (one surface, problem+json, owner-scoped). */
const DISABLED_API_KEY_PATHS = [
  "/api-key/create",
  "/api-key/get",
  "/api-key/update",
  "/api-key/delete",
  "/api-key/list",
  "/api-key/verify",
  "/api-key/delete-all-expired-api-keys",
];

/** What the before-hooks read of better-auth's endpoint context. */
interface HookContext {
  path: string;
  body?: unknown;
  request?: Request | undefined;
  headers?: Headers | undefined;
}

/** Lifetime of an email verification link, seconds (24 h). */
export const EMAIL_VERIFICATION_EXPIRES_IN_SECONDS = 86_400;

/**
 * better-auth before-hook enforcing ./user-name.ts on the routes that set a name (sign-up, update-user).
 * @throws APIError BAD_REQUEST `{code: NAME_TOO_LONG | NAME_HAS_CONTROL_CHARACTERS | NAME_HAS_LINK, message}`
 */
async function namePolicyHook(ctx: HookContext): Promise<void> {
  if (ctx.path !== "/sign-up/email" && ctx.path !== "/update-user") return;
  const name = ((ctx.body ?? {}) as Record<string, unknown>).name;
  if (typeof name !== "string") return; // absent on update-user; better-auth's body validation answers the rest
  const refusal = checkName(name);
  if (refusal) throw new APIError("BAD_REQUEST", { code: refusal.code, message: refusal.message });
}

/**
 * better-auth before-hook enforcing ./password-policy.ts on every route that sets a password.
 * @param sessionEmail the email of the session the request carries (through better-auth's public API, so
 *   the bearer plugin's token-to-cookie step applies; a hook itself runs before that step)
 * @throws APIError BAD_REQUEST `{code: PASSWORD_TOO_COMMON | PASSWORD_EQUALS_EMAIL, message}`
 */
const passwordPolicyHook =
  (sessionEmail: (headers: Headers) => Promise<string | undefined>) =>
  async (ctx: HookContext): Promise<void> => {
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    let password: unknown;
    let email: string | undefined;
    if (ctx.path === "/sign-up/email") {
      password = body.password;
      email = typeof body.email === "string" ? body.email : undefined;
    } else if (ctx.path === "/change-password") {
      password = body.newPassword;
      const headers = ctx.request?.headers ?? ctx.headers;
      email = headers ? await sessionEmail(headers) : undefined;
    } else if (ctx.path === "/reset-password") {
      password = body.newPassword;
    } else {
      return;
    }
    if (typeof password !== "string") return; // better-auth's own body validation answers it
    const refusal = checkPassword(password, email);
    if (refusal) throw new APIError("BAD_REQUEST", { code: refusal.code, message: refusal.message });
  };

/**
 * better-auth's log lines as our structured JSON lines (./log.ts), message and error code only: its extra
 * arguments can hold request data, so they are not logged. Refusals are routine, not server errors: the
 * plugin's "Failed to validate API key" (the client gets 401) is debug, a foreign "Invalid origin" (403) warn.
 */
function betterAuthLog(config: Config) {
  const log = createLogger({ component: "better-auth" }, { minLevel: config.logLevel });
  return (level: "debug" | "info" | "warn" | "error", message: string, ...args: unknown[]) => {
    const first = args[0] as { body?: { code?: unknown } } | undefined;
    const code = typeof first?.body?.code === "string" ? first.body.code : undefined;
    const demoted = message.startsWith("Failed to validate API key") ? "debug" : message.startsWith("Invalid origin") ? "warn" : level;
    log[demoted](message, code ? { code } : undefined);
  };
}

function buildAuth(env: Env, config: Config) {
  // Set once `auth` exists (the hook needs the instance it belongs to).
  let sessionEmail: (headers: Headers) => Promise<string | undefined> = async () => undefined;
  const passwordHook = passwordPolicyHook((headers) => sessionEmail(headers));
  const log = createLogger({ component: "auth" }, { minLevel: config.logLevel });
  const auth = betterAuth({
    appName: "vidsnap",
    baseURL: config.publicBaseUrl,
    basePath: "/api/auth",
    secret: config.betterAuthSecret,
    trustedOrigins: [config.publicBaseUrl, ...config.trustedOrigins],
    database: withHashedSessionTokens(
      drizzleAdapter(createDb(env.DB), {
        provider: "sqlite",
        schema: { user, session, account, verification, apikey: apiKey },
      }),
    ),
    // Verification identifiers (password-reset tokens and the like) at rest as SHA-256 only.
    verification: { storeIdentifier: "hashed" },
    emailAndPassword: {
      enabled: true,
      minPasswordLength: MIN_PASSWORD_LENGTH,
      maxPasswordLength: MAX_PASSWORD_LENGTH,
      // Sign-up never signs in: its answer is then the same whether or not the address has an account
      // (better-auth answers a synthetic user, `token: null`, for an existing one), and nothing is emailed
      // to the existing account's owner. Clients sign in next.
      autoSignIn: false,
      // Unverified accounts may sign in and use the API; they only get no emails (outcomeEmailRecipient).
      requireEmailVerification: false,
    },
    emailVerification: {
      sendOnSignUp: true,
      autoSignInAfterVerification: false,
      expiresIn: EMAIL_VERIFICATION_EXPIRES_IN_SECONDS,
      sendVerificationEmail: async ({ user: to, url }) => {
        await sendVerificationEmail(env, log, to, url, EMAIL_VERIFICATION_EXPIRES_IN_SECONDS);
      },
    },
    session: { expiresIn: SESSION_EXPIRES_IN_SECONDS, updateAge: SESSION_UPDATE_AGE_SECONDS },
    plugins: [
      // Only `token.signature` (the `set-auth-token` value) is accepted: a raw token read from the table is not.
      bearer({ requireSignature: true }),
      apiKeyPlugin({
        defaultPrefix: API_KEY_PREFIX,
        defaultKeyLength: 64,
        startingCharactersConfig: { shouldStore: true, charactersLength: API_KEY_PREFIX.length + 6 },
        requireName: true,
        rateLimit: { enabled: false },
        enableSessionForAPIKeys: false,
        enableMetadata: false,
      }),
    ],
    disabledPaths: [...DISABLED_API_KEY_PATHS, ...SESSION_LISTING_PATHS],
    hooks: {
      before: createAuthMiddleware(async (ctx) => {
        await namePolicyHook(ctx);
        await passwordHook(ctx);
      }),
    },
    telemetry: { enabled: false },
    // level "info": better-auth then also stops echoing every refused request (APIError) on its own console logger.
    logger: { level: "info", log: betterAuthLog(config) },
    // Rate limits are the Workers rate limiting bindings (./rate-limit.ts), shared across isolates; better-auth's
    // per-isolate memory limiter would add a second, weaker limit with another 429 format.
    rateLimit: { enabled: false },
    advanced: {
      ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] },
      useSecureCookies: config.publicBaseUrl.startsWith("https://"),
    },
  });
  sessionEmail = async (headers) => (await auth.api.getSession({ headers }))?.user.email;
  return auth;
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

const unauthorized = (detail: string) =>
  new ProblemError("unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="vidsnap"' } });

/**
 * `/v1/*` guard. Credentials, one per request:
 * - `x-api-key: <key>` or `Authorization: Bearer vsk_…`: an API key (./services/api-keys/verify-api-key.ts);
 * - `Authorization: Bearer <session token>`: a better-auth session (`getSession`; a cookie sent along is ignored);
 * - the session cookie (the dashboard), whose mutations must come from a trusted origin (./cross-site.ts).
 * Sets `c.var.user` and `c.var.authMethod` (`api-key` | `session`).
 * @throws ProblemError `unauthorized` (401, `WWW-Authenticate: Bearer`) for missing, malformed, unknown,
 *   revoked or expired credentials, and when both `x-api-key` and `Authorization` are sent;
 *   `cross-site-request` (403) for a cookie-authenticated mutation from another origin
 */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const auth = getAuth(c.env, c.var.config);
  const authorization = c.req.header("authorization");
  const apiKeyHeader = c.req.header("x-api-key");
  const bearerValue = /^Bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];

  if (apiKeyHeader !== undefined || (bearerValue !== undefined && isApiKeyLike(bearerValue))) {
    if (apiKeyHeader !== undefined && authorization !== undefined) {
      throw unauthorized("Send one credential: either `x-api-key` or `Authorization`, not both.");
    }
    const owner = await verifyApiKey(auth, c.var.deps.db, (apiKeyHeader ?? bearerValue ?? "").trim());
    if (!owner) throw unauthorized("The API key is invalid, revoked or expired.");
    authenticated(c, owner, "api-key");
    return next();
  }

  // A bearer request is authenticated by its token alone: a cookie sent along must not stand in for a bad
  // token, or a browser-attached cookie would pass as a bearer request and skip the cross-site check.
  const viaCookie = bearerValue === undefined;
  const result = await auth.api.getSession({ headers: viaCookie ? c.req.raw.headers : withoutCookies(c.req.raw.headers) });
  if (!result) {
    throw unauthorized(
      authorization !== undefined
        ? "The bearer token is invalid or expired."
        : "Send `Authorization: Bearer <token>` (from /api/auth sign-in) or an API key.",
    );
  }
  if (viaCookie) refuseCrossSiteCookieRequest(c);
  authenticated(c, { id: result.user.id, email: result.user.email, name: result.user.name }, "session");
  await next();
};

function withoutCookies(headers: Headers): Headers {
  const copy = new Headers(headers);
  copy.delete("cookie");
  return copy;
}

function authenticated(c: Context<AppEnv>, owner: { id: string; email: string; name: string }, method: "session" | "api-key") {
  c.set("user", owner);
  c.set("authMethod", method);
  c.set("log", c.var.log.child({ userId: owner.id, auth: method }));
}

/**
 * Refuses requests authenticated with an API key: managing API keys needs a signed-in session, so a leaked
 * key can neither mint new keys nor list or revoke its siblings.
 * @throws ProblemError `forbidden` (403)
 */
export function requireSession(c: Context<AppEnv>): void {
  if (c.var.authMethod !== "session") {
    throw new ProblemError("forbidden", "API keys cannot manage API keys; sign in and use the session token.");
  }
}
