/**
 * The processor seam: the one place that knows how the Worker reaches the ffmpeg processor
 * (docs/architecture.md "Processor HTTP API", "Dispatch and long jobs").
 *
 * Every request goes through the Durable Object {@link ProcessorContainer} that fronts the container, in
 * production and locally alike. Jobs are spread over PROCESSOR_INSTANCES named instances (a var equal to the
 * container's `max_instances` in wrangler.toml, checked by `npm run check:deploy`): a job's **home**
 * instance is a hash of its id. A busy home (503: every job slot taken) does not send the job back to the
 * queue's backoff: the home object tries the next instances at once, up to {@link MAX_DISPATCH_TRIES} in
 * all, and remembers where the job went, so a redelivered job (or a cancel) still reaches the instance
 * that may be running it and gets its 409 ({@link dispatchJob}). Where Cloudflare Containers cannot run (the local stack, the workerd tests) the
 * object's container runtime is stood in by the Node processor at PROCESSOR_URL (./local-runtime.ts); the
 * rest of the path is the production code.
 *
 * Every request with a body is signed with PROCESSOR_SHARED_SECRET (runtime/job-signature.ts): the
 * processor refuses unsigned jobs with 401.
 */
import { Container, getContainer } from "@cloudflare/containers";
import { createLogger } from "../../../runtime/log.ts";
import { signJobRequest } from "../../../runtime/job-signature.ts";
import { createDeps } from "../context.ts";
import { loadConfig, type Config, type Env } from "../env.ts";
import { jobKindNamed } from "../lifecycle/kinds.ts";
import { CREDENTIALS_TTL_MARGIN_SECONDS, CredentialsMintError, mintJobCredentials } from "../storage/temp-credentials.ts";
import type { JobCredentials } from "../../../schema/storage-credentials.ts";
import { relayJob, startJob, type DispatchOutcome } from "./dispatch.ts";
import { localContainerRuntime } from "./local-runtime.ts";

export type { DispatchOutcome } from "./dispatch.ts";

/** Port the processor listens on inside the container. */
export const PROCESSOR_PORT = 8080;

/**
 * Instances one dispatch may try when they answer busy: the home instance and the next two. Bounded so that
 * a saturated fleet costs a few round trips per delivery before the queue's backoff takes over.
 */
export const MAX_DISPATCH_TRIES = 3;

/**
 * How long a home instance remembers that it sent a job elsewhere, ms: longer than any job may run
 * (TRANSCODE_TIMEOUT_SECONDS is at most 6 h) plus the queue's redeliveries.
 */
export const ROUTE_MEMORY_MS = 12 * 3600_000;

/** Header naming the instance that sends a request to the processor (its logs, the workerd tests' stand-in). */
export const INSTANCE_HEADER = "x-vidsnap-instance";

/** Storage key prefix of the routes a home instance remembers: `route:{id}#{attempt}` → {@link RememberedRoute}. */
const ROUTE_PREFIX = "route:";

/** Where a home instance sent one job attempt, and when. */
interface RememberedRoute {
  instance: number;
  at: number;
}

/** Anything that answers the processor's HTTP API. */
export interface Processor {
  /** @param request a request whose path and query (e.g. `/jobs`) address the processor; the host is ignored */
  fetch(request: Request): Promise<Response>;
}

/**
 * The Durable Object that fronts one processor container (wrangler.toml `[[env.production.containers]]`;
 * locally the same class, its container runtime stood in by PROCESSOR_URL). It gets the storage endpoint
 * and buckets (no credentials) as the container's environment; it sleeps after 10 minutes without activity
 * (every relayed event line counts as activity, so a running job keeps it awake). It holds no storage key:
 * {@link dispatch} mints each job's temporary credentials and sends them with the job.
 *
 * {@link dispatch} starts a job and relays its events from inside the object, so a job may outlast a
 * queue consumer invocation (./dispatch.ts).
 */
export class ProcessorContainer extends Container<Env> {
  override defaultPort = PROCESSOR_PORT;
  override sleepAfter = "10m";
  override envVars = processorEnvVars(this.env);

  constructor(ctx: DurableObjectState<{}>, env: Env) {
    super(withLocalRuntime(ctx, env), env);
  }

  /** Set on the first route pruning of this object's life, ms since the epoch. */
  private routesPrunedAt = 0;

