/**
 * The interactive instance picker on the controlling terminal. It draws on /dev/tty, never on
 * stdout (for `ssm ssh` stdout is the SSH stream), and reads keys from /dev/tty in raw mode;
 * the terminal is restored and the list erased on every way out.
 */
import { closeSync, openSync } from "node:fs";
import { ReadStream, WriteStream } from "node:tty";
import { RunasError, UsageError } from "@aws-runas/wire/errors.js";
import type { ManagedInstance } from "../instances/types.js";
import { initialState, type PickerState, parseKeys, renderPicker, step } from "./model.js";

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
const CLEAR_DOWN = "\x1b[J";

/** Opens the terminal; a usage error (with a hint) when the process has none. */
function openTerminal(): { input: ReadStream; output: WriteStream; close: () => void } {
  let readFd: number | undefined;
  let writeFd: number | undefined;
  try {
    readFd = openSync("/dev/tty", "r");
    writeFd = openSync("/dev/tty", "w");
    const input = new ReadStream(readFd);
    const output = new WriteStream(writeFd);
    return {
      input,
      output,
      close: () => {
        input.destroy();
        output.destroy();
      },
    };
  } catch {
    for (const fd of [readFd, writeFd]) if (fd !== undefined) closeSync(fd);
    throw new UsageError(
      "--pick needs a terminal to show the instances on",
      "list them with 'aws-runas ssm list' and give an instance id (or Name:value) as target_spec",
    );
  }
}

/** Loads the instances, lets the user choose one, and resolves with it. */
export async function pickInstance(load: () => Promise<ManagedInstance[]>): Promise<ManagedInstance> {
  const tty = openTerminal();
  const { input, output } = tty;
  let drawn = 0;
  const draw = (lines: readonly string[]) => {
    let text = "\r";
    if (drawn > 1) text += `\x1b[${drawn - 1}A`;
    text += CLEAR_DOWN + lines.join("\r\n");
    output.write(text);
    drawn = lines.length;
  };
  const wasRaw = input.isRaw;
  try {
    draw(["Loading instances…"]);
    const all = await load();
    if (all.length === 0) {
      throw new RunasError("PICK_NONE", "no managed instances in this account and region", {
        hint: "check the profile and region; 'aws-runas ssm list' shows what SSM reports",
      });
    }
    // Only now: a Ctrl-C while loading still kills us the normal way, with nothing to restore.
    input.setRawMode(true);
    output.write(HIDE_CURSOR);
    let state: PickerState = initialState(all);
    const size = () => ({ cols: output.columns || 80, rows: output.rows || 24 });
    const redraw = () => draw(renderPicker(state, size().cols, size().rows));
    redraw();
    return await new Promise<ManagedInstance>((resolve, reject) => {
      output.on("resize", redraw);
      input.on("data", (data: Buffer) => {
        for (const key of parseKeys(data.toString("utf8"))) {
          const next = step(state, key);
          if (next.kind === "chosen") return resolve(next.instance);
          if (next.kind === "cancelled") {
            return reject(new RunasError("PICK_CANCELLED", "no instance chosen", { exitCode: 130 }));
          }
          state = next.state;
        }
        redraw();
      });
      input.once("end", () =>
        reject(new RunasError("PICK_CANCELLED", "the terminal closed", { exitCode: 1 })),
      );
    });
  } finally {
    draw([""]);
    output.write(SHOW_CURSOR);
    try {
      input.setRawMode(wasRaw);
    } catch {
      // The terminal is gone.
    }
    tty.close();
  }
}
