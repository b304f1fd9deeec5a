/**
 * Seeded draws for the traffic generator: same seed, same sequence, on every platform.
 */
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

const HEX = Array.from("0123456789abcdef", (char) => char.charCodeAt(0));
const UPPER_ALPHANUMERIC = Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", (char) => char.charCodeAt(0));
const DASH = 45;

/** The hex digit of `word` at bit `shift`, as a char code. */
function nibble(word: number, shift: number): number {
  return HEX[(word >>> shift) & 15]!;
}

export class Draw {
  private readonly rng: RandomGenerator;

  /** `seed` is used as a 32-bit integer. */
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  /** Uniform in [0, 1), 32 bits of randomness: plenty for picking among a few hundred items. */
  float(): number {
    return (this.rng.next() >>> 0) * 2.3283064365386963e-10;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /**
   * A random version-4 UUID, lower case. Built in one `fromCharCode` call: a flat string takes a
   * fraction of the memory of one concatenated from pieces, which matters for millions of ids.
   */
  uuid(): string {
    const a = this.rng.next();
    const b = (this.rng.next() & 0xffff0fff) | 0x4000;
    const c = (this.rng.next() & 0x3fffffff) | 0x80000000;
    const d = this.rng.next();
    // biome-ignore format: one group of the UUID per line
    return String.fromCharCode(
      nibble(a, 28), nibble(a, 24), nibble(a, 20), nibble(a, 16), nibble(a, 12), nibble(a, 8), nibble(a, 4), nibble(a, 0), DASH,
      nibble(b, 28), nibble(b, 24), nibble(b, 20), nibble(b, 16), DASH,
      nibble(b, 12), nibble(b, 8), nibble(b, 4), nibble(b, 0), DASH,
      nibble(c, 28), nibble(c, 24), nibble(c, 20), nibble(c, 16), DASH,
      nibble(c, 12), nibble(c, 8), nibble(c, 4), nibble(c, 0),
      nibble(d, 28), nibble(d, 24), nibble(d, 20), nibble(d, 16), nibble(d, 12), nibble(d, 8), nibble(d, 4), nibble(d, 0),
    );
  }

  /** `length` lower-case hex digits. */
  hex(length: number): string {
    return String.fromCharCode(...Array.from({ length }, () => HEX[this.rng.next() & 15]!));
  }

  /** `length` characters of A-Z0-9, the alphabet of IAM ids (AIDA…, AKIA…). */
  upperAlphanumeric(length: number): string {
    return String.fromCharCode(...Array.from({ length }, () => this.pick(UPPER_ALPHANUMERIC)));
  }
}
