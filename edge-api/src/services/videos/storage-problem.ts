/**
 * Converts storage failures met while answering a request into problems: an unexpected storage answer
 * or a timeout becomes 502 `bad-gateway` (logged with its cause); ProblemErrors pass through.
 */
import { ProblemError } from "../../errors.ts";

/** Runs `fn`; storage errors become ProblemError `bad-gateway` (502). */
export async function withStorage<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    throw new ProblemError("bad-gateway", `The storage did not answer while ${what}; try again.`, { cause: err });
  }
}
