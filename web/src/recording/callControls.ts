// Recording during a call: the agents' Record / Stop recording button, and the "● Recording"
// mark everyone in the session sees while the call is recorded (in the conversation's header
// and in the call itself).

import { h, replaceChildren, Scope } from '../dom';
import type { Live } from '../live';
import type { ParticipantRef } from '../types';

export interface RecordingControls {
  /** Record / Stop recording, for agents in the call. */
  button: HTMLButtonElement;
  /** The mark in the call's title bar. */
  badge: HTMLElement;
  /** The mark in the conversation's header (seen by those not in the call too). */
  headBadge: HTMLElement;
  /** Uploads on their way, and problems. */
  line: HTMLElement;
  paint(): void;
  dispose(): void;
}

/** "● Recording": a red dot and the word (the dot is decoration; the word is what is read). */
function mark(cls: string): HTMLElement {
  return h('span', { class: `rec-badge ${cls}`, hidden: true }, h('span', { class: 'rec-badge-dot', 'aria-hidden': 'true' }, '●'), ' Recording');
}

export function recordingControls(live: Live, sessionId: string, nameOf: (p: ParticipantRef) => string): RecordingControls {
  const scope = new Scope();
  const recordings = live.recordings;
  const button = h('button', {
    type: 'button',
    class: 'button secondary small call-record',
    onclick: () => {
      if (recordings.running(sessionId)) void recordings.stop(sessionId);
      else void recordings.start(sessionId);
    },
  });
  const badge = mark('rec-badge-call');
  const headMark = mark('rec-badge-head');
  // Said when it starts and when it stops (the header is there for everyone, in the call or not).
  const announce = h('span', { class: 'sr-only', role: 'status' });
  const headBadge = h('span', { class: 'rec-head' }, headMark, announce);
  const text = h('span', { class: 'call-record-text' });
  const dismiss = h('button', { type: 'button', class: 'link small', onclick: () => recordings.dismiss(sessionId) }, 'Dismiss');
  const line = h('p', { class: 'call-record-line' }, text, dismiss);
  let wasRunning: string | null = null;

  function paint(): void {
    const running = recordings.running(sessionId);
    const state = recordings.get(sessionId);
    const who = running ? (live.isMe(running.started_by) ? 'you' : nameOf(running.started_by)) : '';
    for (const b of [badge, headMark]) {
      b.hidden = !running;
      b.title = running ? `This call is being recorded (started by ${who}).` : '';
    }
    const id = running?.recording_id ?? null;
    if (id !== wasRunning) {
      announce.textContent = id ? `This call is being recorded (started by ${who}).` : wasRunning ? 'The recording of this call stopped.' : '';
      wasRunning = id;
    }
    const can = recordings.canControl(sessionId);
    button.hidden = !can;
    const label = state.busy === 'starting' ? 'Starting the recording…' : state.busy === 'stopping' ? 'Stopping the recording…' : running ? 'Stop recording' : 'Record';
    if (button.textContent !== label) {
      button.replaceChildren(h('span', { class: 'rec-button-dot', 'aria-hidden': 'true' }), label);
    }
    button.disabled = !!state.busy;
    button.classList.toggle('recording-on', !!running);
    const pending = recordings.pending(sessionId);
    const words = state.error
      ? state.error
      : state.local?.ending && pending > 0
        ? `Uploading the recording: ${pending} ${pending === 1 ? 'part' : 'parts'} left…`
        : state.local && pending > 2
          ? `The recording is uploading (${pending} parts waiting).`
          : '';
    text.textContent = words;
    text.className = state.error ? 'call-record-text form-error' : 'call-record-text';
    dismiss.hidden = !state.error;
    line.hidden = !words;
  }

  scope.add(recordings.on((id) => id === sessionId && paint()));
  scope.add(live.calls.on((id) => id === sessionId && paint()));
  paint();
  return {
    button,
    badge,
    headBadge,
    line,
    paint,
    dispose: () => {
      scope.dispose();
      replaceChildren(announce);
    },
  };
}
