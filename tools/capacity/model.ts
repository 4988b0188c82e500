/**
 * The capacity model of docs/capacity.md: pure functions from the bench's own figures (CPU seconds and peak
 * RSS of vidsnap's processor per job, on the inputs `npm run bench` measures) to jobs per hour per Cloudflare
 * Containers instance type, cost per 1,000 jobs at Cloudflare's published prices, and the platform limit
 * that binds first at a given load. `npm run capacity` (./main.ts) prints its tables.
 *
 * Everything that is an assumption rather than a measurement is a named constant below, with its source.
 */

/** A Cloudflare Containers instance type (developers.cloudflare.com/containers/platform/limits, read 2026-12). */
export interface InstanceType {
  name: string;
  vcpu: number;
  memoryGiB: number;
  diskGB: number;
}

/** The six predefined instance types. */
export const INSTANCE_TYPES: readonly InstanceType[] = [
  { name: "lite", vcpu: 1 / 16, memoryGiB: 0.25, diskGB: 2 },
  { name: "basic", vcpu: 1 / 4, memoryGiB: 1, diskGB: 4 },
  { name: "standard-1", vcpu: 1 / 2, memoryGiB: 4, diskGB: 8 },
  { name: "standard-2", vcpu: 1, memoryGiB: 6, diskGB: 12 },
  { name: "standard-3", vcpu: 2, memoryGiB: 8, diskGB: 16 },
  { name: "standard-4", vcpu: 4, memoryGiB: 12, diskGB: 20 },
];

/**
 * Published unit prices, USD, beyond the Workers Paid plan's included amounts (which the model ignores: it
 * prices the marginal 1,000 jobs). Sources: the pricing pages of Workers, Queues, D1, R2, Durable Objects and
 * Containers on developers.cloudflare.com, read 2026-12.
 */
export const PRICES = {
  workersRequest: 0.3 / 1e6,
  workersCpuMs: 0.02 / 1e6,
  queueOperation: 0.4 / 1e6,
  d1RowRead: 0.001 / 1e6,
  d1RowWritten: 1 / 1e6,
  r2ClassA: 4.5 / 1e6,
  r2ClassB: 0.36 / 1e6,
  r2GBMonth: 0.015,
  durableObjectRequest: 0.15 / 1e6,
  /** Durable Object duration, per GB-second (an object is billed 128 MB while active). */
  durableObjectGBSecond: 12.5 / 1e6,
  /** Containers bill CPU by active usage… */
  containerVcpuSecond: 0.00002,
  /** …and memory and disk as provisioned while the instance runs. */
  containerGiBSecond: 0.0000025,
  containerDiskGBSecond: 0.00000007,
} as const;

/** Platform limits that may bind (developers.cloudflare.com limits pages, read 2026-12). */
export const LIMITS = {
  /** Messages per second one queue accepts. */
  queueMessagesPerSecond: 5_000,
  /** Concurrent consumer invocations per queue (`max_concurrency` can be raised to this). */
  queueConsumerConcurrency: 250,
  /**
   * Writes per second one D1 database sustains: D1 runs each database's queries one at a time, so ~1 ms
   * per single-row write gives ~1,000/s (an estimate from D1's documented model, not a published limit).
   */
  d1WritesPerSecond: 1_000,
  /** Concurrent vCPU of Containers per account. */
  accountConcurrentVcpu: 1_500,
  /** R2: writes per second to one object key; distinct keys scale without a published limit. */
  r2WritesPerKeyPerSecond: 1,
} as const;

