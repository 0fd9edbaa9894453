import { describe, expect, it } from 'vitest';
import { mediaErrorMessage } from './media';

const err = (name: string, message = '') => Object.assign(new Error(message), { name });

describe('device errors in words', () => {
  it('says what to do for each of the browser’s refusals', () => {
    expect(mediaErrorMessage(err('NotAllowedError'))).toMatch(/^Confer is not allowed to use your camera and microphone\. Allow it/);
    expect(mediaErrorMessage(err('NotAllowedError'), 'camera')).toMatch(/your camera\./);
    expect(mediaErrorMessage(err('NotFoundError'))).toBe('No camera or microphone was found. Connect one, then try again.');
    expect(mediaErrorMessage(err('NotFoundError'), 'microphone')).toBe('No microphone was found. Connect one, then try again.');
    expect(mediaErrorMessage(err('NotReadableError'), 'camera')).toMatch(/^Your camera could not be started: another program may be using it/);
    expect(mediaErrorMessage(err('OverconstrainedError'), 'camera')).toMatch(/Choose another one/);
    expect(mediaErrorMessage(err('NotAllowedError'), 'screen')).toBe('Sharing your screen was not allowed, or you cancelled it.');
    expect(mediaErrorMessage(err('TypeError'))).toMatch(/secure https/);
    expect(mediaErrorMessage(err('Weird', 'it broke'), 'microphone')).toBe('Your microphone could not be used: it broke');
    expect(mediaErrorMessage(null)).toBe('Your camera and microphone could not be used.');
  });
});
