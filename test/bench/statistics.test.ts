// The benchmark's statistics decide its verdicts (docs/performance.md), so they are tested like code.
import { describe, expect, it } from 'vitest';
import { mirroredOrder } from '../../bench/lib/order.js';
import { medianInterval, pairedRatioOver, perRoundRatios } from '../../bench/lib/stats.js';

describe('mirroredOrder', () => {
  const items = ['a', 'b', 'c', 'd'];

  it('rotates every other round and reverses the round between', () => {
    expect(mirroredOrder(items, 0)).toEqual(['a', 'b', 'c', 'd']);
    expect(mirroredOrder(items, 1)).toEqual(['d', 'c', 'b', 'a']);
    expect(mirroredOrder(items, 2)).toEqual(['b', 'c', 'd', 'a']);
    expect(mirroredOrder(items, 3)).toEqual(['a', 'd', 'c', 'b']);
  });

  it('measures each of any two items first equally often over pairs of rounds', () => {
    for (const [x, y] of [
      ['a', 'b'],
      ['a', 'c'],
      ['b', 'd'],
    ]) {
      let xFirst = 0;
      for (let round = 0; round < 8; round++) {
        const order = mirroredOrder(items, round);
        if (order.indexOf(x!) < order.indexOf(y!)) xFirst++;
      }
      expect(xFirst).toBe(4);
    }
  });

  it('does not change the list it is given', () => {
    const list = ['a', 'b', 'c'];
    mirroredOrder(list, 1);
    expect(list).toEqual(['a', 'b', 'c']);
  });
});

describe('medianInterval', () => {
  const values = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  it('picks the order statistics of the sign test', () => {
    // The standard table of the 95% interval for the median: n = 6 → 1st and 6th, 12 → 3rd and 10th,
    // 20 → 6th and 15th, 24 → 7th and 18th.
    expect(medianInterval(values(6))).toEqual({ low: 1, high: 6 });
    expect(medianInterval(values(12))).toEqual({ low: 3, high: 10 });
    expect(medianInterval(values(20))).toEqual({ low: 6, high: 15 });
    expect(medianInterval(values(24))).toEqual({ low: 7, high: 18 });
  });

  it('sorts its input and ignores values that are not numbers', () => {
    expect(medianInterval([6, Number.NaN, 3, 1, 5, 2, 4])).toEqual({ low: 1, high: 6 });
  });

  it('gives no interval for fewer than six values', () => {
    const interval = medianInterval(values(5));
    expect(Number.isNaN(interval.low) && Number.isNaN(interval.high)).toBe(true);
  });
});

describe('perRoundRatios', () => {
  it('divides round by round, over the rounds both have', () => {
    expect(perRoundRatios([2, 3, 8], [1, 2])).toEqual([2, 1.5]);
  });

  it('gives no number for a round whose baseline measured nothing', () => {
    expect(perRoundRatios([1], [0])[0]).toBeNaN();
  });
});

describe('pairedRatioOver', () => {
  it('pairs the chosen rounds only', () => {
    const ratio = pairedRatioOver([2, 10, 3, 100], [1, 10, 1, 1], [0, 2]);
    expect(ratio).toEqual({ median: 2.5, min: 2, max: 3, n: 2 });
  });

  it('is empty over no rounds', () => {
    expect(pairedRatioOver([1], [1], []).n).toBe(0);
  });
});
