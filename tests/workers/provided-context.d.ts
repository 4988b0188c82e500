// Values the global setup provides to the Worker config (vitest `provide`/`inject`).
declare module "vitest" {
  export interface ProvidedContext {
    /** e.g. `http://127.0.0.1:40123`, the S3 server of global-setup.ts */
    s3Endpoint: string;
    /** e.g. `http://127.0.0.1:40124`, the stand-in processor of global-setup.ts */
    processorUrl: string;
    /** PROCESSOR_SHARED_SECRET shared by the Worker and the stand-in processor (random per run) */
    processorSharedSecret: string;
    /** e.g. `http://127.0.0.1:40125`, the webhook receiver of support/webhook-receiver.ts */
    webhookReceiverUrl: string;
  }
}
export {};
