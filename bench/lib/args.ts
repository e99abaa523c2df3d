/**
 * The command line of `npm run bench` (pure):
 *
 * ```
 * npm run bench [-- [--json [FILE]] [--profile forward] [--only SUITE,...] [--no-build] [--quick]]
 * ```
 */

export const Suites = ["micro", "forward", "startup", "socks"] as const;
export type Suite = (typeof Suites)[number];

export const ProfileTargets = ["forward"] as const;
export type ProfileTarget = (typeof ProfileTargets)[number];

export interface BenchArgs {
  /** Write the results as JSON here too (default file when `--json` has no value). */
  json?: string;
  /** Instead of the table: record a CPU profile of this path and summarise it. */
  profile?: ProfileTarget;
  suites: Suite[];
  /** Skip `npm run build` (the dist/ programs must be current). */
  build: boolean;
  /** Fewer runs and smaller sizes, for trying the bench out (figures are noisier). */
  quick: boolean;
  help: boolean;
}

export const DEFAULT_JSON_FILE = "bench/results.json";

export const USAGE = `usage: npm run bench [-- options]
  --json [FILE]       also write the results as JSON (default ${DEFAULT_JSON_FILE})
  --profile forward   record a .cpuprofile of the forward data path (client process) and summarise it
  --only SUITE,...    run only these suites: ${Suites.join(", ")}
  --no-build          do not rebuild dist/ first
  --quick             fewer runs and smaller transfers (noisier)
  --help              this text`;

export class BenchArgsError extends Error {
  override name = "BenchArgsError";
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { suites: [...Suites], build: true, quick: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) throw new BenchArgsError(`${arg} needs a value`);
      i++;
      return next;
    };
    switch (arg) {
      case "--json": {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith("--")) {
          args.json = next;
          i++;
        } else {
          args.json = DEFAULT_JSON_FILE;
        }
        break;
      }
      case "--profile": {
        const target = value();
        if (!(ProfileTargets as readonly string[]).includes(target)) {
          throw new BenchArgsError(`--profile takes one of: ${ProfileTargets.join(", ")} (got "${target}")`);
        }
        args.profile = target as ProfileTarget;
        break;
      }
      case "--only": {
        const names = value()
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== "");
        const unknown = names.filter((n) => !(Suites as readonly string[]).includes(n));
        if (unknown.length > 0 || names.length === 0) {
          throw new BenchArgsError(
            `--only takes suites from: ${Suites.join(", ")} (got "${unknown.join(",")}")`,
          );
        }
        args.suites = names as Suite[];
        break;
      }
      case "--no-build":
        args.build = false;
        break;
      case "--quick":
        args.quick = true;
        break;
      case "--help":
      case "-h":
        args.help = true;
        break;
      default:
        throw new BenchArgsError(`unknown option "${arg}"`);
    }
  }
  return args;
}
