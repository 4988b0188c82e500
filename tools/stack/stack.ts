/**
 * Starts and stops the whole local vidsnap stack, on 127.0.0.1 only:
 *   1. the S3-compatible server (SigV4 verified) with the videos and images buckets, data in `<dataDir>/s3`;
 *   2. local D1 with every drizzle migration applied (`wrangler d1 migrations apply`), state in `<dataDir>/wrangler`;
 *   3. the processor as a Node process (same server code as the container image);
 *   4. one `wrangler dev` session running edge-api and email-consumer (shared local Queues and D1), which also
 *      serves the web dashboard (web/dist, built first when stale: ./web-build.ts).
 * Used by `npm start`, `npm run demo` (when nothing is running), the chaos harness and the Node test suites.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BIN, REPO_ROOT } from "../paths.ts";
import { offlineWranglerEnv } from "../wrangler.ts";
import { apiBaseUrl, cloudflareApiBaseUrl, LOCAL } from "./local-config.ts";
import { startS3Server, type S3ServerHandle } from "./s3-server.ts";
import { ensureWebBuild } from "./web-build.ts";

/**
 * PROCESSOR_SHARED_SECRET of the stacks this process starts: random per run, handed to the processor and to
 * edge-api (the Worker signs job requests with it), never written to disk.
 */
export const LOCAL_PROCESSOR_SHARED_SECRET = randomBytes(32).toString("hex");

/**
 * Environment of the ffmpeg-container process on the local stack (this process's env plus its listen
 * address, the local S3 server's endpoint and buckets, and {@link LOCAL_PROCESSOR_SHARED_SECRET}). No storage
 * key, as in production: every job brings credentials the Worker minted from the S3 server's stand-in.
 * @param port port it listens on (127.0.0.1)
 * @param s3Endpoint e.g. `http://127.0.0.1:4569`
 * @param maxConcurrentJobs MAX_CONCURRENT_JOBS; unset = the processor's default
 */
export function localProcessorEnv(port: number, s3Endpoint: string, maxConcurrentJobs?: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOST: LOCAL.host,
    PORT: String(port),
    S3_ENDPOINT: s3Endpoint,
    S3_REGION: LOCAL.s3Region,
    VIDEOS_BUCKET: LOCAL.videosBucket,
    IMAGES_BUCKET: LOCAL.imagesBucket,
    PROCESSOR_SHARED_SECRET: LOCAL_PROCESSOR_SHARED_SECRET,
    // Imports by URL may read http and loopback servers locally (runtime/outgoing-url.ts).
    ENVIRONMENT: "local",
    ...(maxConcurrentJobs ? { MAX_CONCURRENT_JOBS: String(maxConcurrentJobs) } : {}),
  };
}

export interface StackOptions {
  /** Folder for all local state (S3 objects, D1, queues); default `<repo>/.data`. */
  dataDir?: string;
  apiPort?: number;
  processorPort?: number;
  s3Port?: number;
  /** Postmark server token; unset = emails are recorded in D1 and the log, not sent. */
  postmarkServerToken?: string;
  /** `host:port` of a Postmark-speaking server (tests); unset = Postmark's own API. */
  postmarkApiHost?: string;
  /** Max concurrent extraction jobs in the processor. */
  maxConcurrentJobs?: number;
  /** Called with each line the child processes print (prefixed by component). */
  log?: (line: string) => void;
  /** Extra edge-api vars (`--var NAME:value`), e.g. short leases for the chaos harness (tools/chaos). */
  vars?: Record<string, string>;
  /** Extra email-consumer vars, replacing their line in its generated config (e.g. POSTMARK_TIMEOUT_SECONDS). */
  emailVars?: Record<string, string>;
  /** Endpoint of an S3 server the caller runs (and may stop/restart); unset = one is started here. */
  s3Endpoint?: string;
  /** URL of a processor the caller runs (or a proxy in front of it); unset = one is started here. */
  processorUrl?: string;
  /** `wrangler dev --test-scheduled`: `GET /__scheduled` runs the cron handler (chaos harness). */
  testScheduled?: boolean;
  /**
   * Folder holding the Workers' sources (wrangler.toml, edge-api/, email-consumer/, schema/, node_modules);
   * default the repo. The chaos harness runs wrangler on a snapshot, so edits made meanwhile do not reload
   * the Workers (a reload drops local Queues' in-memory messages).
   */
  sourceRoot?: string;
}

