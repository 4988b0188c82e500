/**
 * Replaces a generator's signing secret (`POST /v1/generators/{id}/rotate-secret`). The old secret stops at
 * once: tries made after this (retries of earlier requests included) are signed with the new one.
 */
import { and, eq } from "drizzle-orm";
import type { GeneratorWithSecret } from "../../../../schema/api.ts";
import { generators } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { encryptSigningSecret, generateSigningSecret } from "../webhooks/signing-secret.ts";
import { toGenerator } from "./serialize.ts";

/**
 * @returns the generator and its new `whsec_…` secret (shown only in this answer)
 * @throws ProblemError `not-found` (404) when `userId` has no such generator
 */
export async function rotateGeneratorSecret(deps: Deps, userId: string, generatorId: string): Promise<GeneratorWithSecret> {
  const secret = generateSigningSecret();
  const ciphertext = await encryptSigningSecret(deps.config.betterAuthSecret, generatorId, secret);
  const [row] = await deps.db
    .update(generators)
    .set({ secretCiphertext: ciphertext, updatedAt: new Date() })
    .where(and(eq(generators.id, generatorId), eq(generators.userId, userId)))
    .returning();
  if (!row) throw new ProblemError("not-found", `No generator ${generatorId}.`);
  deps.log.info("generator secret rotated", { generatorId, userId });
  return { generator: toGenerator(row), secret };
}
