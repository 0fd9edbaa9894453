import { describe, expect, it } from 'vitest';
import { msg } from '../testing';
import type { Message, ParticipantRef } from '../types';
import { callJoinLink, callLineText } from './message';

const ann: ParticipantRef = { kind: 'agent', id: 'ann' };
const ada: ParticipantRef = { kind: 'customer', id: 'cus_1' };

function entry(call: Message['call'], sender = ann): Message {
  return { ...msg(7, ''), kind: 'call', sender, call };
}

const names = (me: ParticipantRef) => ({
  nameOf: (p: ParticipantRef) => (p.kind === 'customer' ? 'Ada Lovelace' : p.id),
  isMe: (p: ParticipantRef) => p.kind === me.kind && p.id === me.id,
  senderName: () => '',
});

describe('a call in the history', () => {
  const started = entry({ call_id: 'cal_1', event: 'started', quality: '720p', started_at: 't', participants: [ann] });
  const ended = entry({ call_id: 'cal_1', event: 'ended', quality: '720p', started_at: 't', ended_at: 't2', duration_seconds: 192, participants: [ann, ada] });

  it('says who started it', () => {
    expect(callLineText(started, names(ada))).toBe('Video call started by ann');
    expect(callLineText(started, names(ann))).toBe('Video call started by you');
  });

  it('says how long it lasted and with whom', () => {
    expect(callLineText(ended, names(ann))).toBe('Video call ended · 3 min 12 s · with Ada Lovelace');
    expect(callLineText(ended, names(ada))).toBe('Video call ended · 3 min 12 s · with ann');
    // Read by someone who was not in it.
    expect(callLineText(ended, names({ kind: 'agent', id: 'bob' }))).toBe('Video call ended · 3 min 12 s · with ann and Ada Lovelace');
  });

  it('says when nobody answered', () => {
    const alone = entry({ call_id: 'cal_2', event: 'ended', quality: '480p', started_at: 't', duration_seconds: 8, participants: [ann] });
    expect(callLineText(alone, names(ann))).toBe('Video call ended · 8 s · not answered');
  });

  it('says who started and stopped a recording', () => {
    const on = entry({ call_id: 'cal_1', event: 'recording_started', quality: '720p', started_at: 't', participants: [ann], by: ann, recording_id: 'rec_1' });
    const off = entry({ call_id: 'cal_1', event: 'recording_stopped', quality: '720p', started_at: 't', participants: [ann], by: ada, recording_id: 'rec_1' }, ada);
    expect(callLineText(on, names(ada))).toBe('Recording started by ann');
    expect(callLineText(on, names(ann))).toBe('Recording started by you');
    expect(callLineText(off, names(ann))).toBe('Recording stopped by Ada Lovelace');
  });

  it('offers the link of a call in the customer’s own video app, and only a web address', () => {
    const zoom = entry({ call_id: 'cal_3', event: 'started', quality: '480p', started_at: 't', participants: [ann], provider: 'zoom', join_url: 'https://us05web.zoom.us/j/85746392001?pwd=aBc123' });
    expect(callLineText(zoom, names(ada))).toBe('Video call started in Zoom by ann');
    expect(callJoinLink(zoom)).toEqual({ href: 'https://us05web.zoom.us/j/85746392001?pwd=aBc123', label: 'Join in Zoom' });
    const hostile = entry({ ...zoom.call!, provider: 'jitsi', join_url: 'javascript:alert(1)' });
    expect(callJoinLink(hostile)).toBeNull();
    expect(callJoinLink(started)).toBeNull();
  });
});
