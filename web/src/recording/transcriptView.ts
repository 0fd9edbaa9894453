// A recording's transcript beside its player: each turn with its speaker, its time and its
// words; a click on a turn plays from there; the turn being spoken is marked as the recording
// plays. The language it is read in, exports (with the person's token, saved as files), and —
// for agents — the speakers' names.

import { ApiError, describeError, type Api } from '../api';
import { field, h, replaceChildren, Scope, uid } from '../dom';
import type { Transcript, TranscriptTurn } from '../types';
import { clock, EXPORT_FORMATS, exportFileName, LANGUAGES, mergeTurns, speakerName, transcriptProblem, turnAt, type ExportFormat } from './transcript';

export interface TranscriptViewOptions {
  api: Api;
  recordingId: string;
  /** Agents name the speakers. */
  canRename: boolean;
  /** Plays the recording from this point (ms). */
  seek(ms: number): void;
  /** A short notice for the person ("Saved."). */
  notify(message: string): void;
}

export interface TranscriptView {
  el: HTMLElement;
  /** Reads the transcript (again). */
  load(): Promise<void>;
  /** The player's position moved (ms): the turn spoken there is marked. */
  at(ms: number): void;
  /** Says why there is no transcript to read (yet). */
  show(message: string): void;
  /** Chooses the language read (before a load), when it is one offered. */
  choose(code: string): void;
  dispose(): void;
}

const TRANSCRIPT_CODES = ['transcript_not_ready', 'translation_unavailable', 'unsupported_language'];

/** Turns read per request (the API allows 1 to 500). */
const PAGE = 200;

