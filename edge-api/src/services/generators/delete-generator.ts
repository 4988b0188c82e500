/**
 * Deletes a user's generator. Its generations keep their videos (`generations.generator_id` becomes null): a
 * request not yet sent then fails the generation; a generation already sent still accepts its callback.
 */
import { and, eq } from "drizzle-orm";
import { generators } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";

/** @throws ProblemError `not-found` (404) when `userId` has no such generator */
export async function deleteGenerator(deps: Deps, userId: string, generatorId: string): Promise<void> {
  const deleted = await deps.db
    .delete(generators)
    .where(and(eq(generators.id, generatorId), eq(generators.userId, userId)))
    .returning({ id: generators.id });
  if (deleted.length === 0) throw new ProblemError("not-found", `No generator ${generatorId}.`);
  deps.log.info("generator deleted", { generatorId, userId });
}
