/**
 * Peak resident memory of process trees, sampled from /proc (Linux only): every `intervalMs` the
 * sampler reads `/proc/<pid>/stat` of every process, rebuilds the parent → children map and sums the
 * RSS of the chosen roots and all their descendants. Short spikes between two samples are missed, so
 * the figure is a (close) lower bound of the true peak.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Bytes per page for the `rss` field of /proc/<pid>/stat (4 KiB on x86-64 and arm64 Linux). */
const PAGE_BYTES = 4096;

/** One process: parent pid and resident set size in bytes. */
interface ProcInfo {
  ppid: number;
  rssBytes: number;
}

/** Reads ppid and RSS of every process from /proc; processes that exit meanwhile are skipped. */
function readProcTable(): Map<number, ProcInfo> {
  const table = new Map<number, ProcInfo>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // Fields after the command name (which may contain spaces, inside parentheses).
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // rest[0] = state (field 3), rest[1] = ppid (field 4), rest[21] = rss in pages (field 24).
      table.set(Number(name), { ppid: Number(rest[1]), rssBytes: Number(rest[21]) * PAGE_BYTES });
    } catch {
      // exited between readdir and read
    }
  }
  return table;
}

/**
 * Sum of the RSS of `roots` and all their descendants, bytes.
 * @param roots pids whose trees are summed (duplicates and dead pids are fine)
 */
export function treeRssBytes(roots: Iterable<number>): number {
  const table = readProcTable();
  const children = new Map<number, number[]>();
  for (const [pid, info] of table) {
    const list = children.get(info.ppid);
    if (list) list.push(pid);
    else children.set(info.ppid, [pid]);
  }
  const seen = new Set<number>();
  const stack = [...roots];
  let sum = 0;
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const info = table.get(pid);
    if (!info) continue;
    sum += info.rssBytes;
    stack.push(...(children.get(pid) ?? []));
  }
  return sum;
}

/** A running sampler; `stop()` returns the peak seen, bytes. */
export interface RssSampler {
  stop(): number;
}

/**
 * Samples the summed RSS of the trees of `roots()` every `intervalMs` until stopped.
 * @param roots called at each sample: the pids whose trees count now (e.g. the live children)
 * @param intervalMs sampling period, milliseconds (default 50)
 */
export function startRssSampler(roots: () => Iterable<number>, intervalMs = 50): RssSampler {
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, treeRssBytes(roots()));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/** Clock ticks per second of the /proc/<pid>/stat CPU times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU times of a process from /proc/<pid>/stat, seconds: its own (utime + stime) and that of its children
 * that exited and were reaped (cutime + cstime). The difference over a job is the CPU its tree used (the
 * ffmpeg children are reaped by their parent as they exit), whatever else competes for the cores, so it
 * compares pipelines where wall time on a shared machine does not.
 * @param pid default this process; @returns null when the process is gone
 */
export function cpuSeconds(pid: number | "self" = "self"): { own: number; reapedChildren: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[11..14] = utime, stime, cutime, cstime (fields 14-17).
    return { own: (Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS, reapedChildren: (Number(rest[13]) + Number(rest[14])) / CLOCK_TICKS };
  } catch {
    return null;
  }
}
