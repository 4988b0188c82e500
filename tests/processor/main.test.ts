/**
 * The entry point as the container runs it (`ffmpeg-container/src/main.ts`, here through tsx on the Node
 * running the tests, so the processor suite's Node, tools/test.ts): env
 * config, the JSON "listening" line, /healthz, graceful exit on SIGTERM, and exit 1 with a JSON error
 * line on invalid configuration.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../tools/paths.ts";

const TSX = path.join(REPO_ROOT, "node_modules/tsx/dist/cli.mjs");
const MAIN = path.join(REPO_ROOT, "ffmpeg-container/src/main.ts");

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, [TSX, MAIN], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c));
  child.stderr.on("data", () => undefined);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const line = async (pred: (o: Record<string, unknown>) => boolean, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const l of out.split("\n").filter((x) => x.startsWith("{"))) {
        const o = JSON.parse(l) as Record<string, unknown>;
        if (pred(o)) return o;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no matching log line in:\n${out}`);
  };
  return { child, exited, line };
}

describe("main.ts", () => {
  it("listens, answers /healthz, exits 0 on SIGTERM", async () => {
    const m = startMain({
      PORT: "0",
      S3_ENDPOINT: "http://127.0.0.1:9",
      VIDEOS_BUCKET: "v",
      IMAGES_BUCKET: "i",
      PROCESSOR_SHARED_SECRET: "main-test-shared-secret-0123456789abcdef",
    });
    const listening = await m.line((o) => o.msg === "listening");
    expect(listening).toMatchObject({ level: "info", msg: "listening" });
    const url = listening.url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/healthz`);
    expect(await res.json()).toEqual({ ok: true, runningJobs: 0, waitingJobs: 0 });
    m.child.kill("SIGTERM");
    expect(await m.exited).toBe(0);
    await m.line((o) => o.msg === "stopped");
  });

  it("exits 1 with a JSON error line naming the missing variables", async () => {
    const m = startMain({ PROCESSOR_SHARED_SECRET: "never-logged-secret" });
    const error = await m.line((o) => o.level === "error");
    expect(String(error.error)).toMatch(/S3_ENDPOINT/);
    // The processor never starts without the secret that authenticates job requests (this one is too short).
    expect(String(error.error)).toMatch(/PROCESSOR_SHARED_SECRET/);
    expect(JSON.stringify(error)).not.toContain("never-logged-secret");
    expect(await m.exited).toBe(1);
  });
});
