// The two timing helpers, on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff } from '../src/backoff.js';
import { Debouncer } from '../src/debounce.js';

describe('Debouncer', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once, after the events have been quiet for the delay', () => {
    const fire = vi.fn();
    const debouncer = new Debouncer(50, 250, fire);
    debouncer.trigger();
    vi.advanceTimersByTime(30);
    debouncer.trigger();
    vi.advanceTimersByTime(30);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(20);
    expect(fire).toHaveBeenCalledTimes(1);
    expect(debouncer.pending).toBe(false);
  });

  it('fires no later than the maximum wait when events never stop', () => {
    const fire = vi.fn();
    const debouncer = new Debouncer(50, 250, fire);
    for (let t = 0; t < 300; t += 20) {
      debouncer.trigger();
      vi.advanceTimersByTime(20);
    }
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it('cancel() drops a pending run', () => {
    const fire = vi.fn();
    const debouncer = new Debouncer(50, 250, fire);
    debouncer.trigger();
    debouncer.cancel();
    vi.advanceTimersByTime(1000);
    expect(fire).not.toHaveBeenCalled();
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay up to the maximum, and starts over after reset()', () => {
    const backoff = new Backoff({ initialMs: 200, maxMs: 1000, jitter: 0 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      200, 400, 800, 1000, 1000,
    ]);
    expect(backoff.failures).toBe(5);
    backoff.reset();
    expect(backoff.next()).toBe(200);
  });

  it('spreads delays by the jitter, never above the maximum', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 1100, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, maxMs: 1100, jitter: 0.2, random: () => 1 });
    expect(low.next()).toBe(800);
    expect(high.next()).toBe(1100);
  });
});
