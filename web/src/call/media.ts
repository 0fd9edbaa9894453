// The camera, the microphone and the screen: asking for them, and saying in words why they
// could not be used.

import { cameraConstraints, microphoneConstraints, screenConstraints } from './presets';
import type { Quality } from '../types';

export interface DeviceChoice {
  cameraId?: string | null;
  microphoneId?: string | null;
}

/** Why a device could not be used, for the person (the browser's error names, in words). */
export function mediaErrorMessage(e: unknown, what: 'camera and microphone' | 'camera' | 'microphone' | 'screen' = 'camera and microphone'): string {
  const name = (e as { name?: string } | null)?.name ?? '';
  const device = what === 'screen' ? 'your screen' : `your ${what}`;
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return what === 'screen'
        ? 'Sharing your screen was not allowed, or you cancelled it.'
        : `Confer is not allowed to use ${device}. Allow it in the browser’s site settings (the icon next to the address), then try again.`;
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return what === 'screen'
        ? 'There is no screen or window to share.'
        : `No ${what === 'camera and microphone' ? 'camera or microphone' : what} was found. Connect one, then try again.`;
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return `${device[0].toUpperCase()}${device.slice(1)} could not be started: another program may be using it, or the system refused it.`;
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return `The chosen ${what === 'screen' ? 'screen' : 'device'} cannot be used with these settings. Choose another one.`;
    case 'TypeError':
      return 'This browser cannot use a camera or microphone here (it needs a secure https:// page).';
    default: {
      const detail = (e as { message?: string } | null)?.message;
      return `${device[0].toUpperCase()}${device.slice(1)} could not be used${detail ? `: ${detail}` : '.'}`;
    }
  }
}

export function canCall(): boolean {
  return typeof RTCPeerConnection !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;
}

export function canShareScreen(): boolean {
  return !!navigator.mediaDevices?.getDisplayMedia;
}

/**
 * The camera and microphone at a preset. With no camera at all, a call goes on with sound only;
 * with no microphone, with video only; a refusal is an error.
 */
export async function openCameraAndMicrophone(quality: Quality, choice: DeviceChoice = {}): Promise<{ stream: MediaStream; missing: string | null }> {
  const media = navigator.mediaDevices;
  if (!media?.getUserMedia) throw Object.assign(new Error('no media devices'), { name: 'TypeError' });
  try {
    const stream = await media.getUserMedia({ video: cameraConstraints(quality, choice.cameraId), audio: microphoneConstraints(choice.microphoneId) });
    return { stream, missing: null };
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name !== 'NotFoundError' && name !== 'DevicesNotFoundError' && name !== 'OverconstrainedError') throw e;
    // One of the two is missing (or the chosen one is gone): try each alone.
    try {
      const stream = await media.getUserMedia({ audio: microphoneConstraints(null) });
      return { stream, missing: 'No camera was found: the call goes on with sound only.' };
    } catch {
      // No microphone either, or it is refused.
    }
    const stream = await media.getUserMedia({ video: cameraConstraints(quality, null) });
    return { stream, missing: 'No microphone was found: the others will not hear you.' };
  }
}

export async function openCamera(quality: Quality, cameraId: string | null): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: cameraConstraints(quality, cameraId) });
  return stream.getVideoTracks()[0];
}

export async function openMicrophone(microphoneId: string | null): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(microphoneId) });
  return stream.getAudioTracks()[0];
}

export async function openScreen(quality: Quality): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: screenConstraints(quality), audio: false });
  return stream.getVideoTracks()[0];
}

export interface Devices {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
}

/** The cameras and microphones (their names show once the page may use them). */
export async function listDevices(): Promise<Devices> {
  const all = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
  return {
    cameras: all.filter((d) => d.kind === 'videoinput' && d.deviceId),
    microphones: all.filter((d) => d.kind === 'audioinput' && d.deviceId),
  };
}

/** A device's name, or a numbered one when the browser hides names. */
export function deviceLabel(d: MediaDeviceInfo, index: number): string {
  if (d.label) return d.label;
  return `${d.kind === 'videoinput' ? 'Camera' : 'Microphone'} ${index + 1}`;
}

export function stopStream(stream: MediaStream | null | undefined): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
