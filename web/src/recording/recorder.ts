// Recording a call in the browser (docs/recordings.md, local mode): one MediaRecorder per
// participant's stream — this side's camera and microphone, and each remote stream — with a
// 2-second timeslice, every chunk handed over as it is produced.

/** A participant's track key: `agent.ann`, `customer.cus_…`. */
export const trackKey = (p: { kind: string; id: string }) => `${p.kind}.${p.id}`;

/** MediaRecorder's timeslice: a closed tab loses at most this much. */
export const TIMESLICE_MS = 2000;

/** The type a stream is recorded as: video/webm with a video track, audio/webm without. */
export function recordingType(hasVideo: boolean, isSupported: (type: string) => boolean): string | null {
  const wanted = hasVideo
    ? ['video/webm;codecs=vp8,opus', 'video/webm;codecs=vp9,opus', 'video/webm', 'audio/webm;codecs=opus', 'audio/webm']
    : ['audio/webm;codecs=opus', 'audio/webm'];
  // (A browser that records no WebM video records the sound alone: the caller keeps the audio tracks only.)
  for (const t of wanted) {
    try {
      if (isSupported(t)) return t;
    } catch {
      // A browser that throws for a type it does not know: the next one.
    }
  }
  return null;
}

/** The type Confer is told: the container and medium alone (`video/webm`, `audio/webm`). */
export function baseType(mime: string): string {
  return mime.split(';')[0].trim().toLowerCase() || 'video/webm';
}

export function canRecordCalls(): boolean {
  return typeof MediaRecorder !== 'undefined' && typeof MediaRecorder.isTypeSupported === 'function';
}

/** One participant's recorder. */
export class TrackRecorder {
  private readonly recorder: MediaRecorder;
  private readonly done: Promise<void>;
  readonly contentType: string;
  /** The tracks recorded (a stream of its own: tracks added to the call's stream later do not stop it). */
  readonly stream: MediaStream;

  constructor(
    readonly track: string,
    source: MediaStream,
    onChunk: (track: string, blob: Blob, contentType: string) => void,
    onProblem: (track: string, message: string) => void,
  ) {
    const live = source.getTracks().filter((t) => t.readyState === 'live');
    const hasVideo = live.some((t) => t.kind === 'video');
    const mime = recordingType(hasVideo, (t) => MediaRecorder.isTypeSupported(t));
    if (!mime) throw new Error('This browser cannot record WebM.');
    this.contentType = baseType(mime);
    const audioOnly = this.contentType.startsWith('audio/');
    this.stream = new MediaStream(audioOnly ? live.filter((t) => t.kind === 'audio') : live);
    if (this.stream.getTracks().length === 0) throw new Error('There is nothing to record.');
    this.recorder = new MediaRecorder(this.stream, { mimeType: mime });
    this.recorder.ondataavailable = (e) => {
      if (e.data && e.data.size > 0) onChunk(track, e.data, this.contentType);
    };
    this.recorder.onerror = (e) => {
      const error = (e as Event & { error?: DOMException }).error;
      onProblem(track, error?.message || 'the recorder stopped');
    };
    this.done = new Promise((resolve) => this.recorder.addEventListener('stop', () => resolve(), { once: true }));
    this.recorder.start(TIMESLICE_MS);
  }

  /** Whether it still records (its tracks may all have ended). */
  get active(): boolean {
    return this.recorder.state !== 'inactive';
  }

  /** Whether it records these tracks already. */
  records(source: MediaStream): boolean {
    const mine = new Set(this.stream.getTracks().map((t) => t.id));
    const live = source.getTracks().filter((t) => t.readyState === 'live');
    return live.length > 0 && live.every((t) => mine.has(t.id));
  }

  /** Stops; resolves once the last chunk was handed over (or after `timeoutMs`). */
  stop(timeoutMs = 4000): Promise<void> {
    if (this.recorder.state !== 'inactive') {
      try {
        this.recorder.stop();
      } catch {
        // Already stopping.
      }
    }
    return Promise.race([this.done, new Promise<void>((resolve) => setTimeout(resolve, timeoutMs))]);
  }
}
