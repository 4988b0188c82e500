/**
 * The claim-and-lease store (runtime/delivery-store.ts) on the `emails` table, with an injected clock: claim,
 * live lease, take-over once the lease ended, settlement, and final rows left alone. The webhook table's
 * `locked_until` lease is exercised end to end in tests/workers/webhooks.test.ts.
 */
import { drizzle } from "drizzle-orm/d1";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { emails } from "../../schema/db.ts";
import { emailStore, emailWhere, type EmailKey } from "../../email-consumer/src/store.ts";
import { bindings, newVideoId } from "./helpers.ts";

const db = drizzle(bindings.DB);
const LEASE_MS = 30_000;
const content = { to: "ada@example.com", subject: "s", textBody: "t" };

function newKey(): EmailKey {
  return { videoId: newVideoId(), jobId: "", attempt: 1, outcome: "success" };
}

/** The id of a claimed row; fails the test for any other answer. */
function claimedId(claim: Awaited<ReturnType<typeof claimAt>>): string {
  if (claim.kind !== "claimed") throw new Error(`expected a claim, got ${claim.kind}`);
  return claim.row.id;
}

async function claimAt(key: EmailKey, now: Date) {
  return emailStore.claim(db, emailWhere(key), {
    insert: { id: crypto.randomUUID(), ...key },
    values: content,
    leaseMs: LEASE_MS,
    now,
  });
}

describe("delivery store", () => {
  it("inserts and claims a new row; a second claim during the lease is told to come back when it ends", async () => {
    const key = newKey();
    const t0 = new Date();
    const first = await claimAt(key, t0);
    expect(first).toMatchObject({ kind: "claimed", row: { status: "sending", ...content } });

    expect(await claimAt(key, new Date(t0.getTime() + 10_000))).toEqual({ kind: "in-flight", retryAfterSeconds: 20 });
    expect(await claimAt(key, new Date(t0.getTime() + 29_900))).toEqual({ kind: "in-flight", retryAfterSeconds: 1 });
  });

  it("takes over a row whose lease ended (a crashed sender), and a failed row at once", async () => {
    const key = newKey();
    const t0 = new Date();
    const first = claimedId(await claimAt(key, t0));
    const again = claimedId(await claimAt(key, new Date(t0.getTime() + LEASE_MS)));
    expect(again).toBe(first);

    const id = eq(emails.id, again);
    expect(await emailStore.settle(db, id, { sent: false, error: "x".repeat(3000) })).toBe(true);
    const failed = await emailStore.find(db, emailWhere(key));
    expect(failed).toMatchObject({ status: "failed" });
    expect(failed?.lastError).toHaveLength(2000);
    expect(await claimAt(key, new Date(t0.getTime() + LEASE_MS + 1))).toMatchObject({ kind: "claimed" });
  });

  it("a settled row is final: claims answer done, further settlements change nothing", async () => {
    const key = newKey();
    const id = eq(emails.id, claimedId(await claimAt(key, new Date())));
    expect(await emailStore.settle(db, id, { sent: true }, { values: { providerMessageId: "pm-1" } })).toBe(true);

    expect(await claimAt(key, new Date(Date.now() + 10 * LEASE_MS))).toEqual({ kind: "done", status: "sent" });
    expect(await emailStore.settle(db, id, { sent: false, error: "late" })).toBe(false);
    expect(await emailStore.find(db, emailWhere(key))).toMatchObject({ status: "sent", providerMessageId: "pm-1", lastError: null });
  });

  it("without an insert, a missing row is gone", async () => {
    const claim = await emailStore.claim(db, emailWhere(newKey()), { leaseMs: LEASE_MS });
    expect(claim).toEqual({ kind: "gone" });
  });
});
