/**
 * `npm run capacity [-- <bench.json>] [-- --jobs-per-hour N]`: the capacity model of docs/capacity.md
 * (./model.ts) computed from a bench run's JSON. Without a path it reads the reference run committed in
 * docs/capacity-bench.json (the figures docs/capacity.md was written from); `--latest` reads the newest
 * `tools/bench/results/bench-*.json` instead, so the tables move when the code gets faster.
 * `--jobs-per-hour` is today's load (default 100) for the limits table, in the mix of {@link MIX}.
 * Prints Markdown tables.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, RESULTS_DIR } from "../paths.ts";
import {
  costPerThousand,
  estimateJob,
  fitInstance,
  fitKinds,
  INPUT_CLASSES,
  INSTANCE_TYPES,
  jobUsage,
  limitsAt,
  weightedUsage,
  type BenchFigures,
  type FittedKind,
  type InputClass,
  type ModelJobKind,
} from "./model.ts";

/** The reference bench run docs/capacity.md was computed from. */
export const REFERENCE_BENCH = path.join(REPO_ROOT, "docs/capacity-bench.json");
/** The input of the bench that the fit uses (its derived 1080p 200 s input). */
const REFERENCE_INPUT = "franck-1080p-200s.mp4";
/** Instance type of wrangler.toml's container (standard-1) and its PROCESSOR_INSTANCES. */
const CONFIGURED = { instance: "standard-1", instances: 5 };
/** Today's job mix (shares sum to 1): mostly short extractions, some talks, a few transcodes. */
export const MIX: { kind: ModelJobKind; input: string; share: number }[] = [
  { kind: "extract keyframes", input: INPUT_CLASSES[0]!.name, share: 0.6 },
  { kind: "extract interval 10 s", input: INPUT_CLASSES[1]!.name, share: 0.3 },
  { kind: "transcode mp4 1080/720/480", input: INPUT_CLASSES[1]!.name, share: 0.1 },
];

interface BenchRow {
  mode: string;
  pipeline: string;
  /** The ffmpeg build of the row (bench runs since issue 17 measure each row with every build). */
  ffmpeg?: string;
  cpuSeconds?: number | null;
  peakRssMB: number;
  zipBytes: number | null;
}
interface BenchJson {
  createdAt: string;
  /** The builds of the run, the production one (the lean build, when present) first. */
  builds?: { name: string }[];
  results: { input: string; facts: string; rows: BenchRow[] }[];
  transcode: { pipeline: string; cpuSeconds: number | null; peakRssMB: number; outputBytes: number | null }[] | null;
}

/**
 * The figures of the fit from a bench JSON.
 * @throws Error when the run lacks the reference input or CPU seconds (a `--quick` run, or a bench before CPU was recorded)
 */
export function benchFigures(input: BenchJson): BenchFigures {
  // Only the rows of the run's first build: the one the container image ships.
  const build = input.builds?.[0]?.name;
  const bench = { ...input, results: input.results.map((r) => ({ ...r, rows: r.rows.filter((row) => build === undefined || row.ffmpeg === undefined || row.ffmpeg === build) })) };
  const ref = bench.results.find((r) => r.input === REFERENCE_INPUT);
  if (!ref) throw new Error(`the bench run has no ${REFERENCE_INPUT} section (a --quick run?)`);
  const m = /(\d+)x(\d+), ([\d.]+) s/.exec(ref.facts);
  if (!m) throw new Error(`cannot read the size and duration from "${ref.facts}"`);
  const pick = (mode: RegExp, pipeline: string) => {
    const row = ref.rows.find((r) => mode.test(r.mode) && r.pipeline === pipeline);
    if (!row || row.cpuSeconds == null) throw new Error(`the bench run has no CPU seconds for ${pipeline} ${mode} on ${REFERENCE_INPUT}`);
    return row;
  };
  const kf = pick(/^keyframes$/, "vidsnap");
  const iv = pick(/^interval \d+$/, "vidsnap");
  // A full decode of the input: the sequential interval runs decode every frame (the floor may seek instead).
  const decode = [pick(/^interval \d+$/, "vidsnap sequential strategy"), pick(/^interval \d+$/, "vidsnap before (one sequential run)")].sort(
    (a, b) => a.cpuSeconds! - b.cpuSeconds!,
  )[0]!;
  const smallest = Math.min(
    ...bench.results.flatMap((r) => r.rows.filter((row) => row.mode === "keyframes" && row.pipeline === "vidsnap" && row.cpuSeconds != null).map((row) => row.cpuSeconds!)),
  );
  const t = bench.transcode?.find((r) => r.pipeline === "vidsnap");
  return {
    reference: { width: Number(m[1]), height: Number(m[2]), durationSeconds: Number(m[3]) },
    extract: {
      keyframes: { cpuSeconds: kf.cpuSeconds!, peakRssMB: kf.peakRssMB, outputBytes: kf.zipBytes ?? 0 },
      interval: { cpuSeconds: iv.cpuSeconds!, peakRssMB: iv.peakRssMB, outputBytes: iv.zipBytes ?? 0 },
    },
    fixedCpuSeconds: smallest,
    decodeCpuSeconds: decode.cpuSeconds!,
    transcode: t && t.cpuSeconds != null ? { cpuSeconds: t.cpuSeconds, peakRssMB: t.peakRssMB, outputBytes: t.outputBytes ?? 0 } : null,
  };
}

