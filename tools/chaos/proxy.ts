/**
 * Chaos proxy between edge-api and the processor (the chaos stack points PROCESSOR_URL at it). It relays
 * every request to the processor unchanged, watches jobs (which (video, attempt) runs when, for how long,
 * with what answer), and, when switched on at run time, injects the duplicates a real deployment can see:
 *
 * - `duplicateJobs`: each `POST /jobs` that the processor accepted (200) is sent a second time while the
 *   first runs, as a redelivered message reaching the same container would be. The copy's answer is
 *   recorded and its body drained; the processor must answer 409 (one job per (video, attempt)).
 * - `shuffleEvents`: the NDJSON event lines relayed back are duplicated and reordered: every PROCESSING
 *   line is sent twice, two consecutive PROCESSING lines are swapped (progress goes backwards), and the
 *   final SUCCESS/ERROR line is sent twice.
 *
 * When the processor is unreachable or dies mid-stream, the client's connection is destroyed (no made-up
 * 502), so edge-api sees the same network error as without the proxy.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One `POST /jobs` seen by the proxy. */
export interface JobRecord {
  /** `${videoId}#${attempt}` of an extraction, `${videoId}#${attempt}#${transcodeId}` of a transcode (empty when the body was not a job). */
  key: string;
  /** Whether this is a copy injected by `duplicateJobs`. */
  injected: boolean;
  /** HTTP status of the processor's answer; null = no answer (connection failed). */
  status: number | null;
  startedAt: number;
  /** When the answer ended (or failed); null while running. */
  endedAt: number | null;
  /** Last event type relayed (or read, for an injected copy). */
  lastEvent: string | null;
}

/** A running proxy. */
export interface ChaosProxy {
  url: string;
  /** Fault switches, changed at run time. */
  faults: { duplicateJobs: boolean; shuffleEvents: boolean };
  /** Every `POST /jobs` seen, in order. */
  jobs: JobRecord[];
  /** Jobs the processor is running right now (answered 200, stream not ended), injected copies excluded. */
  running(): JobRecord[];
  close(): Promise<void>;
}

/**
 * @param target base URL of the processor, e.g. `http://127.0.0.1:40123`
 * @param port port to listen on (127.0.0.1)
 */
export async function startChaosProxy(target: string, port: number): Promise<ChaosProxy> {
  const upstream = new URL(target);
  const jobs: JobRecord[] = [];
  const faults = { duplicateJobs: false, shuffleEvents: false };

  /** Sends one request to the processor; resolves with its response, rejects on connection errors. */
  const forward = (req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host, "content-length": String(body.length) };
      const out = http.request(
        { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        resolve,
      );
      out.on("error", reject);
      out.end(body);
    });

  const trackStart = (record: JobRecord) => {
    jobs.push(record);
  };
  const trackEnd = (record: JobRecord) => {
    if (record.endedAt !== null) return;
    record.endedAt = Date.now();
  };

  /** The injected duplicate of an accepted job: recorded, body read and dropped. */
  const injectDuplicate = async (req: http.IncomingMessage, body: Buffer, key: string) => {
    const record: JobRecord = { key, injected: true, status: null, startedAt: Date.now(), endedAt: null, lastEvent: null };
    trackStart(record);
    try {
      const res = await forward(req, body);
      record.status = res.statusCode ?? null;
      for await (const chunk of res) {
        const lines = String(chunk).split("\n").filter((l) => l.trim());
        for (const line of lines) record.lastEvent = eventType(line) ?? record.lastEvent;
      }
    } catch {
      /* processor gone: nothing to record beyond status null */
    } finally {
      trackEnd(record);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const isJob = req.method === "POST" && req.url === "/jobs";
      const key = isJob ? jobKey(body) : "";
      const record: JobRecord = { key, injected: false, status: null, startedAt: Date.now(), endedAt: null, lastEvent: null };
      if (isJob) trackStart(record);
      forward(req, body).then(
        (up) => {
          record.status = up.statusCode ?? null;
          if (!isJob) {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
            return;
          }
          const { "content-length": _length, ...headers } = up.headers;
          res.writeHead(up.statusCode ?? 502, headers);
          if (isJob && up.statusCode === 200 && faults.duplicateJobs) void injectDuplicate(req, body, key);
          const shuffle = isJob && up.statusCode === 200 && faults.shuffleEvents;
          relayLines(up, res, record, shuffle, () => trackEnd(record));
          res.on("close", () => {
            // edge-api went away (idle timeout, retry): end the upstream call too, as a direct call would.
            if (!up.complete) up.destroy();
            trackEnd(record);
          });
        },
        () => {
          trackEnd(record);
          res.destroy(); // processor unreachable: the client sees a network error, as without the proxy
        },
      );
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    faults,
    jobs,
    running: () => jobs.filter((j) => !j.injected && j.status === 200 && j.endedAt === null),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Relays the upstream body to `res`, line by line when it is NDJSON, applying the event shuffle when asked.
 * A failing upstream (processor killed) destroys `res`, so the client sees the stream break.
 */
function relayLines(
  up: http.IncomingMessage,
  res: http.ServerResponse,
  record: JobRecord,
  shuffle: boolean,
  onEnd: () => void,
): void {
  let buffer = "";
  let held: string | undefined;
  const emit = (line: string) => {
    record.lastEvent = eventType(line) ?? record.lastEvent;
    if (!res.destroyed) res.write(line + "\n");
  };
  const onLine = (line: string) => {
    if (!shuffle) return emit(line);
    const type = eventType(line);
    if (type === "MSG_EXTRACT_SNAPSHOT_PROCESSING") {
      if (held === undefined) {
        held = line; // wait for the next one, then send both in the wrong order
        return;
      }
      emit(line);
      emit(line);
      emit(held);
      emit(held);
      held = undefined;
      return;
    }
    if (held !== undefined) {
      emit(held);
      emit(held);
      held = undefined;
    }
    emit(line);
    emit(line);
  };
  up.setEncoding("utf8");
  up.on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      // The processor frees the job's slot just before it writes the final event: the job ends here.
      if (/_(SUCCESS|ERROR)$/.test(eventType(line) ?? "")) onEnd();
      onLine(line);
    }
  });
  up.on("end", () => {
    if (buffer.trim()) onLine(buffer);
    if (held !== undefined) emit(held);
    res.end();
    onEnd();
  });
  up.on("error", () => {
    onEnd();
    res.destroy();
  });
  up.on("aborted", () => {
    onEnd();
    res.destroy();
  });
}

function eventType(line: string): string | undefined {
  try {
    const type = (JSON.parse(line) as { type?: unknown }).type;
    return typeof type === "string" ? type : undefined;
  } catch {
    return undefined;
  }
}

function jobKey(body: Buffer): string {
  try {
    const p = (JSON.parse(body.toString("utf8")) as { payload?: { videoId?: string; attempt?: number; transcodeId?: string } }).payload;
    return `${p?.videoId ?? "?"}#${p?.attempt ?? "?"}${p?.transcodeId ? `#${p.transcodeId}` : ""}`;
  } catch {
    return "";
  }
}
