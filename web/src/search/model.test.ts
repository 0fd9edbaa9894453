import { describe, expect, it } from 'vitest';
import type { SearchItem } from '../types';
import { translationOf } from '../recording/transcript';
import {
  chips,
  dayStart,
  facetTotal,
  groupByKind,
  hasWords,
  highlightParts,
  hitHref,
  kindCount,
  mergeItems,
  NO_FILTERS,
  partsText,
  resultsText,
  searchParams,
  titleParts,
  wholeNumber,
  type SearchFilters,
} from './model';

const item = (id: string, kind: SearchItem['kind'], link: SearchItem['link'] = {}, more: Partial<SearchItem> = {}): SearchItem => ({
  id,
  kind,
  customer_id: 'cus_1',
  session_id: 'ses_1',
  link,
  ...more,
});

const filters = (f: Partial<SearchFilters>): SearchFilters => ({ q: 'parcel', ...NO_FILTERS, ...f });

describe('the query sent', () => {
  it('sends the words as typed, so the last word still being typed matches as a prefix', () => {
    expect(searchParams(filters({ q: 'damaged parc' }))).toEqual({ q: 'damaged parc' });
    // A space after the last word says it is whole; spaces before the words say nothing.
    expect(searchParams(filters({ q: '  damaged parcel ' }))).toEqual({ q: 'damaged parcel ' });
    expect(searchParams(filters({ q: '"open' })).q).toBe('"open');
    expect(searchParams(filters({ q: 'x'.repeat(300) })).q).toHaveLength(256);
  });

  it('adds only the filters chosen', () => {
    expect(searchParams(filters({ kind: 'message', sort: 'date' }), { limit: 20 })).toEqual({ q: 'parcel', kind: 'message', sort: 'date', limit: '20' });
    // Relevance is the default: not sent.
    expect(searchParams(filters({ sort: 'relevance' }))).toEqual({ q: 'parcel' });
    expect(searchParams(filters({}), { cursor: 'abc', limit: 20 })).toEqual({ q: 'parcel', limit: '20', cursor: 'abc' });
    expect(searchParams(filters({}), { cursor: null })).toEqual({ q: 'parcel' });
  });

  it('reads a range of days as local midnights, the last day included', () => {
    const p = searchParams(filters({ from: '2026-12-01', to: '2026-12-05' }));
    expect(p.from).toBe(new Date(2026, 11, 1).toISOString());
    expect(p.to).toBe(new Date(2026, 11, 6).toISOString());
    // Month and year ends roll over.
    expect(dayStart('2026-12-31', 1)).toBe(new Date(2027, 0, 1).toISOString());
    expect(dayStart('')).toBeUndefined();
    expect(dayStart('5/12/2026')).toBeUndefined();
    expect(searchParams(filters({ from: 'nonsense' })).from).toBeUndefined();
  });

  it('searches only when there is a word', () => {
    expect(hasWords('')).toBe(false);
    expect(hasWords('   ')).toBe(false);
    expect(hasWords(' a')).toBe(true);
  });
});

describe('titles and snippets', () => {
  it('keeps the parts as given, joins alike neighbours and drops what is not text', () => {
    expect(
      highlightParts([
        { text: 'Hello, my ' },
        { text: 'parcel', hit: true },
        { text: '' },
        { text: 's', hit: true },
        { text: ' arrived' },
        { text: ' damaged', hit: false },
        null,
        { hit: true },
        { text: 42 },
      ]),
    ).toEqual([{ text: 'Hello, my ' }, { text: 'parcels', hit: true }, { text: ' arrived damaged' }]);
    expect(highlightParts(undefined)).toEqual([]);
    expect(highlightParts('<b>parcel</b>')).toEqual([]);
  });

  it('keeps markup as text', () => {
    const parts = highlightParts([{ text: '<img src=x onerror=alert(1)>', hit: true }]);
    expect(partsText(parts)).toBe('<img src=x onerror=alert(1)>');
  });

  it('uses the highlighted title, else the plain one', () => {
    expect(titleParts(item('a', 'customer', {}, { title: 'Ada Lovelace', title_highlight: [{ text: 'Ada', hit: true }, { text: ' Lovelace' }] }))).toEqual([
      { text: 'Ada', hit: true },
      { text: ' Lovelace' },
    ]);
    expect(titleParts(item('a', 'file', {}, { title: 'label.pdf', title_highlight: [] }))).toEqual([{ text: 'label.pdf' }]);
    expect(titleParts(item('a', 'message'))).toEqual([]);
  });
});