  /**
   * Dispatches one job attempt from its home instance (this object is `processor-<home>`): to the instance
   * remembered for it, else here; on `busy`, to the next instances in turn (at most
   * {@link MAX_DISPATCH_TRIES} tries), remembering each one before it is asked, so that a delivery of the
   * same job arriving meanwhile goes there too and gets its 409; when all were busy, the first is asked
   * once more to hold the job for its next free slot (PROCESSOR_SLOT_WAIT_SECONDS). `unavailable` and
   * `refused` end the walk: a processor that did not answer may have taken the job.
   * @param kindName `JobKind.name` of the job (lifecycle/kinds.ts)
   * @param job the job message (validated by the consumer with the kind's schema)
   * @param requestId for the processor's logs (the queue message id)
   * @param home this object's index, 0..PROCESSOR_INSTANCES-1
   * @returns the outcome of the last instance asked; `busy` when every one tried was
   */
  async dispatch(kindName: string, job: unknown, requestId: string, home: number): Promise<DispatchOutcome> {
    const config = loadConfig(this.env);
    const kind = jobKindNamed(kindName);
    const ref = kind.jobRef(job);
    const key = jobKey(ref);
    // One set of credentials per dispatch, whichever instance runs it (a redelivery gets fresh ones).
    let credentials: JobCredentials;
    try {
      credentials = await mintJobCredentials(config, kind.storageScopes(ref, config), kind.timeoutSeconds(config) + CREDENTIALS_TTL_MARGIN_SECONDS);
    } catch (err) {
      if (!(err instanceof CredentialsMintError)) throw err;
      createLogger({ instance: home, id: ref.id, attempt: ref.attempt, requestId }, { minLevel: config.logLevel }).warn("storage credentials not minted", { error: err.message });
      return { outcome: "unavailable", reason: `storage credentials could not be minted: ${err.message}` };
    }
    const remembered = await this.ctx.storage.get<RememberedRoute>(ROUTE_PREFIX + key);
    const candidates = dispatchCandidates(home, config.processorInstances, remembered?.instance);
    const ask = async (instance: number, slotWaitSeconds: number) => {
      if (instance !== home) await this.rememberRoute(key, instance);
      return instance === home
        ? this.dispatchHere(kindName, job, credentials, requestId, home, slotWaitSeconds)
        : instanceStub(this.env, instance).dispatchHere(kindName, job, credentials, requestId, instance, slotWaitSeconds);
    };
    for (const instance of candidates) {
      const outcome = await ask(instance, 0);
      if (outcome.outcome !== "busy") return outcome;
    }
    // Every instance tried is busy: the first one holds the job for its next free slot, so the job starts the
    // moment a slot frees instead of after a queue backoff of 10 s or more (bounded below the consumer's limit).
    const wait = Math.min(config.processorSlotWaitSeconds, Math.max(0, config.consumerTimeLimitSeconds - config.processorIdleTimeoutSeconds - 5));
    if (wait > 0) {
      const outcome = await ask(candidates[0]!, wait);
      if (outcome.outcome !== "busy") return outcome;
    }
    createLogger({ instance: home, id: ref.id, attempt: ref.attempt, requestId }, { minLevel: config.logLevel }).warn("every instance tried was busy", { tried: candidates });
    return { outcome: "busy", reason: `${candidates.length === 1 ? "the processor" : `each of the ${candidates.length} processor instances tried`} answered HTTP 503 (every job slot in use)` };
  }

  /**
   * Starts one attempt of a job on this instance's processor and relays its events to the kind's events
   * queue in the background (until its final event, or recovery of a lost relay).
   * @param kindName `JobKind.name` of the job (lifecycle/kinds.ts)
   * @param job the job message (validated by the consumer with the kind's schema)
   * @param credentials the attempt's storage credentials (sent beside the envelope, `{...job, credentials}`, in
   *   the signed body; never logged)
   * @param requestId for the processor's logs (the queue message id)
   * @param self this object's index (sent in {@link INSTANCE_HEADER})
   * @param slotWaitSeconds how long the processor may hold the job for a free slot (0: 503 at once when busy)
   * @returns how the processor answered; `started` means the relay runs
   */
  async dispatchHere(kindName: string, job: unknown, credentials: JobCredentials, requestId: string, self: number, slotWaitSeconds = 0): Promise<DispatchOutcome> {
    const config = loadConfig(this.env);
    const kind = jobKindNamed(kindName);
    const ref = kind.jobRef(job);
    const log = createLogger({ instance: self, job: kind.name, id: ref.id, attempt: ref.attempt, requestId }, { minLevel: config.logLevel });
    const body = JSON.stringify({ ...(job as object), credentials });
    const headers = {
      "x-request-id": requestId,
      [INSTANCE_HEADER]: instanceName(self),
      ...(await signJobRequest(config.processorSharedSecret, new TextEncoder().encode(body))),
    };
    const { result, stream } = await startJob((request) => this.portFetch(request), body, headers, config.processorIdleTimeoutSeconds, slotWaitSeconds);
    log.info("job dispatched", { outcome: result.outcome });
    if (stream) {
      const deps = createDeps(this.env, config, log);
      this.ctx.waitUntil(relayJob(deps, kind, ref, stream, () => this.renewActivityTimeout()));
    }
    return result;
  }

