/**
 * The instance picker's state and drawing, pure: keys in, a new state (or a choice) out, and
 * the lines to draw for a state. `tty.ts` does the terminal I/O.
 */
import type { ManagedInstance } from "../instances/types.js";

export interface PickerState {
  /** All instances, online first (as `sortInstances` orders them). */
  readonly all: readonly ManagedInstance[];
  readonly query: string;
  /** Index into {@link visible}. */
  readonly selected: number;
}

export type PickerKey =
  | { kind: "text"; text: string }
  | { kind: "backspace" }
  | { kind: "clear" }
  | { kind: "up" }
  | { kind: "down" }
  | { kind: "enter" }
  | { kind: "cancel" };

export function initialState(all: readonly ManagedInstance[]): PickerState {
  return { all, query: "", selected: 0 };
}

/** The instances matching the query: every word must appear in the id, name, address or ping status. */
export function visible(state: PickerState): ManagedInstance[] {
  const words = state.query.toLowerCase().split(/\s+/).filter(Boolean);
  return state.all.filter((i) => {
    const text = `${i.instanceId} ${i.name} ${i.privateIp} ${i.pingStatus}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

/** Raw-mode terminal bytes → keys (arrows in both cursor modes, Ctrl-P/N, Ctrl-U, Esc, Ctrl-C/D). */
export function parseKeys(data: string): PickerKey[] {
  const keys: PickerKey[] = [];
  let text = "";
  const flushText = () => {
    if (text) keys.push({ kind: "text", text });
    text = "";
  };
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    const push = (key: PickerKey) => {
      flushText();
      keys.push(key);
    };
    if (c === "\x1b") {
      const seq = /^\x1b[[O]([AB])/.exec(data.slice(i));
      if (seq) {
        push({ kind: seq[1] === "A" ? "up" : "down" });
        i += 2;
      } else if (/^\x1b\[[0-9;]*[~A-Za-z]/.test(data.slice(i))) {
        i += (/^\x1b\[[0-9;]*[~A-Za-z]/.exec(data.slice(i))?.[0].length ?? 1) - 1; // other keys: ignored
      } else {
        push({ kind: "cancel" });
      }
    } else if (c === "\r" || c === "\n") push({ kind: "enter" });
    else if (c === "\x7f" || c === "\b") push({ kind: "backspace" });
    else if (c === "\x15") push({ kind: "clear" });
    else if (c === "\x10") push({ kind: "up" });
    else if (c === "\x0e") push({ kind: "down" });
    else if (c === "\x03" || c === "\x04") push({ kind: "cancel" });
    else if (c >= " ") text += c;
  }
  flushText();
  return keys;
}

export type PickerStep =
  | { kind: "state"; state: PickerState }
  | { kind: "chosen"; instance: ManagedInstance }
  | { kind: "cancelled" };

/** Applies one key. Enter with nothing visible keeps the picker open. */
export function step(state: PickerState, key: PickerKey): PickerStep {
  const shown = visible(state);
  const clamp = (s: PickerState): PickerState => ({
    ...s,
    selected: Math.max(0, Math.min(s.selected, visible(s).length - 1)),
  });
  switch (key.kind) {
    case "text":
      return { kind: "state", state: clamp({ ...state, query: state.query + key.text, selected: 0 }) };
    case "backspace":
      return {
        kind: "state",
        state: clamp({ ...state, query: [...state.query].slice(0, -1).join(""), selected: 0 }),
      };
    case "clear":
      return { kind: "state", state: { ...state, query: "", selected: 0 } };
    case "up":
      return { kind: "state", state: { ...state, selected: Math.max(0, state.selected - 1) } };
    case "down":
      return { kind: "state", state: { ...state, selected: Math.min(shown.length - 1, state.selected + 1) } };
    case "enter": {
      const chosen = shown[state.selected];
      return chosen ? { kind: "chosen", instance: chosen } : { kind: "state", state };
    }
    case "cancel":
      return { kind: "cancelled" };
  }
}

const INVERSE = "\x1b[7m";
const RESET = "\x1b[0m";

/** The lines to draw (no newlines): a prompt, then at most `rows - 2` instances around the selection. */
export function renderPicker(state: PickerState, cols: number, rows: number): string[] {
  const shown = visible(state);
  const height = Math.max(1, Math.min(shown.length, rows - 2, 15));
  const top = Math.min(Math.max(0, state.selected - height + 1), Math.max(0, shown.length - height));
  const lines = [
    cut(
      `Instance (type to filter, ↑/↓, Enter; Esc cancels) ${shown.length}/${state.all.length}> ${state.query}`,
      cols,
    ),
  ];
  const nameWidth = Math.max(4, ...shown.map((i) => [...i.name].length).slice(0, 200));
  for (let n = top; n < top + height && n < shown.length; n++) {
    const i = shown[n]!;
    const row = cut(
      `${n === state.selected ? ">" : " "} ${i.instanceId.padEnd(20)} ${i.name.padEnd(Math.min(nameWidth, 24))} ${i.privateIp.padEnd(15)} ${i.pingStatus}`,
      cols,
    );
    lines.push(n === state.selected ? `${INVERSE}${row}${RESET}` : row);
  }
  if (shown.length === 0) lines.push(cut("  (no instance matches)", cols));
  return lines;
}

function cut(text: string, cols: number): string {
  const chars = [...text];
  return chars.length < cols ? text : `${chars.slice(0, Math.max(0, cols - 2)).join("")}…`;
}
