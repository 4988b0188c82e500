/** Lists a user's generators, newest first (at most MAX_GENERATORS_PER_USER, so no pagination). */
import { desc, eq } from "drizzle-orm";
import type { GeneratorList } from "../../../../schema/api.ts";
import { generators } from "../../../../schema/db.ts";
import type { Deps } from "../../context.ts";
import { MAX_GENERATORS_PER_USER } from "./create-generator.ts";
import { toGenerator } from "./serialize.ts";

/** @returns `{data}`: every generator of `userId` */
export async function listGenerators(deps: Deps, userId: string): Promise<GeneratorList> {
  const rows = await deps.db
    .select()
    .from(generators)
    .where(eq(generators.userId, userId))
    .orderBy(desc(generators.createdAt), desc(generators.id))
    .limit(MAX_GENERATORS_PER_USER);
  return { data: rows.map(toGenerator) };
}
