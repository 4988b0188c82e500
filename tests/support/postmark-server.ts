/**
 * A local HTTP server that speaks the part of Postmark's API vidsnap uses: `POST /email` with the
 * `X-Postmark-Server-Token` header (https://postmarkapp.com/developer/api/email-api). It records what
 * it receives so tests can assert on delivered emails, and can be told to fail.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedEmail {
  From: string;
  To: string;
  Subject: string;
  TextBody?: string;
  HtmlBody?: string;
  Tag?: string;
  MessageStream?: string;
}

export interface PostmarkServer {
  /** `127.0.0.1:port`, the form POSTMARK_API_HOST takes */
  host: string;
  received: ReceivedEmail[];
  /** Makes the next `n` requests answer `status` (500 = server error, 0 = hang until the client gives up). */
  failNext(n: number, status: number): void;
  close(): Promise<void>;
}

/**
 * @param token the server token every request must carry; others get Postmark's 10 "invalid token" error
 */
export async function startPostmarkServer(token: string): Promise<PostmarkServer> {
  const received: ReceivedEmail[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 500 };
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(json));
      };
      if (req.method !== "POST" || req.url !== "/email") return reply(404, { ErrorCode: 404, Message: "Not found" });
      if (req.headers["x-postmark-server-token"] !== token) {
        return reply(401, { ErrorCode: 10, Message: "The Server Token you provided in the X-Postmark-Server-Token request header was invalid." });
      }
      if (failures.left > 0) {
        failures.left -= 1;
        if (failures.status === 0) return void hanging.add(res);
        return reply(failures.status, { ErrorCode: 500, Message: "Internal server error" });
      }
      const email = JSON.parse(body) as ReceivedEmail;
      received.push(email);
      reply(200, {
        To: email.To,
        SubmittedAt: new Date().toISOString(),
        MessageID: `local-${received.length}-${Date.now()}`,
        ErrorCode: 0,
        Message: "OK",
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    received,
    failNext: (n, status) => (failures = { left: n, status }),
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
