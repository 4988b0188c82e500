/**
 * The processor's working root `<TMPDIR>/vidsnap-processor-<pid>/`, parent of the job folders
 * (`vidsnap-job-*`). The runner removes a job's folder whatever happens, except when the process is
 * SIGKILLed (OOM killer, container runtime, `kill -9`); so at start the roots of processes that no longer
 * exist are removed, and only those: another processor sharing TMPDIR keeps its folders.
 */
import { readFileSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";

const PREFIX = "vidsnap-processor-";

/**
 * Whether a process with this pid still runs (EPERM: it exists but belongs to someone else). A zombie
 * (state `Z`/`X` in /proc/<pid>/stat: killed, not yet reaped by its parent or init) answers signal 0 like a
 * live process but runs no code, so it counts as dead: right after a SIGKILL of the old processor's
 * process group its node process can linger as a zombie while the new processor sweeps.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // "pid (comm) S …": the state follows the last ")" (comm may contain spaces or parentheses).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true; // no /proc (not Linux) or gone meanwhile: trust the signal check
  }
}

/**
 * Removes the working roots of dead processors under `tmpDir`, then creates this process's own.
 * @param tmpDir TMPDIR of the configuration
 * @returns the working root to use as the jobs' parent folder, and the dead roots removed
 */
export async function prepareWorkRoot(tmpDir: string): Promise<{ workRoot: string; removed: string[] }> {
  const removed: string[] = [];
  for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    await rm(path.join(tmpDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  const workRoot = path.join(tmpDir, `${PREFIX}${process.pid}`);
  await mkdir(workRoot, { recursive: true });
  return { workRoot, removed };
}
