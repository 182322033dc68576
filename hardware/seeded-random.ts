// A tiny deterministic PRNG so simulators replay the same route for the same seed
// (Math.random cannot be seeded). mulberry32: 32-bit state, good enough for demo motion.

export type Random = () => number;

/** Returns a function yielding floats in [0, 1), fully determined by `seed`. */
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

/** Uniform float in [min, max). */
export function between(random: Random, min: number, max: number): number {
  return min + (max - min) * random();
}
