// Vite's `?raw` imports (a file's text as a string), used by tests/workers/webhooks.test.ts to check that
// docs/webhooks.md quotes docs/examples/verify-webhook.ts verbatim.
declare module "*?raw" {
  const content: string;
  export default content;
}
