/**
 * Which program the emulated instance runs for shells and commands. Chosen for predictability:
 * bash without profile or rc files and with the prompt `$ `, so tests and demos can wait for it;
 * history is not saved. Pure apart from looking for bash on disk.
 */
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { DRAIN_WAIT_SCRIPT } from "./drain-marker.js";

/** The prompt every emulated shell shows. */
export const SHELL_PROMPT = "$ ";

export interface ShellLaunch {
  file: string;
  args: string[];
  env: Record<string, string>;
}

const BASH_CANDIDATES = ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"];

/**
 * The shell: an explicit choice, else `$SHELL` when it is bash, else the first bash found, else
 * `$SHELL` or `/bin/sh`.
 */
export function pickShell(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  const userShell = env.SHELL;
  if (userShell && basename(userShell) === "bash" && existsSync(userShell)) return userShell;
  return BASH_CANDIDATES.find((p) => existsSync(p)) ?? userShell ?? "/bin/sh";
}

/**
 * The program, arguments and environment for an interactive shell, or for `command` when given.
 * The shell or command runs as the child of a wrapper that prints the drain marker when it ends
 * and waits for the agent to confirm (see `drain-marker.ts`); the wrapper gets the shell as `$0`
 * and the command as `$1`, so neither is ever pasted into shell code.
 */
export function shellLaunch(
  shell: string,
  command?: string,
  env: NodeJS.ProcessEnv = process.env,
): ShellLaunch {
  const flags = basename(shell) === "bash" ? ["--noprofile", "--norc"] : [];
  // A non-interactive shell (the wrapper) drops PS1 from its environment, so set it for the child.
  const inner =
    command === undefined
      ? `PS1='${SHELL_PROMPT}' "$0" ${flags.join(" ")} -i`
      : `"$0" ${flags.join(" ")} -c "$1"`;
  const args = [...flags, "-c", `${inner}; ${DRAIN_WAIT_SCRIPT}`, shell];
  if (command !== undefined) args.push(command);
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && key !== "PROMPT_COMMAND") childEnv[key] = value;
  }
  childEnv.PS1 = SHELL_PROMPT;
  childEnv.TERM = "xterm-256color";
  // An empty HISTFILE keeps emulated sessions out of the user's real shell history.
  childEnv.HISTFILE = "";
  return { file: shell, args, env: childEnv };
}

/**
 * A NonInteractiveCommands command: no pty and no stdin, like the agent's exec.Cmd (AGT
 * `shell_unix.go` `StartCommandExecutor`). The agent splits the command into words itself and
 * runs no shell; the emulator hands the text to the user's shell, which gives the same result for
 * commands made of plain and quoted words (what aws-runas sends) and also runs shell syntax.
 * With `mergeStderr` both streams go to one pipe, as the agent's shared output file does when
 * the streams are not separated.
 */
export function commandLaunch(
  shell: string,
  command: string,
  mergeStderr: boolean,
  env: NodeJS.ProcessEnv = process.env,
): ShellLaunch {
  const flags = basename(shell) === "bash" ? ["--noprofile", "--norc"] : [];
  const script = mergeStderr
    ? `exec 2>&1; "$0" ${flags.join(" ")} -c "$1"`
    : `exec "$0" ${flags.join(" ")} -c "$1"`;
  const base = shellLaunch(shell, undefined, env);
  return { file: shell, args: [...flags, "-c", script, shell, command], env: base.env };
}
