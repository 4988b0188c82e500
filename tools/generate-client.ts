/**
 * `npm run client:generate`: refreshes the typed client from the API itself.
 *   1. starts edge-api alone under `wrangler dev` (offline, 127.0.0.1, a free port, throw-away state, an
 *      empty assets folder): the app cannot be imported in Node (it imports `cloudflare:workers` through
 *      @cloudflare/containers);
 *   2. fetches `/openapi.json` and writes it to client/openapi.json (two-space JSON);
 *   3. generates client/src/openapi.d.ts from it with openapi-typescript (client/codegen.ts);
 *   4. stops wrangler and prints what changed.
 * PUBLIC_BASE_URL keeps wrangler.toml's value, so `servers` matches what the workers tests serve.
 * Exit code 0 on success, 1 when wrangler does not serve the document within 120 s or it cannot be read.
 * The freshness tests (tests/workers/routes/openapi-client.test.ts, tests/cli/client-generated.test.ts) fail
 * until this is run after an API change.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { formatSpec, generateTypes } from "../client/codegen.ts";
import { freePort } from "./free-port.ts";
import { LOCAL_PROCESSOR_SHARED_SECRET, stopChild } from "./stack/stack.ts";
import { BIN, REPO_ROOT } from "./paths.ts";
import { offlineWranglerEnv } from "./wrangler.ts";

const SPEC_FILE = path.join(REPO_ROOT, "client/openapi.json");
const TYPES_FILE = path.join(REPO_ROOT, "client/src/openapi.d.ts");
/** How long wrangler may take to serve the document (2 to 4 s idle; much more on a loaded machine). */
const START_TIMEOUT_MS = 120_000;

/**
 * Runs edge-api under `wrangler dev` just long enough to read its OpenAPI document.
 * @returns the parsed `/openapi.json`
 * @throws Error with wrangler's output when it exits early or the document is not served within 60 s
 */
async function fetchSpecFromWorker(): Promise<unknown> {
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const stateDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-client-gen-"));
  // An empty assets folder instead of wrangler.toml's web/dist: the document does not depend on the
  // dashboard, so the dashboard need not be built (or buildable) to generate the client.
  const assetsDir = path.join(stateDir, "assets");
  mkdirSync(assetsDir);
  const child = spawn(
    path.join(BIN, "wrangler"),
    [
      "dev", "-c", "wrangler.toml",
      "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
      "--persist-to", path.join(stateDir, "state"), "--assets", assetsDir,
      "--show-interactive-dev-session=false", "--log-level", "warn",
      // The config requires the secret in every environment; nothing here calls the processor.
      "--var", `PROCESSOR_SHARED_SECRET:${LOCAL_PROCESSOR_SHARED_SECRET}`,
    ],
    { cwd: REPO_ROOT, env: offlineWranglerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c));
  child.stderr!.on("data", (c: Buffer) => (output += c));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal); // its process group: wrangler and workerd
    } catch {
      /* gone */
    }
  };
  // wrangler runs in its own process group: Ctrl-C here must still stop it.
  const onSigint = () => {
    kill("SIGKILL");
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = "no answer";
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
      let res: Response | undefined;
      try {
        res = await fetch(`http://127.0.0.1:${port}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
      } catch {
        /* not listening yet */
      }
      if (res?.ok) return await res.json();
      if (res) {
        last = `${res.status}: ${(await res.text()).slice(0, 500)}`;
        if (res.status < 500) throw new Error(`/openapi.json answered ${last}`);
      }
      await new Promise((r) => setTimeout(r, 300)); // starting, or reloading (5xx)
    }
    throw new Error(`wrangler dev did not serve /openapi.json within ${START_TIMEOUT_MS / 1000} s (last: ${last}):\n${output}`);
  } finally {
    process.off("SIGINT", onSigint);
    await stopChild(child);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Writes `text` to `file` when it differs; @returns whether the file changed. */
function writeIfChanged(file: string, text: string): boolean {
  let old: string | undefined;
  try {
    old = readFileSync(file, "utf8");
  } catch {
    /* new file */
  }
  if (old === text) return false;
  writeFileSync(file, text);
  return true;
}

try {
  const spec = await fetchSpecFromWorker();
  const specChanged = writeIfChanged(SPEC_FILE, formatSpec(spec));
  const typesChanged = writeIfChanged(TYPES_FILE, await generateTypes(spec));
  const paths = Object.keys((spec as { paths?: object }).paths ?? {}).length;
  console.log(`client/openapi.json      ${specChanged ? "updated" : "unchanged"} (${paths} paths)`);
  console.log(`client/src/openapi.d.ts  ${typesChanged ? "updated" : "unchanged"}`);
} catch (err) {
  console.error(`client:generate failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}
