/**
 * The email consumer's bindings and the config validated from them at the entry of every `queue()`
 * invocation. It fails closed: outside `ENVIRONMENT=local` a Postmark token is required, so a deployed
 * Worker with a missing secret retries its messages (and shows errors) instead of silently "recording"
 * emails nobody receives.
 */
import { z } from "zod";
import { loadConfig } from "../../runtime/config.ts";

/** The raw `env` the runtime hands to the Worker (see `email-consumer/wrangler.toml`). */
export interface EmailConsumerBindings {
  DB: D1Database;
  /** `local` (default in wrangler.toml), `staging`, `production`... anything but `local` requires a token. */
  ENVIRONMENT?: string;
  /** Sender, `"Name <address>"` or a bare address; must be a Postmark-verified sender signature. */
  EMAIL_FROM?: string;
  /** `host[:port]` of the Postmark API; empty = `api.postmarkapp.com`. Tests point it at a local server. */
  POSTMARK_API_HOST?: string;
  /** Secret. Unset or empty: emails are recorded in D1 and the log, not sent (local only). */
  POSTMARK_SERVER_TOKEN?: string;
  /** Optional var: Postmark request timeout in seconds (default {@link DEFAULT_POSTMARK_TIMEOUT_SECONDS}). */
  POSTMARK_TIMEOUT_SECONDS?: string;
}

/** Default timeout of one Postmark API call, seconds. */
export const DEFAULT_POSTMARK_TIMEOUT_SECONDS = 10;

/** Postmark settings, present only when a server token is configured. */
export interface PostmarkConfig {
  serverToken: string;
  /** `host[:port]`, without scheme. */
  requestHost: string;
  /** false only for loopback hosts (a local Postmark-speaking server). */
  useHttps: boolean;
  timeoutSeconds: number;
}

/** The validated config the consumer works with. */
export interface EmailConfig {
  db: D1Database;
  environment: string;
  emailFrom: string;
  /** null: record mode (no token, local only). */
  postmark: PostmarkConfig | null;
}

const POSTMARK_DEFAULT_HOST = "api.postmarkapp.com";
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Empty strings (how wrangler vars express "unset") become undefined. */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** `Name <address>` or `address`. */
const Sender = z
  .string()
  .trim()
  .min(1)
  .refine((value) => {
    const match = /^(?:[^<>]*<([^<>\s]+)>|([^<>\s]+))$/.exec(value);
    const address = match?.[1] ?? match?.[2];
    return address !== undefined && z.email().safeParse(address).success;
  }, 'must be "Name <address@domain>" or "address@domain"');

/** `host` or `host:port` (IPv4, DNS name, `[ipv6]`), no scheme, no path. */
const ApiHost = z
  .string()
  .regex(/^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/, "must be host[:port] without scheme or path");

const Timeout = z
  .string()
  .regex(/^\d+(?:\.\d+)?$/, "must be a number of seconds")
  .transform(Number)
  .pipe(z.number().positive().max(120));

const D1 = z.custom<D1Database>(
  (v) => typeof v === "object" && v !== null && typeof (v as { prepare?: unknown }).prepare === "function",
  "must be a D1 database binding",
);

const Bindings = z
  .object({
    DB: D1,
    ENVIRONMENT: z.string().trim().min(1, "must not be empty"),
    EMAIL_FROM: Sender,
    POSTMARK_API_HOST: optionalString.pipe(ApiHost.optional()),
    POSTMARK_SERVER_TOKEN: optionalString,
    POSTMARK_TIMEOUT_SECONDS: optionalString.pipe(Timeout.optional()),
  })
  .transform((env): EmailConfig => {
    let postmark: PostmarkConfig | null = null;
    if (env.POSTMARK_SERVER_TOKEN !== undefined) {
      const requestHost = env.POSTMARK_API_HOST ?? POSTMARK_DEFAULT_HOST;
      const hostname = requestHost.replace(/:\d+$/, "").toLowerCase();
      postmark = {
        serverToken: env.POSTMARK_SERVER_TOKEN,
        requestHost,
        useHttps: !LOOPBACK_HOSTS.has(hostname),
        timeoutSeconds: env.POSTMARK_TIMEOUT_SECONDS ?? DEFAULT_POSTMARK_TIMEOUT_SECONDS,
      };
    }
    return { db: env.DB, environment: env.ENVIRONMENT, emailFrom: env.EMAIL_FROM, postmark };
  });

/**
 * Validates the Worker's bindings into the consumer's config.
 * @throws {ConfigError} when a binding or variable is missing or malformed, or when the Postmark token is
 *   missing outside `ENVIRONMENT=local`; problems name variables, never values (zod 4 messages do not echo
 *   input, so the token cannot leak)
 */
export function parseEnv(raw: EmailConsumerBindings | Record<string, unknown>): EmailConfig {
  const source = raw as Record<string, unknown>;
  // Read only the keys we know: `env` may be a runtime proxy, and unrelated bindings are none of our business.
  const picked = {
    DB: source.DB,
    ENVIRONMENT: source.ENVIRONMENT,
    EMAIL_FROM: source.EMAIL_FROM,
    POSTMARK_API_HOST: source.POSTMARK_API_HOST,
    POSTMARK_SERVER_TOKEN: source.POSTMARK_SERVER_TOKEN,
    POSTMARK_TIMEOUT_SECONDS: source.POSTMARK_TIMEOUT_SECONDS,
  };
  return loadConfig(Bindings, picked, {
    what: "email-consumer environment",
    check: (config) =>
      config.environment !== "local" && config.postmark === null
        ? [`POSTMARK_SERVER_TOKEN: required when ENVIRONMENT is not "local" (emails are only recorded, never sent, without it)`]
        : [],
  });
}