/** Share of an instance's vCPU the processor's jobs keep busy at steady state (ffmpeg's threads, I/O waits). */
export const CPU_UTILISATION = 0.85;
/** Cores one job can use at most (measured: a keyframes decode keeps ~1.5 cores busy; x264 more). */
export const MAX_CORES_PER_JOB = { extract: 1.5, transcode: 2 } as const;
/** Memory the processor's Node server holds without a job, MB (its idle RSS). */
export const NODE_BASELINE_MB = 80;
/** Job slots of one processor (MAX_CONCURRENT_JOBS default, ffmpeg-container/src/config.ts). */
export const JOB_SLOTS = 2;
/** PROGRESS interval of the processor, seconds (progressIntervalMs in ffmpeg-container/src/config.ts). */
export const PROGRESS_INTERVAL_SECONDS = 2;
/** Multipart part size of the processor's uploads and of large client uploads, bytes (MULTIPART_PART_SIZE_BYTES). */
export const PART_SIZE_BYTES = 16 * 1024 * 1024;
/** Days a source and its outputs are kept in R2 for the storage line (a retention choice, not a vidsnap rule). */
export const RETENTION_DAYS = 30;
/** Client requests per job: create, upload complete, 4 status polls, one download. */
export const CLIENT_REQUESTS_PER_JOB = 7;
/** Worker CPU per request or consumer invocation, ms (auth, zod, one D1 query). */
export const WORKER_CPU_MS_PER_INVOCATION = 5;
/** D1 rows read per request (session or API key, the video row, its owner check). */
export const D1_ROWS_READ_PER_REQUEST = 4;
/** Wall time of one dispatch by the job consumer, seconds (it only hands the job to the processor's object). */
export const DISPATCH_SECONDS = 0.05;

/** An input class of the model. */
export interface InputClass {
  name: string;
  durationSeconds: number;
  width: number;
  height: number;
  /** Source bitrate, bits per second (sets the source's size). */
  bitrate: number;
}

/** The three classes of issue 17. */
export const INPUT_CLASSES: readonly InputClass[] = [
  { name: "phone clip (30 s, 1080x1920)", durationSeconds: 30, width: 1080, height: 1920, bitrate: 10e6 },
  { name: "talk (10 min, 1920x1080)", durationSeconds: 600, width: 1920, height: 1080, bitrate: 5e6 },
  { name: "4K (1 h, 3840x2160)", durationSeconds: 3600, width: 3840, height: 2160, bitrate: 20e6 },
];

/** A job kind of the model and what it makes. */
export type ModelJobKind = "extract keyframes" | "extract interval 10 s" | "transcode mp4 1080/720/480";

/**
 * Per-job cost figures fitted from one bench run: `fixedCpuSeconds` (a job's cost on a tiny input: process
 * starts, probe, archive, uploads) plus a rate per megapixel-second of input; the transcode's rate is split
 * into its decode (scales with the input's pixels) and its encodes (scale with duration only, the rendition
 * ladder being fixed). Peak RSS above the Node baseline scales with the input's frame size.
 */
export interface FittedKind {
  kind: ModelJobKind;
  fixedCpuSeconds: number;
  /** CPU seconds per (second of input × megapixel of input frame). */
  cpuPerMegapixelSecond: number;
  /** Transcodes: encode CPU seconds per second of input (independent of the input's size). */
  encodeCpuPerSecond: number;
  /** Peak RSS of the processor tree on the reference input, MB, and that input's megapixels. */
  peakRssMB: number;
  referenceMegapixels: number;
  /** Output bytes per second of input (the transcode's local files before upload; the extraction's archive). */
  outputBytesPerSecond: number;
}

/** The bench figures the fit uses (a subset of `tools/bench/results/bench-*.json`). */
export interface BenchFigures {
  reference: { durationSeconds: number; width: number; height: number };
  /** vidsnap's CPU seconds, peak RSS and archive bytes on the reference input, per extraction mode. */
  extract: Record<"keyframes" | "interval", { cpuSeconds: number; peakRssMB: number; outputBytes: number }>;
  /** vidsnap's smallest extraction job over every input (the fixed cost per job). */
  fixedCpuSeconds: number;
  /** A full decode of the reference input (vidsnap's sequential interval run, the cheaper of its two), CPU seconds. */
  decodeCpuSeconds: number;
  transcode: { cpuSeconds: number; peakRssMB: number; outputBytes: number } | null;
}

/**
 * Fits the per-kind figures.
 * @throws Error when a figure is missing or not positive (a bench run without CPU seconds)
 */
