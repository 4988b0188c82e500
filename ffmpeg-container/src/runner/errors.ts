/**
 * Failures a job reports as an ERROR event: `message` is one human sentence (the event's `errorMessage`),
 * `description` the redacted detail (`errorDescription`, e.g. the tail of ffmpeg's stderr).
 */
export class JobError extends Error {
  constructor(
    message: string,
    readonly description: string = "",
  ) {
    super(message);
    this.name = "JobError";
  }
}

/** The job was stopped because the HTTP client went away; nothing is reported (no one listens). */
export class ClientGoneError extends Error {
  constructor() {
    super("the client closed the connection");
    this.name = "ClientGoneError";
  }
}
