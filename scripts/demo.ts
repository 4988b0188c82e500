/**
 * `npm run demo -- [video file] [--every N | --keyframes]`: the main job, as a REST client.
 * Uses the running local stack at VIDSNAP_API_URL (default http://127.0.0.1:8787) or starts one for
 * the run; signs up or in a demo user, uploads through the presigned URL, completes, shows progress
 * until done, downloads the ZIP into the current folder, checks it, and prints frame count, ZIP size,
 * time taken and the email that was sent. Exit code 0 on success, 1 on extraction error or failure.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import { MIME_BY_EXTENSION, VidsnapClient, uploadFile } from "./lib/api-client.ts";
import { apiBaseUrl } from "./lib/local-config.ts";
import { readEmails } from "./lib/local-emails.ts";
import { REPO_ROOT, startStack, type StackHandle } from "./lib/stack.ts";
import type { ExtractionOptions } from "../schema/extraction-options.ts";

const args = process.argv.slice(2);
let options: ExtractionOptions = { mode: "keyframes" };
const everyAt = args.indexOf("--every");
if (everyAt >= 0) {
  options = { mode: "interval", intervalSeconds: Number.parseFloat(args[everyAt + 1] ?? "10") };
  args.splice(everyAt, 2);
}
const positional = args.filter((a) => !a.startsWith("--"));
const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), positional[0] ?? path.join(REPO_ROOT, "samples/display-dual-monitors.webm"));
const outDir = process.env.INIT_CWD ?? process.cwd();
const baseUrl = process.env.VIDSNAP_API_URL ?? apiBaseUrl();
const dataDir = process.env.VIDSNAP_DATA_DIR ?? path.join(REPO_ROOT, ".data");

const bar = (fraction: number, width = 30) => {
  const done = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(done)}${"-".repeat(width - done)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
};
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

async function isUp(url: string) {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

let stack: StackHandle | undefined;
let exitCode = 1;
try {
  if (!(await isUp(baseUrl))) {
    console.log(`No stack at ${baseUrl}: starting one for this run…`);
    stack = await startStack({ log: () => undefined });
  }
  const started = Date.now();
  const client = new VidsnapClient(baseUrl);
  await client.signUpOrIn("demo@vidsnap.local", "demo-password-123", "vidsnap demo");

  const ext = path.extname(file).slice(1).toLowerCase();
  const sizeBytes = statSync(file).size;
  const { video, upload } = await client.createVideo({
    filename: path.basename(file),
    contentType: MIME_BY_EXTENSION[ext] ?? "application/octet-stream",
    sizeBytes,
    options,
  });
  console.log(`video ${video.id}: ${video.filename} (${mb(sizeBytes)}), ${options.mode === "interval" ? `one image every ${options.intervalSeconds} s` : "one image per keyframe"}`);

  await uploadFile(upload, file, (sent, total) => process.stdout.write(`\rupload     ${bar(sent / total)}`));
  process.stdout.write("\n");
  await client.complete(video.id);

  const outcome = await client.waitForOutcome(video.id, (v) =>
    process.stdout.write(`\rextraction ${bar(v.progress ?? 0)} ${v.status.replace("VIDEO_IMAGE_EXTRACTION_", "").toLowerCase().padEnd(10)}`),
  );
  process.stdout.write("\n");

  if (outcome.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") {
    const list = await client.images(video.id);
    const zipFile = path.join(outDir, `vidsnap-demo-${video.id.slice(0, 8)}.zip`);
    const zipBytes = await client.downloadZip(video.id, zipFile);
    const entries = unzipSync(readFileSync(zipFile));
    const jpegs = Object.keys(entries).filter((n) => n.endsWith(".jpg"));
    if (jpegs.length !== list.imageCount || !entries["manifest.json"]) {
      throw new Error(`ZIP check failed: ${jpegs.length} images in the archive, ${list.imageCount} listed`);
    }
    console.log(`images: ${list.imageCount} (${list.images.map((i) => `${i.timestampSeconds.toFixed(2)}s`).slice(0, 8).join(", ")}${list.imageCount > 8 ? ", …" : ""})`);
    console.log(`zip:    ${zipFile} (${mb(zipBytes)}, checked: ${jpegs.length} JPEGs + manifest.json)`);
    exitCode = 0;
  } else {
    console.log(`extraction failed: ${outcome.errorMessage}\n  ${outcome.errorDescription ?? ""}`);
  }
  console.log(`time:   ${((Date.now() - started) / 1000).toFixed(1)} s from sign-in to download`);

  // The email consumer runs asynchronously: give it a few seconds.
  for (let i = 0; i < 20; i++) {
    const emails = await readEmails(dataDir, video.id).catch(() => []);
    if (emails.length > 0) {
      for (const e of emails) console.log(`email:  [${e.status}] to ${e.to}: "${e.subject}"\n${e.text_body.replace(/^/gm, "        ")}`);
      break;
    }
    if (i === 19) console.log("email:  none recorded yet (see the wrangler log)");
    await new Promise((r) => setTimeout(r, 500));
  }
} catch (err) {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await stack?.stop();
}
process.exit(exitCode);