export function fitKinds(b: BenchFigures): FittedKind[] {
  const mpSeconds = b.reference.durationSeconds * megapixels(b.reference);
  const positive = (what: string, v: number) => {
    if (!(v > 0)) throw new Error(`bench figure ${what} is missing or not positive (${v})`);
    return v;
  };
  positive("fixedCpuSeconds", b.fixedCpuSeconds);
  const extract = (kind: ModelJobKind, m: BenchFigures["extract"]["keyframes"]): FittedKind => ({
    kind,
    fixedCpuSeconds: b.fixedCpuSeconds,
    cpuPerMegapixelSecond: Math.max(0, positive(`${kind} cpuSeconds`, m.cpuSeconds) - b.fixedCpuSeconds) / mpSeconds,
    encodeCpuPerSecond: 0,
    peakRssMB: positive(`${kind} peakRssMB`, m.peakRssMB),
    referenceMegapixels: megapixels(b.reference),
    outputBytesPerSecond: m.outputBytes / b.reference.durationSeconds,
  });
  const kinds = [extract("extract keyframes", b.extract.keyframes), extract("extract interval 10 s", b.extract.interval)];
  if (b.transcode) {
    const decode = positive("decodeCpuSeconds", b.decodeCpuSeconds);
    const encode = Math.max(0, positive("transcode cpuSeconds", b.transcode.cpuSeconds) - decode - b.fixedCpuSeconds);
    kinds.push({
      kind: "transcode mp4 1080/720/480",
      fixedCpuSeconds: b.fixedCpuSeconds,
      cpuPerMegapixelSecond: decode / mpSeconds,
      encodeCpuPerSecond: encode / b.reference.durationSeconds,
      peakRssMB: positive("transcode peakRssMB", b.transcode.peakRssMB),
      referenceMegapixels: megapixels(b.reference),
      outputBytesPerSecond: b.transcode.outputBytes / b.reference.durationSeconds,
    });
  }
  return kinds;
}

/** What one job of a kind costs on one input class. */
export interface JobEstimate {
  cpuSeconds: number;
  peakRssMB: number;
  /** Local disk the job needs, bytes (transcode outputs before upload, or the archive being written). */
  diskBytes: number;
  sourceBytes: number;
  outputBytes: number;
}

/** @returns the model's estimate of one job of `kind` on `input` */
export function estimateJob(kind: FittedKind, input: InputClass): JobEstimate {
  const mp = megapixels(input);
  const cpuSeconds = kind.fixedCpuSeconds + kind.cpuPerMegapixelSecond * mp * input.durationSeconds + kind.encodeCpuPerSecond * input.durationSeconds;
  const peakRssMB = NODE_BASELINE_MB + Math.max(0, kind.peakRssMB - NODE_BASELINE_MB) * (mp / kind.referenceMegapixels);
  const outputBytes = kind.outputBytesPerSecond * input.durationSeconds;
  return { cpuSeconds, peakRssMB, diskBytes: outputBytes, sourceBytes: (input.bitrate / 8) * input.durationSeconds, outputBytes };
}

/** One instance type running one kind of job on one input class. */
export interface InstanceFit {
  instance: string;
  /** Jobs at once (job slots, fewer when memory or disk run out); 0 = the job does not fit. */
  concurrentJobs: number;
  jobsPerHour: number;
  /** Wall time of one job, seconds (its CPU over the cores it can use). */
  jobWallSeconds: number;
  /** Why it does not fit (memory, disk), when it does not. */
  doesNotFit?: string;
}

