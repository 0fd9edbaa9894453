// Signalling frames (docs/calls.md, "Frames"): what may go out in a `signal` action, checked
// before it is sent, and what an arriving `signal` frame must hold before the call acts on it.

import type { ParticipantRef, SignalFrame, SignalKind } from '../types';

export const MAX_SDP_BYTES = 32 * 1024;
export const MAX_CANDIDATE_BYTES = 2 * 1024;
export const MAX_FRAME_BYTES = 64 * 1024;

const KINDS: SignalKind[] = ['offer', 'answer', 'candidate', 'hangup', 'decline'];

const bytes = (s: string) => new TextEncoder().encode(s).length;

function isRef(v: unknown): v is ParticipantRef {
  const r = v as ParticipantRef | null;
  return !!r && typeof r === 'object' && (r.kind === 'agent' || r.kind === 'customer') && typeof r.id === 'string' && r.id !== '';
}

/** Why a signal's data would be refused, or null when it is fine. */
export function signalDataProblem(kind: SignalKind, data: Record<string, unknown>): string | null {
  const keys = Object.keys(data);
  switch (kind) {
    case 'offer':
    case 'answer': {
      const sdp = data.sdp;
      if (typeof sdp !== 'string' || sdp === '') return 'an offer or answer needs its sdp';
      if (bytes(sdp) > MAX_SDP_BYTES) return `an sdp is at most ${MAX_SDP_BYTES} bytes`;
      if (keys.some((k) => k !== 'sdp' && k !== 'type')) return 'an offer or answer carries only sdp (and type)';
      if ('type' in data && data.type !== kind) return `the type of an ${kind} is "${kind}"`;
      return null;
    }
    case 'candidate': {
      if (typeof data.candidate !== 'string' || data.candidate === '') return 'a candidate needs its candidate line';
      if (keys.some((k) => !['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment'].includes(k))) {
        return 'a candidate carries candidate, sdpMid, sdpMLineIndex and usernameFragment only';
      }
      if (bytes(JSON.stringify(data)) > MAX_CANDIDATE_BYTES) return `a candidate is at most ${MAX_CANDIDATE_BYTES} bytes`;
      if ('sdpMid' in data && typeof data.sdpMid !== 'string') return 'sdpMid is a string';
      if ('sdpMLineIndex' in data && !(Number.isInteger(data.sdpMLineIndex) && (data.sdpMLineIndex as number) >= 0)) {
        return 'sdpMLineIndex is a whole number';
      }
      if ('usernameFragment' in data && typeof data.usernameFragment !== 'string') return 'usernameFragment is a string';
      return null;
    }
    case 'hangup':
    case 'decline':
      return keys.length === 0 ? null : `${kind} carries no data`;
    default:
      return 'unknown kind of signal';
  }
}

/** The `signal` action for one participant; throws when Confer would refuse it. */
export function signalAction(sessionId: string, to: ParticipantRef, kind: SignalKind, data: Record<string, unknown> = {}): Record<string, unknown> {
  const problem = signalDataProblem(kind, data);
  if (problem) throw new Error(`A call signal could not be sent: ${problem}.`);
  const frame = { action: 'signal', session_id: sessionId, to: { kind: to.kind, id: to.id }, kind, data };
  if (bytes(JSON.stringify(frame)) > MAX_FRAME_BYTES) throw new Error('A call signal could not be sent: it is too large.');
  return frame;
}

/** An ICE candidate as a signal's data: only the fields Confer relays, none left empty. */
export function candidateData(c: RTCIceCandidateInit): Record<string, unknown> | null {
  if (!c.candidate) return null; // the end of candidates: nothing to send
  const data: Record<string, unknown> = { candidate: c.candidate };
  if (typeof c.sdpMid === 'string') data.sdpMid = c.sdpMid;
  if (typeof c.sdpMLineIndex === 'number') data.sdpMLineIndex = c.sdpMLineIndex;
  if (typeof c.usernameFragment === 'string' && c.usernameFragment) data.usernameFragment = c.usernameFragment;
  return data;
}

/** An arriving frame as a signal the call can act on, or null when it is not a well-formed one. */
export function readSignal(frame: unknown): SignalFrame | null {
  const f = frame as Partial<SignalFrame> | null;
  if (!f || typeof f !== 'object' || f.type !== 'signal') return null;
  if (typeof f.session_id !== 'string' || typeof f.call_id !== 'string' || !isRef(f.from)) return null;
  if (!KINDS.includes(f.kind as SignalKind)) return null;
  const data = f.data && typeof f.data === 'object' && !Array.isArray(f.data) ? (f.data as Record<string, unknown>) : null;
  if (!data) return null;
  // The relay checked sizes and shape; a client checks what it reads all the same.
  if (signalDataProblem(f.kind as SignalKind, data)) return null;
  return f as SignalFrame;
}
