// The calls of a tab: what `call` and `signal` frames do to a session's call, and what the
// person's choices ask of Confer (no media here: the engine is a stand-in).

import { describe, expect, it, vi } from 'vitest';
import type { Call, ParticipantRef } from '../types';
import { Calls, isIn, present, type CallsHost } from './calls';
import type { CallEngine } from './engine';
import type { VideoWall } from './wall';

const ann: ParticipantRef = { kind: 'agent', id: 'ann' };
const ada: ParticipantRef = { kind: 'customer', id: 'cus_1' };

function call(over: Partial<Call> = {}): Call {
  return {
    id: 'cal_1',
    session_id: 'ses_1',
    provider: 'webrtc',
    state: 'active',
    quality: '720p',
    max_quality: '4k',
    started_by: ann,
    started_at: '2026-12-04T10:00:00.000Z',
    participants: [{ who: ann, joined_at: '2026-12-04T10:00:00.000Z' }],
    ...over,
  };
}

const fakeWall = () => ({ clear: vi.fn(), el: {} }) as unknown as VideoWall;

function setup(me: ParticipantRef) {
  const sent: Record<string, unknown>[] = [];
  const api = {
    startCall: vi.fn(),
    call: vi.fn(),
    joinCall: vi.fn(),
    leaveCall: vi.fn(async () => call({ state: 'ended' })),
    endCall: vi.fn(async () => call({ state: 'ended', duration_seconds: 192 })),
    setCallQuality: vi.fn(async (_: string, quality: string) => call({ quality: quality as Call['quality'] })),
  };
  const host: CallsHost = {
    me,
    isMe: (p) => p.kind === me.kind && p.id === me.id,
    send: (f) => (sent.push(f), true),
    api: api as unknown as CallsHost['api'],
    wall: fakeWall,
  };
  const calls = new Calls(host);
  const changes: string[] = [];
  calls.on((id) => changes.push(id));
  return { calls, api, sent, changes };
}

function fakeEngine(): CallEngine {
  return {
    provider: 'webrtc',
    muted: false,
    cameraOff: false,
    sharing: false,
    hasCamera: true,
    hasMicrophone: true,
    cameraId: null,
    microphoneId: null,
    peers: () => [],
    join: vi.fn(),
    rejoin: vi.fn(),
    setQuality: vi.fn(async () => undefined),
    setMuted: vi.fn(),
    setCameraOff: vi.fn(),
    useCamera: vi.fn(),
    useMicrophone: vi.fn(),
    shareScreen: vi.fn(),
    stopSharing: vi.fn(),
    stats: vi.fn(),
    signal: vi.fn(async () => undefined),
    peerJoined: vi.fn(),
    peerLeft: vi.fn(),
    stop: vi.fn(),
  };
}

