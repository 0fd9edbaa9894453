import { describe, expect, it } from 'vitest';
import {
  contentTypeOf,
  durationInWords,
  formatBytes,
  formatDay,
  formatDuration,
  newClientId,
  recordingFileName,
  unreadLabel,
} from './format';
import { describeError, errorFromResponse, queryString } from './api';
import { fitInside, safeUrl, showsInline, urlsExpired } from './chat/message';
import { pickRecordingType } from './chat/recorder';

describe('formatting', () => {
  it('sizes in bytes, KB, MB', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1024)).toBe('1 KB');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(20 * 1024 * 1024)).toBe('20 MB');
    expect(formatBytes(-1)).toBe('');
  });

  it('durations as a player shows them and in words', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(4400)).toBe('0:04');
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(null)).toBe('');
    expect(durationInWords(1000)).toBe('1 second');
    expect(durationInWords(4000)).toBe('4 seconds');
    expect(durationInWords(60_000)).toBe('1 minute');
    expect(durationInWords(125_000)).toBe('2 minutes 5 seconds');
  });

  it('days relative to now', () => {
    const now = new Date(2026, 11, 4, 15, 0);
    expect(formatDay(new Date(2026, 11, 4, 1, 0).toISOString(), now)).toBe('Today');
    expect(formatDay(new Date(2026, 11, 3, 23, 0).toISOString(), now)).toBe('Yesterday');
    expect(formatDay(new Date(2026, 0, 2, 12, 0).toISOString(), now)).toBe('2 Jan 2026');
    expect(formatDay('not a date', now)).toBe('');
  });

  it('unread counts in words', () => {
    expect(unreadLabel(1)).toBe('1 unread message');
    expect(unreadLabel(3)).toBe('3 unread messages');
  });

  it('client ids fit the protocol and do not repeat', () => {
    const ids = new Set(Array.from({ length: 200 }, () => newClientId('m')));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('recordings are named by their type', () => {
    const at = new Date(2026, 11, 4, 9, 5, 7);
    expect(recordingFileName('audio/webm;codecs=opus', at)).toBe('voice-20261204-090507.webm');
    expect(recordingFileName('audio/mp4', at)).toBe('voice-20261204-090507.m4a');
    expect(recordingFileName('audio/ogg;codecs=opus', at)).toBe('voice-20261204-090507.ogg');
  });

  it('a file without a type from the browser gets one from its name', () => {
    expect(contentTypeOf({ name: 'a.png', type: 'image/png' })).toBe('image/png');
    expect(contentTypeOf({ name: 'Report.PDF', type: '' })).toBe('application/pdf');
    expect(contentTypeOf({ name: 'voice.opus', type: '' })).toBe('audio/ogg');
    expect(contentTypeOf({ name: 'x', type: '' })).toBe('application/octet-stream');
  });

  it('the recorder asks for the first type the browser supports', () => {
    expect(pickRecordingType((t) => t === 'audio/webm')).toBe('audio/webm');
    expect(pickRecordingType((t) => t === 'audio/mp4')).toBe('audio/mp4');
    expect(pickRecordingType(() => false)).toBeUndefined();
    expect(
      pickRecordingType(() => {
        throw new Error('no');
      }),
    ).toBeUndefined();
  });

  it('images fit their box, keeping proportions', () => {
    expect(fitInside(800, 600)).toEqual([240, 180]);
    expect(fitInside(100, 50)).toEqual([100, 50]);
    expect(fitInside(null, 50)).toEqual([240, 240]);
  });

  it('only web addresses become links, and HEIC photos without a thumbnail are downloads', () => {
    expect(safeUrl('http://127.0.0.1:8080/blobs/x?sig=1')).toBe('http://127.0.0.1:8080/blobs/x?sig=1');
    expect(safeUrl('https://bucket.s3.amazonaws.com/x')).toBe('https://bucket.s3.amazonaws.com/x');
    expect(safeUrl('javascript:alert(1)')).toBe('');
    expect(safeUrl(' data:text/html,x')).toBe('');
    expect(safeUrl(null)).toBe('');
    const heic = { id: 'a', file_name: 'p.heic', content_type: 'image/heic', size: 1, url: 'https://x/p.heic' };
    expect(showsInline(heic)).toBe(false);
    expect(showsInline({ ...heic, thumbnail_url: 'https://x/t.jpg' })).toBe(true);
    expect(showsInline({ ...heic, content_type: 'image/png', thumbnail_url: null })).toBe(true);
  });

  it('download URLs count as expired a minute early', () => {
    const now = Date.parse('2026-12-04T15:00:00Z');
    expect(urlsExpired({ urls_expire_at: '2026-12-04T15:00:30Z' } as never, now)).toBe(true);
    expect(urlsExpired({ urls_expire_at: '2026-12-04T15:05:00Z' } as never, now)).toBe(false);
    expect(urlsExpired(null, now)).toBe(false);
  });
});

describe('API errors', () => {
  it('use the envelope’s message', () => {
    const e = errorFromResponse(404, { error: { code: 'not_found', message: 'session not found', request_id: 'r1' } });
    expect([e.status, e.code, e.message, e.requestId]).toEqual([404, 'not_found', 'session not found', 'r1']);
    expect(describeError(e)).toBe('session not found');
  });

  it('read API Gateway’s own bodies and bare statuses', () => {
    expect(errorFromResponse(401, { message: 'Unauthorized' }).message).toBe('Unauthorized');
    expect(errorFromResponse(403, null).message).toBe('You are not allowed to do this.');
    expect(errorFromResponse(502, 'x').message).toBe('The server answered 502. Please try again.');
  });

  it('query strings leave out what is not set', () => {
    expect(queryString({ q: 'ada', limit: 50, cursor: undefined, kind: '' })).toBe('?q=ada&limit=50');
    expect(queryString({})).toBe('');
  });
});

describe('call lengths and names', () => {
  it('reads as people say them', async () => {
    const { formatCallDuration, joinNames } = await import('./format');
    expect(formatCallDuration(192)).toBe('3 min 12 s');
    expect(formatCallDuration(45)).toBe('45 s');
    expect(formatCallDuration(120)).toBe('2 min');
    expect(formatCallDuration(3900)).toBe('1 h 5 min');
    expect(formatCallDuration(7200)).toBe('2 h');
    expect(formatCallDuration(null)).toBe('');
    expect(joinNames(['Ada'])).toBe('Ada');
    expect(joinNames(['Ada', 'ann'])).toBe('Ada and ann');
    expect(joinNames(['Ada', 'ann', 'bob'])).toBe('Ada, ann and bob');
  });
});
