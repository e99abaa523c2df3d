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
  LIST_FLAGS,
  SHELL_FLAGS,
  SOCKS_FLAGS,
  SSH_FLAGS,
  VERSION_FLAG,
} from "./flags.js";

/** Where in the command tree the cursor is. */
type Level =
  | "root"
  | "ssm"
  | "shell"
  | "forward"
  | "ssh"
  | "list"
  | "socks"
  | "completion"
  | "help"
  | "unknown";

const LEVEL_FLAGS: Readonly<Record<Level, readonly FlagSpec[]>> = {
  root: [...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG],
  ssm: [...GLOBAL_FLAGS, HELP_FLAG],
  shell: [...SHELL_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  forward: [...FORWARD_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  ssh: [...SSH_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
  list: [...LIST_FLAGS, HELP_FLAG, ...GLOBAL_FLAGS],
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
  list: "list",
  socks: "socks",
};

interface Cursor {
  level: Level;
  /** Positionals before the cursor, and the first of them (the profile, when there are two). */
  positionals: string[];
  current: string;
  /** The cursor is on a flag's value. */
  expectValue: boolean;
  /** `--pick` was given: the picker chooses the instance, no target to complete. */
  pick: boolean;
}

function parseCursor(line: string): Cursor {
  const words = line.trimStart().split(/\s+/);
  const current = words.pop() ?? "";
  let level: Level = "root";
  const positionals: string[] = [];
  let expectValue = false;
  let pick = false;
  for (const word of words.slice(1)) {
    if (word === "--pick") pick = true;
    if (expectValue) {
      expectValue = false;
    } else if (word === "--" && level === "shell") {
      // A remote command follows: nothing of ours to complete.
      level = "unknown";
    } else if (word.startsWith("-") && word.length > 1) {
      expectValue = flagWantsNextWord(word, LEVEL_FLAGS[level]);
    } else {
      const before: Level = level;
      let count = positionals.length;
      [level, count] = advance(level, count, word);
      if (level === before && count > positionals.length) positionals.push(word);
    }
  }
  return { level, positionals, current, expectValue, pick };
}

/** Target candidates come from the instance list: an id (`i-`, `mi-`) or a `key:value` spec. */
const TARGET_LIKE = /^(?:[^@]*@)?(?:i-|mi-|[^:]+:)/;

/**
 * Whether the cursor is on a target_spec (so instance ids and Name tags are worth loading), and
 * with which profile: the first positional when it comes second, else none (AWS_PROFILE). Pure.
 */
export function targetRequest(line: string): { profile: string | undefined } | undefined {
  const cursor = parseCursor(line);
  if (cursor.expectValue || cursor.pick || cursor.current.startsWith("-")) return undefined;
  if (cursor.level !== "shell" && cursor.level !== "forward" && cursor.level !== "ssh") return undefined;
  if (cursor.positionals.length === 1) return { profile: cursor.positionals[0] };
  if (cursor.positionals.length === 0 && TARGET_LIKE.test(cursor.current)) return { profile: undefined };
  return undefined;
}

/**
 * Candidates for the last word of `line` (the command line up to the cursor; words split on
 * whitespace, the first is the program name). Profile names are read only when needed; target
 * candidates (instance ids, `Name:value`) only where {@link targetRequest} says so.
 */
export function completeLine(
  line: string,
  profiles: () => readonly string[],
  targets: () => readonly string[] = () => [],
): string[] {
  const cursor = parseCursor(line);
  const { level, current } = cursor;
  // The cursor is on a flag's value (a duration, a port...): nothing sensible to offer.
  if (cursor.expectValue) return [];
  let candidates: readonly string[];
  if (current.startsWith("-")) candidates = flagNames(LEVEL_FLAGS[level]);
  else if (targetRequest(line)) {
    // ssh specs carry a user: `ec2-user@Name:web`.
    const at = level === "ssh" ? current.lastIndexOf("@") : -1;
    const user = at >= 0 ? current.slice(0, at + 1) : "";
    candidates = [
      ...targets().map((t) => user + t),
      ...(cursor.positionals.length === 0 ? operands(level, 0, profiles) : []),
    ];
  } else candidates = operands(level, cursor.positionals.length, profiles);
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
      return ["shell", "forward", "ssh", "list", "socks", "help"];
    case "completion":
      return positionals === 0 ? ["bash", "zsh", "fish"] : [];
    case "list":
      return positionals === 0 ? profiles() : [];
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
export function completionScript(shell: "bash" | "zsh" | "fish"): string {
  return shell === "bash" ? BASH_SCRIPT : shell === "zsh" ? ZSH_SCRIPT : FISH_SCRIPT;
}

// COMP_LINE up to COMP_POINT is passed whole: COMP_WORDS would split "Name:web" at the ':'.
// The candidates come back already matching the whole word; bash replaces only the part after
// the last ':' (a word break), so that part is what goes into COMPREPLY.
const BASH_SCRIPT = `# aws-runas completion for bash. Load it with:  source <(aws-runas completion bash)
_aws_runas_complete() {
  local line="\${COMP_LINE:0:COMP_POINT}"
  local word="\${line##*[[:space:]]}"
  local IFS=$'\\n' candidate
  COMPREPLY=()
  for candidate in $(aws-runas __complete -- "$line" 2>/dev/null); do
    if [[ "$word" == *:* && "$COMP_WORDBREAKS" == *:* ]]; then
      candidate="\${candidate#"\${word%:*}:"}"
    fi
    COMPREPLY+=("$candidate")
  done
}
complete -F _aws_runas_complete aws-runas
`;

// fish matches the candidates against the current token itself.
const FISH_SCRIPT = `# aws-runas completion for fish. Load it with:  aws-runas completion fish | source
function __aws_runas_complete
    aws-runas __complete -- (commandline -cp) 2>/dev/null
end
complete -c aws-runas -f -a '(__aws_runas_complete)'
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
