// A tab's recordings: who may start one, which browser records, what stopping tells Confer,
// and how a recording stopped elsewhere or a call ending winds down here. No media: the
// recorders and streams are stand-ins.

import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api';
import type { SessionCall } from '../call/calls';
import type { CallEngine } from '../call/engine';
import type { Call, ParticipantRef, Recording, SignedUpload } from '../types';
import { CallRecordings, type RecordingsHost } from './controller';

const ann: ParticipantRef = { kind: 'agent', id: 'ann' };
const bob: ParticipantRef = { kind: 'agent', id: 'bob' };
const ada: ParticipantRef = { kind: 'customer', id: 'cus_1' };

const stream = () => ({ getTracks: () => [{ readyState: 'live', kind: 'video' }, { readyState: 'live', kind: 'audio' }] }) as unknown as MediaStream;

function recording(over: Partial<Recording> = {}): Recording {
  return {
    id: 'rec_1',
    session_id: 'ses_1',
    customer_id: 'cus_1',
    call_id: 'cal_1',
    mode: 'browser',
    status: 'recording',
    started_by: ann,
    started_at: '2026-12-04T10:00:00.000Z',
    tracks: [],
    media: [],
    transcript: { status: 'pending' },
    ...over,
  };
}

function call(over: Partial<Call> = {}): Call {
  return {
    id: 'cal_1',
    session_id: 'ses_1',
    provider: 'webrtc',
    state: 'active',
    quality: '480p',
    max_quality: '4k',
    started_by: ann,
    started_at: 't',
    participants: [{ who: ann, joined_at: 't' }, { who: ada, joined_at: 't' }],
    ...over,
  };
}

interface FakeRecorder {
  track: string;
  active: boolean;
  chunk(bytes?: number): void;
  stop: ReturnType<typeof vi.fn>;
}

function setup(me: ParticipantRef = ann, answer: { recording: Recording; created: boolean } = { recording: recording(), created: true }) {
  const listeners = new Set<(id: string) => void>();
  const streams = { mine: stream(), ada: stream() };
  const engine = { recordable: () => [{ who: me, stream: streams.mine }, { who: ada, stream: streams.ada }] } as unknown as CallEngine;
  const session = { sessionId: 'ses_1', call: call(), phase: 'in-call', engine } as unknown as SessionCall;
  const calls = {
    get: () => session,
    on: (fn: (id: string) => void) => (listeners.add(fn), () => listeners.delete(fn)),
    beforeStop: null as ((id: string) => void) | null,
  };
  const changed = () => listeners.forEach((fn) => fn('ses_1'));
  const recorders: FakeRecorder[] = [];
  const stored: string[] = [];
  const api = {
    startRecording: vi.fn(async () => answer),
    stopRecording: vi.fn(async () => recording({ status: 'processing' })),
    recordingChunk: vi.fn(async (_id: string, c: { track: string; seq: number }) => ({ upload: { url: `${c.track}#${c.seq}`, method: 'PUT', headers: {}, expires_at: '' } as SignedUpload })),
  };
  const host: RecordingsHost = {
    me,
    calls,
    api,
    put: async (upload) => void stored.push(upload.url),
    recorder: (track, _stream, onChunk) => {
      const r: FakeRecorder = {
        track,
        active: true,
        chunk: (bytes = 100) => onChunk(track, new Blob([new Uint8Array(bytes)]), 'video/webm'),
        stop: vi.fn(async () => {
          if (r.active) r.chunk(10); // the last chunk comes as it stops
          r.active = false;
        }),
      };
      recorders.push(r);
      return r;
    },
    uploadOptions: { sleep: async () => undefined, delay: () => 0 },
  };
  const recordings = new CallRecordings(host);
  return { recordings, api, session, calls, changed, recorders, stored, streams };
}

