/**
 * A generation through the whole local stack (`npm start`: wrangler dev with both Workers, the real processor
 * with ffmpeg, the local S3 server), the generator being docs/examples/generator.ts itself, run as a child
 * process: vidsnap's signed request reaches it through the vidsnap-webhooks queue, it verifies the signature,
 * renders a test-pattern video with ffmpeg, calls back with its URL; the processor imports it and the
 * extraction runs. Driven by the CLI in-process (`vidsnap generators add`, `vidsnap generate --wait`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/src/cli.ts";
import { authenticate, createVidsnapClient, unwrap, type Video } from "../../client/src/index.ts";
import { freePort } from "../../tools/free-port.ts";
import { BIN, REPO_ROOT } from "../../tools/paths.ts";
import { startE2eStack, waitFor, type E2eStack } from "./support/local-stack.ts";

let e2e: E2eStack;
let token: string;
let generator: ChildProcess | undefined;
let home: string;

beforeAll(async () => {
  e2e = await startE2eStack({ postmarkToken: "test-token-e2e-generations", dataPrefix: "vidsnap-e2e-generations-" });
  ({ token } = await authenticate(e2e.baseUrl, "sign-up", { email: "generations@example.com", password: "correct-horse-battery", name: "Gen" }));
  home = mkdtempSync(path.join(os.tmpdir(), "vidsnap-cli-generate-"));
}, 150_000);

afterAll(async () => {
  generator?.kill();
  await e2e?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
}, 30_000);

async function cli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin: Readable.from([]),
    env: { HOME: home, XDG_CONFIG_HOME: home, VIDSNAP_API_URL: e2e.baseUrl, VIDSNAP_TOKEN: token },
    cwd: home,
  });
  return { code, stdout, stderr };
}

describe("a generation on the local stack, with the documented Node generator", () => {
  it("generators add → generate --wait: signed request, ffmpeg render, callback, import, extraction", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const added = await cli(["generators", "add", "test pattern", `${url}/`, "--json"]);
    expect(added.code, added.stderr).toBe(0);
    const { generator: g, secret } = JSON.parse(added.stdout) as { generator: { id: string }; secret: string };

    let generatorLog = "";
    generator = spawn(path.join(BIN, "tsx"), [path.join(REPO_ROOT, "docs/examples/generator.ts")], {
      env: { ...process.env, SECRET: secret, PORT: String(port), PUBLIC_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    generator.stdout?.on("data", (d: Buffer) => (generatorLog += d));
    generator.stderr?.on("data", (d: Buffer) => (generatorLog += d));
    await waitFor("the generator to listen", async () => (await fetch(`${url}/files/none`).catch(() => undefined))?.status === 404 || undefined);

    const run = await cli(["generate", "--generator", g.id, "--input", '{"seconds": 4}', "--title", "pattern.mp4", "--every", "1s", "--wait", "--json"]);
    expect(run.code, `${run.stderr}\n${generatorLog}\n${e2e.log().slice(-3000)}`).toBe(0);
    const video = (JSON.parse(run.stdout) as { video: Video }).video;
    expect(video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", filename: "pattern.mp4", attempt: 2, imageCount: 4 });
    expect(video.sourceUrl).toBe(`${url}/files/${video.id}.mp4`);

    const api = createVidsnapClient({ baseUrl: e2e.baseUrl, token });
    const events = unwrap(await api.GET("/v1/videos/{id}/events", { params: { path: { id: video.id }, query: { limit: 100 } } })).data.reverse();
    expect(events.map((e) => [e.jobKind, e.toStatus, e.source])).toEqual([
      ["generation", "VIDEO_GENERATION_PENDING", "user"],
      ["generation", "VIDEO_GENERATION_PENDING", "api"],
      ["generation", "VIDEO_IMPORT_QUEUED", "generator"],
      ["import", "VIDEO_IMPORTING", "processor"],
      ["import", "VIDEO_UPLOAD_PENDING", "processor"],
      ["extract", "VIDEO_IMAGE_EXTRACTION_QUEUED", expect.any(String)],
      ["extract", "VIDEO_IMAGE_EXTRACTION_PROCESSING", "processor"],
      ["extract", "VIDEO_IMAGE_EXTRACTION_SUCCESS", "processor"],
    ]);
  }, 180_000);
});
