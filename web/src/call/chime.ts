// The cloud's calls: an Amazon Chime SDK meeting joined with what Confer's join answer holds
// (docs/calls.md). Loaded only when a call is a Chime call.

import type * as ChimeSdk from 'amazon-chime-sdk-js';
import type { JoinInfo, ParticipantRef, Quality } from '../types';
import { participantOfExternalUserId, type CallEngine, type EngineHost, type PeerState } from './engine';
import { stopStream } from './media';
import { chimeMaxBandwidthKbps, chimeVideoInputQuality, preset } from './presets';
import { parseChimeVideoMetrics, type CallStats } from './stats';

type Sdk = Pick<typeof ChimeSdk, 'ConsoleLogger' | 'LogLevel' | 'DefaultDeviceController' | 'MeetingSessionConfiguration' | 'DefaultMeetingSession'>;
type Facade = ChimeSdk.AudioVideoFacade;
type TileState = ChimeSdk.VideoTileState;

export class ChimeEngine implements CallEngine {
  readonly provider = 'chime' as const;
  muted = false;
  cameraOff = false;
  sharing = false;
  hasCamera = false;
  hasMicrophone = false;
  cameraId: string | null = null;
  microphoneId: string | null = null;
  private av: Facade | null = null;
  private quality: Quality = '480p';
  private connected = false;
  private metrics: Record<string, Record<string, Record<string, number>>> = {};
  /** Remote tiles: tile id → who it shows. */
  private readonly tiles = new Map<number, { who: ParticipantRef | null; content: boolean }>();
  private stopped = false;

  constructor(
    private readonly host: EngineHost,
    private readonly sdk: Sdk,
  ) {}

  peers(): { who: ParticipantRef; state: PeerState }[] {
    const out: { who: ParticipantRef; state: PeerState }[] = [];
    for (const t of this.tiles.values()) {
      if (t.who && !t.content && !out.some((o) => o.who.kind === t.who!.kind && o.who.id === t.who!.id)) {
        out.push({ who: t.who, state: this.connected ? 'connected' : 'connecting' });
      }
    }
    return out;
  }

  async join(join: JoinInfo, local: MediaStream, quality: Quality): Promise<void> {
    if (join.provider !== 'chime') throw new Error('This call is not a Chime call.');
    const { ConsoleLogger, LogLevel, DefaultDeviceController, MeetingSessionConfiguration, DefaultMeetingSession } = this.sdk;
    const logger = new ConsoleLogger('Confer call', LogLevel.WARN);
    const devices = new DefaultDeviceController(logger);
    const configuration = new MeetingSessionConfiguration(join.meeting, join.attendee);
    const session = new DefaultMeetingSession(configuration, logger, devices);
    const av = session.audioVideo;
    this.av = av;
    this.quality = quality;
    // The devices the person chose (and allowed) are opened again by the SDK at the preset.
    this.cameraId = local.getVideoTracks()[0]?.getSettings().deviceId ?? null;
    this.microphoneId = local.getAudioTracks()[0]?.getSettings().deviceId ?? null;
    this.hasCamera = local.getVideoTracks().length > 0;
    this.hasMicrophone = local.getAudioTracks().length > 0;
    stopStream(local);
    av.addObserver({
      videoTileDidUpdate: (tile: TileState) => this.tileUpdated(tile),
      videoTileWasRemoved: (tileId: number) => {
        this.tiles.delete(tileId);
        this.host.sink.removeRemote(`tile-${tileId}`);
        this.host.changed();
      },
      audioVideoDidStart: () => {
        this.connected = true;
        this.host.changed();
      },
      audioVideoDidStartConnecting: () => {
        this.connected = false;
        this.host.changed();
      },
      audioVideoDidStop: (status: ChimeSdk.MeetingSessionStatus) => {
        this.connected = false;
        if (!this.stopped) this.host.problem(`The call's connection ended (${status.statusCode()}).`);
        this.host.changed();
      },
      metricsDidReceive: (report: ChimeSdk.ClientMetricReport) => {
        this.metrics = report.getObservableVideoMetrics() as Record<string, Record<string, Record<string, number>>>;
      },
    });
    av.addContentShareObserver({
      contentShareDidStop: () => {
        this.sharing = false;
        this.host.changed();
      },
    });
    this.applyPreset(quality);
    if (this.microphoneId || this.hasMicrophone) await av.startAudioInput(this.microphoneId ?? 'default');
    if (this.hasCamera) await av.startVideoInput(this.cameraId ?? 'default');
    await av.bindAudioElement(this.host.sink.audio());
    av.start();
    if (this.hasCamera) av.startLocalVideoTile();
  }

