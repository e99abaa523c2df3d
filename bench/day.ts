/**
 * "A working day, compressed" — the full run of issue 15's acceptance (NOT run in CI; the CI
 * variant is test/e2e/working-day.test.ts). A forward carrying steady, verified echo traffic and
 * a shell printing numbered lines live through at least 10 minutes of wall-clock session time
 * with the websocket recycled every 30 s, 15-minute role credentials expiring every 2 minutes
 * (the emulator clock runs at 7.5×), two 60-second network outages mid-transfer, and finally an
 * idle timeout after which the forward heals. Built programs (`npm run build` first).
 *
 * ```
 * node --import tsx bench/day.ts [--minutes N] [--recycle S] [--speed X] [--outage AT_S:LEN_S ...]
 *
 *   --minutes N     minutes of traffic before the idle-timeout phase (default 12)
 *   --recycle S     recycle-websocket-every (default 30)
 *   --speed X       emulator seconds per real second (default 7.5: 15-minute credentials expire every 2 min)
 *   --outage A:L    an outage of L seconds A seconds in (default 180:60 and 420:60)
 * ```
 * Prints the figures as JSON and exits 1 if any byte, line or status line was wrong.
 */
import { runWorkingDay } from "../test/e2e/helpers/day.js";
import { ensureBuilt } from "../test/reliability/helpers.js";

function parse(argv: string[]) {
  const plan = {
    seconds: 12 * 60,
    recycleSeconds: 30,
    speed: 7.5,
    outages: [] as Array<{ at: number; seconds: number }>,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    const number = () => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n <= 0)
        throw new Error(`${argv[i]} needs a positive number`);
      i++;
      return n;
    };
    switch (argv[i]) {
      case "--minutes":
        plan.seconds = number() * 60;
        break;
      case "--recycle":
        plan.recycleSeconds = number();
        break;
      case "--speed":
        plan.speed = number();
        break;
      case "--outage": {
        const m = /^(\d+):(\d+)$/.exec(value ?? "");
        if (!m) throw new Error("--outage needs AT_SECONDS:LENGTH_SECONDS");
        plan.outages.push({ at: Number(m[1]), seconds: Number(m[2]) });
        i++;
        break;
      }
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (plan.outages.length === 0)
    plan.outages = [
      { at: 180, seconds: 60 },
      { at: 420, seconds: 60 },
    ];
  return plan;
}

ensureBuilt();
const plan = parse(process.argv.slice(2));
const started = Date.now();
const log = (line: string) =>
  process.stderr.write(`[${Math.round((Date.now() - started) / 1000)} s] ${line}\n`);
log(`working day: ${JSON.stringify(plan)}`);
try {
  const figures = await runWorkingDay({ ...plan, echoBytes: 16 * 1024, tickMs: 1000, echoPauseMs: 50, log });
  process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
} catch (error) {
  process.stderr.write(`working day FAILED: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
}
