/**
 * A real HTTP server speaking the part of Postmark's API the email consumer uses, for tests and the chaos
 * harness (runs in Node; the email suite's global setup starts one that its workerd tests reach over
 * 127.0.0.1). ./postmark-control.ts drives it.
 *
 * - `POST /email`: checks `X-Postmark-Server-Token` (401, ErrorCode 10, unless it starts with `test-token`),
 *   validates the JSON body (422, ErrorCode 300/402), records the request, and answers
 *   `{To, SubmittedAt, MessageID, ErrorCode: 0, Message: "OK"}`.
 * - Behaviour is set per token, so concurrent test files do not see each other:
 *   `PUT /_mock/tokens/{token}/mode` with `{"mode": "ok" | "fail" | "hang", "status"?: 500}`:
 *   `fail` answers `status` (default 500), `hang` never answers (the client must time out).
 * - `GET /_mock/tokens/{token}/requests`: every `POST /email` received with that token, with the status
 *   it was answered (or `null` when hung).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { MockMode, RecordedRequest } from "./postmark-control.ts";

/** A running mock. */
export interface PostmarkMock {
  /** `127.0.0.1:port`, the value for `POSTMARK_API_HOST`. */
  host: string;
  close(): Promise<void>;
}

const TOKEN_HEADER = "x-postmark-server-token";

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") out[name] = value;
    else if (Array.isArray(value)) out[name] = value.join(", ");
  }
  return out;
}

/** Starts the mock on 127.0.0.1 and a free port. */
export async function startPostmarkMock(): Promise<PostmarkMock> {
  const modes = new Map<string, MockMode>();
  const requests = new Map<string, RecordedRequest[]>();

  const handleEmail = async (req: IncomingMessage, res: ServerResponse) => {
    const token = req.headers[TOKEN_HEADER];
    const text = await readBody(req);
    if (typeof token !== "string" || !token.startsWith("test-token")) {
      sendJson(res, 401, { ErrorCode: 10, Message: "Request does not contain a valid Server token." });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const record: RecordedRequest = {
      receivedAt: new Date().toISOString(),
      headers: headersOf(req),
      body,
      status: null,
      messageId: null,
    };
    const list = requests.get(token) ?? [];
    list.push(record);
    requests.set(token, list);

    const mode = modes.get(token) ?? { mode: "ok" };
    if (mode.mode === "hang") return; // never answer; closeAllConnections() ends it at teardown
    if (mode.mode === "fail") {
      record.status = mode.status;
      sendJson(res, mode.status, { ErrorCode: 0, Message: "Internal Server Error (mock)" });
      return;
    }
    if (typeof body !== "object" || body === null) {
      record.status = 422;
      sendJson(res, 422, { ErrorCode: 402, Message: "Received invalid JSON input." });
      return;
    }
    const email = body as Record<string, unknown>;
    const missing = ["From", "To", "Subject"].filter((k) => typeof email[k] !== "string" || email[k] === "");
    if (missing.length > 0 || (typeof email.TextBody !== "string" && typeof email.HtmlBody !== "string")) {
      record.status = 422;
      sendJson(res, 422, { ErrorCode: 300, Message: `Invalid email request: missing ${missing.join(", ") || "body"}` });
      return;
    }
    const messageId = randomUUID();
    record.status = 200;
    record.messageId = messageId;
    sendJson(res, 200, {
      To: email.To,
      SubmittedAt: new Date().toISOString(),
      MessageID: messageId,
      ErrorCode: 0,
      Message: "OK",
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://mock");
    const control = /^\/_mock\/tokens\/([^/]+)\/(mode|requests)$/.exec(url.pathname);
    const run = async () => {
      if (req.method === "POST" && url.pathname === "/email") return handleEmail(req, res);
      if (control) {
        const token = decodeURIComponent(control[1]!);
        if (control[2] === "mode" && req.method === "PUT") {
          const body = JSON.parse((await readBody(req)) || "{}") as { mode?: string; status?: number };
          const mode: MockMode =
            body.mode === "fail"
              ? { mode: "fail", status: body.status ?? 500 }
              : body.mode === "hang"
                ? { mode: "hang" }
                : { mode: "ok" };
          modes.set(token, mode);
          return sendJson(res, 200, mode);
        }
        if (control[2] === "requests" && req.method === "GET") {
          return sendJson(res, 200, requests.get(token) ?? []);
        }
      }
      sendJson(res, 404, { ErrorCode: 404, Message: `no route ${req.method} ${url.pathname}` });
    };
    run().catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ErrorCode: 0, Message: String(error) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
