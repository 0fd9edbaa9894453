// A call's media behind one small interface: peer-to-peer WebRTC signalled over Confer's
// WebSocket (confer-local), or an Amazon Chime SDK meeting (the cloud). The call's screens do
// not care which; the Chime engine is loaded only when a call needs it.

import type { JoinInfo, ParticipantRef, Quality, SignalFrame } from '../types';
import type { CallStats } from './stats';

/** Where an engine shows video: elements owned by the call's screen. */
export interface VideoSink {
  /** The own camera (or shared screen), shown muted. */
  local(): HTMLVideoElement;
  /** Another participant's video (`id` one per stream), made on first use. */
  remote(id: string, label: string): HTMLVideoElement;
  removeRemote(id: string): void;
  /** Where the others' sound plays when it does not come with a video element (Chime). */
  audio(): HTMLAudioElement;
}

export type PeerState = 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface EngineHost {
  readonly me: ParticipantRef;
  readonly sessionId: string;
  readonly sink: VideoSink;
  /** Sends a frame on Confer's WebSocket; false when it is not open. */
  send(frame: Record<string, unknown>): boolean;
  /** Something the screen shows changed (a connection's state, sharing stopped by the browser). */
  changed(): void;
  /** A problem during the call, in words. */
  problem(message: string): void;
  /** A name for a Chime attendee's external user id (`A#<sub>`, `C#<customer id>`). */
  nameOf(who: ParticipantRef): string;
}

export interface CallEngine {
  readonly provider: 'webrtc' | 'chime';
  readonly muted: boolean;
  readonly cameraOff: boolean;
  readonly sharing: boolean;
  readonly hasCamera: boolean;
  readonly hasMicrophone: boolean;
  /** The camera and microphone in use (device ids). */
  readonly cameraId: string | null;
  readonly microphoneId: string | null;
  /** How the connection to each other participant stands (key: `kind:id`). */
  peers(): { who: ParticipantRef; state: PeerState }[];
  /** Takes part with the local stream (the camera and microphone already opened). */
  join(join: JoinInfo, local: MediaStream, quality: Quality): Promise<void>;
  /** Joined again after Confer lost track of this participant (a dropped connection). */
  rejoin(join: JoinInfo): Promise<void>;
  setQuality(quality: Quality): Promise<void>;
  setMuted(muted: boolean): void;
  setCameraOff(off: boolean): void;
  useCamera(deviceId: string): Promise<void>;
  useMicrophone(deviceId: string): Promise<void>;
  shareScreen(): Promise<void>;
  stopSharing(): Promise<void>;
  /** What is really sent and received now. */
  stats(): Promise<CallStats>;
  /** Signalling from another participant (local runtime). */
  signal(frame: SignalFrame): Promise<void>;
  /** Another participant joined (again): whatever is left of an earlier connection goes. */
  peerJoined(who: ParticipantRef): void;
  peerLeft(who: ParticipantRef): void;
  stop(): void;
  /**
   * The streams a recording made in this browser takes (docs/recordings.md): this side's camera
   * and microphone, and each other participant's stream. Engines whose recordings are made by
   * the service (Chime) have none.
   */
  recordable?(): { who: ParticipantRef; stream: MediaStream }[];
}

export const peerKey = (p: ParticipantRef) => `${p.kind}:${p.id}`;

/** A Chime attendee's external user id as Confer writes it (docs/calls.md): `A#<sub>` or `C#<customer id>`. */
export function participantOfExternalUserId(external: string | null | undefined): ParticipantRef | null {
  const m = /^([AC])#(.+)$/.exec(external ?? '');
  if (!m) return null;
  return { kind: m[1] === 'A' ? 'agent' : 'customer', id: m[2] };
}

export async function createEngine(join: JoinInfo, host: EngineHost): Promise<CallEngine> {
  if (join.provider === 'chime') {
    // Only a cloud call pays for the Chime SDK.
    const [{ ChimeEngine }, sdk] = await Promise.all([import('./chime'), import('amazon-chime-sdk-js')]);
    return new ChimeEngine(host, sdk);
  }
  if (join.provider !== 'webrtc') throw new Error(`A call in ${join.provider} is joined by its link.`);
  const { WebRtcEngine } = await import('./webrtc');
  return new WebRtcEngine(host);
}
