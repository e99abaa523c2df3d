/**
 * How the process ends once the command has returned (main.ts and the single-file executable's
 * sea.ts): its sessions are over and the terminal restored, so nothing left may keep it running.
 */

/** Sets the exit code and makes sure the process then ends. */
export function finishProcess(code: number): void {
  process.exitCode = code;
  // A handle a library left open (a socket still in its close handshake, an SDK keep-alive
  // agent) must not keep the process alive. Unref'd: a clean exit never waits for it.
  setTimeout(() => process.exit(), 2000).unref();
  // After "exit", Node closes every handle and waits for their close callbacks; a handle whose
  // close never started (Node's resetAndDestroy() on a socket with a pending shutdown leaks one,
  // see session/reset.ts) makes that wait spin forever at 100 % CPU. Nothing of ours runs after
  // "exit": leave at once. Registered last, so every other "exit" listener runs before.
  process.once("exit", () => process.exit());
}
