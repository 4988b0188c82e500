/**
 * Consumers of MSG_REQUEST_GENERATION, which travels on vidsnap-webhooks beside MSG_DELIVER_WEBHOOK (same
 * sender, same retries by `message.retry`): one try of the generation's request
 * (../services/generations/deliver-generation-request.ts), and its dead-letter form (vidsnap-webhooks-dlq:
 * the message used up the queue's deliveries, e.g. D1 kept failing), which fails the generation if it is
 * still pending. D1 failures throw and the caller retries the message.
 */
import { RequestGenerationMessage } from "../../../schema/messages/index.ts";
import type { Deps } from "../context.ts";
import { failGeneration } from "../lifecycle/generation.ts";
import { deliverGenerationRequest } from "../services/generations/deliver-generation-request.ts";
import { generationRequestStore, generationWhere } from "../services/generations/request-store.ts";
import { DEAD_LETTERED_ERROR } from "../services/webhooks/fail-dead-lettered-delivery.ts";
import { parseOrDrop } from "./parse-message.ts";

/** Handles one request message; acks or retries it itself. */
export async function consumeGenerationRequest(message: Message<unknown>, deps: Deps): Promise<void> {
  const msg = parseOrDrop(RequestGenerationMessage, message, deps, "MSG_REQUEST_GENERATION");
  if (!msg) return;
  const log = deps.log.child({ videoId: msg.payload.generationId });
  const outcome = await deliverGenerationRequest({ ...deps, log }, msg.payload);
  if (outcome.kind === "retry") {
    message.retry({ delaySeconds: outcome.delaySeconds });
    return;
  }
  if (outcome.kind === "skipped") log.info("generation request skipped", { reason: outcome.reason });
  message.ack();
}

/** Handles one dead-lettered request message: the request is failed, and so is the generation still pending. */
export async function consumeGenerationRequestDeadLetter(message: Message<unknown>, deps: Deps): Promise<void> {
  const msg = parseOrDrop(RequestGenerationMessage, message, deps, "dead-lettered MSG_REQUEST_GENERATION");
  if (!msg) return;
  const { generationId, userId } = msg.payload;
  const settled = await generationRequestStore.settle(deps.db, generationWhere(msg.payload), { sent: false, error: DEAD_LETTERED_ERROR });
  const failed = await failGeneration(deps, { id: generationId, userId }, {
    source: "api",
    errorMessage: "The generator could not be reached.",
    errorDescription: `The request was not delivered: ${DEAD_LETTERED_ERROR}.`,
  });
  deps.log.warn("dead-lettered generation request handled", { videoId: generationId, requestFailed: settled, generationFailed: !!failed });
  message.ack();
}
