/**
 * Addresses and credentials of the local stack (`npm start`, the e2e test, the demo). All services
 * bind 127.0.0.1 only. The S3 credentials are the local S3 server's built-in account; they are not
 * secrets and are refused outside ENVIRONMENT=local by edge-api's env schema.
 */
export const LOCAL = {
  host: "127.0.0.1",
  apiPort: 8787,
  processorPort: 8788,
  s3Port: 4569,
  s3AccessKeyId: "S3RVER",
  s3SecretAccessKey: "S3RVER",
  s3Region: "us-east-1",
  /** Account id and API token of the local Temporary Credentials API stand-in (./r2-temp-credentials.ts). */
  cloudflareAccountId: "local-account",
  r2ApiToken: "local-r2-api-token",
  videosBucket: "vidsnap-videos",
  imagesBucket: "vidsnap-images",
} as const;

export const apiBaseUrl = (port: number = LOCAL.apiPort) => `http://${LOCAL.host}:${port}`;
export const s3Endpoint = (port: number = LOCAL.s3Port) => `http://${LOCAL.host}:${port}`;
/** CLOUDFLARE_API_BASE_URL of the local stack: the stand-in served by the local S3 server at `endpoint`. */
export const cloudflareApiBaseUrl = (endpoint: string) => `${endpoint}/client/v4`;