  async rejoin(): Promise<void> {
    // Chime keeps its own attendees; nothing to do.
  }

  private applyPreset(quality: Quality): void {
    const av = this.av;
    if (!av) return;
    const [width, height, frameRate] = chimeVideoInputQuality(quality);
    av.chooseVideoInputQuality(width, height, frameRate);
    av.setVideoMaxBandwidthKbps(chimeMaxBandwidthKbps(quality));
  }

  private tileUpdated(tile: TileState): void {
    const av = this.av;
    if (!av || tile.tileId === null) return;
    if (tile.localTile) {
      av.bindVideoElement(tile.tileId, this.host.sink.local());
      return;
    }
    if (!tile.boundAttendeeId) return;
    const who = participantOfExternalUserId(tile.boundExternalUserId);
    this.tiles.set(tile.tileId, { who, content: tile.isContent });
    const name = who ? this.host.nameOf(who) : 'Participant';
    const label = tile.isContent ? `Screen shared by ${name}` : name;
    av.bindVideoElement(tile.tileId, this.host.sink.remote(`tile-${tile.tileId}`, label));
    this.host.changed();
  }

  async setQuality(quality: Quality): Promise<void> {
    this.quality = quality;
    this.applyPreset(quality);
    // The camera is opened again at the new capture.
    if (this.av && this.hasCamera && !this.cameraOff) await this.av.startVideoInput(this.cameraId ?? 'default');
    this.host.changed();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    if (muted) this.av?.realtimeMuteLocalAudio();
    else this.av?.realtimeUnmuteLocalAudio();
    this.host.changed();
  }

  setCameraOff(off: boolean): void {
    this.cameraOff = off;
    if (off) this.av?.stopLocalVideoTile();
    else if (this.hasCamera) this.av?.startLocalVideoTile();
    this.host.changed();
  }

  async useCamera(deviceId: string): Promise<void> {
    this.cameraId = deviceId;
    this.hasCamera = true;
    await this.av?.startVideoInput(deviceId);
    this.host.changed();
  }

  async useMicrophone(deviceId: string): Promise<void> {
    this.microphoneId = deviceId;
    this.hasMicrophone = true;
    await this.av?.startAudioInput(deviceId);
    this.host.changed();
  }

  async shareScreen(): Promise<void> {
    if (!this.av || this.sharing) return;
    await this.av.startContentShareFromScreenCapture(undefined, preset(this.quality).frameRate);
    this.sharing = true;
    this.host.changed();
  }

  async stopSharing(): Promise<void> {
    if (!this.av || !this.sharing) return;
    this.av.stopContentShare();
    this.sharing = false;
    this.host.changed();
  }

  async stats(): Promise<CallStats> {
    return parseChimeVideoMetrics(this.metrics);
  }

  async signal(): Promise<void> {
    // Chime signals by itself.
  }

  peerJoined(): void {}
  peerLeft(): void {}

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const av = this.av;
    if (!av) return;
    if (this.sharing) av.stopContentShare();
    av.stopLocalVideoTile();
    av.stop();
    void av.stopVideoInput().catch(() => undefined);
    void av.stopAudioInput().catch(() => undefined);
    av.unbindAudioElement();
  }
}
