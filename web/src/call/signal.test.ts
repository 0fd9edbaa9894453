import { describe, expect, it } from 'vitest';
import { candidateData, MAX_CANDIDATE_BYTES, MAX_SDP_BYTES, readSignal, signalAction, signalDataProblem } from './signal';

const ann = { kind: 'agent' as const, id: 'ann' };

describe('signalling frames', () => {
  it('builds the documented action', () => {
    expect(signalAction('ses_1', ann, 'offer', { type: 'offer', sdp: 'v=0' })).toEqual({
      action: 'signal',
      session_id: 'ses_1',
      to: { kind: 'agent', id: 'ann' },
      kind: 'offer',
      data: { type: 'offer', sdp: 'v=0' },
    });
    expect(signalAction('ses_1', ann, 'hangup')).toMatchObject({ kind: 'hangup', data: {} });
    expect(signalAction('ses_1', ann, 'decline').data).toEqual({});
  });

  it('refuses what Confer would refuse, before sending it', () => {
    expect(signalDataProblem('offer', {})).toMatch(/sdp/);
    expect(signalDataProblem('answer', { sdp: '' })).toMatch(/sdp/);
    expect(signalDataProblem('offer', { sdp: 'x'.repeat(MAX_SDP_BYTES + 1) })).toMatch(/at most/);
    expect(signalDataProblem('offer', { sdp: 'v=0', extra: 1 })).toMatch(/only sdp/);
    expect(signalDataProblem('answer', { sdp: 'v=0', type: 'offer' })).toMatch(/type/);
    expect(signalDataProblem('candidate', { candidate: '' })).toMatch(/candidate/);
    expect(signalDataProblem('candidate', { candidate: 'candidate:1', foo: 'x' })).toMatch(/only/);
    expect(signalDataProblem('candidate', { candidate: 'x'.repeat(MAX_CANDIDATE_BYTES) })).toMatch(/at most/);
    expect(signalDataProblem('candidate', { candidate: 'candidate:1', sdpMLineIndex: -1 })).toMatch(/whole/);
    expect(signalDataProblem('hangup', { why: 'bye' })).toMatch(/no data/);
    expect(signalDataProblem('candidate', { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 })).toBeNull();
    expect(() => signalAction('ses_1', ann, 'offer', {})).toThrow(/could not be sent/);
  });

  it('sends a candidate with its fields only, and nothing for the end of candidates', () => {
    expect(candidateData({ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abc' })).toEqual({
      candidate: 'candidate:1',
      sdpMid: '0',
      sdpMLineIndex: 0,
      usernameFragment: 'abc',
    });
    expect(candidateData({ candidate: 'candidate:1', sdpMid: null, sdpMLineIndex: null, usernameFragment: null })).toEqual({ candidate: 'candidate:1' });
    expect(candidateData({ candidate: '' })).toBeNull();
  });

  it('reads only well-formed signal frames', () => {
    const good = { type: 'signal', session_id: 'ses_1', call_id: 'cal_1', from: ann, kind: 'answer', data: { sdp: 'v=0', type: 'answer' } };
    expect(readSignal(good)).toEqual(good);
    expect(readSignal({ ...good, kind: 'shout' })).toBeNull();
    expect(readSignal({ ...good, from: { kind: 'robot', id: 'x' } })).toBeNull();
    expect(readSignal({ ...good, data: { sdp: 42 } })).toBeNull();
    expect(readSignal({ ...good, data: [] })).toBeNull();
    expect(readSignal({ ...good, call_id: undefined })).toBeNull();
    expect(readSignal({ ...good, type: 'message' })).toBeNull();
    expect(readSignal(null)).toBeNull();
  });
});
