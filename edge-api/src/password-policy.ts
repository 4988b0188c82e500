/**
 * Password rules of vidsnap accounts, applied by better-auth (edge-api/src/auth.ts) on sign-up, password
 * change and password reset:
 * - length {@link MIN_PASSWORD_LENGTH}..{@link MAX_PASSWORD_LENGTH} characters (better-auth's own check;
 *   the upper bound keeps the hash cost of one request bounded);
 * - not one of {@link COMMON_PASSWORDS} (case-insensitive), the most frequent passwords of public breach
 *   corpora (e.g. the top of SecLists' 10-million list) that are long enough to pass the length rule;
 * - not the account's email address nor its local part (case-insensitive).
 * The rules follow NIST SP 800-63B §5.1.1.2 (length, blocklist of common and context-specific values, no
 * composition rules).
 */

/** Shortest accepted password, characters. */
export const MIN_PASSWORD_LENGTH = 10;
/** Longest accepted password, characters. */
export const MAX_PASSWORD_LENGTH = 128;

/**
 * Common passwords of at least {@link MIN_PASSWORD_LENGTH} characters (shorter ones already fail the
 * length rule), lower case.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  "1234567890",
  "0123456789",
  "0987654321",
  "1234567891",
  "12345678910",
  "123456789a",
  "a123456789",
  "1111111111",
  "0000000000",
  "123123123123",
  "1122334455",
  "1q2w3e4r5t",
  "1q2w3e4r5t6y",
  "q1w2e3r4t5",
  "q1w2e3r4t5y6",
  "1qaz2wsx3edc",
  "zaq1zaq1zaq1",
  "zaq12wsxcde3",
  "qwertyuiop",
  "qwertyuiop123",
  "qwerty1234",
  "qwerty12345",
  "qwerty123456",
  "asdfghjkl1",
  "asdfghjkl123",
  "zxcvbnm123",
  "abcdefghij",
  "abcd123456",
  "abc1234567",
  "password12",
  "password123",
  "password1234",
  "password12345",
  "password123!",
  "passw0rd123",
  "p@ssw0rd123",
  "p@ssword123",
  "mypassword",
  "mypassword1",
  "mypassword123",
  "newpassword",
  "mynewpassword",
  "changeme123",
  "letmein123",
  "letmein1234",
  "welcome123",
  "welcome1234",
  "iloveyou12",
  "iloveyou123",
  "iloveyou1234",
  "sunshine123",
  "princess123",
  "football123",
  "baseball123",
  "basketball",
  "basketball1",
  "superman123",
  "batman12345",
  "starwars123",
  "pokemon123",
  "dragon12345",
  "monkey12345",
  "master12345",
  "shadow12345",
  "michael123",
  "jennifer123",
  "liverpool1",
  "liverpool123",
  "chelsea123",
  "arsenal123",
  "manchester",
  "trustno1234",
  "administrator",
  "admin12345",
  "admin123456",
  "adminadmin",
  "rootroot123",
  "computer123",
  "internet123",
  "whatever123",
  "qazwsxedc123",
  "qazwsxedcrfv",
  "1qazxsw23edc",
  "11111111111",
  "123456789012",
  "9876543210",
  "5555555555",
  "7777777777",
  "8888888888",
  "9999999999",
  "aaaaaaaaaa",
  "correcthorsebatterystaple",
]);

/** Why a password was refused; the `code` is answered by better-auth as `{code, message}` with status 400. */
export interface PasswordRefusal {
  code: "PASSWORD_TOO_COMMON" | "PASSWORD_EQUALS_EMAIL";
  message: string;
}

/**
 * Checks the blocklist rules (length is checked by better-auth itself).
 * @param password the candidate password, as typed
 * @param email the account's email when known (sign-up, password change), else undefined
 * @returns the refusal, or null when the password is acceptable
 */
export function checkPassword(password: string, email: string | undefined): PasswordRefusal | null {
  const candidate = password.trim().toLowerCase();
  if (COMMON_PASSWORDS.has(candidate)) {
    return { code: "PASSWORD_TOO_COMMON", message: "This password is among the most common ones; choose another." };
  }
  if (email) {
    const address = email.trim().toLowerCase();
    const local = address.split("@")[0] ?? "";
    if (candidate === address || (local.length > 0 && candidate === local)) {
      return { code: "PASSWORD_EQUALS_EMAIL", message: "The password must not be your email address." };
    }
  }
  return null;
}
