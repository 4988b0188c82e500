/**
 * Record mode (no POSTMARK_SERVER_TOKEN, the local default): emails go to D1 (`recorded`) and one
 * structured log line, and no HTTP call is made. Kept in its own file so that the once-per-isolate notice
 * is observed from a fresh module instance.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { bindings, deliver, envWith, errorMessage, jsonLines, rowOf, successMessage } from "./helpers.ts";

const NOTICE = "POSTMARK_SERVER_TOKEN not set: emails are recorded in D1 tables emails / account_emails and the log, not sent";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("record mode (no Postmark token)", () => {
  it("the test env has no token and points POSTMARK_API_HOST at the mock (a call would be noticed)", () => {
    expect(bindings.POSTMARK_SERVER_TOKEN ?? "").toBe("");
    expect(bindings.POSTMARK_API_HOST).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(bindings.ENVIRONMENT).toBe("local");
  });

  it("records the email in D1 and the log, makes no HTTP call, and announces it once per isolate", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const out: unknown[][] = [];
    for (const method of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void out.push(args));
    }
    const ok = successMessage({ to: "ada@example.com", name: "Ada Lovelace" });
    const ko = errorMessage();

    const first = await deliver([{ body: ok }], envWith({ POSTMARK_SERVER_TOKEN: undefined }));
    const second = await deliver([{ body: ko }], envWith({ POSTMARK_SERVER_TOKEN: "" }));

    expect(first.result.explicitAcks).toEqual(first.ids);
    expect(second.result.explicitAcks).toEqual(second.ids);
    expect(fetchSpy).not.toHaveBeenCalled();

    const row = await rowOf(ok);
    expect(row).toMatchObject({
      status: "recorded",
      to: "ada@example.com",
      subject: "Your snapshots of holiday.mp4 are ready",
      providerMessageId: null,
    });
    expect(row?.textBody).toContain(ok.payload.downloadUrl);
    expect((await rowOf(ko))?.status).toBe("recorded");

    const lines = jsonLines(out);
    expect(lines.filter((l) => l.msg === NOTICE)).toHaveLength(1);
    const recorded = lines.filter((l) => l.msg === "email recorded");
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).toMatchObject({
      level: "info",
      msg: "email recorded",
      to: "ada@example.com",
      subject: "Your snapshots of holiday.mp4 are ready",
      text: row?.textBody,
    });
  });

  it("a redelivered recorded message is acked and not recorded twice", async () => {
    const out: unknown[][] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args));
    const msg = successMessage();

    await deliver([{ body: msg }]);
    const again = await deliver([{ body: msg, deliveries: 2 }]);

    expect(again.result.explicitAcks).toEqual(again.ids);
    expect(jsonLines(out).filter((l) => l.msg === "email recorded")).toHaveLength(1);
    expect((await rowOf(msg))?.status).toBe("recorded");
  });
});
