/**
 * Registers a generator (`POST /v1/generators`): checks the URL (runtime/outgoing-url.ts), generates the
 * signing secret and stores it encrypted exactly as a webhook endpoint's (../webhooks/signing-secret.ts,
 * the generator id as associated data), and returns it once.
 */
import { sql } from "drizzle-orm";
import { checkOutgoingUrl } from "../../../../runtime/outgoing-url.ts";
import type { CreateGeneratorRequest, GeneratorWithSecret } from "../../../../schema/api.ts";
import type { Deps } from "../../context.ts";
import { ProblemError } from "../../errors.ts";
import { encryptSigningSecret, generateSigningSecret } from "../webhooks/signing-secret.ts";

/** Generators one user may register. */
export const MAX_GENERATORS_PER_USER = 10;

/**
 * @param body validated request: `name`, `url`
 * @returns the generator and its `whsec_…` secret (shown only in this answer)
 * @throws ProblemError `validation` (400) for a refused URL; `conflict` (409) when the user already has
 *   {@link MAX_GENERATORS_PER_USER} generators (checked in the INSERT itself)
 */
export async function createGenerator(deps: Deps, userId: string, body: CreateGeneratorRequest): Promise<GeneratorWithSecret> {
  const checked = checkOutgoingUrl(body.url, deps.config.environment);
  if (!checked.ok) {
    throw new ProblemError("validation", `The generator URL is refused: it ${checked.reason}.`, {
      errors: [{ path: "url", message: checked.reason }],
    });
  }
  const id = crypto.randomUUID();
  const secret = generateSigningSecret();
  const ciphertext = await encryptSigningSecret(deps.config.betterAuthSecret, id, secret);
  const now = Date.now();
  const result = await deps.db.run(sql`
    INSERT INTO generators (id, user_id, name, url, secret_ciphertext, created_at, updated_at)
    SELECT ${id}, ${userId}, ${body.name}, ${checked.url}, ${ciphertext}, ${now}, ${now}
    WHERE (SELECT count(*) FROM generators WHERE user_id = ${userId}) < ${MAX_GENERATORS_PER_USER}`);
  if (!result.meta.changes) {
    throw new ProblemError("conflict", `At most ${MAX_GENERATORS_PER_USER} generators per user; delete one first.`);
  }
  deps.log.info("generator created", { generatorId: id, userId });
  return { generator: { id, name: body.name, url: checked.url, createdAt: new Date(now).toISOString() }, secret };
}
