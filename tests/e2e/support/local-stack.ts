/**
 * The whole local stack as `npm start` runs it (tools/stack/start.ts in a child process, on free ports and
 * its own data folder), with a Postmark-speaking server recording every email: what the end-to-end tests
 * drive over HTTP only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../../tools/free-port.ts";
import { BIN, REPO_ROOT } from "../../../tools/paths.ts";
import { startPostmarkMock, type PostmarkMock } from "../../../tools/stack/postmark-server.ts";

/** A started stack; `stop()` ends it and removes its data folder. */
export interface E2eStack {
  /** The API's base URL, e.g. `http://127.0.0.1:41234`. */
  baseUrl: string;
  dataDir: string;
  postmark: PostmarkMock;
  /** Everything the stack printed so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Polls `fn` every 250 ms until it returns something other than undefined.
 * @param what named in the timeout error; @param timeoutMs default 30 s
 * @throws Error `timed out waiting for <what>`, or what `fn` throws
 */
export async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Starts the stack and waits (≤ 120 s) for its ready line.
 * @param opts.postmarkToken the server token the email consumer sends with (the recorder accepts `test-token…`)
 * @param opts.dataPrefix prefix of the temporary data folder's name
 * @throws Error with the stack's output when it exits before it is ready
 */
export async function startE2eStack(opts: { postmarkToken: string; dataPrefix: string }): Promise<E2eStack> {
  const postmark = await startPostmarkMock();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), opts.dataPrefix));
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  let output = "";
  const child: ChildProcess = spawn(path.join(BIN, "tsx"), ["tools/stack/start.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      VIDSNAP_DATA_DIR: dataDir,
      VIDSNAP_API_PORT: String(apiPort),
      VIDSNAP_PROCESSOR_PORT: String(processorPort),
      VIDSNAP_S3_PORT: String(s3Port),
      POSTMARK_SERVER_TOKEN: opts.postmarkToken,
      POSTMARK_API_HOST: postmark.host,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (c: Buffer) => (output += c));
  child.stderr!.on("data", (c: Buffer) => (output += c));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT");
      await exited;
    }
    await postmark.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      "the stack to print its ready line",
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
        return output.includes(`vidsnap API ready at ${baseUrl}`) ? true : undefined;
      },
      120_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { baseUrl, dataDir, postmark, log: () => output, stop };
}
