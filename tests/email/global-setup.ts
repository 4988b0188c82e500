/**
 * Vitest globalSetup (runs in Node, before the workerd pool starts): starts the Postmark mock and
 * provides its `host:port` to the pool options (`POSTMARK_API_HOST` binding) and to tests (`inject`).
 */
import type { TestProject } from "vitest/node";
import { startPostmarkMock } from "../../tools/stack/postmark-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** `127.0.0.1:port` of the Postmark mock. */
    postmarkHost: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mock = await startPostmarkMock();
  project.provide("postmarkHost", mock.host);
  return () => mock.close();
}
