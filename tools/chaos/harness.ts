/**
 * Chaos harness: the real local stack (tools/stack/stack.ts: S3 server, local D1 and Queues, wrangler dev
 * with edge-api + email-consumer, the ffmpeg processor as a Node process) on free ports, with every part the
 * scenarios break under the harness's control:
 * - the processor runs as a child process of the harness (SIGKILL, restart on the same port), behind the
 *   chaos proxy (./proxy.ts) that PROCESSOR_URL points at;
 * - the S3 server runs in the harness (stop, restart on the same port and data folder);
 * - a Postmark-speaking server (tools/stack/postmark-server.ts) whose answer is switched between ok, 500
 *   and never answering;
 * - the cron handler is run on demand (`wrangler dev --test-scheduled`, `GET /__scheduled`);
 * - queue messages sent twice (edge-api's local-only CHAOS_DUPLICATE_DELIVERIES, when `duplicateDeliveries`);
 * - D1 is read with `wrangler d1 execute --local` against the same persisted state.
 * Leases and timeouts are short (see {@link CHAOS_VARS}) so recovery happens in seconds, not minutes.
 */
import type { ChildProcess } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../free-port.ts";
import { BIN, REPO_ROOT } from "../paths.ts";
import { apiBaseUrl, LOCAL } from "../stack/local-config.ts";
import { postmarkRequests, setPostmarkMode, type MockMode, type RecordedRequest } from "../stack/postmark-control.ts";
import { startPostmarkMock, type PostmarkMock } from "../stack/postmark-server.ts";
import { startS3Server, type S3ServerHandle } from "../stack/s3-server.ts";
import { localProcessorEnv, spawnLogged, startStack, waitForHttp, type StackHandle } from "../stack/stack.ts";
import { queryLocalD1 } from "../wrangler.ts";
import { startChaosProxy, type ChaosProxy } from "./proxy.ts";

/**
 * edge-api vars of the chaos stack (ranges in edge-api/src/env.ts): a silent processor stream is given up
 * after 10 s, a PROCESSING attempt without news for 30 s is recovered by the next cron run (the processor
 * sends a heartbeat every 2 s, {@link PROCESSOR_HEARTBEAT_SECONDS}), at most 2 recoveries. JOB_LEASE_SECONDS
 * comes from {@link ChaosStackOptions.jobLeaseSeconds}: it must exceed the scenario's queue backlog (local
 * Queues run one extraction batch at a time).
 */
export const CHAOS_VARS = {
  PROCESSING_LEASE_SECONDS: "30",
  PROCESSOR_IDLE_TIMEOUT_SECONDS: "10",
  MAX_JOB_RECOVERIES: "2",
} as const;
/** Processor heartbeat in the chaos stack, seconds (well below PROCESSOR_IDLE_TIMEOUT_SECONDS). */
export const PROCESSOR_HEARTBEAT_SECONDS = 2;
/** Postmark call timeout of the email consumer in the chaos stack, seconds. */
export const POSTMARK_TIMEOUT_SECONDS = 3;
/** Token the email consumer sends; the Postmark-speaking server accepts tokens starting with `test-token`. */
export const POSTMARK_TOKEN = "test-token-chaos";

export interface ChaosStackOptions {
  /** Processor job slots (MAX_CONCURRENT_JOBS); default 2. */
  maxConcurrentJobs?: number;
  /** Send every extract/events/email queue message twice (edge-api CHAOS_DUPLICATE_DELIVERIES). */
  duplicateDeliveries?: boolean;
  /** Echo every component's log line to stdout (default: only into `<dataDir>/stack.log`). */
  verbose?: boolean;
  /** JOB_LEASE_SECONDS (60..86400): longer than the queue backlog of the biggest scenario; default 600. */
  jobLeaseSeconds?: number;
  /** Keep the data folder (and its stack.log) after stop; default: VIDSNAP_CHAOS_KEEP_DATA=1, else removed. */
  keepData?: boolean;
}