/** @returns jobs per hour of one instance of `type` (CPU-bound at {@link CPU_UTILISATION}, within memory and disk) */
export function fitInstance(type: InstanceType, kind: FittedKind, job: JobEstimate): InstanceFit {
  const memoryMB = type.memoryGiB * 1024;
  const byMemory = Math.floor((memoryMB - NODE_BASELINE_MB) / Math.max(1, job.peakRssMB - NODE_BASELINE_MB));
  const byDisk = job.diskBytes > 0 ? Math.floor((type.diskGB * 1e9 * 0.8) / job.diskBytes) : JOB_SLOTS;
  const concurrentJobs = Math.max(0, Math.min(JOB_SLOTS, byMemory, byDisk));
  const maxCores = kind.kind.startsWith("transcode") ? MAX_CORES_PER_JOB.transcode : MAX_CORES_PER_JOB.extract;
  const coresPerJob = Math.min(maxCores, type.vcpu / Math.max(1, concurrentJobs));
  const jobWallSeconds = job.cpuSeconds / (coresPerJob * CPU_UTILISATION);
  if (concurrentJobs === 0) {
    const doesNotFit = byMemory < 1 ? `needs ${Math.round(job.peakRssMB)} MB of ${Math.round(memoryMB)} MB` : `needs ${(job.diskBytes / 1e9).toFixed(1)} GB of disk`;
    return { instance: type.name, concurrentJobs, jobsPerHour: 0, jobWallSeconds, doesNotFit };
  }
  const usableCores = Math.min(type.vcpu, concurrentJobs * maxCores) * CPU_UTILISATION;
  return { instance: type.name, concurrentJobs, jobsPerHour: (3600 * usableCores) / job.cpuSeconds, jobWallSeconds };
}

/** Platform usage of one job, by meter. */
export interface JobUsage {
  workersRequests: number;
  workersCpuMs: number;
  queueOperations: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  r2ClassA: number;
  r2ClassB: number;
  r2GBMonth: number;
  durableObjectRequests: number;
  durableObjectGBSeconds: number;
  containerVcpuSeconds: number;
  containerGiBSeconds: number;
  containerDiskGBSeconds: number;
}

/**
 * Counts what one job uses of each metered service, from how vidsnap handles a job (docs/architecture.md):
 * the client's requests; queue messages (the job, PROCESSING, a PROGRESS every
 * {@link PROGRESS_INTERVAL_SECONDS} while it runs, SUCCESS, the email), each written, read and deleted
 * (3 operations); D1 writes (the row's create, complete, each event, the email row claimed then marked sent);
 * R2 (class A: the upload's PUT or its parts, the outputs' uploads; class B: the API's HEAD at `complete`, the
 * processor's two output HEADs before accepting the job and its one GET of the source, one download); the dispatching Durable Object (active for the job's wall time); the container's share of one
 * instance of `type` while the job runs.
 */
export function jobUsage(job: JobEstimate, fit: InstanceFit, type: InstanceType): JobUsage {
  const events = 2 + Math.ceil(fit.jobWallSeconds / PROGRESS_INTERVAL_SECONDS);
  const messages = 1 + events + 1;
  const consumerInvocations = messages; // batches of one in the worst case
  const requests = CLIENT_REQUESTS_PER_JOB + consumerInvocations;
  const parts = (bytes: number) => (bytes > 100e6 ? Math.ceil(bytes / PART_SIZE_BYTES) + 2 : 1);
  const instanceSecondsPerJob = fit.concurrentJobs > 0 ? fit.jobWallSeconds / fit.concurrentJobs : 0;
  return {
    workersRequests: requests,
    workersCpuMs: requests * WORKER_CPU_MS_PER_INVOCATION,
    queueOperations: 3 * messages,
    d1RowsRead: requests * D1_ROWS_READ_PER_REQUEST,
    d1RowsWritten: 2 + events + 2,
    r2ClassA: parts(job.sourceBytes) + parts(job.outputBytes) + 3,
    r2ClassB: 5,
    r2GBMonth: ((job.sourceBytes + job.outputBytes) / 1e9) * (RETENTION_DAYS / 30),
    durableObjectRequests: 1 + events,
    durableObjectGBSeconds: 0.128 * fit.jobWallSeconds,
    containerVcpuSeconds: job.cpuSeconds,
    containerGiBSeconds: type.memoryGiB * instanceSecondsPerJob,
    containerDiskGBSeconds: type.diskGB * instanceSecondsPerJob,
  };
}