describe('grouping and paging', () => {
  it('groups hits by kind in a fixed order, each group in the order ranked', () => {
    const items = [item('m1', 'message'), item('a1', 'announcement'), item('c1', 'customer'), item('m2', 'message'), item('t1', 'transcript'), item('f1', 'file')];
    const groups = groupByKind(items);
    expect(groups.map((g) => g.kind)).toEqual(['customer', 'message', 'file', 'transcript', 'announcement']);
    expect(groups[1].items.map((i) => i.id)).toEqual(['m1', 'm2']);
    expect(groupByKind([])).toEqual([]);
  });

  it('shows a kind it does not know after the others', () => {
    const groups = groupByKind([item('x', 'note' as SearchItem['kind']), item('m', 'message')]);
    expect(groups.map((g) => g.kind)).toEqual(['message', 'note']);
  });

  it('adds a further page without repeating a hit', () => {
    const merged = mergeItems([item('a', 'message'), item('b', 'message')], [item('b', 'message'), item('c', 'file'), item('c', 'file')]);
    expect(merged.map((i) => i.id)).toEqual(['a', 'b', 'c']);
  });

  it('counts and says what was found', () => {
    expect(facetTotal({ message: 3, customer: 1 })).toBe(4);
    expect(facetTotal(undefined)).toBe(0);
    expect(resultsText(0, 0, ' parcel ')).toBe('Nothing found for “parcel”.');
    expect(resultsText(1, 1, 'x')).toBe('1 result.');
    expect(resultsText(45, 20, 'x')).toBe('45 results, 20 shown.');
    expect(kindCount('message', 1)).toBe('1 message');
    expect(kindCount('transcript', 2)).toBe('2 call transcripts');
  });

  it('offers All and the kinds found, and keeps the one chosen', () => {
    expect(chips({ message: 2, customer: 1 }, '', 'agent')).toEqual([
      { kind: '', label: 'All', count: 3, pressed: true },
      { kind: 'customer', label: 'Customers', count: 1, pressed: false },
      { kind: 'message', label: 'Messages', count: 2, pressed: false },
    ]);
    const chosen = chips({ message: 2 }, 'file', 'agent');
    expect(chosen.map((c) => [c.kind, c.count, c.pressed])).toEqual([
      ['', 2, false],
      ['message', 2, false],
      ['file', 0, true],
    ]);
    // Customers never filter by customer records.
    expect(chips({ customer: 1, message: 1 }, '', 'customer').map((c) => c.kind)).toEqual(['', 'message']);
  });
});

describe('where a hit opens', () => {
  it('opens a message or a file in its conversation at its seq', () => {
    const m = item('m', 'message', { session_id: 'ses_9', seq: 12, message_id: 'msg_1' });
    expect(hitHref(m, 'agent')).toBe('#/sessions/ses_9?seq=12');
    expect(hitHref(m, 'customer')).toBe('#/chat/ses_9?seq=12');
    const f = item('f', 'file', { session_id: 'ses_9', seq: 3, message_id: 'msg_2', attachment_id: 'att_1' });
    expect(hitHref(f, 'agent')).toBe('#/sessions/ses_9?seq=3');
    // Without a seq, the conversation still opens.
    expect(hitHref(item('m', 'message', {}, { session_id: 'ses_2' }), 'agent')).toBe('#/sessions/ses_2');
    expect(hitHref(item('m', 'message', {}, { session_id: null }), 'agent')).toBeNull();
  });

  it('opens a transcript turn in the recording at its moment, in its language', () => {
    const t = item('t', 'transcript', { recording_id: 'rec_1', session_id: 'ses_1', offset_ms: 12_345, language: 'es' });
    expect(hitHref(t, 'agent')).toBe('#/recordings/rec_1?t=12345&lang=es');
    expect(hitHref(t, 'customer')).toBe('#/chat/recordings/rec_1?t=12345&lang=es');
    expect(hitHref(item('t', 'transcript', { recording_id: 'rec_1' }), 'agent')).toBe('#/recordings/rec_1');
  });

  it('opens an announcement on the Announcements page for agents, in the inbox for customers', () => {
    const a = item('a', 'announcement', { announcement_id: 'ann_1' });
    expect(hitHref(a, 'agent')).toBe('#/announcements?show=ann_1');
    expect(hitHref(a, 'customer')).toBe('#/chat?announcement=ann_1');
  });

  it('opens a customer on their page, for agents only', () => {
    const c = item('c', 'customer', { customer_id: 'cus_7' });
    expect(hitHref(c, 'agent')).toBe('#/customers/cus_7');
    expect(hitHref(c, 'customer')).toBeNull();
  });

  it('escapes what goes into the address', () => {
    expect(hitHref(item('m', 'message', { session_id: 'a/b?c', seq: 1 }), 'agent')).toBe('#/sessions/a%2Fb%3Fc?seq=1');
    expect(hitHref(item('a', 'announcement', { announcement_id: 'x&y=z' }), 'agent')).toBe('#/announcements?show=x%26y%3Dz');
  });

  it('reads whole numbers back from the address', () => {
    expect(wholeNumber('12')).toBe(12);
    expect(wholeNumber('0')).toBe(0);
    expect(wholeNumber(null)).toBeNull();
    expect(wholeNumber('-1')).toBeNull();
    expect(wholeNumber('1.5')).toBeNull();
    expect(wholeNumber('12abc')).toBeNull();
  });

  it('reads a turn found in a translation in that language, one found as spoken in the original', () => {
    expect(translationOf('es', 'en-US')).toBe('es');
    expect(translationOf('en-US', 'en-US')).toBe('');
    expect(translationOf('en', 'en-GB')).toBe('');
    expect(translationOf('', 'en-US')).toBe('');
    expect(translationOf('es', null)).toBe('');
  });
});
