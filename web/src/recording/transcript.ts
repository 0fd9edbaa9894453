// What the recording screens say and compute, apart from the page: times, the turn being spoken,
// transcript pages put together, statuses and problems in words.

import { ApiError, describeError } from '../api';
import type { Recording, TranscriptSpeaker, TranscriptTurn } from '../types';

/** The languages offered for reading a transcript ('' is the language spoken). */
export const LANGUAGES: { code: string; label: string }[] = [
  { code: '', label: 'Original' },
  { code: 'en', label: 'English' },
  { code: 'es', label: 'Spanish' },
  { code: 'fr', label: 'French' },
  { code: 'de', label: 'German' },
];

/** The language to read a transcript in to see a turn found in `found`: '' when it is the one spoken. */
export function translationOf(found: string, spoken: string | null | undefined): string {
  const primary = (tag: string | null | undefined) => (tag ?? '').toLowerCase().split('-')[0];
  return primary(found) && primary(spoken) && primary(found) !== primary(spoken) ? primary(found) : '';
}

export const EXPORT_FORMATS = ['txt', 'srt', 'vtt', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const pad = (n: number) => String(n).padStart(2, '0');

/** 00:04, 01:05, 1:02:03 — where a turn starts in the recording. */
export function clock(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '00:00';
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

/**
 * The turn being spoken at `ms` (turns in order of their start): the latest one to have started
 * that has not ended; -1 between turns. Overlapping voices (each speaker's own track) give the
 * one who started last.
 */
export function turnAt(turns: Pick<TranscriptTurn, 'start_ms' | 'end_ms'>[], ms: number): number {
  let lo = 0;
  let hi = turns.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (turns[mid].start_ms <= ms) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = last; i >= 0 && i > last - 20; i--) {
    if (ms < turns[i].end_ms) return i;
  }
  return -1;
}

/** Pages of a transcript put together: each turn once (by its index), in the order spoken. */
export function mergeTurns(a: TranscriptTurn[], b: TranscriptTurn[]): TranscriptTurn[] {
  const byIndex = new Map<number, TranscriptTurn>();
  for (const t of [...a, ...b]) byIndex.set(t.index, t);
  return [...byIndex.values()].sort((x, y) => x.start_ms - y.start_ms || x.index - y.index);
}

/** A turn's speaker as named now (a speaker renamed after the page was read). */
export function speakerName(turn: TranscriptTurn, speakers: TranscriptSpeaker[]): string {
  return speakers.find((s) => s.label === turn.speaker)?.name || turn.name || turn.speaker;
}

/** The name an export is saved under when the API suggests none. */
export function exportFileName(recordingId: string, format: ExportFormat, lang: string): string {
  return `transcript-${recordingId}${lang ? `.${lang}` : ''}.${format}`;
}

/** A recording's state in words. */
export function recordingStatusText(r: Pick<Recording, 'status' | 'failure'>): string {
  switch (r.status) {
    case 'recording':
      return 'Recording';
    case 'processing':
      return 'Being prepared';
    case 'available':
      return 'Available';
    case 'failed':
      return r.failure ? `Failed: ${r.failure}` : 'Failed';
  }
  return r.status;
}

/** A transcript's state in words. */
export function transcriptStatusText(t: Recording['transcript'] | null | undefined): string {
  if (!t) return 'No transcript';
  switch (t.status) {
    case 'pending':
      return 'Transcript waiting';
    case 'processing':
      return 'Being transcribed';
    case 'ready':
      return t.turns !== null && t.turns !== undefined ? `Transcript ready (${t.turns} ${t.turns === 1 ? 'turn' : 'turns'})` : 'Transcript ready';
    case 'unavailable':
      return t.reason ? `No transcript: ${t.reason}` : 'No transcript';
    case 'failed':
      return t.reason ? `Transcription failed: ${t.reason}` : 'Transcription failed';
  }
  return t.status;
}

/** Whether a recording is still changing by itself (worth reading again). */
export function settling(r: Pick<Recording, 'status' | 'transcript'>): boolean {
  return r.status === 'recording' || r.status === 'processing' || (r.status === 'available' && (r.transcript?.status === 'pending' || r.transcript?.status === 'processing'));
}

/** Why a transcript could not be read, in words. */
export function transcriptProblem(e: unknown, languageLabel: string): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case 'transcript_not_ready':
        return 'The transcript is not ready yet. It appears here once the recording has been transcribed.';
      case 'translation_unavailable':
        return `It cannot be translated into ${languageLabel}: no translation service is set up. Choose “Original” to read it as spoken.`;
      case 'unsupported_language':
        return `The translation service does not offer ${languageLabel}. Choose another language.`;
    }
  }
  return `The transcript could not be loaded: ${describeError(e)}`;
}

/** The media to play: everyone together when there is such a file, else the first one. */
export function playable(r: Pick<Recording, 'media' | 'tracks'>): { track: string; content_type: string } | null {
  const mixed = r.media?.find((m) => m.track === 'mixed');
  if (mixed) return mixed;
  if (r.media?.length) return r.media[0];
  return r.tracks?.[0] ?? null;
}
