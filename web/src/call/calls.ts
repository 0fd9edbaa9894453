// The calls of the signed-in person, one manager per tab: each session's active call as Confer
// reports it (`call` frames, GET …/call), the person's own part in it (starting, accepting,
// declining, leaving, ending, changing the quality), and the media engine while they take part.
// Calls outlive the screen that shows them: moving to another page keeps the call going.

import { ApiError, describeError } from '../api';
import type { Call, CallApp, CallFrame, ErrorFrame, JoinInfo, ParticipantRef, Quality, SignalFrame } from '../types';
import { createEngine, type CallEngine, type EngineHost } from './engine';
import { mediaErrorMessage, openCameraAndMicrophone, stopStream, type DeviceChoice } from './media';
import { DEFAULT_QUALITY, isQuality } from './presets';
import { readSignal, signalAction } from './signal';
import { VideoWall } from './wall';

/** What a participant learns about the call, for the screen to put in words. */
export type CallNotice =
  | { kind: 'joined' | 'left' | 'declined'; who: ParticipantRef }
  | { kind: 'ended'; who: ParticipantRef | null; seconds: number | null }
  | { kind: 'no-answer' }
  | { kind: 'quality'; who: ParticipantRef | null; quality: Quality }
  | { kind: 'recording'; who: ParticipantRef | null; on: boolean };

export type Phase =
  /** No part in a call (there may be one going on: see `call`). */
  | 'idle'
  /** Opening the camera and microphone, then asking Confer. */
  | 'opening'
  /** In the call. */
  | 'in-call'
  /** Leaving or ending. */
  | 'leaving';

export interface SessionCall {
  readonly sessionId: string;
  /** The session's active call, as last reported; null when there is none. */
  call: Call | null;
  phase: Phase;
  engine: CallEngine | null;
  wall: VideoWall;
  /** The call the person declined (its prompt is not shown again). */
  declinedCallId: string | null;
  /** The last problem, in words (a refused camera, a refused request). */
  error: string;
  /** A warning that does not stop the call (no camera: sound only). */
  warning: string;
  notice: CallNotice | null;
  /** When this side joined (for the duration shown). */
  joinedAt: number;
}

export interface CallsHost {
  readonly me: ParticipantRef;
  /** Makes the videos' elements of a call (a stand-in in unit tests). */
  wall?: () => VideoWall;
  isMe(p: ParticipantRef): boolean;
  send(frame: Record<string, unknown>): boolean;
  api: {
    startCall(sessionId: string, quality: Quality, provider?: CallApp): Promise<{ call: Call; join: JoinInfo }>;
    call(sessionId: string): Promise<Call>;
    joinCall(sessionId: string): Promise<{ call: Call; join: JoinInfo }>;
    leaveCall(sessionId: string): Promise<Call>;
    endCall(sessionId: string): Promise<Call>;
    setCallQuality(sessionId: string, quality: Quality): Promise<Call>;
  };
}

/** How long a call rings with nobody answering before the caller gives up. */
export const RING_MS = 60_000;

const same = (a: ParticipantRef | null | undefined, b: ParticipantRef | null | undefined) => !!a && !!b && a.kind === b.kind && a.id === b.id;

/** Who is in the call now. */
export function present(call: Call | null | undefined): ParticipantRef[] {
  return (call?.participants ?? []).filter((p) => !p.left_at).map((p) => p.who);
}

export function isIn(call: Call | null | undefined, who: ParticipantRef): boolean {
  return present(call).some((p) => same(p, who));
}

export class Calls {
  private readonly sessions = new Map<string, SessionCall>();
  private readonly listeners = new Set<(sessionId: string) => void>();
  private readonly ringTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** When a signal last went out: an error frame soon after is about it. */
  private lastSignalAt = 0;
  /** Names for notices and video labels, given by the screens that know them. */
  names: (who: ParticipantRef) => string = (who) => who.id;
  /** Called just before a call's media stops here (a recording in this browser takes its last chunk). */
  beforeStop: ((sessionId: string) => void) | null = null;

  constructor(private readonly host: CallsHost) {}

