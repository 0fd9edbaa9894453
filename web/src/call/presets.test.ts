import { describe, expect, it } from 'vitest';
import {
  allowedQualities,
  cameraConstraints,
  cameraResize,
  chimeMaxBandwidthKbps,
  chimeVideoInputQuality,
  DEFAULT_QUALITY,
  isQuality,
  preset,
  PRESETS,
  QUALITIES,
  screenConstraints,
  senderEncoding,
} from './presets';

describe('quality presets (docs/calls.md)', () => {
  it('hold the documented captures and bitrate limits', () => {
    const table = QUALITIES.map((q) => [q, PRESETS[q].width, PRESETS[q].height, PRESETS[q].frameRate, PRESETS[q].maxBitrate]);
    expect(table).toEqual([
      ['480p', 640, 480, 30, 1_000_000],
      ['720p', 1280, 720, 30, 2_500_000],
      ['1080p', 1920, 1080, 30, 4_500_000],
      // 4k: the camera captures 1080p; a screen share 3840×2160.
      ['4k', 1920, 1080, 30, 15_000_000],
    ]);
    expect([PRESETS['4k'].screenWidth, PRESETS['4k'].screenHeight]).toEqual([3840, 2160]);
    expect(DEFAULT_QUALITY).toBe('480p');
  });

  it('reads only known presets', () => {
    expect(isQuality('720p')).toBe(true);
    expect(isQuality('8k')).toBe(false);
    expect(isQuality(undefined)).toBe(false);
    expect(preset('nonsense').quality).toBe('480p');
  });

  it('asks the camera for ideal sizes, with the chosen device exactly', () => {
    expect(cameraConstraints('720p')).toEqual({ width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } });
    expect(cameraConstraints('480p', 'cam-2')).toEqual({
      deviceId: { exact: 'cam-2' },
      width: { ideal: 640 },
      height: { ideal: 480 },
      frameRate: { ideal: 30 },
    });
    expect(cameraResize('1080p')).toEqual({ width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: 30 } });
    expect(screenConstraints('4k')).toEqual({ width: { ideal: 3840 }, height: { ideal: 2160 }, frameRate: { ideal: 30 } });
    expect(screenConstraints('720p')).toEqual({ width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } });
  });

  it('limits the video sender per preset', () => {
    expect(senderEncoding('480p')).toEqual({ maxBitrate: 1_000_000, maxFramerate: 30, scaleResolutionDownBy: 1 });
    expect(senderEncoding('4k').maxBitrate).toBe(15_000_000);
  });

  it('offers during a call only what the call allows', () => {
    expect(allowedQualities('720p')).toEqual(['480p', '720p']);
    expect(allowedQualities('1080p')).toEqual(['480p', '720p', '1080p']);
    expect(allowedQualities('4k')).toEqual(QUALITIES);
    expect(allowedQualities(undefined)).toEqual(QUALITIES);
  });

  it('gives Chime the camera capture of each preset', () => {
    expect(QUALITIES.map(chimeVideoInputQuality)).toEqual([
      [640, 480, 30],
      [1280, 720, 30],
      [1920, 1080, 30],
      [1920, 1080, 30],
    ]);
    expect(QUALITIES.map(chimeMaxBandwidthKbps)).toEqual([1000, 2500, 4500, 4500]);
  });
});
