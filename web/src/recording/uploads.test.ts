// The chunks of a recording on their way: numbered per track, one after another per track,
// retried, a failing track leaving the others going, the counts Confer is told at the end.

import { describe, expect, it } from 'vitest';
import { ApiError } from '../api';
import type { SignedUpload } from '../types';
import { RecordingUploads, retryable, type ChunkTransport } from './uploads';

type Asked = { track: string; seq: number; content_type: string; size: number };

/** Confer and its storage as the uploads see them; `failures` makes chosen requests fail. */
function fakeTransport() {
  const asked: Asked[] = [];
  const stored: { track: string; seq: number; bytes: number }[] = [];
  const failures: ((a: Asked, step: 'ask' | 'put') => unknown | null)[] = [];
  let inFlight = 0;
  let maxInFlightPerTrack = 0;
  const flying = new Map<string, number>();
  const transport: ChunkTransport = {
    async ask(chunk) {
      asked.push(chunk);
      for (const f of failures) {
        const e = f(chunk, 'ask');
        if (e) throw e;
      }
      return { url: `/recordings/${chunk.track}/${chunk.seq}`, method: 'PUT', headers: { 'content-type': chunk.content_type }, expires_at: '' } satisfies SignedUpload;
    },
    async put(upload, blob) {
      const [, , track, seq] = upload.url.split('/');
      inFlight++;
      flying.set(track, (flying.get(track) ?? 0) + 1);
      maxInFlightPerTrack = Math.max(maxInFlightPerTrack, flying.get(track)!);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      flying.set(track, flying.get(track)! - 1);
      for (const f of failures) {
        const e = f({ track, seq: Number(seq), content_type: upload.headers['content-type'], size: blob.size }, 'put');
        if (e) throw e;
      }
      stored.push({ track, seq: Number(seq), bytes: blob.size });
    },
  };
  return { transport, asked, stored, failures, maxInFlight: () => maxInFlightPerTrack, inFlight: () => inFlight };
}

const noWait = { sleep: async () => undefined, delay: () => 0 };
const chunk = (n = 10) => new Blob([new Uint8Array(n)]);

