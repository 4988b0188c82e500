/**
 * `npm run audit:security`: runs the authorisation matrix (tests/workers/routes/authz-matrix.test.ts, in
 * workerd), the processor's hostile-input corpus (tests/processor/hostile.test.ts, real ffmpeg) and the
 * suites of the hardening cases listed in {@link SUITES}, then prints one table per suite: case, expected, got, result. Exit code 1 on any mismatch, any failed test
 * (a failed test without a recorded row becomes a row of its own) or a suite that recorded nothing.
 *
 * How results travel: each test records its rows on its vitest task (`task.meta.audit`,
 * ./record.ts), which works in workerd where tests cannot write files; vitest's JSON reporter
 * writes the meta of every test to a temp file this script reads. The suites' own output is kept in a log
 * file, printed only when a suite fails.
 *
 *   npm run audit:security                # every suite
 *   npm run audit:security -- matrix      # or any other suite name of SUITES
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BIN, REPO_ROOT } from "../paths.ts";
import { ensureWebBuild } from "../stack/web-build.ts";
import { offlineWranglerEnv } from "../wrangler.ts";
import type { AuditRow } from "./record.ts";

interface Suite {
  name:
    | "matrix"
    | "corpus"
    | "ssrf"
    | "import-ssrf"
    | "body-limit"
    | "local-s3"
    | "webhook-flood"
    | "cross-site"
    | "auth-errors"
    | "processor-trust"
    | "source-swap"
    | "storage-creds"
    | "job-credentials"
    | "tokens"
    | "accounts"
    | "sign-in-budget"
    | "email-text";
  title: string;
  config: string;
  file: string;
}

const SUITES: Suite[] = [
  { name: "matrix", title: "Authorisation matrix (/v1 routes × credentials, presigned URLs)", config: "tests/workers/vitest.config.mts", file: "tests/workers/routes/authz-matrix.test.ts" },
  { name: "corpus", title: "Hostile-input corpus (processor)", config: "tests/vitest.node.config.mts", file: "tests/processor/hostile.test.ts" },
  { name: "ssrf", title: "Outgoing URL rules (webhooks; runtime/outgoing-url.ts)", config: "tests/workers/vitest.config.mts", file: "tests/workers/outgoing-url.test.ts" },
  { name: "import-ssrf", title: "Imports by URL: every special address, as a literal, a resolved address or a redirect (processor)", config: "tests/vitest.node.config.mts", file: "tests/processor/import/ssrf.test.ts" },
  { name: "body-limit", title: "Request body limit (/v1/*, /api/auth/*)", config: "tests/workers/vitest.config.mts", file: "tests/workers/body-limit.test.ts" },
  { name: "local-s3", title: "Local S3 server (signatures required, CORS, If-Match, R2 temporary credentials stand-in)", config: "tests/vitest.node.config.mts", file: "tests/tools/s3-server.test.ts" },
  { name: "webhook-flood", title: "Webhook flooding (rate limits, one-try pings, pending cap per endpoint)", config: "tests/workers/vitest.config.mts", file: "tests/workers/webhook-flood.test.ts" },
  { name: "cross-site", title: "Cross-site requests with the session cookie (/v1 mutations)", config: "tests/workers/vitest.config.mts", file: "tests/workers/cross-site.test.ts" },
  { name: "auth-errors", title: "/api/auth/* errors as problem+json (better-auth's code kept)", config: "tests/workers/vitest.config.mts", file: "tests/workers/auth-problems.test.ts" },
  { name: "tokens", title: "Session tokens at rest (digests) and signed bearer tokens", config: "tests/workers/vitest.config.mts", file: "tests/workers/session-tokens.test.ts" },
  { name: "accounts", title: "Accounts: generic sign-up, email verification, emails to verified addresses only, name rules", config: "tests/workers/vitest.config.mts", file: "tests/workers/accounts.test.ts" },
  { name: "sign-in-budget", title: "Per-account sign-in and verification-email budget (ACCOUNT_RATE_LIMITER)", config: "tests/workers/vitest.config.mts", file: "tests/workers/rate-limits.test.ts" },
  { name: "email-text", title: "User-supplied text in emails (bounded, escaped, defanged; verification email)", config: "tests/email/vitest.config.mts", file: "tests/email/account-emails.test.ts" },
  { name: "processor-trust", title: "Processor trust (signed jobs, key-safe ids, no overwrite, ffmpeg env)", config: "tests/vitest.node.config.mts", file: "tests/processor/runner/trust.test.ts" },
  { name: "source-swap", title: "Source replaced after complete (ETag recorded, If-Match on every read)", config: "tests/vitest.node.config.mts", file: "tests/processor/extract/source-etag.test.ts" },
  { name: "storage-creds", title: "Storage credentials (issue 18 item 6): no storage key in the processor or ffmpeg; per-job credentials scoped, expiring", config: "tests/vitest.node.config.mts", file: "tests/processor/runner/storage-credentials.test.ts" },
  { name: "job-credentials", title: "Per-job credentials minted by the Worker (scope per kind, TTL, never logged or stored)", config: "tests/workers/vitest.config.mts", file: "tests/workers/storage-credentials.test.ts" },
];

/** The parts of vitest's JSON report read here. */
interface JsonReport {
  testResults: {
    name: string;
    status: "passed" | "failed";
    message: string;
    assertionResults: { fullName: string; title: string; status: string; meta?: { audit?: AuditRow[] }; failureMessages: string[] | null }[];
  }[];
}