export function transcriptView(o: TranscriptViewOptions): TranscriptView {
  const scope = new Scope();
  const headingId = uid('transcript-h');
  const language = h('select', { class: 'transcript-language' }, LANGUAGES.map((l) => h('option', { value: l.code }, l.label)));
  const status = h('p', { class: 'muted transcript-status', role: 'status' });
  const problem = h('p', { class: 'form-error', role: 'alert' });
  const list = h('ol', { class: 'transcript-turns', 'aria-label': 'Turns' });
  const exportStatus = h('span', { class: 'muted small', role: 'status' });
  const exports = h(
    'div',
    { class: 'transcript-exports', role: 'group', 'aria-label': 'Download the transcript' },
    h('span', { class: 'small' }, 'Download:'),
    EXPORT_FORMATS.map((f) => h('button', { type: 'button', class: 'button secondary small', onclick: () => void download(f), 'aria-label': `Download as ${f.toUpperCase()}` }, `.${f}`)),
    exportStatus,
  );
  const speakersSlot = h('div', { class: 'transcript-speakers' });
  const el = h(
    'section',
    { class: 'card transcript-card', 'aria-labelledby': headingId },
    h('h2', { id: headingId }, 'Transcript'),
    h('div', { class: 'transcript-tools' }, field('Language', language), exports),
    status,
    problem,
    list,
    speakersSlot,
  );
  language.addEventListener('change', () => void load());

  let transcript: Transcript | null = null;
  let turns: TranscriptTurn[] = [];
  let items: HTMLLIElement[] = [];
  let current = -1;
  let generation = 0;
  const languageLabel = () => LANGUAGES.find((l) => l.code === language.value)?.label ?? language.value;

  function turnItem(t: TranscriptTurn): HTMLLIElement {
    const name = speakerName(t, transcript?.speakers ?? []);
    return h(
      'li',
      { class: 'turn', dataset: { index: String(t.index), speaker: t.speaker } },
      h(
        'button',
        { type: 'button', class: 'turn-button', onclick: () => o.seek(t.start_ms), title: 'Play from here' },
        h('span', { class: 'turn-head' }, h('span', { class: 'turn-speaker' }, name), h('time', { class: 'turn-time' }, clock(t.start_ms))),
        h('span', { class: 'turn-text', lang: t.language || transcript?.lang || undefined }, t.text),
      ),
    );
  }

  function paintTurns(): void {
    items = turns.map(turnItem);
    replaceChildren(list, items);
    current = -1;
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    const lang = language.value;
    problem.textContent = '';
    status.textContent = lang ? `Loading the transcript in ${languageLabel()}…` : 'Loading the transcript…';
    exports.hidden = true;
    let cursor: string | null | undefined;
    let pages = 0;
    let collected: TranscriptTurn[] = [];
    try {
      do {
        const page = await o.api.transcript(o.recordingId, { lang: lang || undefined, cursor, limit: PAGE });
        if (mine !== generation) return;
        collected = mergeTurns(collected, page.turns ?? []);
        transcript = page;
        turns = collected;
        paintTurns();
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 200);
      const spoken = transcript?.language ? ` Spoken in ${transcript.language}.` : '';
      status.textContent = turns.length === 0 ? `Nobody was heard in this recording.${spoken}` : `${turns.length} ${turns.length === 1 ? 'turn' : 'turns'}.${spoken}${lang ? ` Shown in ${languageLabel()}.` : ''}`;
      exports.hidden = false;
      paintSpeakers();
    } catch (e) {
      if (mine !== generation) return;
      status.textContent = '';
      problem.textContent = transcriptProblem(e, languageLabel());
      if (turns.length > 0 && lang) {
        // What was shown stays; it is in another language than the one chosen.
        replaceChildren(list);
        turns = [];
        items = [];
      }
    }
  }

  function at(ms: number): void {
    const i = turnAt(turns, ms);
    if (i === current) return;
    items[current]?.classList.remove('current');
    items[current]?.removeAttribute('aria-current');
    current = i;
    const item = items[i];
    if (!item) return;
    item.classList.add('current');
    item.setAttribute('aria-current', 'true');
    // Kept in view inside the list (the page itself does not move).
    const top = item.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top + item.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }

  async function download(format: ExportFormat): Promise<void> {
    exportStatus.textContent = `Preparing the .${format} file…`;
    try {
      const { blob, fileName } = await o.api.exportTranscript(o.recordingId, format, language.value || null);
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: fileName || exportFileName(o.recordingId, format, language.value), hidden: true });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 30_000);
      exportStatus.textContent = `Downloaded ${a.download}.`;
    } catch (e) {
      exportStatus.textContent = '';
      problem.textContent = e instanceof ApiError && TRANSCRIPT_CODES.includes(e.code) ? transcriptProblem(e, languageLabel()) : `The transcript could not be downloaded: ${describeError(e)}`;
    }
  }

  function paintSpeakers(): void {
    const speakers = transcript?.speakers ?? [];
    if (!o.canRename || speakers.length === 0) {
      replaceChildren(speakersSlot);
      return;
    }
    const inputs = speakers.map((s) => {
      const input = h('input', { value: s.name, maxLength: 100, autocomplete: 'off', dataset: { label: s.label } });
      return { s, input };
    });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'button primary small' }, 'Save names');
    const form = h(
      'form',
      {
        class: 'speaker-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const changed: Record<string, string> = {};
          for (const { s, input } of inputs) if (input.value.trim() !== s.name) changed[s.label] = input.value.trim();
          if (Object.keys(changed).length === 0) return;
          save.disabled = true;
          error.textContent = '';
          try {
            await o.api.nameSpeakers(o.recordingId, changed);
            o.notify('The speakers’ names are saved.');
            await load();
          } catch (err) {
            error.textContent = `The names could not be saved: ${describeError(err)}`;
          } finally {
            save.disabled = false;
          }
        },
      },
      inputs.map(({ s, input }) => field(`Name of ${s.label}`, input, s.participant ? `${s.participant.kind} ${s.participant.id}` : undefined)),
      error,
      save,
    );
    replaceChildren(
      speakersSlot,
      h('details', { class: 'speaker-names' }, h('summary', null, 'Name the speakers'), h('p', { class: 'hint' }, 'An empty name gives the speaker back their number.'), form),
    );
  }

  return {
    el,
    load,
    at,
    choose: (code: string) => {
      if ([...language.options].some((o) => o.value === code)) language.value = code;
    },
    show: (message: string) => {
      generation++;
      status.textContent = message;
      problem.textContent = '';
      exports.hidden = true;
      replaceChildren(list);
      turns = [];
      items = [];
    },
    dispose: () => {
      generation++;
      scope.dispose();
    },
  };
}
