import { describe, expect, it } from 'vitest';
import { customerIdsIn } from './groups';

describe('pasting customer ids', () => {
  it('finds every id once, in order, whatever separates them', () => {
    const a = 'cus_01M8E24NKB3T5X7Z9C1E4G6J8M';
    const b = 'cus_01M8E2B7QW3T5X7Z9C1E4G6J8P';
    expect(customerIdsIn(`${a}, ${b}\n${a};"${b}"`)).toEqual([a, b]);
    expect(customerIdsIn('id,name\n' + a + ',Ada\n')).toEqual([a]);
    expect(customerIdsIn('cus_short cus_01M8E24NKB3T5X7Z9C1E4G6J8MX nothing')).toEqual([]);
  });
});
