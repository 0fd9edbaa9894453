// A session's video call on its chat page: the button to start one (with its quality), the
// prompt to accept or decline one, and the call itself beside (or, on a narrow screen, above)
// the messages, which stay usable. Nothing here is modal.

import { h, replaceChildren, Scope, uid } from '../dom';
import { formatCallDuration, formatDuration } from '../format';
import { icon } from '../icons';
import type { Live } from '../live';
import type { CallApp, ParticipantRef, Quality, VideoSettings } from '../types';
import { VIDEO_APP_NAMES } from '../chat/message';
import { isIn, present, type CallNotice, type SessionCall } from './calls';
import { canCall, canShareScreen, deviceLabel, listDevices } from './media';
import { allowedQualities, DEFAULT_QUALITY, isQuality, PRESETS, QUALITIES } from './presets';
import { formatMeasure, type CallStats } from './stats';
import { recordingControls } from '../recording/callControls';

export interface CallUiOptions {
  /** A participant's name as the page shows it. */
  nameOf(p: ParticipantRef): string;
  /** Whether the person may start a call here (an open session they take part in). */
  canStart(): boolean;
  /** The tenant's video apps a call may run in instead (agents: the tenant's settings). */
  videoApps?(): Promise<VideoSettings>;
}

export interface CallUi {
  /** The start button and quality, for the conversation's header. */
  start: HTMLElement;
  /** Prompts and outcomes: an incoming call, a refused camera, a declined call. */
  banner: HTMLElement;
  /** The call itself, while the person takes part. */
  panel: HTMLElement;
  /** "● Recording" while the call is recorded, for the conversation's header. */
  recording: HTMLElement;
  paint(): void;
  dispose(): void;
}

function qualitySelect(id: string, qualities: Quality[], value: Quality): HTMLSelectElement {
  const select = h(
    'select',
    { id, class: 'quality-select' },
    qualities.map((q) => h('option', { value: q }, PRESETS[q].label)),
  );
  select.value = value;
  return select;
}

