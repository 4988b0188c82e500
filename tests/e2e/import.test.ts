/**
 * Imports by URL through the whole local stack (`npm start`: wrangler dev with both Workers, the real
 * processor with ffmpeg, the local S3 server), the remote side played by a local HTTP server serving a real
 * test video (tests/processor/import/remote-server.ts): the typed client and the CLI (`vidsnap import`, run
 * in-process with runCli) create imports; the video is downloaded, extracted, and a failed import ends
 * VIDEO_IMPORT_ERROR with its email at the Postmark-speaking server.
 */
import { statSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/src/cli.ts";
import { authenticate, createVidsnapClient, unwrap, waitForVideo, type Video, type VidsnapClient } from "../../client/src/index.ts";
import { testVideo } from "../../tools/paths.ts";
import { verificationEmailIn, verifyAddress } from "../../tools/stack/local-emails.ts";
import { postmarkRequests } from "../../tools/stack/postmark-control.ts";
import { startRemoteServer, type RemoteServer } from "../processor/import/remote-server.ts";
import { startE2eStack, waitFor, type E2eStack } from "./support/local-stack.ts";

const POSTMARK_TOKEN = "test-token-e2e-import";
let e2e: E2eStack;
let remote: RemoteServer;
let api: VidsnapClient;
let token: string;
const EMAIL = "importer@example.com";

beforeAll(async () => {
  [e2e, remote] = await Promise.all([startE2eStack({ postmarkToken: POSTMARK_TOKEN, dataPrefix: "vidsnap-e2e-import-" }), startRemoteServer()]);
  ({ token } = await authenticate(e2e.baseUrl, "sign-up", { email: EMAIL, password: "correct-horse-battery", name: "Importer" }));
  await verifyAddress(async () => verificationEmailIn(await postmarkRequests(e2e.postmark.host, POSTMARK_TOKEN), EMAIL));
  api = createVidsnapClient({ baseUrl: e2e.baseUrl, token });
}, 150_000);

afterAll(async () => {
  await remote?.close();
  await e2e?.stop();
}, 30_000);

describe("import by URL on the local stack", () => {
  it("downloads a real video, then extracts it: VIDEO_IMPORT_QUEUED → VIDEO_IMPORTING → … → SUCCESS", async () => {
    const file = testVideo("sample_iPod.m4v");
    const created = unwrap(await api.POST("/v1/videos", { body: { source: { url: `${remote.url}/chunked/sample_iPod.m4v` }, options: { mode: "interval", intervalSeconds: 20 } } }));
    expect(created.video.status).toBe("VIDEO_IMPORT_QUEUED");
    const seen = new Set<string>();
    const done = await waitForVideo(api, created.video.id, { onUpdate: (v) => seen.add(v.status), timeoutMs: 120_000 });
    expect(done.status, `${done.errorMessage} ${done.errorDescription}\n${e2e.log().slice(-3000)}`).toBe("VIDEO_IMAGE_EXTRACTION_SUCCESS");
    expect(done).toMatchObject({ attempt: 2, sizeBytes: statSync(file).size, importedBytes: statSync(file).size, filename: "sample_iPod.m4v" });
    // 85.5 s every 20 s: 0, 20, 40, 60, 80.
    expect(done.imageCount).toBe(5);
    expect([...seen][0]).toMatch(/^VIDEO_IMPORT/);
  }, 150_000);

  it("a URL answering 404 ends VIDEO_IMPORT_ERROR with its sentence and an import error email", async () => {
    const created = unwrap(await api.POST("/v1/videos", { body: { source: { url: `${remote.url}/status/404` } } }));
    const failed = await waitForVideo(api, created.video.id, { timeoutMs: 60_000 });
    expect(failed).toMatchObject({ status: "VIDEO_IMPORT_ERROR", errorMessage: "The URL answered HTTP 404 Not Found, not a video." });
    const email = await waitFor("the import error email", async () => {
      const requests = await postmarkRequests(e2e.postmark.host, POSTMARK_TOKEN);
      return requests.map((r) => r.body as { To: string; Subject: string; TextBody: string; Tag?: string }).find((b) => b.Tag === "video-import-error");
    });
    expect(email.Subject).toBe("We could not import 404");
    expect(email.TextBody).toContain("The URL answered HTTP 404 Not Found, not a video.");
  }, 90_000);

  it("vidsnap import --every --wait --json succeeds; a refused URL exits 2 naming source.url", async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), "vidsnap-cli-import-"));
    try {
      const cli = async (args: string[]) => {
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
      };
      const ok = await cli(["import", `${remote.url}/files/hardware-example.mp4`, "--every", "100ms", "--wait", "--json"]);
      expect(ok.code, ok.stderr).toBe(0);
      const video = (JSON.parse(ok.stdout) as { video: Video }).video;
      expect(video).toMatchObject({ status: "VIDEO_IMAGE_EXTRACTION_SUCCESS", sourceUrl: `${remote.url}/files/hardware-example.mp4`, options: { mode: "interval", intervalSeconds: 0.1 } });

      const refused = await cli(["import", "http://10.0.0.1/x.mp4"]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("source.url");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 150_000);
});
