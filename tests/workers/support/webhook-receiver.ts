/**
 * A webhook receiver for the workers tests, run in Node by ../global-setup.ts on 127.0.0.1 (random port)
 * and reached by the Worker's real `fetch` (ENVIRONMENT=local allows http on loopback).
 *
 * Every path under `/hooks/{key}` is an endpoint; each test uses its own key:
 *   POST /hooks/{key}                       → recorded; answered with the next planned status (default 200)
 *   PUT  /__plan/{key}  {"statuses": [500, 500], "fallback": 200}  → 204: what the next requests answer
 *   GET  /__requests/{key}                  → {"requests": [{method, headers, body, receivedAt}]}
 * A planned 3xx answers with `location: /hooks/{key}/redirected` (a followed redirect would be recorded there).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

/** Starts the receiver on a free loopback port. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests = new Map<string, ReceivedWebhook[]>();
  const plans = new Map<string, { statuses: number[]; fallback: number }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://receiver");
      const [, kind, key = ""] = url.pathname.split("/");
      const body = Buffer.concat(chunks).toString("utf8");
      if (kind === "__plan" && req.method === "PUT") {
        const plan = JSON.parse(body) as { statuses?: number[]; fallback?: number };
        plans.set(key, { statuses: plan.statuses ?? [], fallback: plan.fallback ?? 200 });
        res.writeHead(204).end();
        return;
      }
      if (kind === "__requests" && req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ requests: requests.get(key) ?? [] }));
        return;
      }
      if (kind === "hooks") {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : (value ?? "");
        const list = requests.get(key) ?? [];
        list.push({ method: req.method ?? "", path: url.pathname, headers, body, receivedAt: Date.now() });
        requests.set(key, list);
        const plan = plans.get(key);
        const status = plan?.statuses.shift() ?? plan?.fallback ?? 200;
        const extra = status >= 300 && status < 400 ? { location: `/hooks/${key}/redirected` } : {};
        res.writeHead(status, { "content-type": "text/plain", ...extra }).end(`answered ${status}`);
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
