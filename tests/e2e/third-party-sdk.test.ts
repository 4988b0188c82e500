/**
 * An independent generator accepts the OpenAPI document: @hey-api/openapi-ts (run on the production Node
 * LTS, tools/node-lts.ts: it needs Node ≥ 22.18) generates a TypeScript SDK from client/openapi.json into a
 * temporary folder. Its functions must carry the document's readable operationIds (`createVideo`, not a name
 * made up from the path); a short script written as a third party would write it type-checks against the
 * generated SDK, then signs up, uploads franck.mp4 through a presigned PUT, completes, polls until success
 * and downloads the ZIP from a real local stack (tools/stack/stack.ts on free ports).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../tools/free-port.ts";
import { ensureNodeLts } from "../../tools/node-lts.ts";
import { BIN, packageBin, REPO_ROOT, testVideo } from "../../tools/paths.ts";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";

const run = promisify(execFile);
const spec = JSON.parse(readFileSync(path.join(REPO_ROOT, "client/openapi.json"), "utf8")) as {
  paths: Record<string, Record<string, { operationId?: string }>>;
};

/**
 * What a third party writes against the generated SDK (./sdk). Sign-up and sign-in are better-auth's and
 * not in the document, so they are plain fetches; sign-up does not sign in, the session token comes back
 * in the `set-auth-token` header of the sign-in.
 * argv: API base URL, video file, where to save the ZIP. Prints `{id, imageCount}` as JSON.
 */
const SCRIPT = `
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { client } from "./sdk/client.gen";
import { completeVideoUpload, createVideo, downloadVideoArchive, getVideo } from "./sdk";

const [baseUrl, videoFile, zipFile] = process.argv.slice(2) as [string, string, string];
const account = { email: "sdk-" + Date.now() + "@example.com", password: "correct-horse-battery-staple" };
const signUp = await fetch(baseUrl + "/api/auth/sign-up/email", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: "SDK user", ...account }),
});
if (!signUp.ok) throw new Error("sign-up answered " + signUp.status);
const signIn = await fetch(baseUrl + "/api/auth/sign-in/email", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(account),
});
const token = signIn.headers.get("set-auth-token");
if (!signIn.ok || !token) throw new Error("sign-in answered " + signIn.status);
client.setConfig({ baseUrl, auth: token });

const bytes = readFileSync(videoFile);
const { data: created } = await createVideo({
  body: { filename: path.basename(videoFile), contentType: "video/mp4", sizeBytes: bytes.length },
  throwOnError: true,
});
const id = created.video.id;
if (!("upload" in created)) throw new Error("expected upload instructions");
const upload = created.upload;
if (upload.method !== "PUT") throw new Error("expected a single presigned PUT, got " + upload.method);
const put = await fetch(upload.url, { method: "PUT", headers: upload.headers, body: bytes });
if (!put.ok) throw new Error("PUT answered " + put.status);
await completeVideoUpload({ path: { id }, body: {}, throwOnError: true });

const deadline = Date.now() + 40_000;
for (;;) {
  const { data } = await getVideo({ path: { id }, throwOnError: true });
  if (data.video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") break;
  if (data.video.status === "VIDEO_IMAGE_EXTRACTION_ERROR") throw new Error("extraction failed: " + data.video.errorMessage);
  if (Date.now() > deadline) throw new Error("still " + data.video.status + " after 40 s");
  await new Promise((r) => setTimeout(r, 500));
}
const { data: zip } = await downloadVideoArchive({ path: { id }, parseAs: "arrayBuffer", throwOnError: true });
writeFileSync(zipFile, Buffer.from(zip as ArrayBuffer));
const { data } = await getVideo({ path: { id }, throwOnError: true });
console.log(JSON.stringify({ id, imageCount: data.video.imageCount }));
`;

let tmp: string;
let stack: StackHandle | undefined;
let stackLog = "";

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "vidsnap-sdk-"));
  const [apiPort, processorPort, s3Port] = [await freePort(), await freePort(), await freePort()];
  const generate = run(
    ensureNodeLts(),
    [packageBin("@hey-api/openapi-ts"), "-i", path.join(REPO_ROOT, "client/openapi.json"), "-o", path.join(tmp, "sdk"), "--no-log-file", "-s"],
    { cwd: tmp, timeout: 60_000 },
  );
  const started = startStack({ dataDir: path.join(tmp, "data"), apiPort, processorPort, s3Port, log: (l) => (stackLog += l + "\n") });
  const [gen, st] = await Promise.allSettled([generate, started]);
  if (st.status === "fulfilled") stack = st.value;
  if (gen.status === "rejected") throw gen.reason;
  if (st.status === "rejected") throw new Error(`stack did not start: ${(st.reason as Error).message}\n${stackLog.slice(-4000)}`);
  writeFileSync(path.join(tmp, "package.json"), JSON.stringify({ type: "module", private: true }));
  writeFileSync(path.join(tmp, "main.ts"), SCRIPT);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 30_000);

describe("an SDK generated by @hey-api/openapi-ts from client/openapi.json", () => {
  it("names its functions after the operationIds", () => {
    const sdk = readFileSync(path.join(tmp, "sdk/sdk.gen.ts"), "utf8");
    const functions = [...sdk.matchAll(/^export const (\w+) =/gm)].map((m) => m[1]).sort();
    // Without operationIds it invents names from the path (`postV1Videos`, `getV1VideosByIdImagesZip`).
    expect(functions).toEqual(expect.arrayContaining(["createVideo", "listVideos", "getVideo", "completeVideoUpload", "downloadVideoArchive"]));
    const operationIds = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)).sort();
    expect(functions).toEqual(operationIds);
  });

  it("a third party's script type-checks against it (tsc --strict)", async () => {
    writeFileSync(
      path.join(tmp, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2023", "DOM"], strict: true,
          noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [path.join(REPO_ROOT, "node_modules/@types")],
        },
        include: ["main.ts", "sdk"],
      }),
    );
    const res = await run(process.execPath, [packageBin("typescript", "tsc"), "-p", tmp], { cwd: tmp }).catch(
      (err: { stdout?: string; code?: number }) => ({ stdout: `exit ${err.code}: ${err.stdout}` }),
    );
    expect(res.stdout).toBe("");
  });

  it("signs up, uploads franck.mp4, waits for the extraction and downloads a ZIP of images against the local stack", async () => {
    const zipFile = path.join(tmp, "images.zip");
    const { stdout } = await run(path.join(BIN, "tsx"), ["main.ts", stack!.apiUrl, testVideo("franck.mp4"), zipFile], { cwd: tmp, timeout: 60_000 }).catch(
      (err: { stdout?: string; stderr?: string }) => {
        throw new Error(`script failed:\n${err.stdout}\n${err.stderr}\nstack:\n${stackLog.slice(-3000)}`);
      },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as { id: string; imageCount: number };
    expect(result.imageCount).toBeGreaterThan(0);
    const entries = unzipSync(new Uint8Array(readFileSync(zipFile)));
    const images = Object.keys(entries).filter((name) => /^images\/\d{6}_t[\d.]+\.jpg$/.test(name));
    expect(images).toHaveLength(result.imageCount);
    expect(entries["manifest.json"]).toBeDefined();
    expect(entries[images[0]!]!.subarray(0, 3)).toEqual(new Uint8Array([0xff, 0xd8, 0xff])); // a JPEG
  });
});
