import { describe, expect, it } from 'vitest';
import { formatMeasure, mergeStats, parseChimeVideoMetrics, parseRtcStats } from './stats';

describe('call statistics', () => {
  it('reads what goes out and what comes in from getStats()', () => {
    // The shape Chromium gives (a Map-like RTCStatsReport).
    const report = new Map<string, Record<string, unknown>>([
      ['OT01V', { type: 'outbound-rtp', kind: 'video', frameWidth: 1280, frameHeight: 720, framesPerSecond: 30 }],
      ['OT01A', { type: 'outbound-rtp', kind: 'audio' }],
      ['IT01V', { type: 'inbound-rtp', kind: 'video', frameWidth: 1280, frameHeight: 720, framesPerSecond: 29.5 }],
      ['IT01A', { type: 'inbound-rtp', kind: 'audio', jitter: 0.001 }],
      ['CP', { type: 'candidate-pair', state: 'succeeded' }],
      // A stream not decoding yet: no size, not counted.
      ['IT02V', { type: 'inbound-rtp', kind: 'video' }],
    ]);
    expect(parseRtcStats(report)).toEqual({
      sent: { width: 1280, height: 720, fps: 30 },
      received: [{ width: 1280, height: 720, fps: 29.5 }],
    });
  });

  it('takes the largest layer going out, and an unmeasured frame rate as unknown', () => {
    const stats = parseRtcStats([
      { type: 'outbound-rtp', kind: 'video', frameWidth: 320, frameHeight: 180, framesPerSecond: 30 },
      { type: 'outbound-rtp', kind: 'video', frameWidth: 640, frameHeight: 480 },
    ]);
    expect(stats.sent).toEqual({ width: 640, height: 480, fps: null });
    expect(formatMeasure(stats.sent)).toBe('640×480');
    expect(formatMeasure({ width: 1920, height: 1080, fps: 29.6 })).toBe('1920×1080 · 30 fps');
    expect(formatMeasure(null)).toBe('nothing yet');
  });

  it('adds up several connections', () => {
    const a = { sent: { width: 640, height: 480, fps: 30 }, received: [{ width: 640, height: 480, fps: 30 }] };
    const b = { sent: { width: 1280, height: 720, fps: 30 }, received: [{ width: 1280, height: 720, fps: 25 }] };
    expect(mergeStats([a, b])).toEqual({ sent: b.sent, received: [...a.received, ...b.received] });
    expect(mergeStats([])).toEqual({ sent: null, received: [] });
  });

  it("reads Chime's observable video metrics", () => {
    const metrics = {
      'self-attendee': { '1111': { videoUpstreamFrameWidth: 1280, videoUpstreamFrameHeight: 720, videoUpstreamFramesEncodedPerSecond: 30, videoUpstreamBitrate: 2e6 } },
      'other-attendee': { '2222': { videoDownstreamFrameWidth: 640, videoDownstreamFrameHeight: 480, videoDownstreamFramesDecodedPerSecond: 24 } },
    };
    expect(parseChimeVideoMetrics(metrics)).toEqual({
      sent: { width: 1280, height: 720, fps: 30 },
      received: [{ width: 640, height: 480, fps: 24 }],
    });
    expect(parseChimeVideoMetrics({})).toEqual({ sent: null, received: [] });
  });
});
