/**
 * The API reference at `/docs` (Scalar's bundle, served from the Worker's static assets) in Debian's
 * Chromium, driven by playwright-core, against the local stack (tools/stack/stack.ts on free ports; a
 * stand-in answers the processor's /healthz, since no video is processed here). Checks that the page
 * renders the document (the Video schema's fields and enum values, Markdown in descriptions), that
 * "Test Request" calls the API on the same origin, and that throughout no CSP violation, no page error
 * and no request to another origin happened.
 * Skipped, with a message, only when /usr/bin/chromium is absent (.ci/run installs it).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT } from "../../tools/paths.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`tests/browser skipped: ${CHROMIUM} is missing (apt-get install --no-install-recommends chromium)`);

const SHOTS = path.join(REPO_ROOT, ".data/screenshots");

let stack: StackHandle;
let processor: http.Server;
let dataDir: string;
let stackLog = "";
let browser: Browser;
let page: Page;
const problems: string[] = []; // CSP violations, page errors
const requested: string[] = []; // every URL the page asked for

describe.skipIf(!hasChromium)("the API reference (/docs) in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-docs-"));
    const processorPort = await freePort();
    processor = http.createServer((req, res) => {
      res.writeHead(req.url === "/healthz" ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: req.url === "/healthz", runningJobs: 0 }));
    });
    await new Promise<void>((resolve) => processor.listen(processorPort, "127.0.0.1", resolve));
    stack = await startStack({
      dataDir,
      apiPort: await freePort(),
      s3Port: await freePort(),
      processorUrl: `http://127.0.0.1:${processorPort}`,
      log: (line) => (stackLog = (stackLog + line + "\n").slice(-20_000)),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    // Chromium reports a refused inline style or eval both on the console and as an event; the event also
    // covers what a script catches.
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`securitypolicyviolation: ${e.effectiveDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`),
      );
    });
    page.on("console", (m) => {
      if (/securitypolicyviolation|Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("request", (r) => requested.push(r.url()));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await new Promise((resolve) => processor?.close(resolve));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("serves Scalar's bundle from the Worker's static assets, byte for byte the one in node_modules", async () => {
    const entry = createRequire(import.meta.url).resolve("@scalar/api-reference");
    const bundle = readFileSync(path.join(path.dirname(entry), "browser/standalone.js"));
    const res = await fetch(`${stack.apiUrl}/docs-assets/scalar-api-reference.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    const served = Buffer.from(await res.arrayBuffer());
    expect(createHash("sha256").update(served).digest("hex")).toBe(createHash("sha256").update(bundle).digest("hex"));
  });

  it("renders the page under its CSP, with the nonce on every style sheet", async () => {
    const res = await page.goto(`${stack.apiUrl}/docs`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self';");
    expect(csp).toMatch(/style-src 'self' 'nonce-[A-Za-z0-9+/=]+';/);
    await page.getByRole("heading", { name: "vidsnap API" }).first().waitFor();
    const sheets = await page.evaluate(() => Array.from(document.querySelectorAll("style"), (s) => s.nonce));
    expect(sheets.length).toBeGreaterThanOrEqual(3);
    const nonce = csp.match(/'nonce-([^']+)'/)![1];
    expect(sheets.every((n) => n === nonce)).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, "docs-01-intro.png") });
  });

  it("renders Markdown in descriptions: backticks become <code>", async () => {
    // info.description: "Errors are RFC 9457 problem details (`application/problem+json`)."
    const codes = await page.locator("code").allTextContents();
    expect(codes).toContain("application/problem+json");
    expect(await page.locator("body").innerText()).not.toContain("`application/problem+json`");
  });

  it("shows the Video schema's fields and enum values", async () => {
    await page.getByRole("button", { name: /Models/ }).first().click();
    await page.getByRole("link", { name: "Video", exact: true }).click();
    await page.getByText("imagesSoFar", { exact: true }).first().waitFor();
    const text = await page.locator("body").innerText();
    for (const field of ["status", "imageCount", "imagesSoFar", "zipSizeBytes", "errorMessage"]) expect(text).toContain(field);
    // The status enum, and a description from the schema.
    for (const status of ["VIDEO_UPLOAD_PENDING", "VIDEO_IMAGE_EXTRACTION_SUCCESS", "VIDEO_IMAGE_EXTRACTION_ERROR"]) expect(text).toContain(status);
    expect(text).toContain("Current attempt; 0 until the upload is completed.");
    await page.screenshot({ path: path.join(SHOTS, "docs-02-video-schema.png") });
  });

  it("sends a test request to the API on the same origin", async () => {
    await page.getByRole("link", { name: /Liveness/ }).first().click();
    await page.getByRole("button", { name: /Test Request/ }).first().click();
    const answer = page.waitForResponse((r) => r.url() === `${stack.apiUrl}/healthz`);
    await page.getByRole("button", { name: /^Send/ }).first().click();
    const res = await answer;
    expect(res.status()).toBe(200);
    await page.getByText("200 OK").first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, "docs-03-test-request.png") });
  });

  it("had no CSP violation, no page error and no request to another origin", () => {
    expect(problems, stackLog.slice(-3000)).toEqual([]);
    const origin = new URL(stack.apiUrl).origin;
    const elsewhere = requested.filter((u) => !u.startsWith("data:") && !u.startsWith("blob:") && new URL(u).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requested).toContain(`${origin}/openapi.json`);
  });
});
