import { describe, expect, it } from 'vitest';
import {
  audienceSentence,
  badgeText,
  explainRefusal,
  FAST_POLL_MS,
  inFlight,
  mediaContentType,
  mergeEntries,
  nextPollMs,
  oneLessUnread,
  oneMoreUnread,
  sendAtFromLocal,
  SLOW_POLL_MS,
  toLocalInput,
  unreadAnnouncementsLabel,
} from './model';
import type { InboxEntry } from '../types';

describe('a schedule from the datetime-local input', () => {
  const now = new Date(2026, 11, 5, 9, 30, 15);

  it('is the local time in UTC, to the second', () => {
    const r = sendAtFromLocal('2026-12-05T10:15', now);
    expect(r).toEqual({ sendAt: new Date(2026, 11, 5, 10, 15, 0).toISOString().replace('.000Z', 'Z') });
    expect('sendAt' in r && r.sendAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$/);
    expect(sendAtFromLocal('2026-12-05T10:15:30', now)).toEqual({ sendAt: new Date(2026, 11, 5, 10, 15, 30).toISOString().replace('.000Z', 'Z') });
  });

  it('refuses an empty value, a time passed, a day that does not exist, more than a year ahead', () => {
    expect(sendAtFromLocal('', now)).toEqual({ error: 'Choose the day and time to send it.' });
    expect(sendAtFromLocal('2026-12-05T09:30', now)).toHaveProperty('error', expect.stringContaining('passed'));
    expect(sendAtFromLocal('2027-02-31T09:30', now)).toHaveProperty('error', 'That day does not exist.');
    expect(sendAtFromLocal('2027-12-06T09:30', now)).toHaveProperty('error', expect.stringContaining('year'));
  });

  it('round-trips what the input is given', () => {
    expect(toLocalInput(new Date(2026, 0, 2, 3, 4, 59))).toBe('2026-01-02T03:04');
    expect(sendAtFromLocal(toLocalInput(new Date(2026, 11, 5, 11, 0)), now)).toHaveProperty('sendAt');
  });
});

describe('the unread badge', () => {
  it('shows the count, or 1000+ past what Confer counts', () => {
    expect(badgeText(0, false)).toBe('0');
    expect(badgeText(7, false)).toBe('7');
    expect(badgeText(1000, true)).toBe('1000+');
    expect(unreadAnnouncementsLabel(1, false)).toBe('1 unread announcement');
    expect(unreadAnnouncementsLabel(3, false)).toBe('3 unread announcements');
    expect(unreadAnnouncementsLabel(1000, true)).toBe('more than 1000 unread announcements');
  });

  it('goes up with an arrival and down with a read, and stays 1000+ once past the limit', () => {
    expect(oneMoreUnread({ unread: 0, more: false })).toEqual({ unread: 1, more: false });
    expect(oneMoreUnread({ unread: 999, more: false })).toEqual({ unread: 1000, more: false });
    expect(oneMoreUnread({ unread: 1000, more: false })).toEqual({ unread: 1000, more: true });
    expect(oneLessUnread({ unread: 1, more: false })).toEqual({ unread: 0, more: false });
    expect(oneLessUnread({ unread: 0, more: false })).toEqual({ unread: 0, more: false });
    expect(oneLessUnread({ unread: 1000, more: true })).toEqual({ unread: 1000, more: true });
  });
});

describe('inbox entries', () => {
  const e = (id: string, at: string, read_at?: string): InboxEntry => ({ announcement_id: id, title: id, preview: '', published_at: at, read_at });

  it('are newest first, each once, and a read one stays read', () => {
    const list = [e('ann_b', '2026-12-05T10:00:00Z', '2026-12-05T10:01:00Z'), e('ann_a', '2026-12-05T09:00:00Z')];
    const merged = mergeEntries(list, [e('ann_c', '2026-12-05T11:00:00Z'), e('ann_b', '2026-12-05T10:00:00Z')]);
    expect(merged.map((x) => x.announcement_id)).toEqual(['ann_c', 'ann_b', 'ann_a']);
    expect(merged[1].read_at).toBe('2026-12-05T10:01:00Z');
  });
});

describe('reading the list again', () => {
  const now = Date.parse('2026-12-05T10:00:00Z');
  const a = (status: string, send_at: string, sent_at?: string) => ({ status, send_at, sent_at }) as never;

  it('is fast while one is on its way, waits for a schedule, slow after a recent send, and stops', () => {
    expect(nextPollMs([a('sending', '2026-12-05T09:59:59Z')], now)).toBe(FAST_POLL_MS);
    expect(nextPollMs([a('expanding', '2026-12-05T09:59:59Z')], now)).toBe(FAST_POLL_MS);
    // Sent now: `scheduled` for the moment the queue takes.
    expect(nextPollMs([a('scheduled', '2026-12-05T10:00:00Z')], now)).toBe(FAST_POLL_MS);
    expect(nextPollMs([a('scheduled', '2026-12-05T10:00:10Z')], now)).toBe(10_000);
    expect(nextPollMs([a('scheduled', '2026-12-06T10:00:00Z')], now)).toBe(30_000);
    expect(nextPollMs([a('sent', '2026-12-05T09:50:00Z', '2026-12-05T09:50:01Z')], now)).toBe(SLOW_POLL_MS);
    expect(nextPollMs([a('sent', '2026-12-05T08:00:00Z', '2026-12-05T08:00:01Z'), a('cancelled', '2026-12-05T10:30:00Z')], now)).toBeNull();
    expect(nextPollMs([], now)).toBeNull();
    expect(inFlight(a('scheduled', '2026-12-05T11:00:00Z'), now)).toBe(false);
  });
});

describe('the composer', () => {
  it('says who an audience reaches', () => {
    expect(audienceSentence({ recipients: 2, customers: 1, groups: [{ group_id: 'grp_1', name: 'VIP', members: 1 }] })).toBe(
      'Reaches 2 customers (1 chosen one by one; VIP: 1 member).',
    );
    expect(audienceSentence({ recipients: 1, customers: 1, groups: [{ group_id: 'grp_1', name: 'VIP', members: 1 }] })).toBe(
      'Reaches 1 customer (1 chosen one by one; VIP: 1 member). Each customer gets it once.',
    );
    expect(audienceSentence({ recipients: 0, customers: 0, groups: [{ group_id: 'grp_1', name: 'Empty', members: 0 }] })).toBe(
      'Reaches 0 customers (Empty: 0 members).',
    );
  });

  it('declares a video or audio file by its type, or its name', () => {
    expect(mediaContentType({ name: 'a.webm', type: 'video/webm' })).toBe('video/webm');
    expect(mediaContentType({ name: 'clip.WEBM', type: '' })).toBe('video/webm');
    expect(mediaContentType({ name: 'clip.mov', type: '' })).toBe('video/quicktime');
    expect(mediaContentType({ name: 'voice.m4a', type: '' })).toBe('audio/mp4');
    expect(mediaContentType({ name: 'notes', type: '' })).toBe('application/octet-stream');
  });

  it('words a refusal with what to do', () => {
    expect(explainRefusal('unknown_customers', 'no such customers: cus_1; nothing was stored')).toBe(
      'The announcement was not sent: no such customers: cus_1; nothing was stored. Remove them from the audience and try again.',
    );
    expect(explainRefusal('validation_failed', 'send_at is in the past; leave it out to send now.')).toBe(
      'The announcement was not sent: send_at is in the past; leave it out to send now.',
    );
  });
});
