/**
 * One signed POST of a JSON body to a registered URL: the try behind every webhook delivery
 * (./deliver-webhook.ts) and every generation request (../generations/deliver-generation-request.ts), so
 * both share one signing scheme (./sign-payload.ts), one secret storage (./signing-secret.ts) and one URL
 * rule module (runtime/outgoing-url.ts, re-checked before every try: the rules may have changed since
 * registration). Redirects are not followed (a 3xx is a failed try); the answer's body is never read.
 * The secret is never logged.
 */
import { checkOutgoingUrl } from "../../../../runtime/outgoing-url.ts";
import type { Deps } from "../../context.ts";
import { signatureHeader } from "./sign-payload.ts";
import { decryptSigningSecret, SecretUnreadableError } from "./signing-secret.ts";

/** The receiver must answer within this, ms. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = "vidsnap-webhooks/1";

/** Where to send: a `webhook_endpoints` or `generators` row (its id is the secret's associated data). */
export interface SignedTarget {
  id: string;
  url: string;
  secretCiphertext: string;
}

/** One try's result. `error` null: a 2xx answer. `final`: no further try can help (URL refused, secret unreadable). */
export interface TryResult {
  responseStatus: number | null;
  error: string | null;
  final: boolean;
  durationMs: number;
}

/**
 * @param body the exact JSON text to send and sign
 * @param headers extra `vidsnap-*` headers (ids), besides content type, user agent and `vidsnap-signature`
 * @returns the try's result (network failures and timeouts are results, not exceptions)
 */
export async function sendSigned(deps: Deps, target: SignedTarget, body: string, headers: Record<string, string>): Promise<TryResult> {
  const checked = checkOutgoingUrl(target.url, deps.config.environment);
  if (!checked.ok) return { responseStatus: null, error: `the URL is refused: it ${checked.reason}`, final: true, durationMs: 0 };
  let secret: string;
  try {
    secret = await decryptSigningSecret(deps.config.betterAuthSecret, target.id, target.secretCiphertext);
  } catch (err) {
    if (!(err instanceof SecretUnreadableError)) throw err;
    deps.log.error("signing secret unreadable", { targetId: target.id });
    const error = "the signing secret is unreadable (BETTER_AUTH_SECRET changed?); rotate the secret";
    return { responseStatus: null, error, final: true, durationMs: 0 };
  }

  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), WEBHOOK_TIMEOUT_MS);
  let responseStatus: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(checked.url, {
      method: "POST",
      headers: {
        ...headers,
        "content-type": "application/json",
        "user-agent": WEBHOOK_USER_AGENT,
        "vidsnap-signature": await signatureHeader(secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
      redirect: "manual",
      signal: controller.signal,
    });
    responseStatus = res.status;
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 300 && res.status < 400) error = `HTTP ${res.status}: redirects are not followed`;
    else if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (err) {
    error = controller.signal.aborted
      ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
      : `request failed: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    clearTimeout(timer);
  }
  return { responseStatus, error, final: false, durationMs: Date.now() - started };
}
