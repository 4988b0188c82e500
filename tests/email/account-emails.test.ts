/**
 * The verification email (MSG_SEND_EMAIL_VERIFICATION) through the email consumer inside workerd: rendered
 * without user-chosen text, sent once through the Postmark mock, deduplicated on `emailId` in
 * `account_emails`, recorded there in local mode. Also the bounds every user-supplied string gets in the
 * outcome templates (email-consumer/src/templates/text.ts `userText`). Rows of `npm run audit:security` (suite
 * `email-text`).
 */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { describe, expect, it } from "vitest";
import { accountEmails } from "../../schema/db.ts";
import { renderErrorEmail, renderSuccessEmail } from "../../email-consumer/src/templates/extraction.ts";
import { USER_TEXT_LIMITS, userText } from "../../email-consumer/src/templates/text.ts";
import { renderVerificationEmail } from "../../email-consumer/src/templates/verification.ts";
import { recordAudit } from "../../tools/audit/record.ts";
import { bindings, deliver, envWith, errorMessage, PostmarkSession, successMessage, verificationMessage } from "./helpers.ts";

const rowOf = async (emailId: string) => (await drizzle(bindings.DB).select().from(accountEmails).where(eq(accountEmails.id, emailId)))[0];

describe("the verification email", () => {
  it("is sent once through Postmark, tagged, with the link, and a redelivery sends nothing", async () => {
    const pm = new PostmarkSession();
    const msg = verificationMessage();
    const first = await deliver([{ body: msg }], pm.env());
    const again = await deliver([{ body: msg, deliveries: 2 }], pm.env());
    expect(first.result.explicitAcks).toEqual(first.ids);
    expect(again.result.explicitAcks).toEqual(again.ids);
    const sent = await pm.accepted();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toMatchObject({ To: "ada@example.com", Subject: "Confirm your email address for vidsnap", Tag: "email-verification" });
    expect(sent[0]!.body.TextBody as string).toContain(msg.payload.verificationUrl);
    expect(sent[0]!.body.HtmlBody as string).toContain(`href="${msg.payload.verificationUrl.replaceAll("&", "&amp;")}"`);
    expect(await rowOf(msg.payload.emailId)).toMatchObject({ status: "sent", kind: "email-verification", userId: "user_1", to: "ada@example.com" });
  });

  it("is recorded in account_emails without a Postmark token (the local outbox)", async () => {
    const msg = verificationMessage({ to: "local@example.com" });
    const { result, ids } = await deliver([{ body: msg }], envWith({ POSTMARK_SERVER_TOKEN: undefined }));
    expect(result.explicitAcks).toEqual(ids);
    const row = await rowOf(msg.payload.emailId);
    expect(row).toMatchObject({ status: "recorded", to: "local@example.com" });
    expect(row!.textBody).toContain(msg.payload.verificationUrl);
  });

  it("refuses a non-http link", async () => {
    const msg = verificationMessage({ verificationUrl: "javascript:alert(1)" });
    const { result, ids } = await deliver([{ body: msg }], envWith({ POSTMARK_SERVER_TOKEN: undefined }));
    expect(result.explicitAcks).toEqual(ids); // dropped as invalid
    expect(await rowOf(msg.payload.emailId)).toBeUndefined();
  });

  it("carries only our own words and the link", () => {
    const email = renderVerificationEmail(verificationMessage());
    expect(email.textBody).toMatch(/^Hello,\n/);
    expect(email.textBody.split("\n").filter((l) => l.includes("://"))).toEqual([verificationMessage().payload.verificationUrl]);
  });
});

describe("user-supplied strings in the outcome templates are bounded and defanged", () => {
  const phishingName = `Your account will be deleted, verify at https://evil.example/login ${"x".repeat(2950)}`;
  const phishingFile = "URGENT verify at https://evil.example now.mp4";

  it("a 3,000-character name with a link and a phishing filename (issue 18's email)", () => {
    const email = renderErrorEmail(errorMessage({ name: phishingName.slice(0, 200), filename: phishingFile, errorMessage: `bad ${"y".repeat(5000)}`, errorDescription: `line\n${"z".repeat(5000)} www.evil.example` }));
    const texts = [email.subject, email.textBody, email.htmlBody];
    const links = texts.some((t) => /https?:\/\/evil|www\.evil/.test(t));
    const longest = Math.max(...email.textBody.split("\n").map((l) => l.length));
    const ok = !links && longest <= USER_TEXT_LIMITS.errorDescription + 20;
    recordAudit({ case: "error email: phishing name, filename and error text", expected: `no live link, lines ≤ ${USER_TEXT_LIMITS.errorDescription}`, got: `${links ? "live link" : "no live link"}, longest line ${longest}`, ok });
    expect(links).toBe(false);
    expect(email.textBody).toContain("https[:]//evil.example");
    expect(longest).toBeLessThanOrEqual(USER_TEXT_LIMITS.errorDescription + 20);
  });

  it("the success email bounds the filename and name too, and escapes HTML", () => {
    const email = renderSuccessEmail(successMessage({ name: "<b>Ann</b>\u202E", filename: `${"<i>".repeat(100)}.mp4` }));
    expect(email.htmlBody).not.toContain("<b>Ann");
    expect(email.htmlBody).not.toContain("<i>");
    expect(email.subject.length).toBeLessThanOrEqual(USER_TEXT_LIMITS.filename + 40);
    expect(email.textBody).not.toContain("\u202E");
  });

  it.each([
    ["https://evil.example", 100, "https[:]//evil.example"],
    ["see www.evil.example", 100, "see www[.]evil.example"],
    ["abcdef", 4, "abc…"],
    ["a\u202Eb\nc", 10, "ab c"],
  ])("userText(%j, %d) → %j", (value, max, expected) => {
    expect(userText(value, max)).toBe(expected);
  });

  it("keeps line breaks when multiline, collapsing runs", () => {
    expect(userText("a\r\n\n\n\nb\tc", 100, true)).toBe("a\n\nb c");
  });
});
