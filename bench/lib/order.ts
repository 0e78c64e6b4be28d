// The order a round measures its configurations in. A window measured right after another
// configuration's window can run differently from one measured after a pause or after a third
// configuration (the previous generator and server wind down on the same two CPUs), so a fixed order
// would favour one side of every comparison.

/**
 * Round `round`'s order: rounds come in pairs, a rotation of `items` and then the same reversed, so
 * that over every two rounds each of any two items is measured before the other once, and each
 * item's neighbours change sides. Use an even number of rounds.
 *
 * @example
 * mirroredOrder(['a', 'b', 'c'], 0); // ['a', 'b', 'c']
 * mirroredOrder(['a', 'b', 'c'], 1); // ['c', 'b', 'a']
 * mirroredOrder(['a', 'b', 'c'], 2); // ['b', 'c', 'a']
 */
export function mirroredOrder<T>(items: readonly T[], round: number): T[] {
  const shift = Math.floor(round / 2) % items.length;
  const rotated = items.map((_, i) => items[(i + shift) % items.length]!);
  return round % 2 === 0 ? rotated : rotated.reverse();
}

/** An even number of rounds, at least `rounds`: the pairs of {@link mirroredOrder} must be complete. */
export function evenRounds(rounds: number): number {
  return 2 * Math.ceil(rounds / 2);
}
