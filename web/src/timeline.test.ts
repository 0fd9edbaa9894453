import { describe, expect, it } from 'vitest';
import { Timeline } from './timeline';
import { msg } from './testing';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(from + i));
const newestFirst = (from: number, to: number) => range(from, to).reverse();

describe('Timeline', () => {
  it('anchors on the latest page and holds its watermark at the newest message', () => {
    const t = new Timeline();
    t.anchor(newestFirst(51, 100));
    expect(t.watermark).toBe(100);
    expect(t.oldest).toBe(51);
    expect(t.hasOlder()).toBe(true);
    expect(t.hasGap()).toBe(false);
    expect(t.messages().map((m) => m.seq)).toEqual(range(51, 100).map((m) => m.seq));
  });

  it('an empty session has no gap, no older messages and a watermark of 0', () => {
    const t = new Timeline();
    t.anchor([]);
    expect(t.watermark).toBe(0);
    expect(t.hasOlder()).toBe(false);
    expect(t.hasGap()).toBe(false);
    expect(t.add(msg(1))).toBe(true);
    expect(t.watermark).toBe(1);
  });

  it('drops repeats, whether held or below the watermark', () => {
    const t = new Timeline();
    t.anchor(newestFirst(1, 3));
    expect(t.add(msg(3))).toBe(false);
    expect(t.add(msg(2))).toBe(false);
    expect(t.add(msg(4))).toBe(true);
    expect(t.add(msg(4))).toBe(false);
    expect(t.size).toBe(4);
  });

  it('sees a gap when a message skips ahead, and closes it when the missing one arrives', () => {
    const t = new Timeline();
    t.anchor(newestFirst(1, 2));
    t.add(msg(5));
    expect(t.watermark).toBe(2);
    expect(t.hasGap()).toBe(true);
    t.add(msg(3));
    expect(t.watermark).toBe(3);
    expect(t.hasGap()).toBe(true);
    t.add(msg(4));
    expect(t.watermark).toBe(5);
    expect(t.hasGap()).toBe(false);
  });

  it('keeps live messages that arrived before the first page, and merges without duplicates', () => {
    const t = new Timeline();
    // Connected first: frames arrive while the history request is on its way.
    t.add(msg(11));
    t.add(msg(10));
    expect(t.hasGap()).toBe(false); // not anchored yet: no gap can be judged
    t.anchor(newestFirst(1, 10)); // the page saw message 10 but not 11
    expect(t.watermark).toBe(11);
    expect(t.messages().map((m) => m.seq)).toEqual(range(1, 11).map((m) => m.seq));
  });

  it('a page that ends below what arrived live leaves a gap to fill', () => {
    const t = new Timeline();
    t.add(msg(14));
    t.anchor(newestFirst(1, 12));
    expect(t.watermark).toBe(12);
    expect(t.hasGap()).toBe(true);
  });

  it('adds older pages below the oldest held message only', () => {
    const t = new Timeline();
    t.anchor(newestFirst(51, 100));
    expect(t.firstHeld()).toBe(51);
    expect(t.addOlder(newestFirst(1, 50))).toBe(50);
    expect(t.addOlder(range(1, 60))).toBe(0); // repeats and held ones
    expect(t.hasOlder()).toBe(false);
    expect(t.size).toBe(100);
    expect(t.watermark).toBe(100);
  });

  it('older pages in either order are all taken', () => {
    const t = new Timeline();
    t.anchor(newestFirst(21, 30));
    expect(t.addOlder(range(11, 20))).toBe(10);
    expect(t.oldest).toBe(11);
  });

  it('assumes a known last seq without history: later messages continue from it', () => {
    const t = new Timeline();
    t.assume(41);
    expect(t.watermark).toBe(41);
    expect(t.hasOlder()).toBe(true);
    expect(t.firstHeld()).toBe(42);
    expect(t.add(msg(40))).toBe(false);
    expect(t.add(msg(42))).toBe(true);
    expect(t.watermark).toBe(42);
    expect(t.addOlder(newestFirst(30, 41))).toBe(12);
  });

  it('ignores malformed seqs', () => {
    const t = new Timeline();
    t.anchor([]);
    expect(t.add({ ...msg(1), seq: 0 })).toBe(false);
    expect(t.add({ ...msg(1), seq: 1.5 })).toBe(false);
    expect(t.watermark).toBe(0);
  });
});
