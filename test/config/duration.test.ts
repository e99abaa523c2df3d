import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLogger } from "@aws-runas/wire/log.js";
import fc from "fast-check";
import {
  clampDuration,
  formatDuration,
  parseGoDuration,
  ROLE_LIMITS,
  resolveDuration,
  SESSION_TOKEN_LIMITS,
} from "../../packages/aws-runas/src/config/duration.js";
import { ConfigError } from "../../packages/aws-runas/src/config/errors.js";

function recordingLogger() {
  const lines: string[] = [];
  return { logger: createLogger(1, (l) => lines.push(l)), lines };
}

describe("parseGoDuration", () => {
  const cases: [string, number | undefined][] = [
    ["12h", 43200],
    ["90m", 5400],
    ["1h30m", 5400],
    ["3600s", 3600],
    ["1h0m30s", 3630],
    ["1.5h", 5400],
    [".5h", 1800],
    ["0.1h", 360],
    ["1500ms", 1],
    ["2m500ms", 120],
    ["0", 0],
    ["-15m", -900],
    ["+15m", 900],
    [" 15m ", 900],
    ["", undefined],
    ["12", undefined],
    ["h", undefined],
    ["12x", undefined],
    ["1h 30m", undefined],
    ["1d", undefined],
    ["-", undefined],
  ];
  for (const [text, expected] of cases) {
    test(`${JSON.stringify(text)} -> ${expected}`, () => {
      assert.equal(parseGoDuration(text), expected);
    });
  }

  test("round-trips with formatDuration for whole seconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * 3600 }), (s) => {
        assert.equal(parseGoDuration(formatDuration(s)), s);
      }),
    );
  });
});

describe("formatDuration", () => {
  test("prints like Go", () => {
    assert.equal(formatDuration(5400), "1h30m0s");
    assert.equal(formatDuration(900), "15m0s");
    assert.equal(formatDuration(59), "59s");
    assert.equal(formatDuration(-60), "-1m0s");
  });
});

describe("clampDuration", () => {
  test("session token range is 15m..36h", () => {
    const { logger } = recordingLogger();
    assert.equal(clampDuration(60, SESSION_TOKEN_LIMITS, logger), 900);
    assert.equal(clampDuration(40 * 3600, SESSION_TOKEN_LIMITS, logger), 36 * 3600);
    assert.equal(clampDuration(3600, SESSION_TOKEN_LIMITS, logger), 3600);
  });

  test("role range is 15m..12h", () => {
    const { logger } = recordingLogger();
    assert.equal(clampDuration(13 * 3600, ROLE_LIMITS, logger), 12 * 3600);
    assert.equal(clampDuration(0, ROLE_LIMITS, logger), 900);
  });

  test("warns about a clamp at every verbosity (issue 14 item 15), once, and not otherwise", () => {
    const { logger, lines } = recordingLogger();
    clampDuration(13 * 3600, ROLE_LIMITS, logger, "--role-duration");
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      /^warning: role credentials duration 13h0m0s \(--role-duration\) is outside 15m0s\.\.12h0m0s, using 12h0m0s$/,
    );
    clampDuration(3600, ROLE_LIMITS, logger);
    assert.equal(lines.length, 1);

    const quiet: string[] = [];
    clampDuration(
      600,
      SESSION_TOKEN_LIMITS,
      createLogger(0, (l) => quiet.push(l)),
      "--duration",
    );
    assert.deepEqual(quiet, [
      "warning: session token duration 10m0s (--duration) is outside 15m0s..36h0m0s, using 15m0s",
    ]);
  });

  test("always lands inside the range", () => {
    const { logger } = recordingLogger();
    fc.assert(
      fc.property(fc.integer({ min: -1e7, max: 1e7 }), (s) => {
        const c = clampDuration(s, ROLE_LIMITS, logger);
        assert.ok(c >= ROLE_LIMITS.min && c <= ROLE_LIMITS.max);
        if (s >= ROLE_LIMITS.min && s <= ROLE_LIMITS.max) assert.equal(c, s);
      }),
    );
  });
});

describe("resolveDuration", () => {
  const { logger } = recordingLogger();
  test("first non-empty source wins, default otherwise", () => {
    assert.equal(resolveDuration([], ROLE_LIMITS, logger), 3600);
    assert.equal(resolveDuration([], SESSION_TOKEN_LIMITS, logger), 12 * 3600);
    assert.equal(
      resolveDuration(
        [undefined, { value: "", origin: "a" }, { value: "2h", origin: "b" }, { value: "3h", origin: "c" }],
        ROLE_LIMITS,
        logger,
      ),
      7200,
    );
  });

  test("duration_seconds takes plain seconds", () => {
    assert.equal(
      resolveDuration([{ value: "1800", origin: "x", plainSeconds: true }], ROLE_LIMITS, logger),
      1800,
    );
    assert.throws(() =>
      resolveDuration([{ value: "30m", origin: "x", plainSeconds: true }], ROLE_LIMITS, logger),
    );
  });

  test("a bad value names its origin; flags and env are usage errors", () => {
    assert.throws(
      () =>
        resolveDuration([{ value: "12", origin: "--duration", usage: true }], SESSION_TOKEN_LIMITS, logger),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.code, "CONFIG_BAD_DURATION");
        assert.equal(e.exitCode, 2);
        assert.equal(e.message, 'invalid session token duration "12" (--duration)');
        assert.match(e.hint ?? "", /12h/);
        return true;
      },
    );
    assert.throws(
      () => resolveDuration([{ value: "soon", origin: "credentials_duration" }], ROLE_LIMITS, logger),
      (e: unknown) => e instanceof ConfigError && e.exitCode === 1,
    );
  });
});