/** The meters of {@link JobUsage}. */
export const USAGE_METERS = [
  "workersRequests",
  "workersCpuMs",
  "queueOperations",
  "d1RowsRead",
  "d1RowsWritten",
  "r2ClassA",
  "r2ClassB",
  "r2GBMonth",
  "durableObjectRequests",
  "durableObjectGBSeconds",
  "containerVcpuSeconds",
  "containerGiBSeconds",
  "containerDiskGBSeconds",
] as const satisfies readonly (keyof JobUsage)[];

/** @returns the share-weighted sum of usages (the average job of a mix whose shares sum to 1) */
export function weightedUsage(parts: { share: number; usage: JobUsage }[]): JobUsage {
  const sum = {} as JobUsage;
  for (const meter of USAGE_METERS) sum[meter] = parts.reduce((n, p) => n + p.share * p.usage[meter], 0);
  return sum;
}

/** Cost of 1,000 jobs, USD, by service and in total. */
export function costPerThousand(u: JobUsage): { workers: number; queues: number; d1: number; r2: number; durableObjects: number; containers: number; total: number } {
  const p = PRICES;
  const workers = u.workersRequests * p.workersRequest + u.workersCpuMs * p.workersCpuMs;
  const queues = u.queueOperations * p.queueOperation;
  const d1 = u.d1RowsRead * p.d1RowRead + u.d1RowsWritten * p.d1RowWritten;
  const r2 = u.r2ClassA * p.r2ClassA + u.r2ClassB * p.r2ClassB + u.r2GBMonth * p.r2GBMonth;
  const durableObjects = u.durableObjectRequests * p.durableObjectRequest + u.durableObjectGBSeconds * p.durableObjectGBSecond;
  const containers = u.containerVcpuSeconds * p.containerVcpuSecond + u.containerGiBSeconds * p.containerGiBSecond + u.containerDiskGBSeconds * p.containerDiskGBSecond;
  const k = (v: number) => v * 1000;
  return {
    workers: k(workers),
    queues: k(queues),
    d1: k(d1),
    r2: k(r2),
    durableObjects: k(durableObjects),
    containers: k(containers),
    total: k(workers + queues + d1 + r2 + durableObjects + containers),
  };
}

/** How close one limit is at a load: `used / limit` (≥ 1: it binds). */
export interface LimitUse {
  limit: string;
  used: number;
  capacity: number;
  share: number;
}

/**
 * The platform limits at `jobsPerHour` of the given usage and instance fit, most used first.
 * @param instances PROCESSOR_INSTANCES (= the container's max_instances)
 */
export function limitsAt(jobsPerHour: number, u: JobUsage, fit: InstanceFit, type: InstanceType, instances: number): LimitUse[] {
  const perSecond = jobsPerHour / 3600;
  const eventsPerJob = u.durableObjectRequests - 1; // PROCESSING, PROGRESS…, SUCCESS
  const rows: Omit<LimitUse, "share">[] = [
    { limit: `container instances (max_instances = ${instances}, ${type.name})`, used: jobsPerHour, capacity: instances * fit.jobsPerHour },
    { limit: "account concurrent vCPU (1,500)", used: (jobsPerHour / Math.max(fit.jobsPerHour, 1e-9)) * type.vcpu, capacity: LIMITS.accountConcurrentVcpu },
    { limit: "D1 writes per second (one database, ~1,000/s)", used: perSecond * u.d1RowsWritten, capacity: LIMITS.d1WritesPerSecond },
    { limit: "events queue messages per second (5,000/s)", used: perSecond * eventsPerJob, capacity: LIMITS.queueMessagesPerSecond },
    { limit: "job queue consumer concurrency (250)", used: perSecond * DISPATCH_SECONDS, capacity: LIMITS.queueConsumerConcurrency },
  ];
  return rows.map((r) => ({ ...r, share: r.used / r.capacity })).sort((a, b) => b.share - a.share);
}

/** Megapixels of a frame. */
export function megapixels(size: { width: number; height: number }): number {
  return (size.width * size.height) / 1e6;
}
