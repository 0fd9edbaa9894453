// The chunks of a recording made in the browser (docs/recordings.md, local mode), on their way
// to Confer: numbered from 0 per track, uploaded one after another per track (ask for a signed
// upload, then PUT the bytes there), retried with backoff, each track on its own so that one
// failing leaves the others going. Nothing here touches the browser's media: it is given blobs.

import { ApiError } from '../api';
import { backoffDelay } from '../backoff';
import type { SignedUpload } from '../types';

/** A chunk is at most this large (docs/recordings.md). */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** And a track has at most this many (24 hours at 2 s). */
export const MAX_CHUNKS = 43_200;

/** What Confer is told of a chunk; `offset_ms`: when its track began, after the recording's start. */
export interface ChunkInfo {
  track: string;
  seq: number;
  content_type: string;
  size: number;
  offset_ms?: number;
}

export interface ChunkTransport {
  /** `POST /v1/recordings/{id}/chunks`: where to put the bytes. */
  ask(chunk: ChunkInfo): Promise<SignedUpload>;
  /** The bytes, to the signed upload, with its headers exactly. */
  put(upload: SignedUpload, blob: Blob): Promise<void>;
}

export interface UploadOptions {
  /** Tries of one chunk before its track gives up (the first included). */
  attempts?: number;
  /** The wait before retry `n` (0 for the first retry). */
  delay?: (attempt: number) => number;
  sleep?: (ms: number) => Promise<void>;
  /** Something changed (a chunk went up, a track failed): for the screen. */
  changed?: () => void;
}

export type TrackState = 'uploading' | 'idle' | 'failed' | 'closed';

/** Whether trying the same chunk again may work: the network, a timeout, too many requests, the server's own trouble. */
export function retryable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500;
  return true;
}

/** Confer began assembling the recording: no chunk is taken any more. */
export function recordingClosed(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409 && e.code === 'recording_stopped';
}

class TrackQueue {
  /** The next chunk's number. */
  nextSeq = 0;
  /** Chunks stored, all of 0..uploaded-1 (a track stops at its first chunk that cannot be stored). */
  uploaded = 0;
  state: TrackState = 'idle';
  error: string | null = null;
  private readonly waiting: { seq: number; blob: Blob; contentType: string }[] = [];
  private running: Promise<void> | null = null;

  constructor(
    readonly track: string,
    private readonly uploads: RecordingUploads,
    private readonly offsetMs: number | undefined,
  ) {}

  get pending(): number {
    return this.waiting.length;
  }

  add(blob: Blob, contentType: string): number | null {
    if (this.state === 'failed' || this.state === 'closed') return null;
    if (this.nextSeq >= MAX_CHUNKS) return null;
    const seq = this.nextSeq++;
    this.waiting.push({ seq, blob, contentType });
    this.run();
    return seq;
  }

  private run(): void {
    if (this.running) return;
    this.state = 'uploading';
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.state === 'uploading') this.state = 'idle';
      this.uploads.changed();
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      const chunk = this.waiting[0];
      if (!chunk) return;
      if (this.state === 'failed' || this.state === 'closed') {
        this.waiting.length = 0;
        return;
      }
      const outcome = await this.send(chunk);
      this.waiting.shift();
      if (outcome === 'stored') {
        this.uploaded = chunk.seq + 1;
      } else {
        this.waiting.length = 0;
        return;
      }
      this.uploads.changed();
    }
  }

  private async send(chunk: { seq: number; blob: Blob; contentType: string }): Promise<'stored' | 'given-up'> {
    const o = this.uploads.options;
    const attempts = o.attempts ?? 8;
    if (chunk.blob.size > MAX_CHUNK_BYTES) return this.fail(`chunk ${chunk.seq} is larger than 16 MiB`);
    for (let attempt = 0; ; attempt++) {
      try {
        const info: ChunkInfo = { track: this.track, seq: chunk.seq, content_type: chunk.contentType, size: chunk.blob.size };
        if (this.offsetMs !== undefined) info.offset_ms = Math.max(0, Math.round(this.offsetMs));
        const upload = await this.uploads.transport.ask(info);
        await this.uploads.transport.put(upload, chunk.blob);
        return 'stored';
      } catch (e) {
        if (recordingClosed(e)) {
          this.uploads.closeAll('Confer had already begun putting the recording together.');
          return 'given-up';
        }
        if (!retryable(e) || attempt + 1 >= attempts) return this.fail((e as Error).message || 'the upload failed');
        await (o.sleep ?? defaultSleep)((o.delay ?? ((n) => backoffDelay(n, { baseMs: 1000, maxMs: 15_000 })))(attempt));
        if (this.state === 'closed') return 'given-up';
      }
    }
  }

  private fail(why: string): 'given-up' {
    this.state = 'failed';
    this.error = why;
    return 'given-up';
  }

  close(why: string): void {
    if (this.state === 'failed') return;
    this.state = 'closed';
    this.error = why;
  }

  /** Resolves once every chunk given so far is stored or given up. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The uploads of one recording: a queue per track. */
export class RecordingUploads {
  private readonly tracks = new Map<string, TrackQueue>();
  /** Why no chunk is taken any more (Confer is assembling the recording). */
  closed: string | null = null;

  constructor(
    readonly transport: ChunkTransport,
    readonly options: UploadOptions = {},
  ) {}

  /**
   * Queues the next chunk of a track; its number, or null when the track takes no more.
   * `offsetMs`: when the track began after the recording's start (its first chunk says).
   */
  add(track: string, blob: Blob, contentType: string, offsetMs?: number): number | null {
    if (blob.size === 0 || this.closed) return null;
    let q = this.tracks.get(track);
    if (!q) {
      q = new TrackQueue(track, this, offsetMs);
      this.tracks.set(track, q);
    }
    return q.add(blob, contentType);
  }

  /** Chunks stored per track: what stopping the recording tells Confer. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [track, q] of this.tracks) out[track] = q.uploaded;
    return out;
  }

  /** How each track stands, for the screen. */
  status(): { track: string; state: TrackState; uploaded: number; pending: number; error: string | null }[] {
    return [...this.tracks.values()].map((q) => ({ track: q.track, state: q.state, uploaded: q.uploaded, pending: q.pending, error: q.error }));
  }

  /** Chunks not stored yet, all tracks together. */
  get pending(): number {
    let n = 0;
    for (const q of this.tracks.values()) n += q.pending;
    return n;
  }

  failed(): { track: string; error: string }[] {
    return [...this.tracks.values()].filter((q) => q.state === 'failed').map((q) => ({ track: q.track, error: q.error ?? '' }));
  }

  /** Waits until every chunk given so far is stored or given up (each track's retries included). */
  async flush(): Promise<void> {
    await Promise.all([...this.tracks.values()].map((q) => q.settled()));
  }

  /** No chunk is taken any more (Confer is assembling the recording). */
  closeAll(why: string): void {
    this.closed = why;
    for (const q of this.tracks.values()) q.close(why);
    this.changed();
  }

  changed(): void {
    try {
      this.options.changed?.();
    } catch (e) {
      console.error(e);
    }
  }
}
