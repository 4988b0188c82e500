/**
 * `npm run lint:openapi` (CI runs it too): Redocly CLI's recommended rules, warnings raised to errors
 * (redocly.yaml), pass on client/openapi.json, the committed copy of `/openapi.json`; and the same config
 * refuses a copy with one operation's `operationId` removed, so the lint can fail.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { packageBin, REPO_ROOT } from "../../tools/paths.ts";

/** Runs `redocly lint --config redocly.yaml <file>` offline; @returns its exit code and output. */
function redoclyLint(file: string) {
  const res = spawnSync(process.execPath, [packageBin("@redocly/cli", "redocly"), "lint", "--config", "redocly.yaml", file], {
    cwd: REPO_ROOT,
    env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", REDOCLY_TELEMETRY: "off" },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

describe("redocly lint of the OpenAPI document", () => {
  it("npm run lint:openapi passes on client/openapi.json", () => {
    const res = spawnSync("npm", ["run", "--silent", "lint:openapi"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    const output = `${res.stdout}${res.stderr}`;
    expect(res.status, output).toBe(0);
    expect(output).toContain("Your API description is valid");
    expect(output).not.toMatch(/\b\d+ (warning|error)s?\b/);
  });

  it("fails on a copy where an operation lost its operationId", () => {
    const doc = JSON.parse(readFileSync(path.join(REPO_ROOT, "client/openapi.json"), "utf8")) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    delete doc.paths["/v1/videos"]!.post!.operationId;
    const dir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-lint-"));
    try {
      const file = path.join(dir, "openapi.json");
      writeFileSync(file, JSON.stringify(doc));
      const { status, output } = redoclyLint(file);
      expect(status, output).toBe(1);
      expect(output).toContain("#/paths/~1v1~1videos/post/operationId");
      expect(output).toContain("operation-operationId");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
