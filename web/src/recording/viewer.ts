// One recording: its state, the player (video when the recording has pictures, sound
// otherwise) and the transcript beside it. A recording still being prepared or transcribed is
// read again every few seconds until it settles.

import { describeError } from '../api';
import type { Ctx } from '../app';
import { h, replaceChildren, Scope, uid } from '../dom';
import { durationInWords, formatDateTime, joinNames } from '../format';
import type { ParticipantRef, Recording } from '../types';
import { playable, recordingStatusText, settling, transcriptStatusText, translationOf } from './transcript';
import { transcriptView } from './transcriptView';

export interface ViewerOptions {
  /** Agents name speakers and see where the recording came from. */
  agent: boolean;
  /** A participant's name, for "started by". */
  nameOf?(p: ParticipantRef): string;
  /** Where the player starts (ms): a turn found by a search, marked in the transcript. */
  startAtMs?: number | null;
  /** The language that turn was found in: a translation is shown in it. */
  language?: string | null;
}

/** How often a recording still changing is read again. */
const POLL_MS = 3000;

export function recordingViewer(ctx: Ctx, recordingId: string, options: ViewerOptions): { el: HTMLElement; dispose(): void } {
  const scope = new Scope();
  const heading = h('h1', null, 'Recording');
  const back = h('div', { class: 'actions' });
  const meta = h('dl', { class: 'details recording-details' });
  const loadError = h('p', { class: 'form-error', role: 'alert' });
  const playerId = uid('player-h');
  const playerSlot = h('div', { class: 'player-slot' });
  const playerStatus = h('p', { class: 'muted', role: 'status' });
  const trackSelect = h('select', { class: 'track-select', id: uid('track') });
  const trackField = h('div', { class: 'field track-field', hidden: true }, h('label', { for: trackSelect.id }, 'Play'), trackSelect);
  let media: HTMLMediaElement | null = null;
  let startAt = options.startAtMs ?? null;

  const transcript = transcriptView({
    api: ctx.api,
    recordingId,
    canRename: options.agent,
    seek: (ms) => {
      if (!media) return;
      media.currentTime = ms / 1000;
      transcript.at(ms);
      void media.play().catch(() => undefined);
    },
    notify: (m) => ctx.notify(m, 'info'),
  });
  scope.add(() => transcript.dispose());

  const el = h(
    'section',
    { class: 'page recording-page' },
    h('div', { class: 'page-head' }, heading, back),
    loadError,
    meta,
    h(
      'div',
      { class: 'recording-layout' },
      h('section', { class: 'card player-card', 'aria-labelledby': playerId }, h('h2', { id: playerId }, 'Player'), trackField, playerStatus, playerSlot),
      transcript.el,
    ),
  );

  let recording: Recording | null = null;
  let shownTrack = '';
  let transcriptShown = '';

  const nameOf = (p: ParticipantRef) => recording?.tracks.find((t) => t.participant.kind === p.kind && t.participant.id === p.id)?.name || options.nameOf?.(p) || p.id;

  function paintMeta(r: Recording): void {
    heading.textContent = `Recording of ${formatDateTime(r.started_at)}`;
    ctx.setTitle(heading.textContent);
    const people = r.tracks.map((t) => t.name || t.track);
    const rows: [string, Node | string][] = [
      ['Status', h('span', { class: `status rec-status rec-status-${r.status}` }, recordingStatusText(r))],
      ['Length', r.duration_ms ? durationInWords(r.duration_ms) : '—'],
      ['Started by', `${nameOf(r.started_by)}, ${formatDateTime(r.started_at)}`],
      ['With', people.length ? joinNames(people) : '—'],
      ['Transcript', h('span', { class: `transcript-state transcript-${r.transcript?.status ?? 'none'}` }, transcriptStatusText(r.transcript))],
    ];
    replaceChildren(meta, rows.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
    replaceChildren(
      back,
      options.agent ? h('a', { class: 'button secondary small', href: `#/customers/${r.customer_id}` }, 'Customer details') : null,
      options.agent ? h('a', { class: 'button secondary small', href: `#/sessions/${r.session_id}` }, 'Open the conversation') : h('a', { class: 'button secondary small', href: '#/chat' }, 'Back to the chat'),
    );
  }

  async function showPlayer(r: Recording, track?: string): Promise<void> {
    if (r.status !== 'available') {
      media = null;
      replaceChildren(playerSlot);
      playerStatus.textContent =
        r.status === 'failed' ? `This recording cannot be played: ${r.failure ?? 'it failed'}.` : r.status === 'recording' ? 'The call is still being recorded.' : 'The recording is being prepared. It can be played in a moment.';
      return;
    }
    const choice = playable(r);
    const wanted = track || shownTrack || choice?.track || 'mixed';
    const at = media?.currentTime ?? 0;
    playerStatus.textContent = 'Loading the recording…';
    try {
      const m = await ctx.api.recordingMedia(r.id, wanted);
      const type = m.content_type || choice?.content_type || '';
      const video = type.startsWith('video/');
      const player = video
        ? h('video', { controls: true, preload: 'metadata', playsInline: true, class: 'recording-player', 'aria-label': 'The recording' })
        : h('audio', { controls: true, preload: 'metadata', class: 'recording-player', 'aria-label': 'The recording' });
      let retried = false;
      player.addEventListener('error', () => {
        // The address lasts 5 minutes: a fresh one, once, where it was.
        if (retried || !recording) return;
        retried = true;
        const pos = player.currentTime;
        void ctx.api.recordingMedia(r.id, wanted).then((fresh) => {
          player.src = fresh.url;
          player.currentTime = pos;
        }).catch((e) => (playerStatus.textContent = `The recording could not be loaded: ${describeError(e)}`));
      });
      const moved = () => transcript.at(player.currentTime * 1000);
      player.addEventListener('timeupdate', moved);
      player.addEventListener('seeked', moved);
      player.src = m.url;
      if (at) player.currentTime = at;
      else if (startAt !== null) {
        // Once, where the search found it; it plays when the person says so.
        const seconds = startAt / 1000;
        startAt = null;
        const seek = () => {
          player.currentTime = seconds;
          transcript.at(seconds * 1000);
        };
        if (player.readyState >= 1) seek();
        else player.addEventListener('loadedmetadata', seek, { once: true });
      }
      media = player;
      shownTrack = wanted;
      replaceChildren(playerSlot, player);
      playerStatus.textContent = '';
      el.dataset.player = video ? 'video' : 'audio';
    } catch (e) {
      playerStatus.textContent = `The recording could not be loaded: ${describeError(e)}`;
    }
  }

  function paintTracks(r: Recording): void {
    const options = [
      ...(r.media.some((m) => m.track === 'mixed') ? [{ value: 'mixed', label: 'Everyone' }] : []),
      ...r.tracks.map((t) => ({ value: t.track, label: `${t.name || t.track} only` })),
    ];
    trackField.hidden = r.status !== 'available' || options.length < 2;
    if (trackSelect.options.length !== options.length) {
      replaceChildren(trackSelect, options.map((o) => h('option', { value: o.value }, o.label)));
    }
    if (shownTrack) trackSelect.value = shownTrack;
  }
  trackSelect.addEventListener('change', () => recording && void showPlayer(recording, trackSelect.value));

  function showTranscript(r: Recording): void {
    const state = `${r.transcript?.status}`;
    if (state === transcriptShown) return;
    transcriptShown = state;
    if (r.transcript?.status === 'ready') {
      if (options.language) transcript.choose(translationOf(options.language, r.transcript.language));
      void transcript.load().then(() => {
        // The turn found is marked as soon as the transcript is there.
        if (options.startAtMs !== null && options.startAtMs !== undefined) transcript.at(media && media.readyState >= 1 ? media.currentTime * 1000 : options.startAtMs);
      });
    }
    else if (r.status === 'failed') transcript.show('There is no transcript: the recording failed.');
    else transcript.show(transcriptStatusText(r.transcript) + (settling(r) ? '. It appears here when it is ready.' : '.'));
  }

  async function read(): Promise<void> {
    try {
      const r = await ctx.api.recording(recordingId);
      const before = recording;
      recording = r;
      loadError.textContent = '';
      el.dataset.status = r.status;
      el.dataset.transcript = r.transcript?.status ?? '';
      paintMeta(r);
      paintTracks(r);
      if (!before || before.status !== r.status || !media) await showPlayer(r);
      showTranscript(r);
      if (settling(r) && !scope.disposed) scope.timeout(() => void read(), POLL_MS);
    } catch (e) {
      loadError.textContent = `This recording could not be loaded: ${describeError(e)}`;
      if (!recording) replaceChildren(meta);
    }
  }
  void read();

  return { el, dispose: () => scope.dispose() };
}