describe('recording a call', () => {
  it('an agent in the call records; the browser records each participant as a track and uploads its chunks', async () => {
    const { recordings, api, recorders, stored, session } = setup();
    expect(recordings.canControl('ses_1')).toBe(true);
    await recordings.start('ses_1');
    expect(api.startRecording).toHaveBeenCalledWith('ses_1');
    expect(session.call?.recording?.recording_id).toBe('rec_1');
    expect(recordings.running('ses_1')?.started_by).toEqual(ann);
    expect(recorders.map((r) => r.track)).toEqual(['agent.ann', 'customer.cus_1']);
    recorders[0].chunk();
    recorders[1].chunk();
    recorders[0].chunk();
    await vi.waitFor(() => expect(stored).toHaveLength(3));
    expect(stored.sort()).toEqual(['agent.ann#0', 'agent.ann#1', 'customer.cus_1#0']);
  });

  it('stopping stops the recorders, uploads what is left, then tells Confer how many chunks each track has', async () => {
    const { recordings, api, recorders, stored, session } = setup();
    await recordings.start('ses_1');
    recorders[0].chunk();
    recorders[1].chunk();
    await recordings.stop('ses_1');
    expect(recorders.every((r) => r.stop.mock.calls.length === 1)).toBe(true);
    expect(stored.sort()).toEqual(['agent.ann#0', 'agent.ann#1', 'customer.cus_1#0', 'customer.cus_1#1']);
    expect(api.stopRecording).toHaveBeenCalledWith('ses_1', { 'agent.ann': 2, 'customer.cus_1': 2 });
    expect(session.call?.recording).toBeNull();
    expect(recordings.get('ses_1').local).toBeNull();
    expect(recordings.get('ses_1').busy).toBeNull();
  });

  it('a participant who joins later is recorded from then on', async () => {
    const { recordings, recorders, session, changed } = setup();
    await recordings.start('ses_1');
    const cy = { kind: 'customer' as const, id: 'cus_2' };
    const before = session.engine!.recordable!();
    session.engine = { recordable: () => [...before, { who: cy, stream: stream() }] } as unknown as CallEngine;
    changed();
    changed();
    expect(recorders.map((r) => r.track)).toEqual(['agent.ann', 'customer.cus_1', 'customer.cus_2']);
  });

  it('a recording stopped by someone else winds down here: last chunks uploaded, Confer not told again', async () => {
    const { recordings, api, recorders, stored, session, changed } = setup();
    await recordings.start('ses_1');
    recorders[0].chunk();
    session.call = call({ recording: null });
    changed();
    await vi.waitFor(() => expect(recordings.get('ses_1').local).toBeNull());
    expect(stored.sort()).toEqual(['agent.ann#0', 'agent.ann#1', 'customer.cus_1#0']);
    expect(api.stopRecording).not.toHaveBeenCalled();
  });

  it('the call ending stops the recorders before the media goes', async () => {
    const { recordings, recorders, calls, stored, session, changed } = setup();
    await recordings.start('ses_1');
    calls.beforeStop?.('ses_1');
    expect(recorders.every((r) => r.stop.mock.calls.length === 1)).toBe(true);
    session.phase = 'idle';
    session.call = null;
    changed();
    await vi.waitFor(() => expect(recordings.get('ses_1').local).toBeNull());
    expect(stored.sort()).toEqual(['agent.ann#0', 'customer.cus_1#0']);
  });

  it('a recording already going on (200) is not recorded by this browser too', async () => {
    const { recordings, recorders, api } = setup(ann, { recording: recording({ started_by: bob }), created: false });
    await recordings.start('ses_1');
    expect(recorders).toEqual([]);
    await recordings.stop('ses_1');
    expect(api.stopRecording).toHaveBeenCalledWith('ses_1', undefined);
  });

  it('in the cloud the service records: the browser does nothing but start and stop', async () => {
    const { recordings, recorders, api } = setup(ann, { recording: recording({ mode: 'pipeline' }), created: true });
    await recordings.start('ses_1');
    expect(recorders).toEqual([]);
    await recordings.stop('ses_1');
    expect(api.stopRecording).toHaveBeenCalledWith('ses_1', undefined);
  });

  it('a customer sees the recording but neither starts nor stops it', async () => {
    const { recordings, api, session } = setup(ada);
    expect(recordings.canControl('ses_1')).toBe(false);
    await recordings.start('ses_1');
    expect(api.startRecording).not.toHaveBeenCalled();
    session.call = call({ recording: { recording_id: 'rec_1', started_by: ann, started_at: 't' } });
    expect(recordings.running('ses_1')?.recording_id).toBe('rec_1');
  });

  it('a refusal is said in words', async () => {
    const { recordings, api } = setup();
    api.startRecording.mockRejectedValueOnce(new ApiError(409, 'no_active_call', 'There is no call going on.'));
    await recordings.start('ses_1');
    expect(recordings.get('ses_1').error).toBe('The recording could not be started: There is no call going on.');
    expect(recordings.get('ses_1').local).toBeNull();
  });
});
