// What a call really sends and receives, read from RTCPeerConnection.getStats() (local) or
// Chime's observable video metrics (cloud): resolution and frame rate of each video stream.

export interface VideoMeasure {
  width: number;
  height: number;
  /** Frames per second; null until the browser has measured it. */
  fps: number | null;
}

export interface CallStats {
  /** The video going out (the largest, should a sender carry more than one layer). */
  sent: VideoMeasure | null;
  /** Each video coming in. */
  received: VideoMeasure[];
}

type Stat = Record<string, unknown> & { type?: string };

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The video measures in one getStats() report (outbound-rtp and inbound-rtp of kind video). */
export function parseRtcStats(report: Iterable<Stat> | { forEach(fn: (s: Stat) => void): void }): CallStats {
  const stats: Stat[] = [];
  if (typeof (report as { forEach?: unknown }).forEach === 'function') (report as { forEach(fn: (s: Stat) => void): void }).forEach((s) => stats.push(s));
  else for (const s of report as Iterable<Stat>) stats.push(s);
  const out: CallStats = { sent: null, received: [] };
  for (const s of stats) {
    const kind = s.kind ?? s.mediaType;
    if (kind !== 'video') continue;
    const width = num(s.frameWidth);
    const height = num(s.frameHeight);
    if (!width || !height) continue;
    const measure: VideoMeasure = { width, height, fps: num(s.framesPerSecond) };
    if (s.type === 'outbound-rtp') {
      if (!out.sent || width * height > out.sent.width * out.sent.height) out.sent = measure;
    } else if (s.type === 'inbound-rtp') {
      out.received.push(measure);
    }
  }
  return out;
}

/** Adds up the stats of several connections (one per other participant). */
export function mergeStats(all: CallStats[]): CallStats {
  const out: CallStats = { sent: null, received: [] };
  for (const s of all) {
    if (s.sent && (!out.sent || s.sent.width * s.sent.height > out.sent.width * out.sent.height)) out.sent = s.sent;
    out.received.push(...s.received);
  }
  return out;
}

/**
 * Chime's `getObservableVideoMetrics()`: `{attendeeId: {ssrc: {metric: value}}}`, the own
 * attendee's streams upstream, the others' downstream.
 */
export function parseChimeVideoMetrics(metrics: Record<string, Record<string, Record<string, number>>>): CallStats {
  const out: CallStats = { sent: null, received: [] };
  for (const streams of Object.values(metrics ?? {})) {
    for (const m of Object.values(streams ?? {})) {
      const up = { w: num(m.videoUpstreamFrameWidth), h: num(m.videoUpstreamFrameHeight), fps: num(m.videoUpstreamFramesEncodedPerSecond) };
      const down = { w: num(m.videoDownstreamFrameWidth), h: num(m.videoDownstreamFrameHeight), fps: num(m.videoDownstreamFramesDecodedPerSecond) };
      if (up.w && up.h && (!out.sent || up.w * up.h > out.sent.width * out.sent.height)) out.sent = { width: up.w, height: up.h, fps: up.fps };
      if (down.w && down.h) out.received.push({ width: down.w, height: down.h, fps: down.fps });
    }
  }
  return out;
}

/** 1280×720 · 30 fps */
export function formatMeasure(m: VideoMeasure | null | undefined): string {
  if (!m) return 'nothing yet';
  const fps = m.fps === null ? '' : ` · ${Math.round(m.fps)} fps`;
  return `${m.width}×${m.height}${fps}`;
}