function readBench(argv: string[]): { file: string; bench: BenchJson } {
  const explicit = argv.find((a) => a.endsWith(".json"));
  let file = explicit ?? REFERENCE_BENCH;
  if (!explicit && argv.includes("--latest")) {
    const runs = readdirSync(RESULTS_DIR).filter((f) => /^bench-\d.*\.json$/.test(f)).sort();
    if (runs.length === 0) throw new Error(`no bench-*.json in ${RESULTS_DIR}: run npm run bench first`);
    file = path.join(RESULTS_DIR, runs.at(-1)!);
  }
  return { file, bench: JSON.parse(readFileSync(file, "utf8")) as BenchJson };
}

const fmt = (v: number, digits = 0) => v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const table = (head: string[], rows: string[][]) => [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

function main(): void {
  const argv = process.argv.slice(2);
  const loadArg = argv.indexOf("--jobs-per-hour");
  const today = loadArg >= 0 ? Number(argv[loadArg + 1]) : 100;
  if (!(today > 0)) throw new Error("--jobs-per-hour needs a positive number");
  const { file, bench } = readBench(argv);
  const kinds = fitKinds(benchFigures(bench));
  const configured = INSTANCE_TYPES.find((t) => t.name === CONFIGURED.instance)!;
  const out: string[] = [];
  out.push(`Bench run: ${path.relative(REPO_ROOT, file)} (${bench.createdAt})\n`);

  out.push("## Fitted per-job figures\n");
  out.push(
    table(
      ["job kind", "fixed CPU s", "CPU s per MP·s", "encode CPU s per s", "peak RSS MB (ref.)"],
      kinds.map((k) => [k.kind, k.fixedCpuSeconds.toFixed(2), k.cpuPerMegapixelSecond.toFixed(4), k.encodeCpuPerSecond.toFixed(3), fmt(k.peakRssMB)]),
    ),
  );

  out.push("\n## Jobs per hour per instance\n");
  for (const kind of kinds) {
    out.push(`\n### ${kind.kind}\n`);
    out.push(
      table(
        ["input", "CPU s/job", ...INSTANCE_TYPES.map((t) => t.name)],
        INPUT_CLASSES.map((input) => {
          const job = estimateJob(kind, input);
          return [
            input.name,
            fmt(job.cpuSeconds, 1),
            ...INSTANCE_TYPES.map((t) => {
              const f = fitInstance(t, kind, job);
              return f.concurrentJobs === 0 ? `no (${f.doesNotFit})` : `${fmt(f.jobsPerHour, f.jobsPerHour < 10 ? 1 : 0)} (${fmtDuration(f.jobWallSeconds)}/job)`;
            }),
          ];
        }),
      ),
    );
  }

  out.push(`\n## Cost per 1,000 jobs on ${configured.name}, USD\n`);
  const costRows: string[][] = [];
  for (const kind of kinds) {
    for (const input of INPUT_CLASSES) {
      const job = estimateJob(kind, input);
      const fit = fitInstance(configured, kind, job);
      if (fit.concurrentJobs === 0) {
        costRows.push([kind.kind, input.name, "does not fit", "", "", "", "", "", ""]);
        continue;
      }
      const c = costPerThousand(jobUsage(job, fit, configured));
      costRows.push([kind.kind, input.name, ...[c.containers, c.r2, c.d1, c.queues, c.workers, c.durableObjects, c.total].map((v) => fmt(v, 2))]);
    }
  }
  out.push(table(["job kind", "input", "Containers", "R2", "D1", "Queues", "Workers", "Durable Objects", "total"], costRows));

  out.push(`\n## Which limit binds first (mix: ${MIX.map((m) => `${Math.round(m.share * 100)} % ${m.kind} on ${m.input}`).join(", ")}; ${CONFIGURED.instances} × ${configured.name})\n`);
  const mixed = mixUsage(kinds, configured);
  const limitRows: string[][] = [];
  for (const factor of [1, 10, 100, 1000]) {
    const load = today * factor;
    const limits = limitsAt(load, mixed.usage, mixed.fit, configured, CONFIGURED.instances);
    const top = limits[0]!;
    limitRows.push([`${factor}× (${fmt(load)} jobs/h)`, top.limit, `${fmt(top.share * 100)} %`, limits.slice(1, 3).map((l) => `${l.limit} ${fmt(l.share * 100)} %`).join("; ")]);
  }
  out.push(table(["load", "most used limit", "use", "next"], limitRows));
  console.log(out.join("\n"));
}

/**
 * Usage of the average job of {@link MIX} on `type`, with the fit of an instance running that mix (jobs per
 * hour = the CPU-weighted harmonic mean).
 */
export function mixUsage(kinds: FittedKind[], type: (typeof INSTANCE_TYPES)[number]) {
  let cpuPerJob = 0;
  let wall = 0;
  const parts = MIX.map((m) => {
    const kind = kinds.find((k) => k.kind === m.kind);
    const input = INPUT_CLASSES.find((i) => i.name === m.input) as InputClass;
    if (!kind) throw new Error(`the bench run has no figures for ${m.kind}`);
    const job = estimateJob(kind, input);
    const fit = fitInstance(type, kind, job);
    cpuPerJob += m.share * job.cpuSeconds;
    wall += m.share * fit.jobWallSeconds;
    return { share: m.share, usage: jobUsage(job, fit, type), fit };
  });
  const usage = weightedUsage(parts);
  const jobsPerHour = 1 / parts.reduce((n, p) => n + p.share / p.fit.jobsPerHour, 0);
  return { usage, fit: { ...parts[0]!.fit, jobsPerHour, jobWallSeconds: wall }, cpuPerJob };
}

function fmtDuration(seconds: number): string {
  if (seconds < 120) return `${fmt(seconds)} s`;
  if (seconds < 7200) return `${fmt(seconds / 60)} min`;
  return `${fmt(seconds / 3600, 1)} h`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main();
