/**
 * Rules for the account `name`, applied by better-auth's before-hook (edge-api/src/auth.ts) on sign-up
 * (`/sign-up/email`) and on `/update-user`. The name is shown in outcome emails, so it must not be a
 * vehicle for text an attacker wants a stranger to read (issue 18: a 3,000-character name carrying
 * "verify at https://…"):
 * - at most {@link MAX_NAME_LENGTH} characters (code points), after trimming;
 * - no control, line/paragraph separator or bidirectional-override characters;
 * - nothing that looks like a link: `scheme://`, `www.`, or a `label.tld`-shaped word (`evil.example`,
 *   `mr.smith` too: a dotted word is refused rather than guessed about).
 * The email templates bound and defang names again (email-consumer/src/templates.ts, `userText`), for
 * names stored before these rules.
 */

/** Longest accepted name, characters (code points). */
export const MAX_NAME_LENGTH = 100;

/** Why a name was refused: better-auth's `code` of the 400 answer. */
export type NameRefusalCode = "NAME_TOO_LONG" | "NAME_HAS_CONTROL_CHARACTERS" | "NAME_HAS_LINK";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const LINK = /[a-z][a-z0-9+.-]*:\/\/|\bwww\.|[\p{L}\p{N}_-]\.[\p{L}]{2,}/iu;

/**
 * @param name the submitted name (not trimmed)
 * @returns null when acceptable, else the refusal `{code, message}`
 */
export function checkName(name: string): { code: NameRefusalCode; message: string } | null {
  if (CONTROL.test(name)) {
    return { code: "NAME_HAS_CONTROL_CHARACTERS", message: "The name must not contain control or text-direction characters." };
  }
  if (Array.from(name.trim()).length > MAX_NAME_LENGTH) {
    return { code: "NAME_TOO_LONG", message: `The name must be at most ${MAX_NAME_LENGTH} characters.` };
  }
  if (LINK.test(name)) {
    return { code: "NAME_HAS_LINK", message: "The name must not contain a web address (no `://`, `www.` or `word.word`)." };
  }
  return null;
}
