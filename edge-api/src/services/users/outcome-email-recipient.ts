/**
 * Who receives the emails about a user's videos (outcome emails today, any later kind of notification
 * email too): the one rule every notifier calls. Only a **verified** address receives them: an account
 * signed up with someone else's address can use the API, but never makes vidsnap email that person
 * (issue 18 item 2). Unverified users still see outcomes through the API and their webhooks.
 */
import { eq } from "drizzle-orm";
import { user } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";

/** The address and display name an email to a user goes to. */
export interface EmailRecipient {
  email: string;
  name: string;
}

/** Why a user gets no email: the account is gone, or its address is not verified. */
export type NoRecipient = "user-not-found" | "email-not-verified";

/**
 * @param deps uses `db`
 * @param userId the video owner's id
 * @returns `{recipient}` for a verified address, or `{none}` saying why no email may be sent
 * @throws D1 errors (the caller's queue retry handles them)
 */
export async function outcomeEmailRecipient(
  deps: Pick<Deps, "db">,
  userId: string,
): Promise<{ recipient: EmailRecipient } | { none: NoRecipient }> {
  const [owner] = await deps.db
    .select({ email: user.email, name: user.name, emailVerified: user.emailVerified })
    .from(user)
    .where(eq(user.id, userId))
    .limit(1);
  if (!owner) return { none: "user-not-found" };
  if (!owner.emailVerified) return { none: "email-not-verified" };
  return { recipient: { email: owner.email, name: owner.name } };
}
