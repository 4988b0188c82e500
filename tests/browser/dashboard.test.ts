/**
 * The web dashboard (web/, served by edge-api as Workers static assets) in Debian's Chromium, driven by
 * playwright-core, against a real local stack (tools/stack/stack.ts on free ports: S3 server, D1, processor
 * with ffmpeg, wrangler dev). Steps, in order, one user:
 *   sign-up (session in an HttpOnly cookie, nothing in web storage) → a file of the wrong type is refused
 *   before any request → upload a real video (single presigned PUT, throttled uplink: the bar moves) with
 *   every-10-s options, extraction progress to done → a cancelled upload leaves nothing → a dropped file
 *   is uploaded too → image grid (images read from the ZIP), the timeline and lightbox → Download ZIP, checked with fflate →
 *   renditions asked on the video page (a bad height shows the API's field message; MP4 + HLS of a trim: progress
 *   with speed and ETA, the MP4 played in a <video> and downloaded, HLS played natively or offered as a link) → a large
 *   video over the multipart threshold (set low here) → a corrupted video shows its error and Retry →
 *   Delete with confirmation (dismissed, then accepted) → API keys and webhook endpoints → phone-sized
 *   screen without horizontal scrolling → sign-out (the API then refuses the browser).
 * No CSP violation or page error may happen throughout. Screenshots of each step go to .data/screenshots/
 * (git-ignored; docs/dashboard.png is one of them).
 * Skipped, with a message, only when /usr/bin/chromium is absent (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type StackHandle } from "../../tools/stack/stack.ts";
import { freePort } from "../../tools/free-port.ts";
import { REPO_ROOT, testVideo } from "../../tools/paths.ts";
import { startRemoteServer, type RemoteServer } from "../processor/import/remote-server.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`tests/browser skipped: ${CHROMIUM} is missing (apt-get install --no-install-recommends chromium)`);

const SHOTS = path.join(REPO_ROOT, ".data/screenshots");
/** Multipart threshold of this stack: franck.mp4 (3.4 MB) goes as one PUT, vtest.avi (8.1 MB) in 2 parts of 5 MiB. */
const MULTIPART_THRESHOLD = 4_000_000;
const PASSWORD = "browser-test-passphrase";
const DONE_TIMEOUT = 90_000;

let stack: StackHandle;
let dataDir: string;
let stackLog = "";
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = []; // CSP violations, page errors
let confirmAnswer = true;
let remote: RemoteServer;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Limits the page's upload bandwidth (bytes/s) through the Chrome DevTools Protocol; detach the session to undo. */
async function throttleUpload(bytesPerSecond: number) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
  return cdp;
}

/** The list row of a video, by file name. */
const row = (filename: string) => page.locator("li.video-row", { has: page.getByRole("link", { name: filename, exact: true }) });

/** Uploads `file` from the home page; @returns the API's answer to POST /v1/videos */
async function upload(file: string, setOptions?: () => Promise<void>): Promise<{ video: { id: string }; upload: { method: string } }> {
  await page.locator("#file").setInputFiles(file);
  await setOptions?.();
  const created = page.waitForResponse((r) => r.url().endsWith("/v1/videos") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Upload and extract" }).click();
  const res = await created;
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()) as { video: { id: string }; upload: { method: string } };
}

