/**
 * ssh_config(5) PATTERNS: `*` matches any run of characters, `?` exactly one, and a `Host` line
 * applies when one of its patterns matches and none of its `!negated` ones does. Matching is
 * case-sensitive against the host exactly as given, as OpenSSH does for `Host`.
 */

/** True when `text` matches the wildcard `pattern` as a whole. */
export function matchPattern(text: string, pattern: string): boolean {
  // Iterative glob with one backtrack point: linear in practice, no regex built from user text.
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === "*") {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === "?" || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Whether a `Host` line with these patterns applies to `host`: at least one positive pattern
 * matches and no negated one does (a negated match wins even when listed after a positive one).
 */
export function hostLineMatches(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (matchPattern(host, pattern.slice(1))) return false;
    } else if (matchPattern(host, pattern)) {
      matched = true;
    }
  }
  return matched;
}

/** True for a pattern that names exactly one host (no wildcard, not negated). */
export function isLiteralPattern(pattern: string): boolean {
  return pattern !== "" && !/[*?!]/.test(pattern);
}
