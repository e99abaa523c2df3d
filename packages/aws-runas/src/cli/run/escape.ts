/**
 * Wires the `~.` / `~?` / `~~` escape filter (`session/escape.ts`) into an interactive shell:
 * help goes to the terminal (stderr), `~.` ends the session once, and input after it is dropped.
 */
import { type EscapeChar, EscapeFilter, escapeHelp } from "../../session/escape.js";

export interface EscapeWiring {
  char: EscapeChar;
  stderr: NodeJS.WritableStream;
  /** Called once, on `~.`. */
  terminate: () => void;
}

/** An input filter for `runShellSession`: keystrokes in, bytes for the remote side out. */
export function escapeInput(wiring: EscapeWiring): (chunk: Buffer) => Buffer {
  const filter = new EscapeFilter(wiring.char);
  let terminated = false;
  return (chunk) => {
    if (terminated) return Buffer.alloc(0);
    const out: Buffer[] = [];
    for (const event of filter.push(chunk)) {
      if (event.kind === "data") out.push(event.data);
      else if (event.kind === "help") wiring.stderr.write(`\r\n${escapeHelp(wiring.char ?? 0x7e)}`);
      else {
        terminated = true;
        wiring.stderr.write("\r\n");
        wiring.terminate();
        break;
      }
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  };
}
