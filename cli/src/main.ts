/**
 * Entry of the `vidsnap` command (`npm run vidsnap -- <cmd>`, or the `vidsnap` bin through
 * cli/bin/vidsnap.mjs): runs {@link runCli} on the process arguments and exits with its code.
 * Ctrl-C aborts the running request (exit 130); a second Ctrl-C exits at once. A closed stdout
 * (`vidsnap ls | head -1`) ends the process quietly with exit 141 ({@link handleClosedOutput}).
 */
import { runCli } from "./cli.ts";
import { handleClosedOutput, processIO } from "./context.ts";

handleClosedOutput();
const controller = new AbortController();
process.on("SIGINT", () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
});
const code = await runCli(process.argv.slice(2), processIO(), { signal: controller.signal });
process.exitCode = code;
// Open keep-alive sockets of fetch must not hold the process.
setTimeout(() => process.exit(code), 50).unref();