export interface ChaosStack {
  apiUrl: string;
  dataDir: string;
  /** Folder of the S3 server's objects (`<bucket>/<key>._S3rver_object`). */
  s3Dir: string;
  /** Parent folder of the processor's per-job working folders (TMPDIR). */
  processorTmpDir: string;
  proxy: ChaosProxy;
  processor: {
    /** SIGKILLs the processor (its whole process group) and waits until it is gone. */
    kill(): Promise<void>;
    /** Starts it again on the same port and waits for `/healthz`. */
    start(): Promise<void>;
    /** Times it was started. */
    starts(): number;
    /** Jobs the processor accepted (its own "job accepted" log lines, over every start). */
    acceptedJobs(): number;
    /** Most jobs the processor said it was running at once (the `runningJobs` of its "job accepted" lines). */
    maxRunningJobs(): number;
  };
  s3: {
    /** Stops the S3 server, cutting open connections (an outage). */
    stop(): Promise<void>;
    /** Starts it again on the same port with the same data folder. */
    start(): Promise<void>;
  };
  postmark: {
    host: string;
    setMode(mode: MockMode): Promise<void>;
    /** Every `POST /email` received with the chaos token, with the status it was answered. */
    requests(): Promise<RecordedRequest[]>;
  };
  /** Runs edge-api's scheduled handler once (expired leases, stale uploads, deletion sweep). */
  cron(): Promise<void>;
  /** Runs one SQL statement against the local D1 database (read-only use); returns its rows. */
  d1<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Last lines the components printed (for failure messages). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Stacks started and not stopped yet, for {@link stopAllChaosStacks}. */
const active = new Set<() => Promise<void>>();

/** Stops every chaos stack still running (signal handlers of `npm run chaos`). */
export async function stopAllChaosStacks(): Promise<void> {
  await Promise.all([...active].map((stop) => stop()));
}

/**
 * Starts the chaos stack; resolves when the API and the processor answer.
 * @throws Error when a component does not start (everything started is stopped)
 */
export async function startChaosStack(opts: ChaosStackOptions = {}): Promise<ChaosStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-chaos-"));
  const s3Dir = path.join(dataDir, "s3");
  const processorTmpDir = path.join(dataDir, "processor-tmp");
  mkdirSync(processorTmpDir, { recursive: true });
  const logFile = path.join(dataDir, "stack.log");
  const tail: string[] = [];
  let acceptedJobs = 0;
  let maxRunningJobs = 0;
  const log = (line: string) => {
    if (line.startsWith("[processor] ") && line.includes('"msg":"job accepted"')) {
      const running = /"runningJobs":(\d+)/.exec(line);
      acceptedJobs++;
      if (running) maxRunningJobs = Math.max(maxRunningJobs, Number(running[1]));
    }
    tail.push(line);
    if (tail.length > 400) tail.shift();
    appendFileSync(logFile, line + "\n");
    if (opts.verbose) process.stdout.write(line + "\n");
  };

  const [apiPort, processorPort, proxyPort, s3Port] = [await freePort(), await freePort(), await freePort(), await freePort()];
  let s3: S3ServerHandle | undefined;
  let processor: ChildProcess | undefined;
  let processorStarts = 0;
  let postmark: PostmarkMock | undefined;
  let proxy: ChaosProxy | undefined;
  let stack: StackHandle | undefined;

  const startS3 = async () => {
    s3 = await startS3Server({ directory: s3Dir, port: s3Port, corsOrigins: [apiBaseUrl(apiPort)] });
    log(`[chaos] S3 server up on ${s3.endpoint}`);
  };
  const s3Endpoint = `http://${LOCAL.host}:${s3Port}`;
  const processorUrl = `http://${LOCAL.host}:${processorPort}`;

  const startProcessor = async () => {
    processorStarts++;
    const env = {
      ...localProcessorEnv(processorPort, s3Endpoint, opts.maxConcurrentJobs ?? 2),
      HEARTBEAT_SECONDS: String(PROCESSOR_HEARTBEAT_SECONDS),
      TMPDIR: processorTmpDir,
    };
    // Its own process group (spawnLogged), so a SIGKILL reaches tsx's node child too.
    const child = spawnLogged("processor", path.join(BIN, "tsx"), ["ffmpeg-container/src/main.ts"], env, log);
    processor = child;
    await waitForHttp(`${processorUrl}/healthz`, [child], 60_000);
    log(`[chaos] processor up on ${processorUrl} (start #${processorStarts})`);
  };
  const killProcessor = async () => {
    const child = processor;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    await exited;
    log(`[chaos] processor SIGKILLed`);
  };

