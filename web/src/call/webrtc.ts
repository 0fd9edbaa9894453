// The local runtime's calls: one RTCPeerConnection per other participant, signalled through
// Confer's WebSocket (docs/calls.md). The newcomer offers to each participant already in the
// call; they answer; both trickle ICE candidates. Each video sender holds the call's preset:
// the capture asked of the camera, a bitrate limit, and the resolution kept under pressure.

import type { JoinInfo, ParticipantRef, Quality, SignalFrame } from '../types';
import { peerKey, type CallEngine, type EngineHost, type PeerState } from './engine';
import { openCamera, openMicrophone, openScreen, stopStream } from './media';
import { cameraResize, screenConstraints, senderEncoding } from './presets';
import { candidateData, signalAction } from './signal';
import { mergeStats, parseRtcStats, type CallStats } from './stats';

interface Peer {
  who: ParticipantRef;
  key: string;
  pc: RTCPeerConnection;
  audio: RTCRtpTransceiver | null;
  video: RTCRtpTransceiver | null;
  remote: MediaStream;
  /** Candidates that came before the remote description. */
  pending: RTCIceCandidateInit[];
  /** This side made the offer (and makes the next one on an ICE restart). */
  offerer: boolean;
  restarts: number;
}

export class WebRtcEngine implements CallEngine {
  readonly provider = 'webrtc' as const;
  muted = false;
  cameraOff = false;
  private readonly connections = new Map<string, Peer>();
  private iceServers: RTCIceServer[] = [];
  private quality: Quality = '480p';
  private local = new MediaStream();
  private camera: MediaStreamTrack | null = null;
  private microphone: MediaStreamTrack | null = null;
  private screen: MediaStreamTrack | null = null;
  private stopped = false;

  constructor(private readonly host: EngineHost) {}

  get sharing(): boolean {
    return !!this.screen;
  }
  get hasCamera(): boolean {
    return !!this.camera;
  }
  get hasMicrophone(): boolean {
    return !!this.microphone;
  }
  get cameraId(): string | null {
    return this.camera?.getSettings().deviceId ?? null;
  }
  get microphoneId(): string | null {
    return this.microphone?.getSettings().deviceId ?? null;
  }

  peers(): { who: ParticipantRef; state: PeerState }[] {
    return [...this.connections.values()].map((p) => ({ who: p.who, state: stateOf(p.pc) }));
  }

  async join(join: JoinInfo, local: MediaStream, quality: Quality): Promise<void> {
    if (join.provider !== 'webrtc') throw new Error('This call is not a WebRTC call.');
    this.iceServers = join.ice_servers.map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
    this.quality = quality;
    this.local = local;
    this.camera = local.getVideoTracks()[0] ?? null;
    this.microphone = local.getAudioTracks()[0] ?? null;
    if (this.camera) this.camera.contentHint = 'detail';
    this.showLocal();
    // The newcomer offers to everyone already there.
    for (const who of join.peers) await this.offerTo(who);
  }

  async rejoin(join: JoinInfo): Promise<void> {
    if (join.provider !== 'webrtc') return;
    for (const p of [...this.connections.values()]) this.close(p);
    for (const who of join.peers) await this.offerTo(who);
  }

  // ---- connections ----

  private connection(who: ParticipantRef, offerer: boolean): Peer {
    const key = peerKey(who);
    const existing = this.connections.get(key);
    if (existing) return existing;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const peer: Peer = { who, key, pc, audio: null, video: null, remote: new MediaStream(), pending: [], offerer, restarts: 0 };
    this.connections.set(key, peer);
    if (offerer) {
      // Both kinds are offered even without a device, so a screen shared later needs no new negotiation.
      peer.audio = pc.addTransceiver(this.microphone ?? 'audio', { direction: 'sendrecv', streams: [this.local] });
      peer.video = pc.addTransceiver(this.outgoingVideo() ?? 'video', { direction: 'sendrecv', streams: [this.local] });
    }
    pc.onicecandidate = (e) => {
      const data = e.candidate ? candidateData(e.candidate.toJSON()) : null;
      if (data) this.send(who, 'candidate', data);
    };
    pc.ontrack = (e) => {
      if (!peer.remote.getTracks().includes(e.track)) peer.remote.addTrack(e.track);
      const video = this.host.sink.remote(key, this.host.nameOf(who));
      if (video.srcObject !== peer.remote) video.srcObject = peer.remote;
      void video.play().catch(() => undefined);
      e.track.onunmute = () => this.host.changed();
    };
    pc.onconnectionstatechange = () => {
      if (this.connections.get(key) !== peer) return;
      if (pc.connectionState === 'connected') {
        peer.restarts = 0;
        void this.tune(peer);
      }
      if (pc.connectionState === 'failed' && peer.offerer && peer.restarts < 3) {
        peer.restarts++;
        void this.offer(peer, true);
      }
      this.host.changed();
    };
    this.host.changed();
    return peer;
  }