const firstLine = (text: string | undefined) => (text ?? "").split("\n").find((l) => l.trim())?.trim().slice(0, 160) ?? "";

/**
 * Rows of one suite from its JSON report.
 * @returns the rows in run order; failed tests become rows with `ok: false`
 */
function rowsOf(report: JsonReport): AuditRow[] {
  const rows: AuditRow[] = [];
  for (const file of report.testResults) {
    if (file.status === "failed" && file.assertionResults.length === 0) {
      rows.push({ case: `suite ${path.basename(file.name)}`, expected: "runs", got: `FAILED: ${firstLine(file.message)}`, ok: false });
    }
    for (const test of file.assertionResults) {
      const recorded = test.meta?.audit ?? [];
      const failed = test.status === "failed";
      const why = failed ? `test failed: ${firstLine(test.failureMessages?.[0])}` : undefined;
      if (recorded.length === 0) {
        if (failed) rows.push({ case: test.fullName, expected: "pass", got: "FAILED", ok: false, note: why });
        continue;
      }
      for (const row of recorded) {
        rows.push(failed ? { ...row, ok: false, note: [row.note, why].filter(Boolean).join("; ") } : row);
      }
    }
  }
  return rows;
}

/** A plain-text table: case | expected | got | result. */
function formatTable(rows: readonly AuditRow[]): string {
  const cols = [
    ["case", ...rows.map((r) => r.case)],
    ["expected", ...rows.map((r) => r.expected)],
    ["got", ...rows.map((r) => r.got)],
  ];
  const widths = cols.map((c) => Math.min(90, Math.max(...c.map((v) => v.length))));
  const cell = (v: string, i: number) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!));
  const line = (values: string[], result: string) => `${values.map(cell).join("  ")}  ${result}`;
  return [
    line(["case", "expected", "got"], "result"),
    line(widths.map((w) => "-".repeat(w)), "------"),
    ...rows.map((r) => line([r.case, r.expected, r.got], `${r.ok ? "ok" : "MISMATCH"}${r.note ? ` (${r.note})` : ""}`)),
  ].join("\n");
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const unknown = only.filter((o) => !SUITES.some((s) => s.name === o));
  if (unknown.length) {
    console.error(`unknown suite(s): ${unknown.join(", ")} (use ${SUITES.map((s) => s.name).join(" | ")})`);
    return 2;
  }
  await ensureWebBuild(); // wrangler.toml serves web/dist: the workers pool needs it
  const dir = mkdtempSync(path.join(os.tmpdir(), "vidsnap-audit-"));
  let bad = 0;
  try {
    for (const suite of SUITES.filter((s) => only.length === 0 || only.includes(s.name))) {
      const reportFile = path.join(dir, `${suite.name}.json`);
      process.stdout.write(`running ${suite.file} … `);
      const run = spawnSync(
        path.join(BIN, "vitest"),
        ["run", "--config", suite.config, suite.file, "--reporter=json", `--outputFile.json=${reportFile}`],
        { cwd: REPO_ROOT, env: offlineWranglerEnv(), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      );
      let rows: AuditRow[];
      try {
        rows = rowsOf(JSON.parse(readFileSync(reportFile, "utf8")) as JsonReport);
      } catch {
        rows = [{ case: `suite ${suite.file}`, expected: "runs", got: `crashed (exit ${run.status})`, ok: false }];
      }
      if (rows.length === 0) rows.push({ case: `suite ${suite.file}`, expected: "rows recorded", got: "none", ok: false });
      const mismatches = rows.filter((r) => !r.ok).length;
      console.log(mismatches || run.status !== 0 ? "FAILED" : "done");
      console.log(`\n== ${suite.title}: ${rows.length} cases, ${mismatches} mismatches\n`);
      console.log(formatTable(rows));
      console.log("");
      if (mismatches || run.status !== 0) {
        bad += Math.max(mismatches, 1);
        const log = path.join(os.tmpdir(), `vidsnap-audit-${suite.name}.log`);
        writeFileSync(log, `${run.stdout ?? ""}\n${run.stderr ?? ""}`);
        console.log(`vitest output of ${suite.name}: ${log}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(bad ? `security audit: ${bad} problem(s)` : "security audit: every case as expected");
  return bad ? 1 : 0;
}

process.exit(await main());
