// The quality presets of a call (docs/calls.md, "Quality presets"): what the camera captures,
// what a screen share captures, and the sender's bitrate limit in the local runtime.

import type { Quality } from '../types';

export interface Preset {
  quality: Quality;
  label: string;
  /** The camera's capture. */
  width: number;
  height: number;
  frameRate: number;
  /** A screen share's capture (larger than the camera's only for 4k). */
  screenWidth: number;
  screenHeight: number;
  /** Local runtime: the video sender's limit, in bits per second. */
  maxBitrate: number;
}

export const QUALITIES: Quality[] = ['480p', '720p', '1080p', '4k'];
export const DEFAULT_QUALITY: Quality = '480p';

export const PRESETS: Record<Quality, Preset> = {
  '480p': { quality: '480p', label: '480p', width: 640, height: 480, frameRate: 30, screenWidth: 640, screenHeight: 480, maxBitrate: 1_000_000 },
  '720p': { quality: '720p', label: '720p', width: 1280, height: 720, frameRate: 30, screenWidth: 1280, screenHeight: 720, maxBitrate: 2_500_000 },
  '1080p': { quality: '1080p', label: '1080p', width: 1920, height: 1080, frameRate: 30, screenWidth: 1920, screenHeight: 1080, maxBitrate: 4_500_000 },
  '4k': { quality: '4k', label: '4K', width: 1920, height: 1080, frameRate: 30, screenWidth: 3840, screenHeight: 2160, maxBitrate: 15_000_000 },
};

export function isQuality(value: unknown): value is Quality {
  return typeof value === 'string' && (QUALITIES as string[]).includes(value);
}

export function preset(quality: Quality | string | null | undefined): Preset {
  return isQuality(quality) ? PRESETS[quality] : PRESETS[DEFAULT_QUALITY];
}

/** The presets a call allows: up to its `max_quality` (a Chime meeting's features are fixed when it starts). */
export function allowedQualities(maxQuality: Quality | null | undefined): Quality[] {
  const top = QUALITIES.indexOf(isQuality(maxQuality) ? maxQuality : '4k');
  return QUALITIES.slice(0, top + 1);
}

/** getUserMedia's video constraints for a preset (ideal values: a camera that cannot, gives what it can). */
export function cameraConstraints(quality: Quality, deviceId?: string | null): MediaTrackConstraints {
  const p = preset(quality);
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    width: { ideal: p.width },
    height: { ideal: p.height },
    frameRate: { ideal: p.frameRate },
  };
}

/** applyConstraints for a running camera track: the same sizes, the device kept. */
export function cameraResize(quality: Quality): MediaTrackConstraints {
  const p = preset(quality);
  return { width: { ideal: p.width }, height: { ideal: p.height }, frameRate: { ideal: p.frameRate } };
}

/** getDisplayMedia's video constraints for a preset. */
export function screenConstraints(quality: Quality): MediaTrackConstraints {
  const p = preset(quality);
  return { width: { ideal: p.screenWidth }, height: { ideal: p.screenHeight }, frameRate: { ideal: p.frameRate } };
}

export function microphoneConstraints(deviceId?: string | null): MediaTrackConstraints | boolean {
  const base = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
  return deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
}

/**
 * The video sender's encoding for a preset: its bitrate limit, and the resolution held (a
 * browser otherwise starts small and climbs only as its bandwidth estimate grows).
 */
export function senderEncoding(quality: Quality): { maxBitrate: number; maxFramerate: number; scaleResolutionDownBy: number } {
  const p = preset(quality);
  return { maxBitrate: p.maxBitrate, maxFramerate: p.frameRate, scaleResolutionDownBy: 1 };
}

/** What Chime's `chooseVideoInputQuality(width, height, frameRate)` is given for a preset (the camera's capture). */
export function chimeVideoInputQuality(quality: Quality): [number, number, number] {
  const p = preset(quality);
  return [p.width, p.height, p.frameRate];
}

/**
 * Chime's `setVideoMaxBandwidthKbps` for a preset: the camera's share of the preset's limit (a
 * 4k call's camera captures 1080p, so it gets 1080p's; the screen share is Chime's content).
 */
export function chimeMaxBandwidthKbps(quality: Quality): number {
  return Math.round(preset(quality === '4k' ? '1080p' : quality).maxBitrate / 1000);
}