  private async offerTo(who: ParticipantRef): Promise<void> {
    const peer = this.connection(who, true);
    await this.offer(peer, false);
  }

  private async offer(peer: Peer, iceRestart: boolean): Promise<void> {
    try {
      const offer = await peer.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
      await peer.pc.setLocalDescription(offer);
      this.send(peer.who, 'offer', { type: 'offer', sdp: peer.pc.localDescription?.sdp ?? offer.sdp ?? '' });
    } catch (e) {
      this.host.problem(`The call could not reach ${this.host.nameOf(peer.who)}: ${(e as Error).message}`);
    }
  }

  private send(to: ParticipantRef, kind: 'offer' | 'answer' | 'candidate' | 'hangup', data: Record<string, unknown> = {}): void {
    if (this.stopped && kind !== 'hangup') return;
    try {
      this.host.send(signalAction(this.host.sessionId, to, kind, data));
    } catch (e) {
      this.host.problem((e as Error).message);
    }
  }

  async signal(frame: SignalFrame): Promise<void> {
    if (this.stopped) return;
    const key = peerKey(frame.from);
    switch (frame.kind) {
      case 'offer': {
        let peer = this.connections.get(key);
        // A fresh offer from someone whose earlier connection this side still holds: start over.
        if (peer && peer.offerer) {
          this.close(peer);
          peer = undefined;
        }
        peer ??= this.connection(frame.from, false);
        const pc = peer.pc;
        await pc.setRemoteDescription({ type: 'offer', sdp: String(frame.data.sdp) });
        this.attachToTransceivers(peer);
        await this.flush(peer);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        this.send(frame.from, 'answer', { type: 'answer', sdp: pc.localDescription?.sdp ?? answer.sdp ?? '' });
        void this.tune(peer);
        break;
      }
      case 'answer': {
        const peer = this.connections.get(key);
        if (!peer || peer.pc.signalingState !== 'have-local-offer') return;
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: String(frame.data.sdp) });
        await this.flush(peer);
        void this.tune(peer);
        break;
      }
      case 'candidate': {
        const peer = this.connections.get(key);
        const c: RTCIceCandidateInit = {
          candidate: String(frame.data.candidate),
          sdpMid: typeof frame.data.sdpMid === 'string' ? frame.data.sdpMid : null,
          sdpMLineIndex: typeof frame.data.sdpMLineIndex === 'number' ? frame.data.sdpMLineIndex : null,
          usernameFragment: typeof frame.data.usernameFragment === 'string' ? frame.data.usernameFragment : null,
        };
        if (!peer) return;
        if (!peer.pc.remoteDescription) peer.pending.push(c);
        else await peer.pc.addIceCandidate(c).catch(() => undefined);
        break;
      }
      case 'hangup': {
        const peer = this.connections.get(key);
        if (peer) this.close(peer);
        break;
      }
      case 'decline':
        break; // the call's owner tells the person; nothing to tear down
    }
  }

  /** The answering side puts its own tracks on the transceivers the offer made. */
  private attachToTransceivers(peer: Peer): void {
    for (const t of peer.pc.getTransceivers()) {
      const kind = t.receiver.track.kind;
      if (kind === 'audio' && !peer.audio) {
        peer.audio = t;
        void t.sender.replaceTrack(this.microphone);
      } else if (kind === 'video' && !peer.video) {
        peer.video = t;
        void t.sender.replaceTrack(this.outgoingVideo());
      } else continue;
      t.direction = 'sendrecv';
      t.sender.setStreams?.(this.local);
    }
  }

  private async flush(peer: Peer): Promise<void> {
    for (const c of peer.pending.splice(0)) await peer.pc.addIceCandidate(c).catch(() => undefined);
  }

  peerJoined(who: ParticipantRef): void {
    const peer = this.connections.get(peerKey(who));
    if (peer) this.close(peer);
  }

  peerLeft(who: ParticipantRef): void {
    const peer = this.connections.get(peerKey(who));
    if (peer) this.close(peer);
  }

  private close(peer: Peer): void {
    if (this.connections.get(peer.key) === peer) this.connections.delete(peer.key);
    peer.pc.onicecandidate = null;
    peer.pc.ontrack = null;
    peer.pc.onconnectionstatechange = null;
    peer.pc.close();
    this.host.sink.removeRemote(peer.key);
    this.host.changed();
  }

  // ---- the preset ----

  /** The video sender's encoding: the preset's bitrate limit, its frame rate, and resolution kept. */
  private async tune(peer: Peer): Promise<void> {
    const sender = peer.video?.sender;
    if (!sender) return;
    const params = sender.getParameters() as RTCRtpSendParameters & { degradationPreference?: string };
    if (!params.encodings || params.encodings.length === 0) return; // not negotiated yet: tuned once it is
    const wanted = senderEncoding(this.quality);
    for (const e of params.encodings) Object.assign(e, wanted);
    params.degradationPreference = 'maintain-resolution';
    try {
      await sender.setParameters(params);
    } catch {
      // A browser that knows no degradation preference: the bitrate limit alone.
      delete params.degradationPreference;
      await sender.setParameters(params).catch(() => undefined);
    }
  }

  async setQuality(quality: Quality): Promise<void> {
    this.quality = quality;
    if (this.camera) await this.camera.applyConstraints(cameraResize(quality)).catch(() => undefined);
    if (this.screen) await this.screen.applyConstraints(screenConstraints(quality)).catch(() => undefined);
    for (const peer of this.connections.values()) await this.tune(peer);
    this.host.changed();
  }

  // ---- devices ----

  private outgoingVideo(): MediaStreamTrack | null {
    return this.screen ?? this.camera;
  }

  private showLocal(): void {
    const video = this.host.sink.local();
    const track = this.outgoingVideo();
    video.srcObject = track ? new MediaStream([track]) : null;
    void video.play().catch(() => undefined);
  }

  private async sendVideo(track: MediaStreamTrack | null): Promise<void> {
    for (const peer of this.connections.values()) {
      await peer.video?.sender.replaceTrack(track).catch(() => undefined);
      void this.tune(peer);
    }
    this.showLocal();
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    if (this.microphone) this.microphone.enabled = !muted;
    this.host.changed();
  }

  setCameraOff(off: boolean): void {
    this.cameraOff = off;
    if (this.camera) this.camera.enabled = !off;
    this.host.changed();
  }

  async useCamera(deviceId: string): Promise<void> {
    const track = await openCamera(this.quality, deviceId);
    track.contentHint = 'detail';
    track.enabled = !this.cameraOff;
    const old = this.camera;
    if (old) this.local.removeTrack(old);
    this.local.addTrack(track);
    this.camera = track;
    if (!this.screen) await this.sendVideo(track);
    old?.stop();
    this.host.changed();
  }

  async useMicrophone(deviceId: string): Promise<void> {
    const track = await openMicrophone(deviceId);
    track.enabled = !this.muted;
    const old = this.microphone;
    if (old) this.local.removeTrack(old);
    this.local.addTrack(track);
    this.microphone = track;
    for (const peer of this.connections.values()) await peer.audio?.sender.replaceTrack(track).catch(() => undefined);
    old?.stop();
    this.host.changed();
  }

  async shareScreen(): Promise<void> {
    if (this.screen) return;
    const track = await openScreen(this.quality);
    track.contentHint = 'detail';
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener('ended', () => void this.stopSharing());
    this.screen = track;
    await this.sendVideo(track);
    this.host.changed();
  }

  async stopSharing(): Promise<void> {
    const track = this.screen;
    if (!track) return;
    this.screen = null;
    track.stop();
    if (!this.stopped) await this.sendVideo(this.camera);
    this.host.changed();
  }

  recordable(): { who: ParticipantRef; stream: MediaStream }[] {
    if (this.stopped) return [];
    const out: { who: ParticipantRef; stream: MediaStream }[] = [];
    if (this.local.getTracks().length > 0) out.push({ who: this.host.me, stream: this.local });
    for (const p of this.connections.values()) if (p.remote.getTracks().length > 0) out.push({ who: p.who, stream: p.remote });
    return out;
  }

  async stats(): Promise<CallStats> {
    const all = await Promise.all([...this.connections.values()].map(async (p) => parseRtcStats(await p.pc.getStats())));
    return mergeStats(all);
  }

  /** Ends this side: a hang-up to each participant, every connection closed, the devices released. */
  stop(): void {
    if (this.stopped) return;
    for (const peer of [...this.connections.values()]) {
      this.send(peer.who, 'hangup');
      this.close(peer);
    }
    this.stopped = true;
    this.screen?.stop();
    this.screen = null;
    stopStream(this.local);
    this.camera = null;
    this.microphone = null;
    const video = this.host.sink.local();
    video.srcObject = null;
  }
}

function stateOf(pc: RTCPeerConnection): PeerState {
  switch (pc.connectionState) {
    case 'connected':
      return 'connected';
    case 'disconnected':
      return 'reconnecting';
    case 'failed':
    case 'closed':
      return 'failed';
    default:
      return 'connecting';
  }
}
