/**
 * The capacity model (tools/capacity): the fit reproduces the bench's own figures on the reference input,
 * instance fits respect memory and CPU, prices multiply out, and `npm run capacity` computes its tables from
 * the committed reference bench run.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { benchFigures, REFERENCE_BENCH } from "../../tools/capacity/main.ts";
import {
  costPerThousand,
  CPU_UTILISATION,
  estimateJob,
  fitInstance,
  fitKinds,
  INSTANCE_TYPES,
  jobUsage,
  limitsAt,
  weightedUsage,
  type BenchFigures,
  type InputClass,
} from "../../tools/capacity/model.ts";
import { BIN, REPO_ROOT } from "../../tools/paths.ts";

const FIGURES: BenchFigures = {
  reference: { durationSeconds: 200, width: 1350, height: 1080 },
  extract: {
    keyframes: { cpuSeconds: 10.5, peakRssMB: 200, outputBytes: 4e6 },
    interval: { cpuSeconds: 30.5, peakRssMB: 250, outputBytes: 2e6 },
  },
  fixedCpuSeconds: 0.5,
  decodeCpuSeconds: 14,
  transcode: { cpuSeconds: 150.5, peakRssMB: 480, outputBytes: 37.7e6 },
};
const REFERENCE_INPUT: InputClass = { name: "ref", durationSeconds: 200, width: 1350, height: 1080, bitrate: 4e6 };
const type = (name: string) => INSTANCE_TYPES.find((t) => t.name === name)!;

describe("capacity model", () => {
  const kinds = fitKinds(FIGURES);
  const kind = (name: string) => kinds.find((k) => k.kind.startsWith(name))!;

  it("reproduces the bench's CPU seconds and peak RSS on the reference input", () => {
    expect(estimateJob(kind("extract keyframes"), REFERENCE_INPUT).cpuSeconds).toBeCloseTo(10.5, 6);
    expect(estimateJob(kind("extract interval"), REFERENCE_INPUT).cpuSeconds).toBeCloseTo(30.5, 6);
    expect(estimateJob(kind("transcode"), REFERENCE_INPUT).cpuSeconds).toBeCloseTo(150.5, 6);
    expect(estimateJob(kind("transcode"), REFERENCE_INPUT).peakRssMB).toBeCloseTo(480, 6);
  });

  it("scales a decode with pixels and duration, a transcode's encodes with duration only", () => {
    const fourTimesPixels = { ...REFERENCE_INPUT, width: 2700, height: 2160 };
    expect(estimateJob(kind("extract interval"), fourTimesPixels).cpuSeconds).toBeCloseTo(0.5 + 4 * 30, 6);
    // decode 14 s × 4, encodes 136 s unchanged
    expect(estimateJob(kind("transcode"), fourTimesPixels).cpuSeconds).toBeCloseTo(0.5 + 4 * 14 + 136, 6);
    expect(estimateJob(kind("extract keyframes"), { ...REFERENCE_INPUT, durationSeconds: 400 }).cpuSeconds).toBeCloseTo(0.5 + 20, 6);
  });

  it("fits jobs by CPU within memory: jobs per hour = usable cores × 3600 / CPU seconds", () => {
    const job = estimateJob(kind("extract interval"), REFERENCE_INPUT);
    const s1 = fitInstance(type("standard-1"), kind("extract interval"), job);
    expect(s1.concurrentJobs).toBe(2);
    expect(s1.jobsPerHour).toBeCloseTo((3600 * 0.5 * CPU_UTILISATION) / 30.5, 6);
    const s4 = fitInstance(type("standard-4"), kind("extract interval"), job);
    expect(s4.jobsPerHour).toBeCloseTo((3600 * 3 * CPU_UTILISATION) / 30.5, 6); // 2 slots × 1.5 cores
    const lite = fitInstance(type("lite"), kind("transcode"), estimateJob(kind("transcode"), REFERENCE_INPUT));
    expect(lite.concurrentJobs).toBe(0);
    expect(lite.doesNotFit).toMatch(/MB/);
  });

  it("prices 1,000 jobs: one vCPU-second per job costs 1,000 × $0.00002", () => {
    const job = estimateJob(kind("extract keyframes"), REFERENCE_INPUT);
    const fit = fitInstance(type("standard-1"), kind("extract keyframes"), job);
    const usage = jobUsage(job, fit, type("standard-1"));
    const zero = weightedUsage([{ share: 0, usage }]);
    expect(costPerThousand({ ...zero, containerVcpuSeconds: 1 }).total).toBeCloseTo(0.02, 9);
    expect(costPerThousand({ ...zero, d1RowsWritten: 10 }).d1).toBeCloseTo(0.01, 9);
    expect(costPerThousand(usage).total).toBeGreaterThan(costPerThousand(usage).containers);
  });

  it("orders limits by use: a load past the instances' capacity makes them bind", () => {
    const job = estimateJob(kind("transcode"), REFERENCE_INPUT);
    const fit = fitInstance(type("standard-1"), kind("transcode"), job);
    const usage = jobUsage(job, fit, type("standard-1"));
    const limits = limitsAt(fit.jobsPerHour * 5 * 2, usage, fit, type("standard-1"), 5);
    expect(limits[0]!.limit).toMatch(/container instances/);
    expect(limits[0]!.share).toBeCloseTo(2, 6);
  });

  it("a run measured with two ffmpeg builds: the figures of its first build (the one the image ships)", () => {
    const rows = (ffmpeg: string, cpu: number) =>
      ["keyframes", "interval 10"].flatMap((mode) =>
        ["vidsnap", "vidsnap sequential strategy", "vidsnap before (one sequential run)"].map((pipeline) => ({ mode, pipeline, ffmpeg, cpuSeconds: cpu, peakRssMB: 100, zipBytes: 1 })),
      );
    const bench = {
      createdAt: "",
      builds: [{ name: "lean" }, { name: "PATH" }],
      results: [{ input: "franck-1080p-200s.mp4", facts: "h264 1350x1080, 200.0 s, 22.2 MB", rows: [...rows("PATH", 9), ...rows("lean", 3)] }],
      transcode: [{ pipeline: "vidsnap", cpuSeconds: 150, peakRssMB: 400, outputBytes: 1 }],
    };
    const figures = benchFigures(bench);
    expect(figures.extract.keyframes.cpuSeconds).toBe(3);
    expect(figures.extract.interval.cpuSeconds).toBe(3);
  });

  it("refuses a bench run without CPU seconds", () => {
    expect(() => fitKinds({ ...FIGURES, fixedCpuSeconds: 0 })).toThrow(/fixedCpuSeconds/);
    expect(() => benchFigures({ createdAt: "", results: [], transcode: null })).toThrow(/franck-1080p-200s/);
  });

  it("npm run capacity computes its tables from the committed reference bench run", () => {
    const out = execFileSync(path.join(BIN, "tsx"), ["tools/capacity/main.ts"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(out).toContain(path.relative(REPO_ROOT, REFERENCE_BENCH));
    for (const heading of ["Fitted per-job figures", "Jobs per hour per instance", "Cost per 1,000 jobs", "Which limit binds first"]) expect(out).toContain(heading);
    expect(out).toMatch(/\| 1000× \(/);
  }, 60_000);
});
