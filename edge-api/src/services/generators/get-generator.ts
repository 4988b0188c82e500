/** Reads one generator of one user; another user's generator is indistinguishable from a missing one (404). */
import { and, eq } from "drizzle-orm";
import { generators } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import type { GeneratorRow } from "./serialize.ts";

/**
 * @returns the row owned by `userId`
 * @throws ProblemError `not-found` (404) when there is none
 */
export async function getGeneratorRow(deps: Deps, userId: string, generatorId: string): Promise<GeneratorRow> {
  const [row] = await deps.db
    .select()
    .from(generators)
    .where(and(eq(generators.id, generatorId), eq(generators.userId, userId)))
    .limit(1);
  if (!row) throw new ProblemError("not-found", `No generator ${generatorId}.`);
  return row;
}
