/**
 * Who gets emails and what accounts reveal (issue 18 items 2 and 9), through the real better-auth on D1 and
 * the real email queue (consumed by ./email-sink.js): generic sign-up answers, the verification email and
 * its link, outcome emails to verified addresses only (edge-api/src/services/users/outcome-email-recipient.ts),
 * and the name rules (edge-api/src/user-name.ts). Each case is a row of `npm run audit:security` (suite
 * `accounts`); the per-account sign-in budget is in ./rate-limits.test.ts.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { user, videos } from "../../schema/db.ts";
import { MAX_NAME_LENGTH } from "../../edge-api/src/user-name.ts";
import { sendOutcomeEmail } from "../../edge-api/src/services/videos/send-outcome-email.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { api, db, eventually, insertVideo, signIn, signUp, testDeps, testEnv } from "./support/env.ts";

const PASSWORD = "correct-horse-battery";
const uniqueEmail = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@example.com`;
const signUpWith = (json: Record<string, unknown>) => api("/api/auth/sign-up/email", { method: "POST", json: { password: PASSWORD, ...json } });

type SinkMessage = { type: string; payload: Record<string, unknown> };
/** Every message the email queue delivered to `to`. */
async function messagesTo(to: string): Promise<SinkMessage[]> {
  const all = (await (await testEnv.EMAIL_SINK.fetch("http://sink/messages")).json()) as SinkMessage[];
  return all.filter((m) => m.payload?.to === to);
}
const verificationsTo = async (to: string) => (await messagesTo(to)).filter((m) => m.type === "MSG_SEND_EMAIL_VERIFICATION");

/** The parts of a sign-up answer that could tell an existing address from a new one. */
async function shape(res: Response) {
  const body = (await res.json()) as { token: unknown; user: Record<string, unknown> };
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    setAuthToken: res.headers.get("set-auth-token"),
    setCookie: res.headers.get("set-cookie"),
    token: body.token,
    userKeys: Object.keys(body.user).sort(),
    emailVerified: body.user.emailVerified,
  };
}

describe("sign-up answers alike for new and existing addresses (item 9)", () => {
  it("the same status, headers and body shape; no session; no USER_ALREADY_EXISTS", async () => {
    const taken = uniqueEmail("taken");
    await (await signUpWith({ email: taken, name: "Owner" })).body?.cancel();
    const existing = await shape(await signUpWith({ email: taken, name: "Intruder", password: "another-long-password" }));
    const fresh = await shape(await signUpWith({ email: uniqueEmail("fresh"), name: "Newcomer" }));
    const ok = JSON.stringify(existing) === JSON.stringify(fresh) && existing.token === null && existing.status === 200;
    recordAudit({ case: "sign-up: existing vs new address", expected: "identical 200 {token: null}, no cookie", got: ok ? "identical 200 {token: null}" : `${JSON.stringify(existing)} vs ${JSON.stringify(fresh)}`, ok });
    expect(existing).toEqual(fresh);
    expect(existing).toMatchObject({ status: 200, token: null, setAuthToken: null, setCookie: null });
  });

  it("the existing account's owner is not emailed, and the intruder's password does not sign in", async () => {
    const taken = uniqueEmail("owner");
    await (await signUpWith({ email: taken, name: "Owner" })).body?.cancel();
    await eventually(async () => (await verificationsTo(taken)).length === 1);
    await (await signUpWith({ email: taken, name: "Intruder", password: "intruder-password-1" })).body?.cancel();
    const wrong = await api("/api/auth/sign-in/email", { method: "POST", json: { email: taken, password: "intruder-password-1" } });
    await new Promise((r) => setTimeout(r, 300)); // give a wrongly queued email time to arrive
    const emails = await messagesTo(taken);
    const ok = emails.length === 1 && wrong.status === 401;
    recordAudit({ case: "sign-up with an existing address", expected: "no email to the owner; intruder sign-in 401", got: `${emails.length - 1} extra email(s); sign-in ${wrong.status}`, ok });
    expect(emails).toHaveLength(1);
    expect(wrong.status).toBe(401);
  });
});

describe("email verification (item 2)", () => {
  it("sign-up queues one verification email with no user-chosen text; its link verifies the address", async () => {
    const email = uniqueEmail("verify");
    const name = "Mallory Attacker";
    await (await signUpWith({ email, name })).body?.cancel();
    const [message] = await eventually(async () => {
      const found = await verificationsTo(email);
      return found.length ? found : undefined;
    });
    expect(message!.payload).not.toHaveProperty("name");
    expect(JSON.stringify(message)).not.toContain(name);
    const link = new URL(String(message!.payload.verificationUrl));
    expect(link.origin + link.pathname).toBe(`${testEnv.PUBLIC_BASE_URL}/api/auth/verify-email`);

    const [before] = await db.select({ v: user.emailVerified }).from(user).where(eq(user.email, email));
    const res = await api(link.pathname + link.search);
    const [after] = await db.select({ v: user.emailVerified }).from(user).where(eq(user.email, email));
    const ok = before?.v === false && after?.v === true && res.status === 302;
    recordAudit({ case: "verification link from the sign-up email", expected: "unverified → 302 → verified", got: `${before?.v} → ${res.status} → ${after?.v}`, ok });
    expect(before?.v).toBe(false);
    expect(res.status).toBe(302);
    expect(after?.v).toBe(true);
  });

  it("a forged or tampered link verifies nothing", async () => {
    const email = uniqueEmail("forged");
    await (await signUpWith({ email, name: "Forged" })).body?.cancel();
    const res = await api(`/api/auth/verify-email?token=${"eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImEifQ.AAAA"}`);
    const [row] = await db.select({ v: user.emailVerified }).from(user).where(eq(user.email, email));
    recordAudit({ case: "verify-email with a forged token", expected: "still unverified", got: row?.v ? "verified" : "unverified", ok: row?.v === false });
    expect(row?.v).toBe(false);
    await res.body?.cancel();
  });

  it("unverified users may use the API (documented choice)", async () => {
    const unverified = await signUp("unverified", { verified: false });
    const res = await api("/v1/videos", { token: unverified.token });
    recordAudit({ case: "GET /v1/videos as an unverified user", expected: "200 (API allowed, no emails)", got: String(res.status), ok: res.status === 200 });
    expect(res.status).toBe(200);
  });
});

