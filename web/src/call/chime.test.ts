// The Chime engine against a stand-in of the SDK: what it is given and asked, as the SDK's
// documented API names them (it cannot meet real Chime here).

import { describe, expect, it } from 'vitest';
import { ChimeEngine } from './chime';
import { participantOfExternalUserId, type EngineHost } from './engine';

function fakeSdk() {
  const calls: [string, ...unknown[]][] = [];
  const observers: Record<string, (...a: unknown[]) => void>[] = [];
  const audioVideo = new Proxy(
    {},
    {
      get(_, name: string) {
        if (name === 'addObserver') return (o: Record<string, (...a: unknown[]) => void>) => observers.push(o);
        if (name === 'then') return undefined;
        return (...args: unknown[]) => {
          calls.push([name, ...args]);
          return name.startsWith('start') || name.startsWith('stop') || name === 'bindAudioElement' ? Promise.resolve(undefined) : undefined;
        };
      },
    },
  );
  const configurations: unknown[][] = [];
  const sdk = {
    ConsoleLogger: class {},
    LogLevel: { WARN: 2 },
    DefaultDeviceController: class {},
    MeetingSessionConfiguration: class {
      constructor(...args: unknown[]) {
        configurations.push(args);
      }
    },
    DefaultMeetingSession: class {
      audioVideo = audioVideo;
    },
  };
  return { sdk, calls, observers, configurations };
}

const element = (name: string) => ({ name }) as unknown as HTMLVideoElement;

function host(): EngineHost & { remotes: string[]; changes: number } {
  const h = {
    me: { kind: 'agent' as const, id: 'ann' },
    sessionId: 'ses_1',
    remotes: [] as string[],
    changes: 0,
    sink: {
      local: () => element('local'),
      remote: (id: string, label: string) => {
        h.remotes.push(`${id}:${label}`);
        return element(id);
      },
      removeRemote: () => undefined,
      audio: () => ({ name: 'audio' }) as unknown as HTMLAudioElement,
    },
    send: () => true,
    changed: () => void h.changes++,
    problem: () => undefined,
    nameOf: (p: { kind: string; id: string }) => (p.kind === 'customer' ? 'Ada Lovelace' : p.id),
  };
  return h;
}

const track = (deviceId: string) => ({ getSettings: () => ({ deviceId }), stop: () => undefined });
const stream = {
  getVideoTracks: () => [track('cam-1')],
  getAudioTracks: () => [track('mic-1')],
  getTracks: () => [track('cam-1'), track('mic-1')],
} as unknown as MediaStream;

describe('the Chime engine', () => {
  it('joins with the meeting and attendee as given, at the preset', async () => {
    const { sdk, calls, configurations } = fakeSdk();
    const engine = new ChimeEngine(host(), sdk as never);
    const meeting = { MeetingId: 'm-1', MediaPlacement: {} };
    const attendee = { AttendeeId: 'a-1', JoinToken: 't' };
    await engine.join({ provider: 'chime', meeting, attendee }, stream, '720p');
    expect(configurations).toEqual([[meeting, attendee]]);
    const names = calls.map((c) => c[0]);
    expect(calls).toContainEqual(['chooseVideoInputQuality', 1280, 720, 30]);
    expect(calls).toContainEqual(['setVideoMaxBandwidthKbps', 2500]);
    expect(calls).toContainEqual(['startAudioInput', 'mic-1']);
    expect(calls).toContainEqual(['startVideoInput', 'cam-1']);
    // The preset comes before the camera opens, and the meeting starts after both.
    expect(names.indexOf('chooseVideoInputQuality')).toBeLessThan(names.indexOf('startVideoInput'));
    expect(names.indexOf('start')).toBeGreaterThan(names.indexOf('startVideoInput'));
    expect(names).toContain('startLocalVideoTile');
  });

  it('binds each tile to a video element, the others’ by who they are', async () => {
    const { sdk, calls, observers } = fakeSdk();
    const h = host();
    const engine = new ChimeEngine(h, sdk as never);
    await engine.join({ provider: 'chime', meeting: {}, attendee: {} }, stream, '480p');
    const tile = (o: object) => observers.forEach((x) => x.videoTileDidUpdate?.({ tileId: 1, localTile: false, isContent: false, boundAttendeeId: null, boundExternalUserId: null, ...o }));
    tile({ tileId: 1, localTile: true });
    tile({ tileId: 2, boundAttendeeId: 'a-2', boundExternalUserId: 'C#cus_1' });
    tile({ tileId: 3, boundAttendeeId: 'a-2#content', boundExternalUserId: 'C#cus_1', isContent: true });
    expect(calls.filter((c) => c[0] === 'bindVideoElement')).toEqual([
      ['bindVideoElement', 1, { name: 'local' }],
      ['bindVideoElement', 2, { name: 'tile-2' }],
      ['bindVideoElement', 3, { name: 'tile-3' }],
    ]);
    expect(h.remotes).toEqual(['tile-2:Ada Lovelace', 'tile-3:Screen shared by Ada Lovelace']);
    expect(engine.peers()).toEqual([{ who: { kind: 'customer', id: 'cus_1' }, state: 'connecting' }]);
  });

  it('changes quality, mutes, shares the screen and leaves through the SDK', async () => {
    const { sdk, calls } = fakeSdk();
    const engine = new ChimeEngine(host(), sdk as never);
    await engine.join({ provider: 'chime', meeting: {}, attendee: {} }, stream, '480p');
    calls.length = 0;
    await engine.setQuality('1080p');
    expect(calls).toEqual([
      ['chooseVideoInputQuality', 1920, 1080, 30],
      ['setVideoMaxBandwidthKbps', 4500],
      ['startVideoInput', 'cam-1'],
    ]);
    calls.length = 0;
    engine.setMuted(true);
    engine.setMuted(false);
    engine.setCameraOff(true);
    await engine.shareScreen();
    await engine.stopSharing();
    expect(calls.map((c) => c[0])).toEqual([
      'realtimeMuteLocalAudio',
      'realtimeUnmuteLocalAudio',
      'stopLocalVideoTile',
      'startContentShareFromScreenCapture',
      'stopContentShare',
    ]);
    calls.length = 0;
    engine.stop();
    expect(calls.map((c) => c[0])).toEqual(['stopLocalVideoTile', 'stop', 'stopVideoInput', 'stopAudioInput', 'unbindAudioElement']);
  });

  it('reads attendees’ external user ids as Confer writes them', () => {
    expect(participantOfExternalUserId('A#ann')).toEqual({ kind: 'agent', id: 'ann' });
    expect(participantOfExternalUserId('C#cus_01H')).toEqual({ kind: 'customer', id: 'cus_01H' });
    expect(participantOfExternalUserId('X#who')).toBeNull();
    expect(participantOfExternalUserId(null)).toBeNull();
  });
});