describe('the uploads of a recording', () => {
  it('numbers each track’s chunks from 0 and uploads them in order, one at a time per track', async () => {
    const t = fakeTransport();
    const u = new RecordingUploads(t.transport, noWait);
    expect(u.add('agent.ann', chunk(), 'video/webm')).toBe(0);
    expect(u.add('customer.cus_1', chunk(), 'video/webm')).toBe(0);
    expect(u.add('agent.ann', chunk(), 'video/webm')).toBe(1);
    expect(u.add('agent.ann', chunk(), 'video/webm')).toBe(2);
    expect(u.add('customer.cus_1', chunk(3), 'audio/webm')).toBe(1);
    // An empty chunk (the recorder had nothing) takes no number.
    expect(u.add('agent.ann', new Blob([]), 'video/webm')).toBeNull();
    await u.flush();
    expect(t.maxInFlight()).toBe(1);
    expect(t.stored.filter((s) => s.track === 'agent.ann').map((s) => s.seq)).toEqual([0, 1, 2]);
    expect(t.stored.filter((s) => s.track === 'customer.cus_1').map((s) => s.seq)).toEqual([0, 1]);
    expect(t.asked.find((a) => a.track === 'customer.cus_1' && a.seq === 1)).toEqual({ track: 'customer.cus_1', seq: 1, content_type: 'audio/webm', size: 3 });
    expect(u.counts()).toEqual({ 'agent.ann': 3, 'customer.cus_1': 2 });
    expect(u.pending).toBe(0);
  });

  it('retries a chunk that failed on the way, with the backoff’s waits, asking for a new upload each time', async () => {
    const t = fakeTransport();
    let puts = 0;
    t.failures.push((_, step) => (step === 'put' && ++puts <= 2 ? new ApiError(0, 'network', 'offline') : null));
    const waits: number[] = [];
    const u = new RecordingUploads(t.transport, { sleep: async (ms) => void waits.push(ms), delay: (n) => 100 * 2 ** n });
    u.add('agent.ann', chunk(), 'video/webm');
    u.add('agent.ann', chunk(), 'video/webm');
    await u.flush();
    expect(waits).toEqual([100, 200]);
    expect(t.asked.map((a) => a.seq)).toEqual([0, 0, 0, 1]);
    expect(u.counts()).toEqual({ 'agent.ann': 2 });
    expect(u.failed()).toEqual([]);
  });

  it('a track that cannot upload stops; the others go on', async () => {
    const t = fakeTransport();
    t.failures.push((a, step) => (step === 'ask' && a.track === 'customer.cus_1' && a.seq === 1 ? new ApiError(500, 'internal', 'broken') : null));
    const u = new RecordingUploads(t.transport, { ...noWait, attempts: 3 });
    for (let i = 0; i < 3; i++) {
      u.add('agent.ann', chunk(), 'video/webm');
      u.add('customer.cus_1', chunk(), 'video/webm');
    }
    await u.flush();
    expect(t.asked.filter((a) => a.track === 'customer.cus_1' && a.seq === 1)).toHaveLength(3);
    expect(u.counts()).toEqual({ 'agent.ann': 3, 'customer.cus_1': 1 });
    expect(u.failed()).toEqual([{ track: 'customer.cus_1', error: 'broken' }]);
    // It takes nothing more; the other track does.
    expect(u.add('customer.cus_1', chunk(), 'video/webm')).toBeNull();
    expect(u.add('agent.ann', chunk(), 'video/webm')).toBe(3);
    await u.flush();
    expect(u.counts()['agent.ann']).toBe(4);
  });

  it('a refusal is not retried; a recording Confer is assembling takes no chunk on any track', async () => {
    const t = fakeTransport();
    t.failures.push((a) => (a.track === 'agent.ann' && a.seq === 0 ? new ApiError(403, 'forbidden', 'not yours') : null));
    const u = new RecordingUploads(t.transport, noWait);
    u.add('agent.ann', chunk(), 'video/webm');
    await u.flush();
    expect(t.asked).toHaveLength(1);
    expect(u.failed()).toEqual([{ track: 'agent.ann', error: 'not yours' }]);

    const t2 = fakeTransport();
    const u2 = new RecordingUploads(t2.transport, noWait);
    u2.add('customer.cus_1', chunk(), 'video/webm');
    await u2.flush();
    t2.failures.push((a) => (a.track === 'customer.cus_1' ? new ApiError(409, 'recording_stopped', 'stopped') : null));
    u2.add('customer.cus_1', chunk(), 'video/webm');
    await u2.flush();
    expect(u2.add('agent.ann', chunk(), 'video/webm')).toBeNull();
    expect(u2.counts()).toEqual({ 'customer.cus_1': 1 });
    expect(u2.status().map((s) => s.state)).toEqual(['closed']);
  });

  it('tells which failures are worth another try', () => {
    expect(retryable(new ApiError(0, 'network', 'x'))).toBe(true);
    expect(retryable(new ApiError(503, 'unavailable', 'x'))).toBe(true);
    expect(retryable(new ApiError(429, 'throttled', 'x'))).toBe(true);
    expect(retryable(new ApiError(400, 'validation_failed', 'x'))).toBe(false);
    expect(retryable(new ApiError(413, 'too_large', 'x'))).toBe(false);
    expect(retryable(new TypeError('fetch failed'))).toBe(true);
  });

  it('tells when a track began after the recording’s start', async () => {
    const t = fakeTransport();
    const u = new RecordingUploads(t.transport, noWait);
    u.add('agent.ann', chunk(), 'video/webm', 0);
    u.add('customer.cus_2', chunk(), 'video/webm', 4321.4);
    u.add('customer.cus_2', chunk(), 'video/webm', 9999);
    u.add('customer.cus_3', chunk(), 'video/webm');
    await u.flush();
    const told = t.asked.map((a) => [a.track, a.seq, (a as { offset_ms?: number }).offset_ms]);
    expect(told.sort((x, y) => `${x[0]}${x[1]}`.localeCompare(`${y[0]}${y[1]}`))).toEqual([
      ['agent.ann', 0, 0],
      ['customer.cus_2', 0, 4321],
      ['customer.cus_2', 1, 4321],
      ['customer.cus_3', 0, undefined],
    ]);
  });
});
