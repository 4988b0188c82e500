/**
 * A minimal vidsnap generator (docs/generators.md): verifies the signed request, answers 202 at once, makes a
 * test-pattern video with ffmpeg (`input.seconds` long) and calls back with its URL, served by this same server.
 * Env: SECRET (the generator's whsec_… secret), PUBLIC_URL (how vidsnap reaches this server), PORT.
 *   SECRET=whsec_… PUBLIC_URL=http://127.0.0.1:8790 npx tsx docs/examples/generator.ts
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import http from "node:http";
import { verifyWebhook } from "./verify-webhook.ts";

const { SECRET = "", PUBLIC_URL = "http://127.0.0.1:8790", PORT = "8790" } = process.env;
http.createServer(async (req, res) => {
  if (req.method === "GET" && req.url?.startsWith("/files/")) {
    const file = await readFile(`/tmp/${req.url.slice(7).replace(/[^\w.-]/g, "")}`).catch(() => null);
    return res.writeHead(file ? 200 : 404, { "content-type": "video/mp4" }).end(file);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString("utf8");
  if (!verifyWebhook(raw, req.headers["vidsnap-signature"] as string, SECRET)) return res.writeHead(401).end();
  res.writeHead(202).end(); // answer at once, generate in the background
  const { generationId, input, callback } = JSON.parse(raw);
  const out = `/tmp/${String(generationId).replace(/[^\w-]/g, "")}.mp4`;
  const args = ["-y", "-f", "lavfi", "-i", `testsrc=duration=${Number(input.seconds) || 5}:size=640x360:rate=25`, "-pix_fmt", "yuv420p", out];
  execFile("ffmpeg", args, async (err, _stdout, stderr) => {
    const body = err ? { status: "failed", error: stderr.slice(-500) } : { status: "ready", url: `${PUBLIC_URL}/files/${out.slice(5)}` };
    const headers = { "content-type": "application/json", "vidsnap-callback-token": callback.token };
    await fetch(callback.url, { method: "POST", headers, body: JSON.stringify(body) }).catch((e) => console.error("callback failed", e));
  });
}).listen(Number(PORT));