  /**
   * Requests from the Worker (`getProcessor`, e.g. `DELETE /jobs/{key}`) go to the container's port like
   * dispatch's own request (see {@link portFetch}); a cancel of a job this home instance sent elsewhere goes
   * to that instance.
   */
  override async fetch(request: Request): Promise<Response> {
    const cancel = request.method === "DELETE" && !request.headers.has(INSTANCE_HEADER) ? /^\/jobs\/([^/]+)$/.exec(new URL(request.url).pathname) : null;
    if (cancel) {
      const remembered = await this.ctx.storage.get<RememberedRoute>(ROUTE_PREFIX + decodeURIComponent(cancel[1]!));
      if (remembered && remembered.instance < loadConfig(this.env).processorInstances) {
        const forwarded = new Request(request);
        forwarded.headers.set(INSTANCE_HEADER, instanceName(remembered.instance));
        return instanceStub(this.env, remembered.instance).fetch(forwarded);
      }
    }
    return this.portFetch(request);
  }

  /** Remembers that job `key` went to `instance`; drops routes older than {@link ROUTE_MEMORY_MS} hourly. */
  private async rememberRoute(key: string, instance: number): Promise<void> {
    const now = Date.now();
    await this.ctx.storage.put<RememberedRoute>(ROUTE_PREFIX + key, { instance, at: now });
    if (now - this.routesPrunedAt < 3600_000) return;
    this.routesPrunedAt = now;
    const routes = await this.ctx.storage.list<RememberedRoute>({ prefix: ROUTE_PREFIX, limit: 10_000 });
    const stale = [...routes].filter(([, r]) => now - r.at > ROUTE_MEMORY_MS).map(([k]) => k);
    // storage.delete takes at most 128 keys per call.
    for (let i = 0; i < stale.length; i += 128) await this.ctx.storage.delete(stale.slice(i, i + 128));
  }

  /**
   * A request to the container's port whose response body the caller may cancel, or that may lose its
   * connection (an event stream, a processor restarting). `containerFetch` pipes every body through a
   * transform whose pipe promise then rejects with nobody to observe it, so this starts the container the
   * same way and fetches the port directly; the relay renews the activity timeout per event.
   * @throws Error when the container cannot be started or reached (callers treat it as unavailable)
   */
  private async portFetch(request: Request): Promise<Response> {
    const runtime = this.ctx.container;
    if (!runtime?.running || (await this.getState()).status !== "healthy") {
      await this.startAndWaitForPorts(PROCESSOR_PORT, { abort: request.signal });
    }
    this.renewActivityTimeout();
    return this.ctx.container!.getTcpPort(PROCESSOR_PORT).fetch(request.url.replace("https:", "http:"), request);
  }
}

/**
 * The object's state with the local container runtime when Cloudflare Containers are not there and
 * PROCESSOR_URL names a local processor; otherwise unchanged (the Container class then refuses to start
 * without a runtime, as it should in production).
 */
function withLocalRuntime(ctx: DurableObjectState<{}>, env: Env): DurableObjectState<{}> {
  if (ctx.container !== undefined || !env.PROCESSOR_URL) return ctx;
  // An own property shadowing the runtime's (absent) `container`: the state object itself must be passed
  // on, workerd refuses a wrapper of it.
  Object.defineProperty(ctx, "container", { value: localContainerRuntime(env.PROCESSOR_URL), configurable: true });
  return ctx;
}

/**
 * Environment of the processor process, from the Worker's validated config. The container is its own
 * entry point (the Durable Object runtime constructs it with the raw bindings), so it loads the config.
 * No storage key: each job and render brings its own temporary credentials (../storage/temp-credentials.ts).
 */