describe("outcome emails go to verified addresses only (item 2)", () => {
  const failedVideo = async (userId: string) => {
    const id = await insertVideo(userId, { status: "VIDEO_IMAGE_EXTRACTION_ERROR", filename: "verify-at-https://evil.example.mp4" });
    const [row] = await db.select().from(videos).where(eq(videos.id, id));
    return row!;
  };

  it("an unverified owner gets no email; a verified one gets it", async () => {
    const stranger = await signUp("stranger-address", { verified: false });
    const owner = await signUp("verified-owner");
    const none = await sendOutcomeEmail(testDeps(), await failedVideo(stranger.userId));
    const sent = await sendOutcomeEmail(testDeps(), await failedVideo(owner.userId));
    const ok = none === null && sent?.payload.to === owner.email;
    recordAudit({ case: "error email for a video of an unverified account", expected: "none queued", got: none === null ? "none queued" : `queued to ${none.payload.to}`, ok: none === null });
    recordAudit({ case: "error email for a video of a verified account", expected: "queued to the owner", got: sent ? "queued to the owner" : "none", ok });
    expect(none).toBeNull();
    expect(sent?.payload.to).toBe(owner.email);
  });
});

describe("names are limited at sign-up and update (item 2)", () => {
  const phishing = `Your account will be deleted, verify at https://evil.example/login ${"x".repeat(2950)}`;
  it.each([
    ["a 3,000-character name with a link", phishing, "NAME_TOO_LONG"],
    ["the same phishing text, short", phishing.slice(0, 80), "NAME_HAS_LINK"],
    [`a ${MAX_NAME_LENGTH + 1}-character name`, "a".repeat(MAX_NAME_LENGTH + 1), "NAME_TOO_LONG"],
    ["a name with www.", "see www.evil example", "NAME_HAS_LINK"],
    ["a bare domain", "Support evil.example", "NAME_HAS_LINK"],
    ["a name with a line break", "Ann\nSubject: verify", "NAME_HAS_CONTROL_CHARACTERS"],
    ["a name with a right-to-left override", "Ann\u202Egnp.exe", "NAME_HAS_CONTROL_CHARACTERS"],
  ])("sign-up refuses %s", async (label, name, code) => {
    const email = uniqueEmail("name");
    const res = await signUpWith({ email, name });
    const body = (await res.json()) as { code?: string };
    const [created] = await db.select().from(user).where(eq(user.email, email));
    recordAudit({ case: `sign-up with ${label}`, expected: `400 ${code}, no account`, got: `${res.status} ${body.code}${created ? ", account created" : ""}`, ok: res.status === 400 && body.code === code && !created });
    expect(res.status).toBe(400);
    expect(body.code).toBe(code);
    expect(created).toBeUndefined();
  });

  it("accepts ordinary names", async () => {
    for (const name of ["Zoë O'Brien-Smith", "J.R.R. Tolkien", "李小龙", "a".repeat(MAX_NAME_LENGTH)]) {
      const res = await signUpWith({ email: uniqueEmail("ordinary"), name });
      expect(res.status, name).toBe(200);
      await res.body?.cancel();
    }
  });

  it("update-user applies the same rules", async () => {
    const { token, userId } = await signUp("rename");
    const refused = await api("/api/auth/update-user", { method: "POST", token, json: { name: "Click https://evil.example" } });
    const body = (await refused.json()) as { code?: string };
    const [row] = await db.select({ name: user.name }).from(user).where(eq(user.id, userId));
    recordAudit({ case: "update-user with a link in the name", expected: "400 NAME_HAS_LINK, name unchanged", got: `${refused.status} ${body.code}, name ${row?.name === "rename" ? "unchanged" : "changed"}`, ok: refused.status === 400 && body.code === "NAME_HAS_LINK" && row?.name === "rename" });
    expect(refused.status).toBe(400);
    expect(row?.name).toBe("rename");
    const accepted = await api("/api/auth/update-user", { method: "POST", token, json: { name: "Renamed" } });
    expect(accepted.status).toBe(200);
    await accepted.body?.cancel();
  });

  it("sign-in still works for the account whose sign-up was accepted", async () => {
    const email = uniqueEmail("signin");
    await (await signUpWith({ email, name: "Signer" })).body?.cancel();
    expect((await signIn(email)).token).toMatch(/\./);
  });
});