  on(fn: (sessionId: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(sessionId: string): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(sessionId);
      } catch (e) {
        console.error(e);
      }
    }
  }

  get(sessionId: string): SessionCall {
    let s = this.sessions.get(sessionId);
    if (!s) {
      s = {
        sessionId,
        call: null,
        phase: 'idle',
        engine: null,
        wall: this.host.wall ? this.host.wall() : new VideoWall(),
        declinedCallId: null,
        error: '',
        warning: '',
        notice: null,
        joinedAt: 0,
      };
      this.sessions.set(sessionId, s);
    }
    return s;
  }

  /** Sessions with a call going on (for lists). */
  active(): SessionCall[] {
    return [...this.sessions.values()].filter((s) => s.call?.state === 'active');
  }

  /** Reads the session's active call (a page opened while one is going on). */
  async refresh(sessionId: string): Promise<void> {
    const s = this.get(sessionId);
    try {
      const call = await this.host.api.call(sessionId);
      this.setCall(s, call.state === 'active' ? call : null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) this.setCall(s, null);
      // Anything else: what is known stays; the next frame or reconnection tells more.
    }
    // Confer lost track of this side (its connection dropped): take part again.
    if (s.phase === 'in-call' && s.call && !isIn(s.call, this.host.me)) await this.rejoin(s);
    this.emit(sessionId);
  }

  private setCall(s: SessionCall, call: Call | null): void {
    s.call = call && call.state === 'active' ? call : null;
    if (!s.call && s.phase === 'in-call') this.teardown(s);
    this.ring(s);
  }

  // ---- the person's part ----

  /** Starts the session's call: in Confer's own video (the camera opens first), or in one of the
   *  tenant's video apps (its meeting opens in a new tab; no camera is needed here). */
  async start(sessionId: string, quality: Quality, devices: DeviceChoice = {}, app?: CallApp): Promise<void> {
    const s = this.get(sessionId);
    if (s.phase !== 'idle') return;
    if (app && app !== 'integrated') {
      await this.inApp(s, () => this.host.api.startCall(sessionId, quality, app), 'started');
      return;
    }
    await this.take(s, devices, quality, () => this.host.api.startCall(sessionId, quality, app));
  }

  /** A call in a video app: Confer starts or joins it, and the app opens at the person's link. */
  private async inApp(s: SessionCall, ask: () => Promise<{ call: Call; join: JoinInfo }>, what: 'started' | 'joined'): Promise<void> {
    s.phase = 'opening';
    s.error = '';
    s.notice = null;
    this.emit(s.sessionId);
    try {
      const answer = await ask();
      s.call = answer.call;
      if ('join_url' in answer.join) window.open(answer.join.join_url, '_blank', 'noopener,noreferrer');
      // The app is where the person takes part: the prompt here is answered.
      s.declinedCallId = answer.call.id;
    } catch (e) {
      s.error = `The call could not be ${what}: ${describeError(e)}`;
    }
    s.phase = 'idle';
    this.emit(s.sessionId);
  }

  async accept(sessionId: string, devices: DeviceChoice = {}): Promise<void> {
    const s = this.get(sessionId);
    if (s.phase !== 'idle' || !s.call) return;
    if (s.call.provider !== 'webrtc' && s.call.provider !== 'chime') {
      // In the tenant's video app: the person's own link opens it; no camera is needed here.
      await this.inApp(s, () => this.host.api.joinCall(sessionId), 'joined');
      return;
    }
    await this.take(s, devices, s.call.quality, () => this.host.api.joinCall(sessionId));
  }

  /** Opens the devices first (a refusal leaves no call behind), then starts or joins, then connects. */
  private async take(s: SessionCall, devices: DeviceChoice, quality: Quality, ask: () => Promise<{ call: Call; join: JoinInfo }>): Promise<void> {
    s.phase = 'opening';
    s.error = '';
    s.warning = '';
    s.notice = null;
    this.emit(s.sessionId);
    let stream: MediaStream;
    try {
      const opened = await openCameraAndMicrophone(quality, devices);
      stream = opened.stream;
      s.warning = opened.missing ?? '';
    } catch (e) {
      s.phase = 'idle';
      s.error = mediaErrorMessage(e);
      this.emit(s.sessionId);
      return;
    }
    let answer: { call: Call; join: JoinInfo };
    try {
      answer = await ask();
    } catch (e) {
      stopStream(stream);
      s.phase = 'idle';
      s.error = `The call could not be ${s.call ? 'joined' : 'started'}: ${describeError(e)}`;
      if (e instanceof ApiError && (e.code === 'no_active_call' || e.status === 404)) s.call = null;
      this.emit(s.sessionId);
      return;
    }
    s.call = answer.call;
    if (answer.join.provider !== 'webrtc' && answer.join.provider !== 'chime') {
      // The call runs in the customer's own video app: its link opens it; the history keeps it.
      stopStream(stream);
      s.phase = 'idle';
      window.open(answer.join.join_url, '_blank', 'noopener,noreferrer');
      this.emit(s.sessionId);
      return;
    }
    const callQuality = isQuality(answer.call.quality) ? answer.call.quality : DEFAULT_QUALITY;
    try {
      const engine = await createEngine(answer.join, this.engineHost(s));
      s.engine = engine;
      s.phase = 'in-call';
      s.joinedAt = Date.now();
      await engine.join(answer.join, stream, callQuality);
    } catch (e) {
      stopStream(stream);
      s.error = `The call could not be connected: ${describeError(e)}`;
      this.emit(s.sessionId);
      await this.leave(s.sessionId);
      return;
    }
    this.ring(s);
    this.emit(s.sessionId);
  }

  private async rejoin(s: SessionCall): Promise<void> {
    try {
      const answer = await this.host.api.joinCall(s.sessionId);
      s.call = answer.call;
      await s.engine?.rejoin(answer.join);
    } catch (e) {
      s.error = `The call was interrupted: ${describeError(e)}`;
      this.teardown(s);
    }
  }

  /** Turns the call down: the caller is told; the call goes on without this side. */
  decline(sessionId: string): void {
    const s = this.get(sessionId);
    const call = s.call;
    if (!call) return;
    s.declinedCallId = call.id;
    const here = present(call);
    const to = here.find((p) => same(p, call.started_by)) ?? here[0];
    if (to && !this.host.isMe(to)) {
      try {
        this.signalSent();
        this.host.send(signalAction(sessionId, to, 'decline'));
      } catch {
        // Declining is a courtesy: the call rings on at the caller's until they give up.
      }
    }
    this.emit(sessionId);
  }

  /** Hangs up: this side leaves; the call goes on for the others (the last one to leave ends it). */
  leave(sessionId: string): Promise<void> {
    return this.hangUp(sessionId, 'Leaving', async (s) => {
      const call = await this.host.api.leaveCall(sessionId);
      s.call = call.state === 'active' ? call : null;
    });
  }

  /** Ends the call for everyone. */
  end(sessionId: string): Promise<void> {
    return this.hangUp(sessionId, 'Ending', async (s) => {
      const call = await this.host.api.endCall(sessionId);
      s.notice = { kind: 'ended', who: this.host.me, seconds: call.duration_seconds ?? null };
      s.call = null;
    });
  }

  /** Stops this side's media, tells the server (`tell`), and tears the call down here. */
  private async hangUp(sessionId: string, doing: string, tell: (s: SessionCall) => Promise<void>): Promise<void> {
    const s = this.get(sessionId);
    if (s.phase === 'leaving') return;
    s.phase = 'leaving';
    this.emit(sessionId);
    this.signalSent();
    this.stopping(s);
    s.engine?.stop();
    try {
      await tell(s);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'no_active_call')) s.error = `${doing} the call failed: ${describeError(e)}`;
    }
    this.teardown(s);
    this.emit(sessionId);
  }

  /** Changes the call's quality for everyone in it (each browser applies it to what it sends). */
  async setQuality(sessionId: string, quality: Quality): Promise<void> {
    const s = this.get(sessionId);
    if (!s.call) return;
    s.error = '';
    try {
      const call = await this.host.api.setCallQuality(sessionId, quality);
      s.call = call;
      await s.engine?.setQuality(call.quality);
    } catch (e) {
      s.error = `The quality could not be changed: ${describeError(e)}`;
    }
    this.emit(sessionId);
  }

  async run(sessionId: string, what: string, action: (engine: CallEngine) => Promise<void> | void, device: Parameters<typeof mediaErrorMessage>[1]): Promise<void> {
    const s = this.get(sessionId);
    if (!s.engine) return;
    s.error = '';
    try {
      await action(s.engine);
    } catch (e) {
      s.error = device ? mediaErrorMessage(e, device) : `${what}: ${describeError(e)}`;
    }
    this.emit(sessionId);
  }

  dismiss(sessionId: string): void {
    const s = this.get(sessionId);
    s.error = '';
    s.notice = null;
    this.emit(sessionId);
  }

  private stopping(s: SessionCall): void {
    if (!s.engine) return;
    try {
      this.beforeStop?.(s.sessionId);
    } catch (e) {
      console.error(e);
    }
  }

  private teardown(s: SessionCall): void {
    this.stopping(s);
    s.engine?.stop();
    s.engine = null;
    s.phase = 'idle';
    s.warning = '';
    s.joinedAt = 0;
    s.wall.clear();
    this.ring(s);
  }

  /** A caller alone in the call gives up after RING_MS. */
  private ring(s: SessionCall): void {
    const alone = s.phase === 'in-call' && !!s.call && present(s.call).length <= 1 && s.call.participants.length <= 1;
    const timer = this.ringTimers.get(s.sessionId);
    if (!alone) {
      if (timer) clearTimeout(timer);
      this.ringTimers.delete(s.sessionId);
      return;
    }
    if (timer) return;
    this.ringTimers.set(
      s.sessionId,
      setTimeout(() => {
        this.ringTimers.delete(s.sessionId);
        const still = s.phase === 'in-call' && present(s.call).length <= 1;
        if (!still) return;
        void this.leave(s.sessionId).then(() => {
          s.notice = { kind: 'no-answer' };
          this.emit(s.sessionId);
        });
      }, RING_MS),
    );
  }

  private engineHost(s: SessionCall): EngineHost {
    return {
      me: this.host.me,
      sessionId: s.sessionId,
      sink: s.wall,
      send: (frame) => {
        this.signalSent();
        return this.host.send(frame);
      },
      changed: () => this.emit(s.sessionId),
      problem: (message) => {
        s.error = message;
        this.emit(s.sessionId);
      },
      nameOf: (who) => this.names(who),
    };
  }

  private signalSent(): void {
    this.lastSignalAt = Date.now();
  }

  // ---- frames ----

  onCallFrame(frame: CallFrame): void {
    const s = this.get(frame.session_id);
    const who = frame.participant ?? null;
    const mine = !!who && this.host.isMe(who);
    switch (frame.event) {
      case 'started':
        s.call = frame.call;
        if (!mine) {
          s.error = '';
          s.notice = null;
        }
        break;
      case 'joined':
        if (s.call && s.call.id !== frame.call.id) break;
        s.call = frame.call;
        if (!mine && who) {
          s.engine?.peerJoined(who);
          if (s.phase === 'in-call') s.notice = { kind: 'joined', who };
        }
        break;
      case 'left':
        s.call = frame.call.state === 'active' ? frame.call : null;
        if (who && !mine) {
          s.engine?.peerLeft(who);
          if (s.phase === 'in-call') s.notice = { kind: 'left', who };
        } else if (mine && s.phase === 'in-call' && s.call) {
          // Confer took this side out (its connection dropped) while the call goes on here.
          void this.rejoin(s);
        }
        break;
      case 'ended':
        if (s.phase === 'in-call' || (s.call && s.call.id === frame.call.id && !mine)) {
          s.notice = { kind: 'ended', who, seconds: frame.call.duration_seconds ?? null };
        }
        s.call = null;
        if (s.phase === 'in-call') this.teardown(s);
        break;
      case 'quality':
        s.call = frame.call;
        if (s.engine && isQuality(frame.call.quality)) void s.engine.setQuality(frame.call.quality);
        if (!mine && s.phase === 'in-call') s.notice = { kind: 'quality', who, quality: frame.call.quality };
        break;
      case 'recording_started':
      case 'recording_stopped':
        if (s.call && s.call.id !== frame.call.id) break;
        s.call = frame.call.state === 'active' ? frame.call : null;
        if (!mine && s.phase === 'in-call') s.notice = { kind: 'recording', who, on: frame.event === 'recording_started' };
        break;
    }
    this.ring(s);
    this.emit(s.sessionId);
  }

  onSignal(raw: SignalFrame): void {
    const frame = readSignal(raw);
    if (!frame) return;
    const s = this.get(frame.session_id);
    if (frame.kind === 'decline') {
      if (s.phase !== 'in-call' || (s.call && s.call.id !== frame.call_id)) return;
      s.notice = { kind: 'declined', who: frame.from };
      // Nobody else is with this side: the call is over.
      const others = present(s.call).filter((p) => !this.host.isMe(p));
      if (others.length === 0) void this.leave(s.sessionId).then(() => ((s.notice = { kind: 'declined', who: frame.from }), this.emit(s.sessionId)));
      this.emit(s.sessionId);
      return;
    }
    if (!s.engine || (s.call && s.call.id !== frame.call_id)) return;
    void s.engine.signal(frame).catch((e) => {
      s.error = `The connection with ${this.names(frame.from)} failed: ${describeError(e)}`;
      this.emit(s.sessionId);
    });
  }

  /** An error frame right after a signal went out is about it (the call ended meanwhile): not for a notice. */
  claimsError(frame: ErrorFrame): boolean {
    if (frame.client_message_id || frame.attachment_id) return false;
    if (Date.now() - this.lastSignalAt > 5000) return false;
    if (!['no_active_call', 'not_a_participant', 'validation_failed', 'not_found'].includes(frame.code)) return false;
    console.warn(`Confer refused a call signal: ${frame.code}: ${frame.message}`);
    return true;
  }

  /** The socket is back: each call known here is read again (frames may have been missed). */
  reconnected(): void {
    for (const s of this.sessions.values()) if (s.call || s.phase !== 'idle') void this.refresh(s.sessionId);
  }

  stopAll(): void {
    for (const s of this.sessions.values()) {
      if (s.phase === 'in-call') {
        this.stopping(s);
        s.engine?.stop();
        // The connection closing takes this side out of the call.
      }
      s.engine = null;
      s.wall.clear();
    }
    for (const t of this.ringTimers.values()) clearTimeout(t);
    this.ringTimers.clear();
    this.listeners.clear();
  }

  /** For lists: whether a call is ringing for the person (going on, and they are not in it). */
  ringing(sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    return !!s?.call && s.phase === 'idle' && !s.call.participants.some((p) => same(p.who, this.host.me)) && s.declinedCallId !== s.call.id;
  }
}
