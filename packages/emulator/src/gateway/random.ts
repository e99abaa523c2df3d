/**
 * Seeded randomness for fault injection: the same seed and session id give the same decisions, so
 * a failing reliability test can be replayed. Pure.
 */

/** A source of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough to decide which frames to disturb. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed mixing a base seed with a session id (FNV-1a over the id). */
export function sessionSeed(base: number, sessionId: string): number {
  let hash = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < sessionId.length; i++) {
    hash ^= sessionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** True with probability `percent` / 100. */
export function chance(random: Random, percent: number): boolean {
  return percent > 0 && random() * 100 < percent;
}
