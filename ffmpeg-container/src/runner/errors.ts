/**
 * Failures a job reports as an ERROR event: `message` is one human sentence (the event's `errorMessage`),
 * `description` the redacted detail (`errorDescription`, e.g. the tail of ffmpeg's stderr). `retryable`
 * marks a transient fault (storage unavailable, processor shutting down): the same attempt may well succeed
 * later, so the event says `retryable: true` and the API re-queues the job with backoff instead of failing it.
 */
export class JobError extends Error {
  readonly retryable: boolean;
  constructor(
    message: string,
    readonly description: string = "",
    opts: { retryable?: boolean } = {},
  ) {
    super(message);
    this.name = "JobError";
    this.retryable = opts.retryable ?? false;
  }
}

/** The job was stopped because the HTTP client went away; nothing is reported (no one listens). */
export class ClientGoneError extends Error {
  constructor() {
    super("the client closed the connection");
    this.name = "ClientGoneError";
  }
}
