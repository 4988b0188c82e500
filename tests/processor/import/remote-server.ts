/**
 * A local HTTP server playing the remote side of imports by URL (node:http on 127.0.0.1, free port): real
 * test videos (with and without content-length), error statuses, an HTML page, a playlist, an image, an
 * endless body, a body announcing more than allowed, a body that goes silent, and redirect chains (to itself,
 * or to any URL given in `?to=`). It records every request's path and Host header.
 */
import { createReadStream, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { testVideo } from "../harness.ts";

export interface RemoteServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Every request: path and Host header, in order. */
  requests: { path: string; host: string | undefined }[];
  close(): Promise<void>;
}

/** 64 KiB of bytes with NULs (never sniffed as text) and no known magic number. */
const BINARY = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 7919) % 251));

export async function startRemoteServer(): Promise<RemoteServer> {
  const requests: RemoteServer["requests"] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push({ path: url.pathname + url.search, host: req.headers.host });
    const p = url.pathname;
    const file = /^\/files\/([\w.-]+)$/.exec(p)?.[1];
    if (file) {
      const f = testVideo(file);
      res.writeHead(200, { "content-type": file.endsWith(".mp4") ? "video/mp4" : "video/x-msvideo", "content-length": String(statSync(f).size) });
      createReadStream(f).pipe(res);
      return;
    }
    const chunked = /^\/chunked\/([\w.-]+)$/.exec(p)?.[1];
    if (chunked) {
      // No content-length: Node sends the body chunked.
      res.writeHead(200, { "content-type": "application/octet-stream" });
      createReadStream(testVideo(chunked)).pipe(res);
      return;
    }
    const redirect = /^\/redirect\/(\d+)$/.exec(p)?.[1];
    if (redirect !== undefined) {
      const n = Number(redirect);
      const next = n > 1 ? `/redirect/${n - 1}${url.search}` : (url.searchParams.get("to") ?? "/files/hardware-example.mp4");
      res.writeHead(302, { location: next }).end();
      return;
    }
    switch (p) {
      case "/bad-redirect":
        res.writeHead(302, { location: "http://[::1" }).end();
        return;
      case "/status/404":
        res.writeHead(404, { "content-type": "text/plain" }).end("not here");
        return;
      case "/status/500":
        res.writeHead(500, { "content-type": "text/plain" }).end("broken");
        return;
      case "/page.html":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<!DOCTYPE html><html><head><title>Video</title></head><body><video src=x.mp4></video></body></html>");
        return;
      case "/disguised-page.mp4":
        res.writeHead(200, { "content-type": "video/mp4" }).end("<html><body>Not found, sorry</body></html>");
        return;
      case "/list.m3u8":
        res.writeHead(200, { "content-type": "video/mp4" }).end("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data\n");
        return;
      case "/image.png":
        res.writeHead(200, { "content-type": "video/mp4" }).end(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), BINARY.subarray(0, 100)]));
        return;
      case "/empty":
        res.writeHead(200, { "content-type": "video/mp4", "content-length": "0" }).end();
        return;
      case "/endless": {
        // Binary bytes for ever (no content-length), as fast as the client reads.
        res.writeHead(200, { "content-type": "video/mp4" });
        const pump = () => {
          while (res.write(BINARY)) if (res.destroyed) return;
        };
        res.on("drain", pump);
        res.on("close", () => res.off("drain", pump));
        pump();
        return;
      }
      case "/huge":
        // Announces 10 GB; sends a little and keeps the connection.
        res.writeHead(200, { "content-type": "video/mp4", "content-length": String(10_000_000_000) });
        res.write(BINARY);
        return;
      case "/stall":
        // A binary head, then silence for ever.
        res.writeHead(200, { "content-type": "video/mp4" });
        res.write(BINARY);
        return;
      case "/no-headers":
        // Accepts the connection, never answers.
        return;
      default:
        res.writeHead(404).end();
    }
  });
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
