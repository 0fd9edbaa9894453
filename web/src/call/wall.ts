// The videos of a call: the others' large, one's own small in a corner. The elements belong to
// the call, not to a page, so a call keeps its pictures when the page showing it changes.

import { h } from '../dom';
import type { VideoSink } from './engine';

export class VideoWall implements VideoSink {
  readonly el: HTMLElement;
  private readonly remotes = new Map<string, { figure: HTMLElement; video: HTMLVideoElement; caption: HTMLElement }>();
  private readonly localVideo: HTMLVideoElement;
  private readonly localFigure: HTMLElement;
  private readonly waiting: HTMLElement;
  private readonly audioEl: HTMLAudioElement;

  constructor() {
    this.localVideo = h('video', { autoplay: true, muted: true, playsInline: true, class: 'call-video', 'aria-label': 'Your video' });
    // The own picture is a mirror, as people expect of themselves.
    this.localVideo.classList.add('mirrored');
    this.localFigure = h('figure', { class: 'tile tile-local' }, this.localVideo, h('figcaption', null, 'You'));
    this.waiting = h('p', { class: 'call-waiting' }, 'Waiting for the others to join…');
    this.audioEl = h('audio', { autoplay: true, class: 'call-audio' });
    this.el = h('div', { class: 'call-videos', dataset: { remotes: '0' } }, this.waiting, this.localFigure, this.audioEl);
  }

  local(): HTMLVideoElement {
    return this.localVideo;
  }

  remote(id: string, label: string): HTMLVideoElement {
    let r = this.remotes.get(id);
    if (!r) {
      const video = h('video', { autoplay: true, playsInline: true, class: 'call-video', 'aria-label': `Video of ${label}`, dataset: { peer: id } });
      const caption = h('figcaption', null, label);
      const figure = h('figure', { class: 'tile tile-remote' }, video, caption);
      r = { figure, video, caption };
      this.remotes.set(id, r);
      this.el.insertBefore(figure, this.localFigure);
    } else if (r.caption.textContent !== label) {
      r.caption.textContent = label;
      r.video.setAttribute('aria-label', `Video of ${label}`);
    }
    this.paint();
    return r.video;
  }

  removeRemote(id: string): void {
    const r = this.remotes.get(id);
    if (!r) return;
    r.video.srcObject = null;
    r.figure.remove();
    this.remotes.delete(id);
    this.paint();
  }

  audio(): HTMLAudioElement {
    return this.audioEl;
  }

  /** Says who is awaited while nobody else's video is there. */
  setWaiting(text: string): void {
    this.waiting.textContent = text;
  }

  /** Media elements pause when taken out of the page: they play again once it shows them. */
  resume(): void {
    for (const v of [this.localVideo, this.audioEl, ...[...this.remotes.values()].map((r) => r.video)]) {
      if (v.srcObject) void v.play().catch(() => undefined);
    }
  }

  clear(): void {
    for (const id of [...this.remotes.keys()]) this.removeRemote(id);
    this.localVideo.srcObject = null;
    this.audioEl.srcObject = null;
  }

  private paint(): void {
    this.el.dataset.remotes = String(this.remotes.size);
    this.waiting.hidden = this.remotes.size > 0;
  }
}
