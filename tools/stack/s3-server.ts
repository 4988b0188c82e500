/**
 * Starts the local S3-compatible server (@20minutes/s3rver 4.x), which verifies SigV4 signatures
 * (header and presigned query), honours presigned expiry and signed headers, and supports multipart
 * uploads (with ListParts, AbortMultipartUpload and S3's part checks added by ./s3-multipart-shim.ts).
 * Buckets are created through its `configureBuckets` option because signed CreateBucket fails there (see ../shared/toolchain-notes.md).
 */
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { LOCAL } from "./local-config.ts";
import { installMultipartShim } from "./s3-multipart-shim.ts";

const require = createRequire(import.meta.url);

/** CORS for browser uploads to presigned URLs: any origin, PUT/GET/HEAD, content-type listed explicitly. */
const CORS_XML = `<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedHeader>content-type</AllowedHeader><AllowedHeader>content-length</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

export interface S3ServerHandle {
  /** e.g. `http://127.0.0.1:4569` */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * @param opts.directory where objects are stored on disk
 * @param opts.port TCP port on 127.0.0.1; 0 picks a free one
 * @param opts.buckets bucket names to create (default: the local videos and images buckets)
 * @param opts.silent suppress per-request logs (default true)
 * @throws when the port is taken
 */
export async function startS3Server(opts: {
  directory: string;
  port?: number;
  buckets?: string[];
  silent?: boolean;
}): Promise<S3ServerHandle> {
  const S3rver = require("@20minutes/s3rver");
  const buckets = opts.buckets ?? [LOCAL.videosBucket, LOCAL.imagesBucket];
  const server = new S3rver({
    address: LOCAL.host,
    port: opts.port ?? LOCAL.s3Port,
    directory: opts.directory,
    silent: opts.silent ?? true,
    // Path-style URLs (http://127.0.0.1:port/bucket/key): no wildcard DNS locally.
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name, configs: [CORS_XML] })),
  });
  // ListParts, AbortMultipartUpload and S3's CompleteMultipartUpload checks, which s3rver lacks.
  installMultipartShim(server);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://${LOCAL.host}:${address.port}`,
    port: address.port,
    close: () => {
      // End keep-alive and in-flight connections too, so close() resolves at once (the chaos harness
      // stops the server mid-request to simulate an outage).
      (server.httpServer as import("node:http").Server | undefined)?.closeAllConnections();
      return server.close();
    },
  };
}
