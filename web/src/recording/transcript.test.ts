import { describe, expect, it } from 'vitest';
import { ApiError, fileNameOf } from '../api';
import type { Recording, TranscriptTurn } from '../types';
import { baseType, recordingType, trackKey } from './recorder';
import {
  clock,
  exportFileName,
  mergeTurns,
  playable,
  recordingStatusText,
  settling,
  speakerName,
  transcriptProblem,
  transcriptStatusText,
  turnAt,
} from './transcript';

const turn = (index: number, start: number, end: number, speaker = 'spk_0', text = `t${index}`): TranscriptTurn => ({
  index,
  speaker,
  name: speaker === 'spk_0' ? 'Speaker 1' : 'Speaker 2',
  start_ms: start,
  end_ms: end,
  text,
  confidence: 0.9,
});

describe('a transcript on the screen', () => {
  it('shows where each turn starts as mm:ss', () => {
    expect(clock(0)).toBe('00:00');
    expect(clock(4_999)).toBe('00:04');
    expect(clock(65_000)).toBe('01:05');
    expect(clock(10 * 60_000 + 7_000)).toBe('10:07');
    expect(clock(3_723_000)).toBe('1:02:03');
    expect(clock(-5)).toBe('00:00');
    expect(clock(Number.NaN)).toBe('00:00');
  });

  it('marks the turn being spoken, none between turns, the latest of overlapping voices', () => {
    const turns = [turn(0, 0, 2000), turn(1, 2500, 5000, 'spk_1'), turn(2, 4000, 6000), turn(3, 9000, 9500)];
    expect(turnAt(turns, 0)).toBe(0);
    expect(turnAt(turns, 1999)).toBe(0);
    expect(turnAt(turns, 2200)).toBe(-1);
    expect(turnAt(turns, 3000)).toBe(1);
    expect(turnAt(turns, 4500)).toBe(2);
    expect(turnAt(turns, 5500)).toBe(2);
    expect(turnAt(turns, 7000)).toBe(-1);
    expect(turnAt(turns, 9200)).toBe(3);
    expect(turnAt(turns, 20_000)).toBe(-1);
    expect(turnAt([], 1000)).toBe(-1);
    // A long turn still going while shorter ones start and end within it.
    const long = [turn(0, 0, 10_000), turn(1, 1000, 2000, 'spk_1')];
    expect(turnAt(long, 3000)).toBe(0);
  });

  it('puts pages together: each turn once, in the order spoken', () => {
    const a = [turn(0, 0, 1000), turn(1, 1000, 2000)];
    const b = [turn(1, 1000, 2000, 'spk_0', 'again'), turn(2, 2000, 3000)];
    expect(mergeTurns(a, b).map((t) => `${t.index}:${t.text}`)).toEqual(['0:t0', '1:again', '2:t2']);
  });

  it('names a turn’s speaker as the speakers list says now', () => {
    const speakers = [{ label: 'spk_0', name: 'Ann' }, { label: 'spk_1', name: '' }];
    expect(speakerName(turn(0, 0, 1), speakers)).toBe('Ann');
    expect(speakerName(turn(1, 0, 1, 'spk_1'), speakers)).toBe('Speaker 2');
    expect(speakerName(turn(2, 0, 1, 'spk_9'), [])).toBe('Speaker 2');
  });

  it('says why a transcript cannot be read', () => {
    expect(transcriptProblem(new ApiError(503, 'translation_unavailable', 'no translator'), 'Spanish')).toMatch(/cannot be translated into Spanish/);
    expect(transcriptProblem(new ApiError(409, 'transcript_not_ready', 'not ready'), 'Original')).toMatch(/not ready yet/);
    expect(transcriptProblem(new ApiError(400, 'unsupported_language', 'no'), 'German')).toMatch(/does not offer German/);
    expect(transcriptProblem(new ApiError(500, 'internal', 'Boom.'), 'Original')).toBe('The transcript could not be loaded: Boom.');
  });

  it('names export files as the API says, else after the recording', () => {
    expect(exportFileName('rec_1', 'srt', 'es')).toBe('transcript-rec_1.es.srt');
    expect(exportFileName('rec_1', 'txt', '')).toBe('transcript-rec_1.txt');
    expect(fileNameOf('attachment; filename="rec_1.vtt"')).toBe('rec_1.vtt');
    expect(fileNameOf("attachment; filename*=UTF-8''Gespr%C3%A4ch.txt; filename=\"x.txt\"")).toBe('Gespräch.txt');
    expect(fileNameOf('attachment; filename=../../etc.txt')).toBe('.._.._etc.txt');
    expect(fileNameOf(null)).toBeNull();
  });
});

describe('a recording’s state', () => {
  const base: Pick<Recording, 'status' | 'transcript' | 'failure'> = { status: 'available', transcript: { status: 'ready', turns: 42, language: 'en-US' } };
  it('in words', () => {
    expect(recordingStatusText({ status: 'processing' })).toBe('Being prepared');
    expect(recordingStatusText({ status: 'failed', failure: 'no chunk ever arrived' })).toBe('Failed: no chunk ever arrived');
    expect(transcriptStatusText(base.transcript)).toBe('Transcript ready (42 turns)');
    expect(transcriptStatusText({ status: 'unavailable', reason: 'no speech engine is configured' })).toBe('No transcript: no speech engine is configured');
    expect(transcriptStatusText({ status: 'processing' })).toBe('Being transcribed');
  });

  it('is read again while it changes by itself', () => {
    expect(settling(base)).toBe(false);
    expect(settling({ ...base, status: 'processing' })).toBe(true);
    expect(settling({ ...base, transcript: { status: 'pending' } })).toBe(true);
    expect(settling({ ...base, transcript: { status: 'unavailable' } })).toBe(false);
    expect(settling({ status: 'failed', transcript: { status: 'pending' } })).toBe(false);
  });

  it('plays everyone together when it can', () => {
    const track = { track: 'agent.ann', participant: { kind: 'agent' as const, id: 'ann' }, name: 'Ann', content_type: 'video/webm', size: 1 };
    expect(playable({ media: [{ track: 'mixed', content_type: 'video/webm', size: 2 }], tracks: [track] })?.track).toBe('mixed');
    expect(playable({ media: [], tracks: [track] })?.track).toBe('agent.ann');
    expect(playable({ media: [], tracks: [] })).toBeNull();
  });
});

describe('recording in the browser', () => {
  it('names tracks after their participant', () => {
    expect(trackKey({ kind: 'agent', id: 'ann' })).toBe('agent.ann');
    expect(trackKey({ kind: 'customer', id: 'cus_01' })).toBe('customer.cus_01');
  });

  it('records video/webm with a camera, audio/webm without, as the browser allows', () => {
    const chromium = (t: string) => /^(video|audio)\/webm/.test(t);
    expect(recordingType(true, chromium)).toBe('video/webm;codecs=vp8,opus');
    expect(recordingType(false, chromium)).toBe('audio/webm;codecs=opus');
    expect(recordingType(true, (t) => t === 'video/webm')).toBe('video/webm');
    // No WebM video at all: the sound alone.
    expect(recordingType(true, (t) => t === 'audio/webm')).toBe('audio/webm');
    expect(recordingType(true, () => false)).toBeNull();
    expect(
      recordingType(false, (t) => {
        if (t.includes('codecs')) throw new Error('unknown');
        return true;
      }),
    ).toBe('audio/webm');
    expect(baseType('video/webm;codecs=vp8,opus')).toBe('video/webm');
    expect(baseType('Audio/WebM')).toBe('audio/webm');
  });
});