export function processorEnvVars(env: Env): Record<string, string> {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch {
    return { HOST: "0.0.0.0", PORT: String(PROCESSOR_PORT) };
  }
  return {
    HOST: "0.0.0.0",
    PORT: String(PROCESSOR_PORT),
    S3_ENDPOINT: config.s3.endpoint,
    S3_REGION: config.s3.region,
    PROCESSOR_SHARED_SECRET: config.processorSharedSecret,
    VIDEOS_BUCKET: config.videosBucket,
    IMAGES_BUCKET: config.imagesBucket,
    // The import's URL rules (runtime/outgoing-url.ts) depend on it; the container's own default is production.
    ENVIRONMENT: config.environment,
    // The same limits the jobs' storage credentials are minted for (their lifetime is the limit plus a margin).
    JOB_TIMEOUT_SECONDS: String(config.jobTimeoutSeconds),
    TRANSCODE_TIMEOUT_SECONDS: String(config.transcodeTimeoutSeconds),
  };
}

/**
 * Dispatches one job attempt through its home instance (see {@link ProcessorContainer.dispatch}).
 * @param env Worker bindings (PROCESSOR, PROCESSOR_INSTANCES)
 * @param kindName `JobKind.name` of the job
 * @param job the job message, valid for its kind
 * @param requestId the queue message id, for the logs
 * @throws Error without a PROCESSOR binding, or when the Durable Object cannot be called
 */
export function dispatchJob(env: Env, kindName: string, job: unknown, requestId: string): Promise<DispatchOutcome> {
  const home = homeInstance(env, jobKindNamed(kindName).jobRef(job).id);
  return instanceStub(env, home).dispatch(kindName, job, requestId, home);
}

/**
 * The instances a dispatch tries, in order: the remembered one first when there is one, else the home;
 * then the following indexes (wrapping), at most {@link MAX_DISPATCH_TRIES} and never one twice.
 * @param home the job's home index; `instances` PROCESSOR_INSTANCES; `remembered` where it was sent before
 */
export function dispatchCandidates(home: number, instances: number, remembered?: number): number[] {
  // A route remembered before PROCESSOR_INSTANCES was lowered names an instance that no longer exists.
  const order = [remembered !== undefined && remembered < instances ? remembered : home];
  for (let i = 0; order.length < Math.min(MAX_DISPATCH_TRIES, instances); i++) {
    const next = (home + i) % instances;
    if (!order.includes(next)) order.push(next);
  }
  return order;
}

/** The job key the processor and the route memory use: `{id}#{attempt}`. */
function jobKey(ref: { id: string; attempt: number }): string {
  return `${ref.id}#${ref.attempt}`;
}

/** Name of instance `index`: `processor-<index>`. */
function instanceName(index: number): string {
  return `processor-${index}`;
}

/** Home instance index of routing key `key` (a job's id): hash(key) mod PROCESSOR_INSTANCES. */
function homeInstance(env: Env, key: string): number {
  return shard(key, loadConfig(env).processorInstances);
}

/**
 * The Durable Object of instance `index`.
 * @throws Error without a PROCESSOR binding (the env check refuses this earlier)
 */
function instanceStub(env: Env, index: number): DurableObjectStub<ProcessorContainer> {
  if (!env.PROCESSOR) throw new Error("no processor configured: bind PROCESSOR (wrangler.toml)");
  return getContainer(env.PROCESSOR, instanceName(index)) as unknown as DurableObjectStub<ProcessorContainer>;
}

/**
 * @param env Worker bindings (the PROCESSOR binding)
 * @param config validated config (PROCESSOR_SHARED_SECRET)
 * @param routingKey chooses the container instance: the job's id gives its home instance, which forwards a
 *   cancel of a job it sent elsewhere (as for dispatch)
 * @returns a processor whose `fetch` buffers and signs request bodies (e.g. `DELETE /jobs/{key}`: every
 *   non-GET request is signed, an empty body included)
 */
export function getProcessor(env: Env, config: Pick<Config, "processorSharedSecret">, routingKey = ""): Processor {
  const stub = instanceStub(env, homeInstance(env, routingKey));
  return {
    async fetch(request) {
      if (request.method === "GET" || request.method === "HEAD") {
        return stub.fetch(new Request(request.url, { method: request.method, headers: request.headers, signal: request.signal }));
      }
      const body = new Uint8Array(await request.arrayBuffer());
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries(await signJobRequest(config.processorSharedSecret, body))) headers.set(name, value);
      return stub.fetch(new Request(request.url, { method: request.method, headers, body, signal: request.signal }));
    },
  };
}

/** FNV-1a of `key`, modulo `n`: a stable instance index in 0..n-1. */
function shard(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}
