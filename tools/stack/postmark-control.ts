/**
 * The control side of the Postmark stand-in (./postmark-server.ts): set how it answers a server token, read
 * what it received with it. Only `fetch`, so workerd tests can use it as well as Node.
 */

/** Behaviour of the stand-in for one token: answer OK, answer `status`, or never answer. */
export type MockMode = { mode: "ok" } | { mode: "fail"; status: number } | { mode: "hang" };

/** One `POST /email` as received. */
export interface RecordedRequest {
  receivedAt: string;
  headers: Record<string, string>;
  body: unknown;
  /** HTTP status answered; null while (or because) the request hangs. */
  status: number | null;
  messageId: string | null;
}

const tokenUrl = (host: string, token: string, what: "mode" | "requests") =>
  `http://${host}/_mock/tokens/${encodeURIComponent(token)}/${what}`;

/**
 * @param host `127.0.0.1:port` of the stand-in
 * @throws Error when the stand-in refuses
 */
export async function setPostmarkMode(host: string, token: string, mode: MockMode): Promise<void> {
  const res = await fetch(tokenUrl(host, token, "mode"), { method: "PUT", body: JSON.stringify(mode) });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`postmark mode → ${res.status}`);
}

/**
 * Every `POST /email` the stand-in received with `token`, in order, with the status it answered.
 * @throws Error when the stand-in refuses
 */
export async function postmarkRequests(host: string, token: string): Promise<RecordedRequest[]> {
  const res = await fetch(tokenUrl(host, token, "requests"));
  if (!res.ok) throw new Error(`postmark requests → ${res.status}`);
  return (await res.json()) as RecordedRequest[];
}
