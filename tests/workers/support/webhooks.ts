/**
 * Helpers of the webhook tests (webhooks.test.ts, webhook-flood.test.ts): the loopback receiver of
 * ./webhook-receiver.ts (plan its answers, read what it got), endpoint and delivery reads through the API,
 * and service deps whose WEBHOOK_QUEUE captures messages.
 */
import { eq } from "drizzle-orm";
import { expect, inject } from "vitest";
import type { WebhookDeliveryList, WebhookWithSecret } from "../../../schema/api.ts";
import { webhookDeliveries } from "../../../schema/db.ts";
import type { DeliverWebhookMessage } from "../../../schema/messages/index.ts";
import { createDeps } from "../../../edge-api/src/context.ts";
import { loadConfig } from "../../../edge-api/src/env.ts";
import { createLogger } from "../../../runtime/log.ts";
import { api, db, type signUp, testEnv } from "./env.ts";
import type { ReceivedWebhook } from "./webhook-receiver.ts";

export type User = Awaited<ReturnType<typeof signUp>>;

/** Base URL of the loopback webhook receiver. */
export const receiver = () => inject("webhookReceiverUrl");
/** The receiver's URL for `key`: its requests are recorded under that key. */
export const hookUrl = (key: string) => `${receiver()}/hooks/${key}`;

/** Sets what the receiver answers on `/hooks/{key}`: `statuses` in order, then `fallback`. */
export async function plan(key: string, statuses: number[], fallback = 200): Promise<void> {
  const res = await fetch(`${receiver()}/__plan/${key}`, { method: "PUT", body: JSON.stringify({ statuses, fallback }) });
  expect(res.status).toBe(204);
}

/** The requests the receiver got on `/hooks/{key}`, in order. */
export async function received(key: string): Promise<ReceivedWebhook[]> {
  const res = await fetch(`${receiver()}/__requests/${key}`);
  return ((await res.json()) as { requests: ReceivedWebhook[] }).requests;
}

/** `POST /v1/webhooks` as `user`, expecting 201. */
export async function createEndpoint(user: User, body: Record<string, unknown>): Promise<WebhookWithSecret> {
  const res = await api("/v1/webhooks", { method: "POST", token: user.token, json: body });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

/** `GET /v1/webhooks/{id}/deliveries` as `user`, expecting 200. */
export async function deliveries(user: User, webhookId: string, query = ""): Promise<WebhookDeliveryList> {
  const res = await api(`/v1/webhooks/${webhookId}/deliveries${query}`, { token: user.token });
  expect(res.status).toBe(200);
  return res.json();
}

/** The D1 row of a delivery. */
export const deliveryRow = async (id: string) => (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)))[0]!;

/** Service deps whose WEBHOOK_QUEUE records messages instead of sending them. */
export function capturingDeps(logLevel: "debug" | "error" = "error") {
  const sent: DeliverWebhookMessage[] = [];
  const queue = {
    send: async (body: DeliverWebhookMessage) => void sent.push(body),
    sendBatch: async (messages: Iterable<MessageSendRequest<DeliverWebhookMessage>>) => {
      for (const m of messages) sent.push(m.body);
    },
  } as unknown as Queue<DeliverWebhookMessage>;
  const deps = createDeps({ ...testEnv, WEBHOOK_QUEUE: queue }, loadConfig(testEnv), createLogger({}, { minLevel: logLevel }));
  return { deps, sent };
}