describe.skipIf(!hasChromium)("web dashboard in Chromium", () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-browser-"));
    stack = await startStack({
      dataDir,
      apiPort: await freePort(),
      processorPort: await freePort(),
      s3Port: await freePort(),
      vars: { MULTIPART_THRESHOLD_BYTES: String(MULTIPART_THRESHOLD), MULTIPART_PART_SIZE_BYTES: String(5 * 1024 * 1024) },
      log: (line) => (stackLog = (stackLog + line + "\n").slice(-20_000)),
    });
    remote = await startRemoteServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.on("console", (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("dialog", (d) => void (confirmAnswer ? d.accept() : d.dismiss()));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await remote?.close();
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("serves the page with its own CSP and sends visitors to sign-in", async () => {
    const res = await page.goto(`${stack.apiUrl}/`);
    expect(res?.status()).toBe(200);
    const csp = res?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    await page.waitForURL("**/sign-in");
    await expect(page.getByRole("heading", { name: "Sign in to vidsnap" }).isVisible()).resolves.toBe(true);
    // A deep link survives a reload (SPA fallback) and the API's own paths still reach the Worker.
    expect((await page.request.get(`${stack.apiUrl}/videos/anything`, { headers: { accept: "text/html" } })).headers()["content-type"]).toContain("text/html");
    expect((await page.request.get(`${stack.apiUrl}/v1/videos`)).status()).toBe(401);
  });

  it("signs up; the session lives in an HttpOnly cookie, not in web storage", async () => {
    await page.getByRole("link", { name: "Create one" }).click();
    await page.getByLabel("Name").fill("Browser Tester");
    await page.getByLabel("Email").fill("browser@example.com");
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert").first().textContent()).resolves.toContain("10 characters");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("browser@example.com").waitFor();
    await page.getByRole("heading", { name: "Upload a video" }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name.includes("session_token"));
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Lax");
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(storage).toBe("{}{}");
    await shot("01-signed-up");
  });

  it("refuses a file of the wrong type before sending anything", async () => {
    let created = false;
    const listener = (r: { url(): string; method(): string }) => {
      if (r.url().endsWith("/v1/videos") && r.method() === "POST") created = true;
    };
    page.on("request", listener);
    await page.locator("#file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not a video") });
    await page.getByRole("button", { name: "Upload and extract" }).click();
    await expect.poll(() => page.locator("#upload-error").textContent()).toContain("not a supported video");
    page.off("request", listener);
    expect(created).toBe(false);
  });

  it("shows the API's field message for options out of bounds", async () => {
    await page.locator("#file").setInputFiles(testVideo("hardware-example.mp4"));
    await page.getByText("More options").click();
    await page.getByLabel("Largest height (px)").fill("5");
    const refused = page.waitForResponse((r) => r.url().endsWith("/v1/videos") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Upload and extract" }).click();
    expect((await refused).status()).toBe(400);
    await expect.poll(() => page.locator("#upload-error").textContent()).toContain("options.maxHeight");
    await shot("02-more-options");
    await page.getByLabel("Largest height (px)").fill("");
    await page.getByText("More options").click();
    await page.locator("#file").setInputFiles([]);
  });

  it("uploads a real video with a progress bar and shows its extraction progress until done", async () => {
    // A slow uplink (1.5 MB/s, Chromium's network emulation) so the bar has time to move; sampled every 20 ms.
    const cdp = await throttleUpload(1_500_000);
    await page.evaluate(() => {
      const w = window as unknown as { progressSamples: number[] };
      w.progressSamples = [];
      setInterval(() => {
        const bar = document.getElementById("upload-progress") as HTMLProgressElement | null;
        if (bar && !bar.closest("[hidden]")) w.progressSamples.push(bar.value);
      }, 20);
    });
    const { upload: instructions } = await upload(testVideo("franck.mp4"), async () => {
      await page.getByLabel("Images", { exact: true }).selectOption("interval");
      await page.getByLabel("Seconds between images").fill("10");
    });
    expect(instructions.method).toBe("PUT");
    await page.getByText(/^\d+ % · .* of 3\.4 MB/).waitFor();
    await shot("02-uploading");
    const r = row("franck.mp4");
    await r.waitFor();
    // The row is listed as soon as the video is created; the bar hides only when the upload has ended.
    await page.getByTestId("upload-progress").waitFor({ state: "hidden", timeout: 60_000 });
    await cdp.detach();
    const samples = await page.evaluate(() => (window as unknown as { progressSamples: number[] }).progressSamples);
    expect(samples.some((v) => v > 0 && v < 100), `samples: ${samples.join(",")}`).toBe(true);
    expect(samples).toEqual([...samples].sort((a, b) => a - b)); // never goes back
    await r.locator('[data-status="VIDEO_IMAGE_EXTRACTION_SUCCESS"]').first().waitFor({ timeout: DONE_TIMEOUT });
    await expect(r.getByTestId("status").textContent()).resolves.toBe("Done");
    await expect(r.getByTestId("status-detail").textContent()).resolves.toBe("20 images"); // 200 s, every 10 s
    await expect(r.locator(".meta").textContent()).resolves.toContain("every 10 s");
    // The upload bar is gone again, the form is ready for the next file.
    await expect(page.getByTestId("upload-progress").isHidden()).resolves.toBe(true);
    // A thumbnail on demand through a signed URL (no header: a plain <img src>), 224x126 for the 112x63 box.
    const thumb = r.locator(".thumb img");
    await thumb.waitFor();
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 20_000 }).toBe(224);
    const still = await thumb.getAttribute("src");
    expect(still).toMatch(/\/thumbnail\.webp\?width=224&height=126&fit_mode=crop&token=\d+\./);
    // Hovering plays the animated preview; leaving shows the still again.
    await thumb.hover();
    await expect.poll(() => thumb.getAttribute("src")).toMatch(/\/animated\.webp\?width=224&token=/);
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 20_000 }).toBe(224);
    await page.mouse.move(0, 0);
    await expect.poll(() => thumb.getAttribute("src")).toBe(still);
    await shot("03-list-done");
  });

  it("cancels an upload: nothing is left behind", async () => {
    const cdp = await throttleUpload(500_000);
    const created = await upload(testVideo("sunflower-slow-drag.ogg"));
    await page.getByText(/^\d+ % · .* of 3\.9 MB/).waitFor();
    const deleted = page.waitForResponse((res) => res.request().method() === "DELETE" && res.url().endsWith(created.video.id));
    await page.getByRole("button", { name: "Cancel upload" }).click();
    await expect.poll(() => page.locator("#upload-error").textContent()).toBe("Upload cancelled.");
    expect((await deleted).status()).toBe(204);
    await cdp.detach();
    expect((await page.request.get(`${stack.apiUrl}/v1/videos/${created.video.id}`)).status()).toBe(404);
    await expect.poll(() => row("sunflower-slow-drag.ogg").count()).toBe(0);
  });

  it("takes a video dropped on the drop zone", async () => {
    const name = "hardware-example.mp4"; // 4 KB, one keyframe
    const dataTransfer = await page.evaluateHandle(
      ({ name, b64 }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: "video/mp4" }));
        return dt;
      },
      { name, b64: readFileSync(testVideo(name)).toString("base64") },
    );
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer });
    await expect.poll(() => page.locator("#file-info").textContent()).toBe(`${name} · 4.3 kB`);
    const created = page.waitForResponse((r) => r.url().endsWith("/v1/videos") && r.request().method() === "POST");
    await page.getByRole("button", { name: "Upload and extract" }).click();
    expect((await created).status()).toBe(201);
    const r = row(name);
    await r.locator('[data-status="VIDEO_IMAGE_EXTRACTION_SUCCESS"]').first().waitFor({ timeout: DONE_TIMEOUT });
    await expect(r.getByTestId("status-detail").textContent()).resolves.toBe("1 image");
  });

  it("opens the image grid with timestamps and the lightbox", async () => {
    await page.getByRole("link", { name: "franck.mp4", exact: true }).click();
    await page.getByRole("heading", { name: "franck.mp4" }).waitFor();
    const images = page.locator(".image-grid img");
    await expect.poll(() => images.count(), { timeout: 30_000 }).toBe(20);
    await expect(images.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true);
    await expect(page.locator(".image-grid figcaption").nth(1).textContent()).resolves.toBe("#2 · 0:10.000");
    await shot("04-image-grid");

    // The timeline lists the video's life, newest first: creation, complete, processing, success.
    const timeline = page.locator("section", { has: page.getByRole("heading", { name: "Timeline" }) });
    const changes = timeline.locator("tbody tr td:nth-child(4)");
    await expect.poll(() => changes.allTextContents(), { timeout: 15_000 }).toEqual([
      "processing → success",
      "queued → processing",
      "upload pending → queued",
      "created → upload pending",
    ]);
    await expect(timeline.locator("tbody tr td:nth-child(5)").allTextContents()).resolves.toEqual(["processor", "processor", "user", "user"]);

    await page.getByRole("button", { name: "Open image 1 at 0:00.000" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await expect(dialog.locator(".lightbox-caption").textContent()).resolves.toMatch(/^Image 1 of 20 · 0:00\.000/);
    await page.keyboard.press("ArrowRight");
    await expect(dialog.locator(".lightbox-caption").textContent()).resolves.toMatch(/^Image 2 of 20 · 0:10\.000/);
    await shot("05-lightbox");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    // Focus returns to the image that opened the lightbox.
    await expect(page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).resolves.toBe("Open image 1 at 0:00.000");
  });

  it("scrubbing the storyboard bar shows the storyboard tile of that time", async () => {
    // Still on franck.mp4's page: 200 s, 100 tiles of 160x128 in rows of 10.
    const tile = page.getByTestId("storyboard-tile");
    await tile.waitFor({ timeout: 20_000 });
    const scrub = page.getByRole("slider", { name: "Storyboard" });
    const at = async (seconds: number) => {
      await scrub.evaluate((el: HTMLInputElement, v) => {
        el.value = String(v);
        el.dispatchEvent(new Event("input", { bubbles: true }));
      }, seconds);
      return tile.evaluate((el: HTMLElement) => el.style.backgroundPosition);
    };
    expect(await at(0)).toBe("0px 0px");
    // 25 s lies in tile 12 (24..26 s): column 2, row 1.
    expect(await at(25)).toBe("-320px -128px");
    expect(await at(199.9)).toBe("-1440px -1152px");
    await expect(tile.getAttribute("aria-label")).resolves.toBe("Frame at 3:19.900");
    // The sprite is a signed URL on this origin, and it loads.
    const sprite = await tile.evaluate((el: HTMLElement) => /url\("(.+)"\)/.exec(el.style.backgroundImage)?.[1] ?? "");
    expect(sprite).toMatch(/\/storyboard\.jpg\?token=\d+\./);
    await expect(page.evaluate((u) => fetch(u, { credentials: "omit" }).then((r) => `${r.status} ${r.headers.get("content-type")}`), sprite)).resolves.toBe("200 image/jpeg");
    await shot("05b-storyboard");
  });

  it("downloads the ZIP with every image", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download ZIP" }).click()]);
    const file = path.join(dataDir, "download.zip");
    await download.saveAs(file);
    const entries = unzipSync(new Uint8Array(readFileSync(file)));
    const images = Object.keys(entries).filter((n) => n.startsWith("images/"));
    expect(images).toHaveLength(20);
    expect(images).toHaveLength(await page.locator(".image-grid img").count());
    expect(Object.keys(entries)).toContain("manifest.json");
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
  });

  it("asks for renditions on the video page, watches their progress, plays and downloads them", async () => {
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Renditions" }) });
    await section.getByText("No renditions yet.").waitFor();
    // A height outside the ladder: the API's message names the field.
    await section.getByLabel("MP4 heights (px)").fill("999");
    const refused = page.waitForResponse((r) => r.url().endsWith("/transcodes") && r.request().method() === "POST");
    await section.getByRole("button", { name: "Make renditions" }).click();
    expect((await refused).status()).toBe(400);
    await expect.poll(() => section.getByRole("alert").textContent()).toContain("renditions.0.height");

    // MP4 240p and an HLS 240p ladder of the first 60 s of franck.mp4 (360x288, no audio).
    await page.evaluate(() => {
      const w = window as unknown as { transcodeSamples: string[] };
      w.transcodeSamples = [];
      setInterval(() => {
        const text = document.querySelector('[data-testid="transcode-detail"]')?.textContent;
        if (text && w.transcodeSamples.at(-1) !== text) w.transcodeSamples.push(text);
      }, 20);
    });
    await section.getByLabel("MP4 heights (px)").fill("240");
    await section.getByLabel("HLS ladder (streaming)").check();
    await section.getByLabel("HLS heights (px)").fill("240");
    await section.getByLabel("End (s)").fill("60");
    const created = page.waitForResponse((r) => r.url().endsWith("/transcodes") && r.request().method() === "POST");
    await section.getByRole("button", { name: "Make renditions" }).click();
    const answer = await created;
    expect(answer.status(), await answer.text()).toBe(202);
    const card = section.locator("li.transcode");
    await section.locator('li.transcode[data-status="TRANSCODE_SUCCESS"]').waitFor({ timeout: DONE_TIMEOUT });
    await expect(card.getByTestId("transcode-status").textContent()).resolves.toBe("Done");
    const samples = await page.evaluate(() => (window as unknown as { transcodeSamples: string[] }).transcodeSamples);
    // While it ran, the card showed the percentage, the speed and the time left (or at least the queue state).
    expect(samples.some((t) => /^\d+ % · [\d.]+× real time( · \d+:\d\d left)?$/.test(t) || t === "Waiting for the processor…"), samples.join(" | ")).toBe(true);
    // The timeline follows the transcode without a reload.
    const timeline = page.locator("section", { has: page.getByRole("heading", { name: "Timeline" }) });
    await expect
      .poll(() => timeline.locator("tbody tr").filter({ hasText: "transcode" }).locator("td:nth-child(4)").allTextContents(), { timeout: 15_000 })
      .toEqual(["processing → success", "queued → processing", "pending → queued", "created → pending"]);
    await shot("06-renditions");

    // The MP4 plays in the page: metadata of a 60 s 320x240 video, and playback moves.
    const mp4 = card.locator('[data-rendition="mp4-240"] video');
    await expect
      .poll(() => mp4.evaluate((v: HTMLVideoElement) => (v.readyState >= 1 ? `${v.videoWidth}x${v.videoHeight} ${Math.round(v.duration)}` : "")), { timeout: 15_000 })
      .toBe("300x240 60");
    const played = await mp4.evaluate(async (v: HTMLVideoElement) => {
      v.muted = true;
      await v.play();
      await new Promise((r) => setTimeout(r, 700));
      v.pause();
      return v.currentTime;
    });
    expect(played).toBeGreaterThan(0);

    const [download] = await Promise.all([page.waitForEvent("download"), card.getByRole("link", { name: "Download mp4-240" }).click()]);
    const file = path.join(dataDir, "rendition.mp4");
    await download.saveAs(file);
    const bytes = readFileSync(file);
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
    expect(download.suggestedFilename()).toBe("franck-mp4-240.mp4");

    // HLS: played by the browser where it can, else offered as the tokenized playlist link (no hls.js shipped).
    const link = card.getByTestId("hls-link");
    const href = (await link.getAttribute("href")) ?? "";
    expect(href).toContain("/master.m3u8?token=");
    const playlist = await page.request.get(href);
    expect(playlist.status()).toBe(200);
    expect(await playlist.text()).toContain("#EXT-X-STREAM-INF");
    const native = await page.evaluate(() => document.createElement("video").canPlayType("application/vnd.apple.mpegurl") !== "");
    const hlsVideo = card.locator('[data-rendition="hls"] video');
    await expect(hlsVideo.count()).resolves.toBe(native ? 1 : 0);
    if (native) {
      await expect
        .poll(() => hlsVideo.evaluate((v: HTMLVideoElement) => (v.readyState >= 1 ? String(Math.round(v.duration)) : `rs${v.readyState} ns${v.networkState} e${v.error?.code} ${v.error?.message} ${v.currentSrc}`)), { timeout: 15_000 })
        .toBe("60");
    }
  });

  it("uploads a file above the multipart threshold in parts", async () => {
    await page.getByRole("link", { name: "Videos", exact: true }).click();
    const file = testVideo("vtest.avi");
    expect(statSync(file).size).toBeGreaterThan(MULTIPART_THRESHOLD);
    const partPuts: number[] = [];
    const listener = (r: { url(): string; method(): string }) => {
      const m = /[?&]partNumber=(\d+)/.exec(r.url());
      if (r.method() === "PUT" && m) partPuts.push(Number(m[1]));
    };
    page.on("request", listener);
    const { upload: instructions } = await upload(file);
    expect(instructions.method).toBe("MULTIPART");
    const r = row("vtest.avi");
    await r.locator('[data-status="VIDEO_IMAGE_EXTRACTION_SUCCESS"]').first().waitFor({ timeout: DONE_TIMEOUT });
    page.off("request", listener);
    expect(partPuts.sort()).toEqual([1, 2]);
  });

  it("shows the error of a corrupted video, with Retry", async () => {
    await upload(testVideo("DERIVED_franck.truncated-50pct.mp4"));
    const r = row("DERIVED_franck.truncated-50pct.mp4");
    await r.locator('[data-status="VIDEO_IMAGE_EXTRACTION_ERROR"]').first().waitFor({ timeout: DONE_TIMEOUT });
    await expect(r.getByTestId("status").textContent()).resolves.toBe("Failed");
    const message = (await r.getByTestId("status-detail").textContent()) ?? "";
    expect(message.length).toBeGreaterThan(10);
    const retry = r.getByRole("button", { name: "Retry DERIVED_franck.truncated-50pct.mp4" });
    await expect(retry.isVisible()).resolves.toBe(true);
    await shot("06-error-retry");

    const retried = page.waitForResponse((res) => res.url().endsWith("/retry") && res.request().method() === "POST");
    await retry.click();
    const answer = await retried;
    expect(answer.status()).toBe(202);
    const { video } = (await answer.json()) as { video: { id: string; attempt: number } };
    expect(video.attempt).toBe(2);
    // The same bytes fail again: attempt 2 ends in the same error, and the row shows it with Retry again.
    await expect
      .poll(async () => ((await (await page.request.get(`${stack.apiUrl}/v1/videos/${video.id}`)).json()) as { video: { status: string } }).video.status, { timeout: DONE_TIMEOUT })
      .toBe("VIDEO_IMAGE_EXTRACTION_ERROR");
    await r.getByRole("button", { name: "Retry DERIVED_franck.truncated-50pct.mp4" }).waitFor({ timeout: 15_000 });
    await expect(r.getByTestId("status").textContent()).resolves.toBe("Failed");
  });

  it("imports a video from a URL; a refused URL shows the API's field message", async () => {
    await page.locator("#import-url").fill("http://10.0.0.1/clip.mp4");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await expect.poll(() => page.locator("#import-error").textContent()).toContain("source.url: must not point to private addresses");

    await page.locator("#import-url").fill(`${remote.url}/chunked/tree.avi`);
    const created = page.waitForResponse((res) => res.url().endsWith("/v1/videos") && res.request().method() === "POST");
    await page.getByRole("button", { name: "Import", exact: true }).click();
    expect((await created).status()).toBe(201);
    const r = row("tree.avi");
    await r.locator('[data-status="VIDEO_IMAGE_EXTRACTION_SUCCESS"]').first().waitFor({ timeout: DONE_TIMEOUT });
    await expect(page.locator("#import-url").inputValue()).resolves.toBe("");
    await expect(page.locator("#import-error").textContent()).resolves.toBe("");
  });

  it("deletes a video only after confirmation", async () => {
    const name = "DERIVED_franck.truncated-50pct.mp4";
    confirmAnswer = false;
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    await expect(row(name).count()).resolves.toBe(1);
    confirmAnswer = true;
    const deleted = page.waitForResponse((res) => res.request().method() === "DELETE");
    await page.getByRole("button", { name: `Delete ${name}` }).click();
    expect((await deleted).status()).toBe(204);
    await expect.poll(() => row(name).count()).toBe(0);
  });

  it("manages API keys and webhook endpoints", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByLabel("Name").fill("ci-script");
    await page.getByRole("button", { name: "Create key" }).click();
    const key = (await page.getByTestId("secret").inputValue()) ?? "";
    expect(key).toMatch(/^vsk_[A-Za-z]{64}$/);
    // The key works against the API on its own.
    const viaKey = await fetch(`${stack.apiUrl}/v1/videos`, { headers: { authorization: `Bearer ${key}` } });
    expect(viaKey.status).toBe(200);
    await page.getByText(key.slice(0, 10) + "…").waitFor();
    await shot("07-api-keys");
    await page.getByRole("button", { name: "Revoke ci-script" }).click();
    await page.getByText("No API keys yet.").waitFor();
    expect((await fetch(`${stack.apiUrl}/v1/videos`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);

    await page.getByRole("link", { name: "Webhooks" }).click();
    const hookUrl = `http://127.0.0.1:${await freePort()}/hooks`;
    await page.getByLabel("URL").fill(hookUrl);
    await page.getByRole("button", { name: "Add endpoint" }).click();
    await expect(page.getByTestId("secret").inputValue()).resolves.toMatch(/^whsec_/);
    await page.getByText(hookUrl, { exact: true }).waitFor();
    await shot("08-webhooks");
    await page.getByRole("button", { name: `Delete ${hookUrl}` }).click();
    await page.getByText("No endpoints yet.").waitFor();
  });

  it("fits a phone-sized screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Videos", exact: true }).click();
    await row("franck.mp4").waitFor();
    await expect(page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).resolves.toBe(true);
    await shot("09-phone");
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("signs out: the cookie no longer opens the API", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/sign-in");
    expect((await page.request.get(`${stack.apiUrl}/v1/videos`)).status()).toBe(401);
    await page.goto(`${stack.apiUrl}/`);
    await page.waitForURL("**/sign-in");
    await shot("10-signed-out");
    // Signing in again works, and shows the same videos.
    await page.getByLabel("Email").fill("browser@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await row("franck.mp4").waitFor();
  });

  it("had no CSP violation or page error", () => {
    expect(problems, stackLog.slice(-3000)).toEqual([]);
  });
});
