/**
 * Message family MSG_REQUEST_GENERATION: API → generation request sender (the edge-api consumer of
 * vidsnap-webhooks, which sends generator requests beside webhooks with the same signing and URL rules). One
 * per generation (`generations` row, schema/db.ts); the row holds the input and the state of the request, the
 * message only names it, so a duplicated message finds the row already succeeded and sends nothing.
 */
import { z } from "zod";
import { API_SERVICE, envelope, envelopeBuilder, WEBHOOK_SERVICE } from "./envelope.ts";

/** API → sender: send (or retry) the signed request of one generation to its generator. */
export const RequestGenerationMessage = envelope(
  "MSG_REQUEST_GENERATION",
  [API_SERVICE],
  WEBHOOK_SERVICE,
  z.object({
    /** The generation's id (= its video's id). */
    generationId: z.string().min(1),
    userId: z.string().min(1),
  }),
);
export type RequestGenerationMessage = z.infer<typeof RequestGenerationMessage>;

export const requestGenerationMessage = envelopeBuilder(RequestGenerationMessage);
