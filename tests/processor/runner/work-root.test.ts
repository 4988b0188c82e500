/**
 * The processor's working root (ffmpeg-container/src/runner/work-root.ts): job folders left by a SIGKILLed
 * processor are removed at the next start, while those of a live processor sharing TMPDIR are kept.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { prepareWorkRoot } from "../../../ffmpeg-container/src/runner/work-root.ts";

let tmp: string;
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A pid that existed and is gone: a child that already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("prepareWorkRoot", () => {
  it("removes the folders of dead processors, keeps live ones, and creates its own", async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-workroot-"));
    const dead = path.join(tmp, `vidsnap-processor-${deadPid()}`);
    mkdirSync(path.join(dead, "vidsnap-job-abc"), { recursive: true });
    writeFileSync(path.join(dead, "vidsnap-job-abc", "frame.jpg"), "x");
    const live = path.join(tmp, `vidsnap-processor-${process.ppid}`);
    mkdirSync(path.join(live, "vidsnap-job-def"), { recursive: true });
    const unrelated = path.join(tmp, "vidsnap-processor-not-a-pid");
    mkdirSync(unrelated);

    const { workRoot, removed } = await prepareWorkRoot(tmp);

    expect(existsSync(dead)).toBe(false);
    expect(removed).toEqual([path.basename(dead)]);
    expect(existsSync(path.join(live, "vidsnap-job-def"))).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
    expect(workRoot).toBe(path.join(tmp, `vidsnap-processor-${process.pid}`));
    expect(existsSync(workRoot)).toBe(true);
  });

  it("treats a zombie (killed, not yet reaped) as dead", async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-workroot-"));
    // sh starts `sleep 0`, prints its pid, then becomes `sleep 5`, which never waits for it: once `sleep 0`
    // exits it stays a zombie (state Z) until `sleep 5` ends.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(d.toString()))));
      const stat = () => readFileSync(`/proc/${pid}/stat`, "utf8");
      for (let i = 0; i < 50 && !/\) Z /.test(stat()); i++) await new Promise((r) => setTimeout(r, 20));
      expect(stat()).toMatch(/\) Z /);
      const zombie = path.join(tmp, `vidsnap-processor-${pid}`);
      mkdirSync(path.join(zombie, "vidsnap-job-ghi"), { recursive: true });

      const { removed } = await prepareWorkRoot(tmp);

      expect(removed).toEqual([path.basename(zombie)]);
      expect(existsSync(zombie)).toBe(false);
    } finally {
      parent.kill("SIGKILL");
    }
  });

  it("works on a TMPDIR that does not exist yet", async () => {
    tmp = path.join(os.tmpdir(), `vidsnap-workroot-missing-${process.pid}`);
    const { workRoot, removed } = await prepareWorkRoot(tmp);
    expect(removed).toEqual([]);
    expect(existsSync(workRoot)).toBe(true);
  });
});