describe('the calls of a tab', () => {
  it('a started call rings for the others, not for its caller', () => {
    const customer = setup(ada);
    customer.calls.onCallFrame({ type: 'call', event: 'started', session_id: 'ses_1', call: call(), participant: ann });
    expect(customer.calls.ringing('ses_1')).toBe(true);
    expect(customer.changes).toEqual(['ses_1']);

    const agent = setup(ann);
    agent.calls.onCallFrame({ type: 'call', event: 'started', session_id: 'ses_1', call: call(), participant: ann });
    expect(agent.calls.ringing('ses_1')).toBe(false);
  });

  it('declining tells the caller and stops the ringing', () => {
    const { calls, sent } = setup(ada);
    calls.onCallFrame({ type: 'call', event: 'started', session_id: 'ses_1', call: call(), participant: ann });
    calls.decline('ses_1');
    expect(sent).toEqual([{ action: 'signal', session_id: 'ses_1', to: ann, kind: 'decline', data: {} }]);
    expect(calls.ringing('ses_1')).toBe(false);
    // Confer refusing it moments later (the call ended meanwhile) is not for a notice.
    expect(calls.claimsError({ type: 'error', code: 'no_active_call', message: 'no call' })).toBe(true);
    expect(calls.claimsError({ type: 'error', code: 'session_closed', message: 'closed' })).toBe(false);
  });

  it('a caller alone in the call leaves when declined, and says so', async () => {
    const { calls, api } = setup(ann);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    s.engine = fakeEngine();
    const engine = s.engine;
    calls.onSignal({ type: 'signal', session_id: 'ses_1', call_id: 'cal_1', from: ada, kind: 'decline', data: {} });
    await vi.waitFor(() => expect(s.phase).toBe('idle'));
    expect(api.leaveCall).toHaveBeenCalledWith('ses_1');
    expect(engine.stop).toHaveBeenCalled();
    expect(s.notice).toEqual({ kind: 'declined', who: ada });
  });

  it('routes signals to the engine of their call only', () => {
    const { calls } = setup(ann);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    s.engine = fakeEngine();
    const offer = { type: 'signal' as const, session_id: 'ses_1', call_id: 'cal_1', from: ada, kind: 'offer' as const, data: { sdp: 'v=0', type: 'offer' } };
    calls.onSignal(offer);
    calls.onSignal({ ...offer, call_id: 'cal_old' });
    calls.onSignal({ ...offer, data: { sdp: 7 } } as never);
    expect(s.engine.signal).toHaveBeenCalledTimes(1);
  });

  it('follows joins, leaves, quality and the end', () => {
    const { calls } = setup(ann);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    const engine = fakeEngine();
    s.engine = engine;
    const both = call({ participants: [{ who: ann, joined_at: 't' }, { who: ada, joined_at: 't' }] });
    calls.onCallFrame({ type: 'call', event: 'joined', session_id: 'ses_1', call: both, participant: ada });
    expect(present(s.call)).toEqual([ann, ada]);
    expect(s.notice).toEqual({ kind: 'joined', who: ada });
    calls.onCallFrame({ type: 'call', event: 'quality', session_id: 'ses_1', call: { ...both, quality: '480p' }, participant: ada });
    expect(engine.setQuality).toHaveBeenCalledWith('480p');
    const left = call({ participants: [{ who: ann, joined_at: 't' }, { who: ada, joined_at: 't', left_at: 't2' }] });
    calls.onCallFrame({ type: 'call', event: 'left', session_id: 'ses_1', call: left, participant: ada });
    expect(engine.peerLeft).toHaveBeenCalledWith(ada);
    expect(isIn(s.call, ada)).toBe(false);
    calls.onCallFrame({ type: 'call', event: 'ended', session_id: 'ses_1', call: { ...left, state: 'ended', duration_seconds: 192 }, participant: ada });
    expect(s.phase).toBe('idle');
    expect(s.call).toBeNull();
    expect(s.notice).toEqual({ kind: 'ended', who: ada, seconds: 192 });
    expect(engine.stop).toHaveBeenCalled();
  });

  it('changes the quality through Confer, then applies what Confer answered', async () => {
    const { calls, api } = setup(ann);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    s.engine = fakeEngine();
    await calls.setQuality('ses_1', '1080p');
    expect(api.setCallQuality).toHaveBeenCalledWith('ses_1', '1080p');
    expect(s.engine.setQuality).toHaveBeenCalledWith('1080p');
    expect(s.call?.quality).toBe('1080p');
  });

  it('ending answers for everyone', async () => {
    const { calls, api } = setup(ann);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    s.engine = fakeEngine();
    await calls.end('ses_1');
    expect(api.endCall).toHaveBeenCalledWith('ses_1');
    expect(s.phase).toBe('idle');
    expect(s.notice).toEqual({ kind: 'ended', who: ann, seconds: 192 });
  });

  it('follows a recording: the call carries it, and those in the call are told', () => {
    const { calls } = setup(ada);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    s.engine = fakeEngine();
    const rec = { recording_id: 'rec_1', started_by: ann, started_at: 't' };
    calls.onCallFrame({ type: 'call', event: 'recording_started', session_id: 'ses_1', call: call({ recording: rec }), participant: ann });
    expect(s.call?.recording).toEqual(rec);
    expect(s.notice).toEqual({ kind: 'recording', who: ann, on: true });
    calls.onCallFrame({ type: 'call', event: 'recording_stopped', session_id: 'ses_1', call: call(), participant: ann });
    expect(s.call?.recording).toBeUndefined();
    expect(s.notice).toEqual({ kind: 'recording', who: ann, on: false });
    // Another call's recording frames change nothing.
    calls.onCallFrame({ type: 'call', event: 'recording_started', session_id: 'ses_1', call: call({ id: 'cal_9', recording: rec }), participant: ann });
    expect(s.call?.recording).toBeUndefined();
  });

  it('lets a recording in this browser take its last chunk before the media stops', async () => {
    const { calls } = setup(ann);
    const s = calls.get('ses_1');
    s.call = call();
    s.phase = 'in-call';
    const engine = fakeEngine();
    s.engine = engine;
    const order: string[] = [];
    calls.beforeStop = (id) => order.push(`before ${id}`);
    (engine.stop as ReturnType<typeof vi.fn>).mockImplementation(() => order.push('stop'));
    await calls.leave('ses_1');
    expect(order[0]).toBe('before ses_1');
    expect(order).toContain('stop');
  });
});
