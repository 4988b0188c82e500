/**
 * Result rows of the security audit (`npm run audit:security`, ./main.ts). A test records
 * what it expected and what it got on its own vitest task (`task.meta.audit`); vitest carries task meta
 * from any pool (workerd included, where tests cannot write files) to its reporters, and the JSON reporter
 * the audit script runs writes it out. Recording changes nothing about what a test checks.
 */
import { TestRunner } from "vitest";

/** One row of an audit table. */
export interface AuditRow {
  /** e.g. `GET /v1/videos/{id} × other-user` or `HLS playlist → file:///etc/passwd` */
  case: string;
  /** Expected outcome, e.g. `404` or `ERROR /^The file is not a video/`. */
  expected: string;
  /** What happened, e.g. `404` or `ERROR The file is not a video.` */
  got: string;
  /** True when expected and got agree (the test's own assertions decide the pass/fail of the run). */
  ok: boolean;
  /** Extra finding printed in the table, e.g. `LEAK` when a body named another user's data. */
  note?: string;
}

declare module "vitest" {
  interface TaskMeta {
    audit?: AuditRow[];
  }
}

/**
 * Appends a row to the running test's `meta.audit` (a test may record several rows).
 * @throws Error when called outside a running test
 */
export function recordAudit(row: AuditRow): void {
  const test = TestRunner.getCurrentTest();
  if (!test) throw new Error("recordAudit() must be called inside a running test");
  (test.meta.audit ??= []).push(row);
}
