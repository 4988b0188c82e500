/**
 * `npm run demo -- [video file] [--every N | --keyframes]`: the main job, done with the `vidsnap` CLI's
 * command functions (cli/src/commands, in-process: the same code `npm run vidsnap` runs).
 * Uses the running local stack at VIDSNAP_API_URL (default http://127.0.0.1:8787, or the port VIDSNAP_API_PORT)
 * or starts one for the run (on VIDSNAP_API_PORT, VIDSNAP_PROCESSOR_PORT, VIDSNAP_S3_PORT, data in VIDSNAP_DATA_DIR,
 * like `npm start`); signs in (or up) a demo user, uploads the file with a progress bar, follows the extraction,
 * lists the images, downloads the ZIP into the current folder, checks it, and prints image count and
 * timestamps, ZIP size, time taken and the email that was sent (recorded locally).
 * The demo user's token is kept in `<data dir>/demo-config` so your own `vidsnap login` is untouched.
 * Before starting a stack it checks ffmpeg and ffprobe (./stack/ffmpeg-preflight.ts) and stops with the
 * commands that install them when either does not run.
 * Exit code 0 on success, 1 on extraction error or failure.
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { unzipSync } from "fflate";
import { isVidsnapApiError, type ExtractionOptions } from "../client/src/index.ts";
import { download } from "../cli/src/commands/download.ts";
import { listImages } from "../cli/src/commands/images.ts";
import { login } from "../cli/src/commands/login.ts";
import { parseInterval, upload } from "../cli/src/commands/upload.ts";
import { describeOptions } from "../cli/src/commands/status.ts";
import { createContext, describeError, formatBytes, processIO } from "../cli/src/context.ts";
import { REPO_ROOT } from "./paths.ts";
import { apiBaseUrl } from "./stack/local-config.ts";
import { ffmpegPreflight } from "./stack/ffmpeg-preflight.ts";
import { readEmails, readVerificationEmail, verifyAddress } from "./stack/local-emails.ts";
import { startStack, type StackHandle } from "./stack/stack.ts";

const DEMO_USER = { email: "demo@vidsnap.local", password: "demo-password-123", name: "vidsnap demo" };

const args = process.argv.slice(2);
let options: ExtractionOptions = { mode: "keyframes" };
const everyAt = args.indexOf("--every");
if (everyAt >= 0) {
  options = { mode: "interval", intervalSeconds: parseInterval(args[everyAt + 1] ?? "10") };
  args.splice(everyAt, 2);
}
const positional = args.filter((a) => !a.startsWith("--"));
const io = processIO(); // cwd = INIT_CWD (where `npm run demo` was typed)
const file = path.resolve(io.cwd, positional[0] ?? path.join(REPO_ROOT, "samples/display-dual-monitors.webm"));
// The same settings as `npm start` (tools/stack/start.ts), so the demo finds that stack, or starts its own there.
const envPort = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
const apiPort = envPort("VIDSNAP_API_PORT");
const baseUrl = process.env.VIDSNAP_API_URL ?? apiBaseUrl(apiPort);
const dataDir = path.resolve(process.env.VIDSNAP_DATA_DIR ?? path.join(REPO_ROOT, ".data"));

async function isUp(url: string) {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/**
 * Confirms the demo user's address as its owner would, so the outcome email is sent (emails go to verified
 * addresses only): takes the link of the verification email in the local outbox (`account_emails`), asking
 * for a new one when sign-up did not just send one (a demo user from an earlier run), and opens it.
 * Non-fatal: without it the demo still runs, it only gets no email.
 * @param before the newest verification email in the outbox before signing in/up (undefined: none)
 */
async function verifyDemoAddress(apiUrl: string, token: string, before: string | undefined, outbox: () => Promise<string | undefined>) {
  const session = (await (await fetch(`${apiUrl}/api/auth/get-session`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
    user?: { emailVerified?: boolean };
  } | null;
  if (session?.user?.emailVerified) return;
  try {
    let previous = before;
    const latest = await outbox().catch(() => undefined);
    if (latest === undefined || latest === before) {
      previous = latest;
      const res = await fetch(`${apiUrl}/api/auth/send-verification-email`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: DEMO_USER.email }),
      });
      await res.body?.cancel();
    }
    await verifyAddress(async () => {
      const text = await outbox();
      return text !== previous ? text : undefined;
    });
    console.log(`verify:  ${DEMO_USER.email} confirmed with the link of the verification email in the local outbox`);
  } catch (err) {
    console.log(`verify:  ${DEMO_USER.email} not confirmed (${(err as Error).message}): no outcome email will be sent`);
  }
}

let stack: StackHandle | undefined;
let starting: Promise<StackHandle> | undefined;
/** The last lines the stack's components printed, shown when the demo fails. */
const stackLog: string[] = [];
let exitCode = 1;

