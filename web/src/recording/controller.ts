// The recordings of the calls of a tab (docs/recordings.md): starting and stopping one, and —
// when Confer leaves the recording to the browser (`mode: "browser"`) and this tab started it —
// recording each participant's stream and uploading its chunks as they come. The recording
// follows the call's state: stopped here when someone else stops it or the call ends.

import { ApiError, describeError } from '../api';
import type { SessionCall } from '../call/calls';
import type { CallEngine } from '../call/engine';
import type { CallRecording, ParticipantRef, Recording, SignedUpload } from '../types';
import { trackKey } from './recorder';
import { RecordingUploads, type ChunkInfo, type UploadOptions } from './uploads';

/** A recorder of one participant's stream (MediaRecorder in the browser; a stand-in in unit tests). */
export interface StreamRecorder {
  readonly active: boolean;
  stop(): Promise<void>;
}

export type MakeRecorder = (
  track: string,
  stream: MediaStream,
  onChunk: (track: string, blob: Blob, contentType: string) => void,
  onProblem: (track: string, message: string) => void,
) => StreamRecorder;

export interface RecordingsHost {
  readonly me: ParticipantRef;
  calls: {
    get(sessionId: string): SessionCall;
    on(fn: (sessionId: string) => void): () => void;
    beforeStop: ((sessionId: string) => void) | null;
  };
  api: {
    startRecording(sessionId: string): Promise<{ recording: Recording; created: boolean }>;
    stopRecording(sessionId: string, chunks?: Record<string, number>): Promise<Recording>;
    recordingChunk(id: string, body: ChunkInfo): Promise<{ upload: SignedUpload }>;
  };
  /** The bytes of a chunk, to its signed upload. */
  put(upload: SignedUpload, blob: Blob): Promise<void>;
  /** A MediaRecorder per stream; null when the browser cannot record. */
  recorder: MakeRecorder | null;
  uploadOptions?: UploadOptions;
  /** How long stopping waits for chunks still on their way before telling Confer. */
  flushTimeoutMs?: number;
}

/** This tab's own recording of a call: its recorders and uploads. */
export interface LocalRecording {
  recordingId: string;
  /** When this browser began recording (Date.now()): tracks begun later say how much later. */
  startedAt: number;
  uploads: RecordingUploads;
  recorders: Map<string, { recorder: StreamRecorder; stream: MediaStream }>;
  /** Set once the recorders were stopped: resolves when their chunks are uploaded. */
  ending: Promise<void> | null;
}

export interface SessionRecordingState {
  /** What the person is doing: nothing, starting a recording, or stopping one. */
  busy: 'starting' | 'stopping' | null;
  /** The last problem, in words. */
  error: string;
  /** This browser records the call (local mode). */
  local: LocalRecording | null;
  /** The recording last started or stopped from here. */
  recording: Recording | null;
}

export class CallRecordings {
  private readonly states = new Map<string, SessionRecordingState>();
  private readonly listeners = new Set<(sessionId: string) => void>();
  private readonly off: () => void;

  constructor(private readonly host: RecordingsHost) {
    this.off = host.calls.on((sessionId) => this.follow(sessionId));
    host.calls.beforeStop = (sessionId) => void this.end(sessionId);
  }

