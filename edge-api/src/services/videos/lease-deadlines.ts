/**
 * Lease deadlines of an extraction attempt (./leases.ts, docs/architecture.md "Leases"), in their own module
 * so the services that set them (complete, retry, processor events) do not import the sweep.
 */
import type { Config } from "../../env.ts";

/** Lease of an attempt queued at `now`: now + JOB_LEASE_SECONDS. */
export function queuedLeaseExpiry(config: Pick<Config, "jobLeaseSeconds">, now: Date): Date {
  return new Date(now.getTime() + config.jobLeaseSeconds * 1000);
}

/** Lease of an attempt that reported PROCESSING at `now`: now + PROCESSING_LEASE_SECONDS. */
export function processingLeaseExpiry(config: Pick<Config, "processingLeaseSeconds">, now: Date): Date {
  return new Date(now.getTime() + config.processingLeaseSeconds * 1000);
}