export interface StackHandle {
  apiUrl: string;
  s3Endpoint: string;
  processorUrl: string;
  /** Stops every component (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the stack and resolves once the API answers HTTP and the processor is healthy.
 * @throws Error when a component exits early or is not ready within 90 s; everything started is stopped.
 */
export async function startStack(opts: StackOptions = {}): Promise<StackHandle> {
  const dataDir = path.resolve(opts.dataDir ?? path.join(REPO_ROOT, ".data"));
  const apiPort = opts.apiPort ?? LOCAL.apiPort;
  const processorPort = opts.processorPort ?? LOCAL.processorPort;
  const log = opts.log ?? ((line: string) => process.stdout.write(line + "\n"));
  const persistTo = path.join(dataDir, "wrangler");
  mkdirSync(persistTo, { recursive: true });

  const children: ChildProcess[] = [];
  let s3: S3ServerHandle | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map(stopChild));
    await s3?.close().catch(() => undefined);
  };

  try {
    const s3Endpoint =
      opts.s3Endpoint ??
      (s3 = await startS3Server({ directory: path.join(dataDir, "s3"), port: opts.s3Port ?? LOCAL.s3Port, corsOrigins: [apiBaseUrl(apiPort)] }))
        .endpoint;
    log(`[stack] S3 server on ${s3Endpoint} (buckets ${LOCAL.videosBucket}, ${LOCAL.imagesBucket})`);

    await run(
      path.join(BIN, "wrangler"),
      ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, "-c", "wrangler.toml"],
      log,
    );
    log("[stack] D1 migrations applied");

    const processorUrl = opts.processorUrl ?? `http://${LOCAL.host}:${processorPort}`;
    const processorEnv = localProcessorEnv(processorPort, s3Endpoint, opts.maxConcurrentJobs);
    if (!opts.processorUrl) {
      children.push(
        spawnLogged("processor", path.join(BIN, "tsx"), ["ffmpeg-container/src/main.ts"], processorEnv, log),
      );
    }

    // wrangler serves the dashboard from web/dist ([assets]): build it first when web/ changed (fast otherwise).
    await ensureWebBuild(log);
    const apiUrl = `http://${LOCAL.host}:${apiPort}`;
    const emailConfig = writeEmailConsumerConfig(dataDir, opts);
    const vars = {
      PUBLIC_BASE_URL: apiUrl,
      S3_ENDPOINT: s3Endpoint,
      // The S3 server's stand-in of R2's Temporary Credentials API: jobs get credentials minted there.
      CLOUDFLARE_API_BASE_URL: cloudflareApiBaseUrl(s3Endpoint),
      PROCESSOR_URL: processorUrl,
      PROCESSOR_SHARED_SECRET: LOCAL_PROCESSOR_SHARED_SECRET,
      ...opts.vars,
    };
    children.push(
      spawnLogged(
        "wrangler",
        path.join(BIN, "wrangler"),
        [
          "dev",
          "-c", "wrangler.toml",
          "-c", emailConfig,
          "--ip", LOCAL.host,
          "--port", String(apiPort),
          "--persist-to", persistTo,
          "--show-interactive-dev-session=false",
          // "log", not "info": wrangler prints the Worker's console.log (our info lines) at its "log" level, above "info".
          "--log-level", "log",
          ...(opts.testScheduled ? ["--test-scheduled"] : []),
          ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
        ],
        offlineWranglerEnv(),
        log,
        opts.sourceRoot,
      ),
    );

    await Promise.all([
      waitForHttp(`${processorUrl}/healthz`, children, 90_000),
      waitForHttp(`${apiUrl}/healthz`, children, 90_000),
    ]);
    return { apiUrl, s3Endpoint, processorUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * wrangler applies `--var` and `--env-file` only to the first config of a multi-config session, so the
 * email consumer's local overrides go into a generated copy of its config (plus `.dev.vars` beside it
 * for the Postmark token) under the data folder. Paths in it are made absolute.
 * @returns the path of the generated wrangler.toml
 */
function writeEmailConsumerConfig(dataDir: string, opts: StackOptions): string {
  const dir = path.join(dataDir, "email-consumer");
  mkdirSync(dir, { recursive: true });
  const srcDir = path.join(opts.sourceRoot ?? REPO_ROOT, "email-consumer");
  let toml = readFileSync(path.join(srcDir, "wrangler.toml"), "utf8");
  toml = toml
    .replace(/^main = "(.+)"$/m, (_, p: string) => `main = ${JSON.stringify(path.join(srcDir, p))}`)
    .replace(/^migrations_dir = "(.+)"$/m, (_, p: string) => `migrations_dir = ${JSON.stringify(path.join(srcDir, p))}`)
    .replace(/^POSTMARK_API_HOST = .*$/m, `POSTMARK_API_HOST = ${JSON.stringify(opts.postmarkApiHost ?? "")}`);
  for (const [name, value] of Object.entries(opts.emailVars ?? {})) {
    toml = toml.replace(new RegExp(`^${name} = .*$`, "m"), `${name} = ${JSON.stringify(value)}`);
  }
  const file = path.join(dir, "wrangler.toml");
  writeFileSync(file, `# Generated by tools/stack/stack.ts from email-consumer/wrangler.toml: do not edit.\n${toml}`);
  writeFileSync(
    path.join(dir, ".dev.vars"),
    opts.postmarkServerToken ? `POSTMARK_SERVER_TOKEN=${opts.postmarkServerToken}\n` : "",
    { mode: 0o600 },
  );
  return file;
}

/**
 * Spawns a component in its own process group (so {@link stopChild} also ends its children, e.g. workerd) and
 * forwards each line it prints to `log` as `[name] line`.
 */
export function spawnLogged(
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  cwd: string = REPO_ROOT,
): ChildProcess {
  // detached: its own process group, so stopChild can end wrangler's workerd children too.
  const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString("utf8").split(/\r?\n/)) if (line.trim()) log(`[${name}] ${line}`);
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  (child as ChildProcess & { label?: string }).label = name;
  return child;
}

/** Stops a component started by {@link spawnLogged}: SIGTERM to its group, SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
  signal("SIGKILL"); // stragglers left in the group (workerd)
}

/** Runs a command to completion; rejects with its output when it exits non-zero. */
function run(cmd: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO_ROOT, env: offlineWranglerEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve();
      else {
        log(out);
        reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(" ")} exited with ${code}`));
      }
    });
  });
}

/**
 * Polls `url` until it answers a status below 500.
 * @throws Error when one of `children` exits first, or after `timeoutMs`
 */
export async function waitForHttp(url: string, children: ChildProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const dead = children.find((c) => c.exitCode !== null || c.signalCode !== null);
    if (dead) throw new Error(`${(dead as { label?: string }).label ?? "a component"} exited before ${url} was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not ready after ${timeoutMs / 1000} s`);
}