  on(fn: (sessionId: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(sessionId: string): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(sessionId);
      } catch (e) {
        console.error(e);
      }
    }
  }

  get(sessionId: string): SessionRecordingState {
    let s = this.states.get(sessionId);
    if (!s) {
      s = { busy: null, error: '', local: null, recording: null };
      this.states.set(sessionId, s);
    }
    return s;
  }

  /** The session's call's recording going on (by anyone), as Confer reported it. */
  running(sessionId: string): CallRecording | null {
    return this.host.calls.get(sessionId).call?.recording ?? null;
  }

  /** Whether the person may start or stop a recording here: an agent taking part in the call. */
  canControl(sessionId: string): boolean {
    const c = this.host.calls.get(sessionId);
    return this.host.me.kind === 'agent' && c.phase === 'in-call' && !!c.call;
  }

  /** Chunks this tab still has to upload. */
  pending(sessionId: string): number {
    return this.states.get(sessionId)?.local?.uploads.pending ?? 0;
  }

  // ---- the person's part ----

  async start(sessionId: string): Promise<void> {
    const s = this.get(sessionId);
    if (s.busy || !this.canControl(sessionId)) return;
    s.busy = 'starting';
    s.error = '';
    this.emit(sessionId);
    try {
      const { recording, created } = await this.host.api.startRecording(sessionId);
      s.recording = recording;
      const call = this.host.calls.get(sessionId).call;
      if (call && !call.recording && recording.status === 'recording') {
        call.recording = { recording_id: recording.id, started_by: recording.started_by, started_at: recording.started_at };
      }
      // Only the browser that started it records it (a 200 is a recording already going on).
      const startedHere = created || (sameRef(recording.started_by, this.host.me) && !s.local && !call?.recording);
      if (recording.mode === 'browser' && startedHere && recording.status === 'recording' && s.local?.recordingId !== recording.id) {
        if (!this.host.recorder) {
          s.error = 'This browser cannot record the call, so the recording gets no media. Stop it and record from another browser.';
        } else {
          s.local = {
            recordingId: recording.id,
            uploads: new RecordingUploads(
              {
                ask: async (chunk) => (await this.host.api.recordingChunk(recording.id, chunk)).upload,
                put: (upload, blob) => this.host.put(upload, blob),
              },
              { ...this.host.uploadOptions, changed: () => this.emit(sessionId) },
            ),
            recorders: new Map(),
            ending: null,
            startedAt: Date.now(),
          };
        }
      }
    } catch (e) {
      s.error = `The recording could not be started: ${describeError(e)}`;
    }
    s.busy = null;
    this.follow(sessionId);
    this.emit(sessionId);
  }

  /** Stops the recording: this tab's recorders first, their chunks uploaded, then Confer (with the counts). */
  async stop(sessionId: string): Promise<void> {
    const s = this.get(sessionId);
    if (s.busy) return;
    s.busy = 'stopping';
    s.error = '';
    this.emit(sessionId);
    const local = s.local;
    let chunks: Record<string, number> | undefined;
    if (local) {
      await withTimeout(this.end(sessionId), this.host.flushTimeoutMs ?? 45_000);
      chunks = local.uploads.counts();
    }
    try {
      s.recording = await this.host.api.stopRecording(sessionId, chunks);
      const call = this.host.calls.get(sessionId).call;
      if (call) call.recording = null;
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 'not_recording' || e.code === 'no_active_call'))) {
        s.error = `The recording could not be stopped: ${describeError(e)}`;
      }
    }
    this.reportFailures(s, local);
    if (s.local === local) s.local = null;
    s.busy = null;
    this.emit(sessionId);
  }

  dismiss(sessionId: string): void {
    this.get(sessionId).error = '';
    this.emit(sessionId);
  }

  // ---- following the call ----

  /** Records each stream of the call while this tab's recording runs; winds down once it no longer does. */
  private follow(sessionId: string): void {
    const s = this.states.get(sessionId);
    const local = s?.local;
    if (!s || !local || local.ending || s.busy) return;
    const c = this.host.calls.get(sessionId);
    const running = c.call?.recording?.recording_id ?? null;
    if (c.phase !== 'in-call' || running !== local.recordingId) {
      // Stopped by someone else, or the call ended: what was recorded still goes up.
      void this.end(sessionId);
      return;
    }
    this.record(sessionId, local, c.engine);
  }

  private record(sessionId: string, local: LocalRecording, engine: CallEngine | null): void {
    const make = this.host.recorder;
    if (!make || !engine?.recordable) return;
    for (const { who, stream } of engine.recordable()) {
      const track = trackKey(who);
      const existing = local.recorders.get(track);
      // One recorder per participant; another only once that one ended (all its tracks did).
      if (existing && (existing.recorder.active || existing.stream === stream)) continue;
      if (!stream.getTracks().some((t) => t.readyState === 'live')) continue;
      const offsetMs = Date.now() - local.startedAt;
      try {
        const recorder = make(
          track,
          stream,
          (t, blob, type) => void local.uploads.add(t, blob, type, offsetMs),
          (t, message) => {
            this.get(sessionId).error = `The recording of ${t} stopped: ${message}`;
            this.emit(sessionId);
          },
        );
        local.recorders.set(track, { recorder, stream });
      } catch (e) {
        this.get(sessionId).error = `${track} could not be recorded: ${describeError(e)}`;
      }
    }
  }

  /** Stops this tab's recorders (their last chunks come) and waits for the chunks to be uploaded. */
  private end(sessionId: string): Promise<void> {
    const s = this.get(sessionId);
    const local = s.local;
    if (!local) return Promise.resolve();
    if (!local.ending) {
      const stopped = [...local.recorders.values()].map((r) => r.recorder.stop().catch(() => undefined));
      local.ending = Promise.all(stopped)
        .then(() => local.uploads.flush())
        .then(() => {
          // Stopping from here finishes on its own (it tells Confer the counts first).
          if (s.busy === 'stopping' || s.local !== local) return;
          this.reportFailures(s, local);
          s.local = null;
          this.emit(sessionId);
        });
      this.emit(sessionId);
    }
    return local.ending;
  }

  private reportFailures(s: SessionRecordingState, local: LocalRecording | null): void {
    const failed = local?.uploads.failed() ?? [];
    if (failed.length > 0 && !s.error) {
      s.error = `Part of the recording could not be uploaded (${failed.map((f) => `${f.track}: ${f.error}`).join('; ')}).`;
    }
  }

  /** The tab signs out: recorders stop (what they have still goes up while the page stays). */
  stopAll(): void {
    for (const id of this.states.keys()) void this.end(id);
    this.off();
    this.host.calls.beforeStop = null;
    this.listeners.clear();
  }
}

const sameRef = (a: ParticipantRef, b: ParticipantRef) => a.kind === b.kind && a.id === b.id;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/** PUTs a chunk to its signed upload, with its headers exactly; a refusal becomes an ApiError (for retrying). */
export async function putChunk(upload: SignedUpload, blob: Blob): Promise<void> {
  let response: Response;
  try {
    response = await fetch(upload.url, { method: upload.method || 'PUT', headers: upload.headers, body: blob, credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'network', 'The chunk could not be uploaded: Confer could not be reached.');
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(response.status, body?.error?.code ?? `http_${response.status}`, body?.error?.message ?? `The upload was refused (${response.status}).`);
  }
}
