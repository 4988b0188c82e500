/** Every queue message vidsnap sends, as one discriminated union on `type`. */
export * from "./account-email.ts";
export * from "./envelope.ts";
export * from "./extract-snapshot.ts";
export * from "./generation.ts";
export * from "./import.ts";
export * from "./snapshot-email.ts";
export * from "./transcode.ts";
export * from "./transcode-email.ts";
export * from "./webhook.ts";
export * from "./email.ts";
