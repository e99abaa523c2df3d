/**
 * Shell completion. The scripts are thin: on Tab they call the hidden
 * `aws-runas __complete -- "<line up to the cursor>"`, and {@link completeLine} decides the
 * candidates from the same flag table the parser uses, so completion cannot drift from it.
 */
import {
  type FlagSpec,
  FORWARD_FLAGS,
  flagsTakingValues,
  GLOBAL_FLAGS,
  HELP_FLAG,
  SHELL_FLAGS,
  SOCKS_FLAGS,
  SSH_FLAGS,
  VERSION_FLAG,
} from "./flags.js";

/** Where in the command tree the cursor is. */
type Level = "root" | "ssm" | "shell" | "forward" | "ssh" | "socks" | "completion" | "help" | "unknown";

const LEVEL_FLAGS: Readonly<Record<Level, readonly FlagSpec[]>> = {
  root: [...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG],
  ssm: [...GLOBAL_FLAGS, HELP_FLAG],
  shell: [...SHELL_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  forward: [...FORWARD_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  ssh: [...SSH_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  socks: [...SOCKS_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  completion: [HELP_FLAG],
  help: [],
  unknown: [],
};

const SSM_COMMANDS: Readonly<Record<string, Level>> = {
  shell: "shell",
  sh: "shell",
  forward: "forward",
  fwd: "forward",
  ssh: "ssh",
  socks: "socks",
};

/**
 * Candidates for the last word of `line` (the command line up to the cursor; words split on
 * whitespace, the first is the program name). Profile names are read only when needed.
 */
export function completeLine(line: string, profiles: () => readonly string[]): string[] {
  const words = line.trimStart().split(/\s+/);
  const current = words.pop() ?? "";
  let level: Level = "root";
  let positionals = 0;
  let expectValue = false;
  for (const word of words.slice(1)) {
    if (expectValue) {
      expectValue = false;
    } else if (word.startsWith("-") && word.length > 1) {
      expectValue = flagWantsNextWord(word, LEVEL_FLAGS[level]);
    } else {
      [level, positionals] = advance(level, positionals, word);
    }
  }
  // The cursor is on a flag's value (a duration, a port...): nothing sensible to offer.
  if (expectValue) return [];
  const candidates = current.startsWith("-")
    ? flagNames(LEVEL_FLAGS[level])
    : operands(level, positionals, profiles);
  return [...new Set(candidates.filter((c) => c.startsWith(current)))];
}

function advance(level: Level, positionals: number, word: string): [Level, number] {
  switch (level) {
    case "root":
      return [word === "ssm" || word === "completion" || word === "help" ? word : "unknown", 0];
    case "ssm":
      return [SSM_COMMANDS[word] ?? (word === "help" ? "help" : "unknown"), 0];
    default:
      return [level, positionals + 1];
  }
}

function operands(level: Level, positionals: number, profiles: () => readonly string[]): readonly string[] {
  switch (level) {
    case "root":
      return ["ssm", "completion", "help"];
    case "ssm":
      return ["shell", "forward", "ssh", "socks", "help"];
    case "completion":
      return positionals === 0 ? ["bash", "zsh"] : [];
    case "shell":
    case "forward":
    case "ssh":
    case "socks":
      // The first positional is usually the profile (it may also be the target when
      // AWS_PROFILE names the profile; offering profiles does no harm then).
      return positionals === 0 ? profiles() : [];
    default:
      return [];
  }
}

/** True when `word` is a flag that takes the *next* word as its value. */
function flagWantsNextWord(word: string, flags: readonly FlagSpec[]): boolean {
  const valued = new Set(flagsTakingValues(flags));
  if (word.startsWith("--")) return !word.includes("=") && valued.has(word);
  // A short group like -vd: a value flag inside it takes the rest of the group, or the next word.
  for (let i = 1; i < word.length; i++) {
    if (valued.has(`-${word[i]}`)) return i === word.length - 1;
  }
  return false;
}

function flagNames(flags: readonly FlagSpec[]): string[] {
  return flags.flatMap((f) => (f.short ? [f.long, f.short] : [f.long]));
}

/** The script for `aws-runas completion <shell>`. */
export function completionScript(shell: "bash" | "zsh"): string {
  return shell === "bash" ? BASH_SCRIPT : ZSH_SCRIPT;
}

// COMP_LINE up to COMP_POINT is passed whole: COMP_WORDS would split "i-1:80" at the ':'.
const BASH_SCRIPT = `# aws-runas completion for bash. Load it with:  source <(aws-runas completion bash)
_aws_runas_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(aws-runas __complete -- "\${COMP_LINE:0:COMP_POINT}" 2>/dev/null)" -- "$cur"))
}
complete -F _aws_runas_complete aws-runas
`;

// Works both sourced (compdef) and saved as _aws_runas in $fpath (#compdef), like cobra's scripts.
const ZSH_SCRIPT = `#compdef aws-runas
# aws-runas completion for zsh. Load it (after compinit) with:  source <(aws-runas completion zsh)
_aws_runas() {
  local line="\${(j: :)\${(@)words[1,CURRENT]}}"
  local -a candidates
  candidates=(\${(f)"$(aws-runas __complete -- "$line" 2>/dev/null)"})
  compadd -a candidates
}
if [ "$funcstack[1]" = "_aws_runas" ]; then
  _aws_runas "$@"
else
  compdef _aws_runas aws-runas
fi
`;