export function callUi(live: Live, sessionId: string, options: CallUiOptions): CallUi {
  const calls = live.calls;
  const scope = new Scope();
  const state = (): SessionCall => calls.get(sessionId);
  const name = (p: ParticipantRef) => (live.isMe(p) ? 'You' : options.nameOf(p));
  const others = (s: SessionCall) => present(s.call).filter((p) => !live.isMe(p));

  // ---- starting ----
  const startQuality = qualitySelect(uid('call-quality'), QUALITIES, DEFAULT_QUALITY);
  // Where the call runs: Confer's own video, or one of the tenant's apps (shown when it offers any).
  const startApp = h('select', { id: uid('call-app'), class: 'quality-select call-app-select' }, h('option', { value: 'integrated' }, 'Confer video'));
  const appLabel = h('label', { for: startApp.id, class: 'call-start-label' }, 'Call in');
  const qualityLabel = h('label', { for: startQuality.id, class: 'call-start-label' }, 'Video quality');
  appLabel.hidden = startApp.hidden = true;
  const chosenApp = (): CallApp => startApp.value as CallApp;
  const startButton = h(
    'button',
    { type: 'button', class: 'button primary small', onclick: () => void calls.start(sessionId, startQuality.value as Quality, chosenDevices(), chosenApp()) },
    icon('video', 18),
    'Start video call',
  );
  const showQuality = () => {
    // A video app chooses its own quality.
    qualityLabel.hidden = startQuality.hidden = chosenApp() !== 'integrated';
  };
  startApp.addEventListener('change', showQuality);
  void options.videoApps?.().then(
    (video) => {
      if (video.providers.length === 0) return;
      replaceChildren(startApp, [
        h('option', { value: 'integrated' }, 'Confer video'),
        ...video.providers.map((p) => h('option', { value: p }, VIDEO_APP_NAMES[p])),
      ]);
      startApp.value = video.default === 'integrated' || video.providers.includes(video.default) ? video.default : 'integrated';
      appLabel.hidden = startApp.hidden = false;
      showQuality();
    },
    // Without the settings the call runs in Confer's own video (or the tenant's default).
    () => undefined,
  );
  const start = h(
    'div',
    { class: 'call-start', role: 'group', 'aria-label': 'Video call' },
    appLabel,
    startApp,
    qualityLabel,
    startQuality,
    startButton,
  );

  // ---- prompts and outcomes ----
  const announce = h('p', { class: 'sr-only', 'aria-live': 'assertive' });
  const bannerBody = h('div', { class: 'call-banner-body' });
  const banner = h('div', { class: 'call-banner' }, announce, bannerBody);
  let announcedCall = '';

  // ---- the call ----
  const rec = recordingControls(live, sessionId, (p) => name(p));
  const headingId = uid('call-heading');
  const status = h('span', { class: 'call-status', role: 'status' });
  const timer = h('span', { class: 'call-timer', 'aria-hidden': 'true' });
  const sent = h('dd', { class: 'call-sent' }, 'nothing yet');
  const received = h('dd', { class: 'call-received' }, 'nothing yet');
  const stats = h('dl', { class: 'call-stats', 'aria-label': 'What the call sends and receives' }, h('div', null, h('dt', null, 'Sending'), sent), h('div', null, h('dt', null, 'Receiving'), received));
  const panelNotice = h('p', { class: 'call-notice', role: 'status' });
  const panelWarning = h('p', { class: 'call-warning' });
  const panelError = h('p', { class: 'form-error call-error', role: 'alert' });

  const mute = h('button', { type: 'button', class: 'button secondary small call-mute', onclick: () => void calls.run(sessionId, 'The microphone', (e) => e.setMuted(!e.muted), 'microphone') });
  const camera = h('button', { type: 'button', class: 'button secondary small call-camera', onclick: () => void calls.run(sessionId, 'The camera', (e) => e.setCameraOff(!e.cameraOff), 'camera') });
  const share = h('button', {
    type: 'button',
    class: 'button secondary small call-share',
    onclick: () => void calls.run(sessionId, 'Sharing the screen', (e) => (e.sharing ? e.stopSharing() : e.shareScreen()), 'screen'),
  });
  const quality = qualitySelect(uid('call-quality'), QUALITIES, DEFAULT_QUALITY);
  quality.addEventListener('change', () => {
    if (isQuality(quality.value)) void calls.setQuality(sessionId, quality.value);
  });
  const cameraSelect = h('select', { id: uid('call-camera'), class: 'device-select' });
  const micSelect = h('select', { id: uid('call-mic'), class: 'device-select' });
  cameraSelect.addEventListener('change', () => void calls.run(sessionId, 'The camera', (e) => e.useCamera(cameraSelect.value), 'camera'));
  micSelect.addEventListener('change', () => void calls.run(sessionId, 'The microphone', (e) => e.useMicrophone(micSelect.value), 'microphone'));
  const devices = h(
    'details',
    { class: 'call-devices' },
    h('summary', null, 'Camera and microphone'),
    h('div', { class: 'call-device-fields' }, h('label', { for: cameraSelect.id }, 'Camera'), cameraSelect, h('label', { for: micSelect.id }, 'Microphone'), micSelect),
  );
  devices.addEventListener('toggle', () => {
    if (devices.open) void fillDevices();
  });
  const leave = h('button', { type: 'button', class: 'button danger small call-leave', onclick: () => void calls.leave(sessionId) }, icon('hangup', 18), 'Leave call');
  const end = h(
    'button',
    {
      type: 'button',
      class: 'button danger small call-end',
      onclick: () => {
        if (confirm('End the call for everyone in it?')) void calls.end(sessionId);
      },
    },
    'End for everyone',
  );
  const controls = h(
    'div',
    { class: 'call-controls', role: 'group', 'aria-label': 'Call controls' },
    h('div', { class: 'call-toggles' }, mute, camera, share),
    h('span', { class: 'call-quality' }, h('label', { for: quality.id }, 'Quality'), quality),
    h('div', { class: 'call-recording' }, rec.button),
    h('div', { class: 'call-hangups' }, leave, end),
  );
  const wallSlot = h('div', { class: 'call-wall' });
  const panel = h(
    'section',
    { class: 'call-panel', 'aria-labelledby': headingId, hidden: true },
    h('div', { class: 'call-top' }, h('h2', { id: headingId }, 'Video call'), rec.badge, status, timer),
    wallSlot,
    stats,
    panelWarning,
    panelNotice,
    rec.line,
    panelError,
    controls,
    devices,
  );

  function chosenDevices() {
    return { cameraId: cameraSelect.value || null, microphoneId: micSelect.value || null };
  }

  async function fillDevices(): Promise<void> {
    const s = state();
    const found = await listDevices().catch(() => ({ cameras: [], microphones: [] }));
    const fill = (select: HTMLSelectElement, list: MediaDeviceInfo[], current: string | null, none: string) => {
      replaceChildren(select, list.length === 0 ? h('option', { value: '' }, none) : list.map((d, i) => h('option', { value: d.deviceId }, deviceLabel(d, i))));
      if (current && list.some((d) => d.deviceId === current)) select.value = current;
      select.disabled = list.length === 0;
    };
    fill(cameraSelect, found.cameras, s.engine?.cameraId ?? null, 'No camera found');
    fill(micSelect, found.microphones, s.engine?.microphoneId ?? null, 'No microphone found');
  }
  scope.listen(navigator.mediaDevices ?? new EventTarget(), 'devicechange', () => void (devices.open && fillDevices()));

  function noticeText(n: CallNotice): string {
    switch (n.kind) {
      case 'joined':
        return `${name(n.who)} joined the call.`;
      case 'left':
        return `${name(n.who)} left the call.`;
      case 'declined':
        return `${name(n.who)} declined the call.`;
      case 'ended': {
        const length = n.seconds !== null ? ` after ${formatCallDuration(n.seconds)}` : '';
        return n.who && !live.isMe(n.who) ? `${name(n.who)} ended the call${length}.` : `The call ended${length}.`;
      }
      case 'no-answer':
        return 'Nobody answered the call.';
      case 'quality':
        return `${n.who ? name(n.who) : 'Someone'} changed the quality to ${n.quality}.`;
      case 'recording':
        return `${n.who ? name(n.who) : 'Someone'} ${n.on ? 'started' : 'stopped'} recording the call.`;
    }
  }

  function dismissButton(): HTMLButtonElement {
    return h('button', { type: 'button', class: 'link small', onclick: () => calls.dismiss(sessionId) }, 'Dismiss');
  }

  function paintBanner(s: SessionCall): void {
    const call = s.call;
    const items: HTMLElement[] = [];
    if (s.phase === 'opening') {
      items.push(h('p', { class: 'call-banner-line', role: 'status' }, icon('video', 18), s.call ? 'Joining the call: opening your camera and microphone…' : 'Starting the call: opening your camera and microphone…'));
    } else if (s.phase === 'idle' && call && canCall()) {
      const mineElsewhere = isIn(call, live.me);
      const caller = call.started_by;
      if (mineElsewhere) {
        const app = call.provider !== 'webrtc' && call.provider !== 'chime' ? VIDEO_APP_NAMES[call.provider] : null;
        items.push(h('p', { class: 'call-banner-line' }, icon('video', 18), app ? `You are in this call in ${app}.` : 'You are in this call in another window.'));
      } else if (s.declinedCallId !== call.id && !live.isMe(caller) && !call.participants.some((p) => live.isMe(p.who))) {
        const who = name(caller);
        const inApp = call.provider !== 'webrtc' && call.provider !== 'chime' ? call.provider : null;
        if (announcedCall !== call.id) {
          announcedCall = call.id;
          announce.textContent = `${who} is calling you.`;
        }
        items.push(
          h(
            'div',
            { class: 'call-incoming', role: 'group', 'aria-label': 'Incoming video call' },
            h(
              'div',
              { class: 'call-caller' },
              h('p', { class: 'call-banner-line' }, h('span', { class: 'ring-dot', 'aria-hidden': 'true' }), icon('video', 18), h('strong', null, `${who} is calling you`)),
              h('p', { class: 'call-banner-sub' }, inApp ? `Video call in ${VIDEO_APP_NAMES[inApp]}` : `Video call · ${PRESETS[call.quality]?.label ?? call.quality}`),
            ),
            h(
              'div',
              { class: 'actions' },
              h(
                'button',
                { type: 'button', class: 'button primary small call-accept', onclick: () => void calls.accept(sessionId, chosenDevices()) },
                icon('video', 18),
                inApp ? `Join in ${VIDEO_APP_NAMES[inApp]}` : 'Accept',
              ),
              h('button', { type: 'button', class: 'button danger small call-decline', onclick: () => calls.decline(sessionId) }, 'Decline'),
            ),
          ),
        );
      } else {
        items.push(
          h(
            'div',
            { class: 'call-incoming' },
            h('p', { class: 'call-banner-line' }, icon('video', 18), `A video call is going on with ${present(call).map(name).join(', ') || 'nobody yet'}.`),
            h('div', { class: 'actions' }, h('button', { type: 'button', class: 'button primary small call-join', onclick: () => void calls.accept(sessionId, chosenDevices()) }, 'Join the call')),
          ),
        );
      }
    }
    if (s.phase === 'idle' && s.error) {
      items.push(h('div', { class: 'call-banner-error' }, h('p', { class: 'form-error', role: 'alert' }, s.error), dismissButton()));
    }
    if (s.phase === 'idle' && s.notice) {
      items.push(h('div', { class: 'call-banner-notice' }, h('p', { role: 'status' }, noticeText(s.notice)), dismissButton()));
    }
    if (!call) {
      announcedCall = '';
      announce.textContent = '';
    }
    replaceChildren(bannerBody, items);
    banner.hidden = items.length === 0;
  }

  function paintPanel(s: SessionCall): void {
    const inCall = s.phase === 'in-call' || s.phase === 'leaving';
    panel.hidden = !inCall;
    panel.closest('.chat-columns')?.classList.toggle('in-call', inCall);
    if (!inCall) {
      if (wallSlot.firstChild) wallSlot.replaceChildren();
      return;
    }
    if (s.wall.el.parentElement !== wallSlot) {
      wallSlot.replaceChildren(s.wall.el);
      s.wall.resume();
    }
    const e = s.engine;
    const call = s.call;
    const theirs = call ? others(s) : [];
    const peers = e?.peers() ?? [];
    let words: string;
    if (s.phase === 'leaving') words = 'Leaving the call…';
    else if (theirs.length === 0) words = call && call.participants.length > 1 ? 'Everyone else left the call.' : `Calling…`;
    else if (peers.some((p) => p.state === 'connected')) words = `Connected with ${theirs.map(name).join(', ')}`;
    else if (peers.some((p) => p.state === 'reconnecting')) words = 'Connection lost. Reconnecting…';
    else if (peers.some((p) => p.state === 'failed')) words = 'The connection failed.';
    else words = `Connecting with ${theirs.map(name).join(', ')}…`;
    if (status.textContent !== words) status.textContent = words;
    s.wall.setWaiting(theirs.length === 0 ? (call && call.participants.length > 1 ? 'Nobody else is in the call.' : 'Waiting for an answer…') : 'Connecting…');
    // On a narrow screen the toggles show their icons only; their words stay their names.
    const toggle = (b: HTMLButtonElement, iconName: string, words: string) => {
      if (b.title === words) return;
      b.title = words;
      b.replaceChildren(icon(iconName, 18), h('span', { class: 'button-text' }, words));
    };
    toggle(mute, e?.muted ? 'mic-off' : 'mic', e?.muted ? 'Unmute' : 'Mute');
    toggle(camera, e?.cameraOff ? 'video-off' : 'video', e?.cameraOff ? 'Start video' : 'Stop video');
    toggle(share, 'screen', e?.sharing ? 'Stop sharing' : 'Share screen');
    panel.dataset.sharing = String(!!e?.sharing);
    if (call) {
      const allowed = allowedQualities(call.max_quality);
      if (quality.options.length !== allowed.length) replaceChildren(quality, allowed.map((q) => h('option', { value: q }, PRESETS[q].label)));
      if (quality.value !== call.quality) quality.value = call.quality;
      panel.dataset.quality = call.quality;
    }
    const leaving = s.phase === 'leaving';
    mute.disabled = leaving || !e?.hasMicrophone;
    camera.disabled = leaving || !e?.hasCamera;
    share.disabled = leaving || !e || !canShareScreen();
    leave.disabled = leaving;
    end.disabled = leaving;
    quality.disabled = leaving;
    panelWarning.textContent = s.warning;
    panelWarning.hidden = !s.warning;
    panelNotice.textContent = s.notice ? noticeText(s.notice) : '';
    panelError.textContent = s.error;
  }

  function paint(): void {
    const s = state();
    start.hidden = !options.canStart() || !canCall() || s.phase !== 'idle' || !!s.call;
    paintBanner(s);
    paintPanel(s);
    tick();
  }

  function tick(): void {
    const s = state();
    timer.textContent = s.phase === 'in-call' && s.joinedAt ? formatDuration(Date.now() - s.joinedAt) : '';
  }

  function showStats(st: CallStats): void {
    sent.textContent = formatMeasure(st.sent);
    received.textContent = st.received.length === 0 ? 'nothing yet' : st.received.map(formatMeasure).join(', ');
    stats.dataset.sent = st.sent ? `${st.sent.width}x${st.sent.height}` : '';
    stats.dataset.received = st.received.map((m) => `${m.width}x${m.height}`).join(',');
  }

  let reading = false;
  scope.interval(() => {
    tick();
    const e = state().engine;
    if (!e || reading || panel.hidden) return;
    reading = true;
    void e
      .stats()
      .then(showStats)
      .catch(() => undefined)
      .finally(() => (reading = false));
  }, 1000);

  scope.add(calls.on((id) => id === sessionId && paint()));
  // Names come from the page (the customer's name is known here).
  calls.names = (p) => options.nameOf(p);
  void calls.refresh(sessionId);
  // Painted once the page around it is built (its names come from there).
  queueMicrotask(paint);

  return {
    start,
    banner,
    panel,
    recording: rec.headBadge,
    paint,
    dispose: () => {
      scope.dispose();
      rec.dispose();
      // The call goes on; its videos leave this page.
      const s = state();
      if (s.wall.el.parentElement === wallSlot) wallSlot.replaceChildren();
    },
  };
}
