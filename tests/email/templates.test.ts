/** Email templates (`email-consumer/src/templates/`): pure functions, content and HTML escaping. */
import { describe, expect, it } from "vitest";
import { renderErrorEmail, renderSuccessEmail } from "../../email-consumer/src/templates/extraction.ts";
import { renderGenerationErrorEmail } from "../../email-consumer/src/templates/generation.ts";
import { renderImportErrorEmail } from "../../email-consumer/src/templates/import.ts";
import { renderEmail } from "../../email-consumer/src/templates/index.ts";
import { escapeHtml, formatBytes, formatExpiry, oneLine } from "../../email-consumer/src/templates/text.ts";
import { sendVideoGenerationErrorMessage, sendVideoImportErrorMessage } from "../../schema/messages/index.ts";
import { formatRecipient } from "../../email-consumer/src/postmark.ts";
import { errorMessage, successMessage } from "./helpers.ts";

const EVIL = `<script>alert("x")</script> & 'quotes' <img src=x onerror=alert(1)>`;

describe("escapeHtml", () => {
  it("escapes the five HTML metacharacters", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    expect(escapeHtml("plain text")).toBe("plain text");
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 bytes"],
    [1, "1 byte"],
    [999, "999 bytes"],
    [1000, "1 kB"],
    [1536, "1.54 kB"],
    [12_345_678, "12.3 MB"],
    [100_000_000, "100 MB"],
    [999_950, "1 MB"],
    [5_000_000_000, "5 GB"],
  ])("%d → %s", (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe("formatExpiry", () => {
  it("formats ISO timestamps in UTC and passes other strings through", () => {
    expect(formatExpiry("2026-05-03T14:00:00.000Z")).toBe("2026-05-03 14:00 UTC");
    expect(formatExpiry("2026-05-03T16:30:00+02:00")).toBe("2026-05-03 14:30 UTC");
    expect(formatExpiry("in a week")).toBe("in a week");
  });
});

describe("renderSuccessEmail", () => {
  it("has image count, human size, link and expiry in both bodies", () => {
    const msg = successMessage({ imageCount: 1, zipSizeBytes: 2_500_000, filename: "talk.webm" });
    const email = renderSuccessEmail(msg);
    expect(email.subject).toBe("Your snapshots of talk.webm are ready");
    for (const body of [email.textBody, email.htmlBody]) {
      expect(body).toMatch(/\b1 image\b(?!s)/);
      expect(body).toContain("2.5 MB");
      expect(body).toContain("2026-05-03 14:00 UTC");
      expect(body).toContain("Hello Ada Lovelace,");
    }
    expect(email.textBody).toContain(msg.payload.downloadUrl);
    expect(email.htmlBody).toContain(`<a href="${escapeHtml(msg.payload.downloadUrl)}"`);
    expect(renderEmail(msg)).toEqual(email);
  });

  it("lists the warnings of a damaged file in both bodies (escaped, one line each); none without them", () => {
    const msg = successMessage({ imageCount: 5, warnings: ["The file ended early (it looks truncated): images after that point are missing.", `Damaged\n${EVIL}`] });
    const { textBody, htmlBody } = renderSuccessEmail(msg);
    for (const body of [textBody, htmlBody]) {
      expect(body).toContain("The video file is damaged, so some images may be missing:");
      expect(body).toContain("The file ended early (it looks truncated)");
    }
    expect(textBody).toContain(`- Damaged ${EVIL}`);
    expect(htmlBody).toContain("<li>Damaged &lt;script&gt;");
    expect(htmlBody).not.toContain("<script>");
    expect(renderSuccessEmail(successMessage({ imageCount: 5 })).textBody).not.toContain("damaged");
  });

  it("escapes every message value in the HTML body", () => {
    const msg = successMessage({
      filename: EVIL,
      name: EVIL,
      videoId: EVIL,
      downloadUrl: `https://example.com/a.zip?x="><script>alert(1)</script>&y=1`,
      downloadUrlExpiresAt: EVIL,
    });
    const { htmlBody, textBody } = renderSuccessEmail(msg);
    expect(htmlBody).not.toContain("<script>");
    expect(htmlBody).not.toContain("<img");
    // The quote in the URL cannot close the href attribute.
    expect(htmlBody).toContain('href="https://example.com/a.zip?x=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;y=1"');
    expect(htmlBody).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;");
    // The text body is plain text: values appear as they are.
    expect(textBody).toContain(EVIL);
  });

  it("does not turn a non-http(s) URL into a link", () => {
    const msg = successMessage({ downloadUrl: "javascript:alert(1)" });
    const { htmlBody } = renderSuccessEmail(msg);
    expect(htmlBody).not.toContain("href=");
    expect(htmlBody).toContain("<code>javascript:alert(1)</code>");
  });

  it("keeps the subject on one line (no header injection) and copes without a name", () => {
    const msg = successMessage({ filename: "a\r\nBcc: victim@example.com\u2028b.mp4", name: undefined, imageCount: 0 });
    const email = renderSuccessEmail(msg);
    expect(email.subject).toBe("Your snapshots of a Bcc: victim@example.com b.mp4 are ready");
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.textBody.startsWith("Hello,\n")).toBe(true);
    expect(email.textBody).toContain("0 images");
  });
});

describe("renderErrorEmail", () => {
  it("contains the error, its description and the retry endpoint", () => {
    const msg = errorMessage({ videoId: "vid 1/2", errorMessage: "DECODE_FAILED", errorDescription: "Line 1\nLine 2" });
    const email = renderErrorEmail(msg);
    expect(email.subject).toBe("We could not extract snapshots from broken.mov");
    for (const body of [email.textBody, email.htmlBody]) {
      expect(body).toContain("DECODE_FAILED");
      expect(body).toContain("POST /v1/videos/vid%201%2F2/retry");
      expect(body).toContain("attempt 2");
    }
    expect(email.textBody).toContain("Line 1\nLine 2");
    expect(renderEmail(msg)).toEqual(email);
  });

  it("escapes error texts in the HTML body", () => {
    const msg = errorMessage({ errorMessage: EVIL, errorDescription: EVIL, filename: EVIL, name: EVIL });
    const { htmlBody } = renderErrorEmail(msg);
    expect(htmlBody).not.toContain("<script>");
    expect(htmlBody).not.toContain("<img");
    expect(htmlBody.match(/&lt;script&gt;/g)?.length).toBeGreaterThanOrEqual(4);
  });
});

describe("renderImportErrorEmail", () => {
  const importError = (payload: Partial<Parameters<typeof sendVideoImportErrorMessage>[0]> = {}) =>
    sendVideoImportErrorMessage({
      videoId: "vid-imp",
      userId: "user_1",
      attempt: 1,
      to: "grace@example.com",
      name: "Grace",
      filename: "talk.mp4",
      sourceUrl: "https://media.example.com/talks/talk.mp4?token=secret",
      errorMessage: "The URL answered HTTP 404 Not Found, not a video.",
      errorDescription: "The URL (https://media.example.com/talks/talk.mp4) answered HTTP 404; only 200 is imported.",
      ...payload,
    });

  it("says the import failed, names only the URL's host (defanged), the error and the retry endpoint", () => {
    const msg = importError();
    const email = renderImportErrorEmail(msg);
    expect(email.subject).toBe("We could not import talk.mp4");
    for (const body of [email.textBody, email.htmlBody]) {
      expect(body).toContain("media.example.com");
      expect(body).not.toContain("token=secret");
      expect(body).toContain("HTTP 404 Not Found");
      expect(body).toContain("POST /v1/videos/vid-imp/retry");
      expect(body).toContain("Nothing of it was stored.");
    }
    expect(renderEmail(msg)).toEqual(email);
  });

  it("escapes every user text in the HTML body", () => {
    const { htmlBody } = renderImportErrorEmail(importError({ errorMessage: EVIL, errorDescription: EVIL, filename: EVIL, name: EVIL, sourceUrl: "not a url" }));
    expect(htmlBody).not.toContain("<script>");
    expect(htmlBody).not.toContain("<img");
    expect(htmlBody).toContain("the given address");
  });
});

describe("renderGenerationErrorEmail", () => {
  const generationError = (payload: Partial<Parameters<typeof sendVideoGenerationErrorMessage>[0]> = {}) =>
    sendVideoGenerationErrorMessage({
      videoId: "vid-gen",
      userId: "user_1",
      attempt: 0,
      to: "grace@example.com",
      name: "Grace",
      filename: "avatar.mp4",
      generatorName: "n8n avatars",
      errorMessage: "The generator reported a failure.",
      errorDescription: "Voice service quota exceeded, see https://status.example.com",
      ...payload,
    });

  it("names the generator and its error (links defanged), says nothing was stored, points to a new generation", () => {
    const msg = generationError();
    const email = renderGenerationErrorEmail(msg);
    expect(email.subject).toBe("Your generator could not make avatar.mp4");
    for (const body of [email.textBody, email.htmlBody]) {
      expect(body).toContain("n8n avatars");
      expect(body).toContain("Voice service quota exceeded");
      expect(body).toContain("https[:]//status.example.com");
      expect(body).toContain("Nothing of it was stored.");
      expect(body).toContain("POST /v1/generations");
    }
    expect(renderEmail(msg)).toEqual(email);
  });

  it("escapes every generator and user text in the HTML body", () => {
    const { htmlBody, subject } = renderGenerationErrorEmail(generationError({ errorMessage: EVIL, errorDescription: EVIL, filename: EVIL, name: EVIL, generatorName: EVIL }));
    expect(htmlBody).not.toContain("<script>");
    expect(htmlBody).not.toContain("<img");
    expect(subject).not.toMatch(/[\r\n]/);
  });
});

describe("small helpers", () => {
  it("oneLine removes control characters", () => {
    expect(oneLine(" a\tb\r\n c\u0000d ")).toBe("a b c d");
  });

  it("formatRecipient quotes names and escapes quotes", () => {
    expect(formatRecipient("ada@example.com")).toBe("ada@example.com");
    expect(formatRecipient("ada@example.com", "  ")).toBe("ada@example.com");
    expect(formatRecipient("ada@example.com", 'Ada "The Countess" L\\')).toBe('"Ada \\"The Countess\\" L\\\\" <ada@example.com>');
    expect(formatRecipient("ada@example.com", "Ada\r\nBcc: x@y.z")).toBe('"Ada Bcc: x@y.z" <ada@example.com>');
  });
});