/** Stops the stack this run started (once it is up; nothing when it used a running one). Same promise for every caller. */
let stopping: Promise<void> | undefined;
const stopStack = () =>
  (stopping ??= (starting ?? Promise.resolve(undefined)).then(
    (s) => s?.stop(),
    () => undefined, // startStack failed: it stopped what it had started
  ));

// Ctrl-C (or SIGTERM): the stack's components run in their own process groups (tools/stack/stack.ts), so
// they would outlive the demo and keep its ports; stop them first. A second Ctrl-C exits at once.
let interruptedCode: number | undefined;
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.on(signal, () => {
    if (interruptedCode !== undefined) process.exit(code);
    interruptedCode = code;
    console.error(`\n${signal}: stopping the demo${starting ? " and its stack" : ""}…`);
    void stopStack().finally(() => process.exit(code));
  });
}

try {
  if (!(await isUp(baseUrl))) {
    const preflight = await ffmpegPreflight("npm run demo");
    if (!preflight.ok) {
      console.error(preflight.message);
      process.exit(1);
    }
    console.log(`No stack at ${baseUrl}: starting one for this run…`);
    for (const line of preflight.lines) console.log(`  ${line}`);
    starting = startStack({
      dataDir,
      apiPort,
      processorPort: envPort("VIDSNAP_PROCESSOR_PORT"),
      s3Port: envPort("VIDSNAP_S3_PORT"),
      log: (line) => {
        stackLog.push(line);
        if (stackLog.length > 30) stackLog.shift();
      },
    });
    stack = await starting;
  }
  const started = Date.now();
  const ctx = createContext(
    { ...io, env: { ...process.env, XDG_CONFIG_HOME: path.join(dataDir, "demo-config") } },
    { apiUrl: stack?.apiUrl ?? baseUrl, json: false },
  );
  const outbox = () => readVerificationEmail(dataDir, DEMO_USER.email);
  const outboxBefore = await outbox().catch(() => undefined);
  try {
    await login(ctx, DEMO_USER);
  } catch (err) {
    if (!isVidsnapApiError(err) || err.status !== 401) throw err;
    await login(ctx, { ...DEMO_USER, signUp: true });
  }
  await verifyDemoAddress(ctx.apiUrl, ctx.token!, outboxBefore, outbox);

  console.log(
    `upload:  ${path.basename(file)} (${formatBytes(statSync(file).size)}), ${describeOptions(options)}`,
  );
  const { video } = await upload(ctx, { file, options, wait: true });
  console.log(`video:   ${video.id}`);

  if (video.status === "VIDEO_IMAGE_EXTRACTION_SUCCESS") {
    const list = await listImages(ctx, video.id);
    const saved = await download(ctx, video.id, `vidsnap-demo-${video.id.slice(0, 8)}.zip`);
    const entries = unzipSync(readFileSync(saved.file));
    const images = Object.keys(entries).filter((n) => n !== "manifest.json");
    const listed = new Set(list.images.map((i) => i.fileName));
    if (images.length !== list.imageCount || !images.every((n) => listed.has(n)) || !entries["manifest.json"]) {
      throw new Error(`ZIP check failed: ${images.length} images in the archive, ${list.imageCount} listed`);
    }
    console.log(
      `images:  ${list.imageCount} (${list.images.map((i) => `${i.timestampSeconds.toFixed(2)}s`).slice(0, 8).join(", ")}${list.imageCount > 8 ? ", …" : ""})`,
    );
    console.log(`zip:     ${saved.file} (${formatBytes(saved.bytes)}, checked: ${images.length} images + manifest.json)`);
    exitCode = 0;
  } else {
    console.log(`extraction failed: ${video.errorMessage}\n  ${video.errorDescription ?? ""}`);
  }
  console.log(`time:    ${((Date.now() - started) / 1000).toFixed(1)} s from sign-in to download`);

  // The email consumer runs asynchronously: give it a few seconds.
  for (let i = 0; i < 20; i++) {
    const emails = await readEmails(dataDir, video.id).catch(() => []);
    if (emails.length > 0) {
      for (const e of emails) console.log(`email:   [${e.status}] to ${e.to}: "${e.subject}"\n${e.text_body.replace(/^/gm, "         ")}`);
      break;
    }
    if (i === 19) console.log("email:   none recorded yet (see the wrangler log)");
    await new Promise((r) => setTimeout(r, 500));
  }
  const apiFlag = ctx.apiUrl === apiBaseUrl() ? "" : ` --api-url ${ctx.apiUrl}`;
  console.log(`cli:     npm run vidsnap -- login${apiFlag} --email ${DEMO_USER.email} --password ${DEMO_USER.password}, then npm run vidsnap -- ls${apiFlag}`);
} catch (err) {
  if (interruptedCode === undefined) {
    console.error(`demo failed: ${describeError(err).message}`);
    if (stackLog.length) console.error(`last lines of the stack's log:\n${stackLog.join("\n")}`);
  }
} finally {
  await stopStack();
}
process.exit(interruptedCode ?? exitCode);
