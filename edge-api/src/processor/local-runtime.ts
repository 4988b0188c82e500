/**
 * The container runtime stood in by the local processor: what `ctx.container` is for
 * {@link ProcessorContainer} where Cloudflare Containers cannot run (the local stack, `wrangler dev`, the
 * workerd tests: no Docker). Everything above the runtime — the `Container` class of @cloudflare/containers
 * (start, port readiness, activity timeout, alarms) and vidsnap's dispatch and event relay — is the
 * production code, unchanged; only "a process listening on the container's port" becomes the Node
 * processor at PROCESSOR_URL (`npm run processor`, started by the local stack).
 *
 * The stand-in cannot start or stop that process: `start()` and `destroy()` only flip `running`, and
 * `monitor()` settles when it is destroyed or signalled.
 */

/**
 * @param processorUrl base URL of the local processor, e.g. `http://127.0.0.1:8788`
 * @returns an object with the shape of workerd's `Container` runtime API; every port maps to `processorUrl`
 */
export function localContainerRuntime(processorUrl: string): Container {
  const base = processorUrl.replace(/\/+$/, "");
  let running = false;
  let exit: (() => void) | undefined;
  let exited: Promise<void> = Promise.resolve();
  const stop = () => {
    running = false;
    exit?.();
    exit = undefined;
  };
  const port: Fetcher = {
    fetch(input: RequestInfo | URL, init?: RequestInit) {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const target = base + url.pathname + url.search;
      return input instanceof Request ? fetch(new Request(target, input), init) : fetch(target, init);
    },
    connect() {
      throw new Error("the local container runtime has no raw TCP sockets");
    },
  } as Fetcher;
  const unsupported = (what: string) => () => Promise.reject(new Error(`${what} is not available in the local container runtime`));
  return {
    get running() {
      return running;
    },
    start() {
      if (running) return;
      running = true;
      exited = new Promise<void>((resolve) => (exit = resolve));
    },
    monitor: () => exited,
    destroy: async () => stop(),
    signal: () => stop(),
    getTcpPort: () => port,
    setInactivityTimeout: async () => undefined,
    interceptOutboundHttp: unsupported("outbound interception"),
    interceptAllOutboundHttp: unsupported("outbound interception"),
    interceptOutboundHttps: unsupported("outbound interception"),
    snapshotDirectory: unsupported("snapshots"),
    snapshotContainer: unsupported("snapshots"),
  } as Container;
}
