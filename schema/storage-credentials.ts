/**
 * Per-job storage credentials (docs/architecture.md "Storage credentials"): R2 temporary credentials the
 * Worker mints for one job attempt or one render and sends inside the signed request to the processor,
 * which holds no storage key of its own. Each credential is scoped to one bucket, one permission and the
 * exact objects or prefixes the job may touch, and expires shortly after the job's deadline
 * (https://developers.cloudflare.com/r2/api/s3/temporary-credentials/).
 */
import { z } from "zod";
import { archiveObjectKey, manifestObjectKey, sourceObjectKey, transcodeAttemptPrefix } from "./object-keys.ts";

/** R2's object permissions a temporary credential may carry (`admin-*` is never asked for). */
export const StoragePermission = z.enum(["object-read-only", "object-read-write"]);
export type StoragePermission = z.infer<typeof StoragePermission>;

/**
 * What one credential may touch: `bucket`, `permission`, and `objects` (exact keys) or `prefixes`; neither
 * means the whole bucket (never asked for by vidsnap).
 */
export const StorageScope = z.strictObject({
  bucket: z.string().min(1).max(63),
  permission: StoragePermission,
  objects: z.array(z.string().min(1).max(1024)).min(1).max(16).optional(),
  prefixes: z.array(z.string().min(1).max(1024)).min(1).max(16).optional(),
});
export type StorageScope = z.infer<typeof StorageScope>;

/** A minted credential: its scope, the SigV4 key pair with its session token, and when it expires (unix seconds). */
export const StorageCredential = StorageScope.extend({
  accessKeyId: z.string().min(1).max(256),
  secretAccessKey: z.string().min(1).max(256),
  sessionToken: z.string().min(1).max(8192),
  expiresAt: z.number().int().positive(),
});
export type StorageCredential = z.infer<typeof StorageCredential>;

/**
 * The credentials of one job or render, by role: `read` reads its input (the video's source, read-only),
 * `write` writes its outputs (read-write, limited to the attempt's keys or prefix; it may also read and
 * delete what lies there). A role a kind does not need is absent (an import only writes).
 */
export const JobCredentials = z.strictObject({
  read: StorageCredential.optional(),
  write: StorageCredential.optional(),
});
export type JobCredentials = z.infer<typeof JobCredentials>;

/** The secret parts of a job's credentials (secret keys and session tokens), for redaction. */
export function credentialSecrets(c: JobCredentials): string[] {
  return [c.read, c.write].flatMap((x) => (x ? [x.secretAccessKey, x.sessionToken] : []));
}

/** The scopes a job kind asks credentials for, by the roles of {@link JobCredentials}. */
export interface JobStorageScopes {
  read?: StorageScope;
  write?: StorageScope;
}


/** The two buckets, by their config names. */
export interface Buckets {
  videosBucket: string;
  imagesBucket: string;
}

/**
 * True when `scope` names object `key` of `bucket`: one of its `objects`, under one of its `prefixes`, or any
 * key of the bucket when it has neither. Says nothing of the permission.
 */
export function scopeCovers(scope: StorageScope, bucket: string, key: string): boolean {
  if (scope.bucket !== bucket) return false;
  if (!scope.objects && !scope.prefixes) return true;
  return (scope.objects ?? []).includes(key) || (scope.prefixes ?? []).some((p) => key.startsWith(p));
}

/** An extraction attempt: reads the source; writes its archive and manifest (images bucket). */
export function extractStorageScopes(ref: { userId: string; videoId: string; attempt: number }, b: Buckets): JobStorageScopes {
  return {
    read: { bucket: b.videosBucket, permission: "object-read-only", objects: [sourceObjectKey(ref.userId, ref.videoId)] },
    write: {
      bucket: b.imagesBucket,
      permission: "object-read-write",
      objects: [archiveObjectKey(ref.userId, ref.videoId, ref.attempt), manifestObjectKey(ref.userId, ref.videoId, ref.attempt)],
    },
  };
}

/** A transcode attempt: reads the source; writes under its attempt prefix (HLS segment names are not known in advance). */
export function transcodeStorageScopes(ref: { userId: string; videoId: string; transcodeId: string; attempt: number }, b: Buckets): JobStorageScopes {
  return {
    read: { bucket: b.videosBucket, permission: "object-read-only", objects: [sourceObjectKey(ref.userId, ref.videoId)] },
    write: { bucket: b.videosBucket, permission: "object-read-write", prefixes: [transcodeAttemptPrefix(ref.userId, ref.videoId, ref.transcodeId, ref.attempt)] },
  };
}

/** An import: writes the source object (multipart), reads nothing else. */
export function importStorageScopes(ref: { userId: string; videoId: string }, b: Buckets): JobStorageScopes {
  return { write: { bucket: b.videosBucket, permission: "object-read-write", objects: [sourceObjectKey(ref.userId, ref.videoId)] } };
}

/** A render of images on demand: reads the source (the Worker stores the image itself). */
export function renderStorageScopes(ref: { userId: string; videoId: string }, b: Buckets): JobStorageScopes {
  return { read: { bucket: b.videosBucket, permission: "object-read-only", objects: [sourceObjectKey(ref.userId, ref.videoId)] } };
}
