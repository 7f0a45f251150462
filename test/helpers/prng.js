// A small seeded generator for the randomised tests: same seed, same edits.
'use strict';

/** A linear congruential generator: rnd(n) is an integer in [0, n) (from the state's high bits, the low ones cycle fast). */
function prng(seed) {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % n;
  };
}

module.exports = { prng };