  const stop = async () => {
    active.delete(stop);
    await stack?.stop().catch(() => undefined);
    await killProcessor().catch(() => undefined);
    await proxy?.close().catch(() => undefined);
    await s3?.close().catch(() => undefined);
    await postmark?.close().catch(() => undefined);
    if (!(opts.keepData ?? process.env.VIDSNAP_CHAOS_KEEP_DATA === "1")) rmSync(dataDir, { recursive: true, force: true });
    else log(`[chaos] data and stack.log kept in ${dataDir}`);
  };

  active.add(stop);
  try {
    postmark = await startPostmarkMock();
    await startS3();
    await startProcessor();
    proxy = await startChaosProxy(processorUrl, proxyPort);
    stack = await startStack({
      dataDir,
      sourceRoot: copySources(path.join(dataDir, "src")),
      apiPort,
      s3Endpoint,
      processorUrl: proxy.url,
      postmarkServerToken: POSTMARK_TOKEN,
      postmarkApiHost: postmark.host,
      testScheduled: true,
      vars: {
        ...CHAOS_VARS,
        JOB_LEASE_SECONDS: String(opts.jobLeaseSeconds ?? 600),
        ...(opts.duplicateDeliveries ? { CHAOS_DUPLICATE_DELIVERIES: "extract,events,email" } : {}),
      },
      emailVars: { POSTMARK_TIMEOUT_SECONDS: String(POSTMARK_TIMEOUT_SECONDS) },
      log,
    });
  } catch (err) {
    const detail = tail.slice(-60).join("\n");
    await stop();
    throw new Error(`chaos stack did not start: ${(err as Error).message}\n${detail}`);
  }

  const apiUrl = stack.apiUrl;
  const persistTo = path.join(dataDir, "wrangler");
  const pm = postmark;
  return {
    apiUrl,
    dataDir,
    s3Dir,
    processorTmpDir,
    proxy,
    processor: {
      kill: killProcessor,
      start: startProcessor,
      starts: () => processorStarts,
      acceptedJobs: () => acceptedJobs,
      maxRunningJobs: () => maxRunningJobs,
    },
    s3: {
      stop: async () => {
        await s3?.close();
        s3 = undefined;
        log(`[chaos] S3 server stopped`);
      },
      start: startS3,
    },
    postmark: {
      host: pm.host,
      setMode: async (mode) => {
        await setPostmarkMode(pm.host, POSTMARK_TOKEN, mode);
        log(`[chaos] postmark mode ${JSON.stringify(mode)}`);
      },
      requests: () => postmarkRequests(pm.host, POSTMARK_TOKEN),
    },
    cron: async () => {
      // `wrangler dev --test-scheduled`: GET /__scheduled runs edge-api's scheduled() handler (the path is in
      // the local [assets] run_worker_first; /cdn-cgi/handler/scheduled would reach the assets router instead).
      const res = await fetch(`${apiUrl}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`, {
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      if (!res.ok) log(`[chaos] cron run answered ${res.status}: ${text.slice(0, 200)}`);
    },
    d1: (sql) => queryWithRetry(persistTo, sql),
    logTail: (lines = 80) => tail.slice(-lines).join("\n"),
    stop,
  };
}

/**
 * Copies the Workers' sources (wrangler.toml, edge-api/, email-consumer/, schema/, runtime/) into `dir`, with
 * node_modules linked and the built dashboard (web/dist) copied: wrangler dev watches its sources and reloads the Workers on any edit, and a
 * reload drops local Queues' in-memory (including delayed) messages, which would look like lost jobs.
 * @returns `dir`
 */
function copySources(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const entry of ["wrangler.toml", "package.json", "tsconfig.json", "edge-api", "email-consumer", "schema", "runtime"]) {
    cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  }
  symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
  // The dashboard's static assets ([assets] directory): copied too, a rebuild of web/dist also reloads.
  const assets = path.join(REPO_ROOT, "web/dist");
  if (existsSync(assets)) cpSync(assets, path.join(dir, "web/dist"), { recursive: true });
  else mkdirSync(path.join(dir, "web/dist"), { recursive: true });
  return dir;
}

/**
 * {@link queryLocalD1}, tried up to 5 times 2 s apart: a snapshot copied while wrangler dev writes can be torn.
 */
async function queryWithRetry<T>(persistTo: string, sql: string): Promise<T[]> {
  for (let tries = 1; ; tries++) {
    try {
      return await queryLocalD1<T>(persistTo, sql);
    } catch (e) {
      if (tries >= 5) throw e;
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}
