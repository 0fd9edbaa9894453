import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, between half and all of each step', () => {
    const low = (n: number) => backoffDelay(n, { random: () => 0 });
    const high = (n: number) => backoffDelay(n, { random: () => 0.999999 });
    expect([0, 1, 2, 3, 4].map(low)).toEqual([250, 500, 1000, 2000, 4000]);
    expect([0, 1, 2, 3, 4].map(high)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(high(6)).toBe(30_000);
    expect(low(50)).toBe(15_000);
    expect(high(1000)).toBe(30_000);
  });

  it('spreads clients dropped together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(2000);
    for (const d of delays) expect(d).toBeLessThanOrEqual(4000);
  });

  it('takes its own base and cap', () => {
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1000, random: () => 0.5 })).toBe(75);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1000, random: () => 0.5 })).toBe(750);
    expect(backoffDelay(-3, { random: () => 0 })).toBe(250);
  });
});
