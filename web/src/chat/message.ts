// One message as a list item: text, an image (thumbnail, full size on click), a voice message
// (an audio player), or a file (a download).

import { durationInWords, formatBytes, formatCallDuration, formatDateTime, formatDuration, joinNames } from '../format';
import { h, srOnly } from '../dom';
import { icon } from '../icons';
import type { Message, MessageAttachment, ParticipantRef, VideoApp } from '../types';
import { translateControl, type ReaderLanguage } from './translate';

export interface MessageContext {
  isMine(m: Message): boolean;
  senderName(m: Message): string;
  /** Download URLs are short-lived: a fresh copy of the message when they are about to expire. */
  fresh(m: Message): Promise<Message>;
  openImage(m: Message, trigger: HTMLElement): void;
  /** A participant's name as this page shows it ("You" for the person). */
  nameOf?(p: ParticipantRef): string;
  isMe?(p: ParticipantRef): boolean;
  /** Where a recording opens, for those who may open it. */
  recordingHref?(recordingId: string): string | null;
  /** The reader's language, and the message's text in it (others' messages offer it). */
  language?: ReaderLanguage;
  translate?(m: Message, language: ReaderLanguage): Promise<string>;
}

/** What a `call` entry of the history says: "Video call started by Ada" / "Video call ended · 3 min 12 s · with Ada". */
export function callLineText(m: Message, ctx: Pick<MessageContext, 'nameOf' | 'isMe' | 'senderName'>): string {
  const call = m.call;
  const name = (p: ParticipantRef) => (ctx.isMe?.(p) ? 'you' : ctx.nameOf?.(p) ?? p.id);
  if (!call) return 'Video call';
  if (call.event === 'recording_started' || call.event === 'recording_stopped') {
    const by = call.by ?? m.sender;
    return `Recording ${call.event === 'recording_started' ? 'started' : 'stopped'} by ${name(by)}`;
  }
  if (call.event === 'started') {
    const by = call.participants[0] ?? m.sender;
    const app = call.provider ? ` in ${VIDEO_APP_NAMES[call.provider]}` : '';
    return `Video call started${app} by ${name(by)}`;
  }
  const parts = ['Video call ended'];
  const length = formatCallDuration(call.duration_seconds);
  if (length) parts.push(length);
  const others = call.participants.filter((p) => !ctx.isMe?.(p));
  const tookPart = call.participants.length;
  if (tookPart <= 1) parts.push('not answered');
  else if (others.length > 0) parts.push(`with ${joinNames(others.map(name))}`);
  return parts.join(' · ');
}

/** The names people know the video apps by. */
export const VIDEO_APP_NAMES: Record<VideoApp, string> = { zoom: 'Zoom', jitsi: 'Jitsi', teams: 'Microsoft Teams', meet: 'Google Meet' };

/** The link a started call in a video app offers, when it is a web address. */
export function callJoinLink(m: Message): { href: string; label: string } | null {
  const call = m.call;
  if (call?.event !== 'started' || !call.provider || !call.join_url) return null;
  const href = /^https:\/\//i.test(call.join_url) ? call.join_url : '';
  return href ? { href, label: `Join in ${VIDEO_APP_NAMES[call.provider]}` } : null;
}

function callLine(m: Message, ctx: MessageContext): HTMLLIElement {
  const event = m.call?.event ?? '';
  const recording = event.startsWith('recording_');
  const href = event === 'recording_stopped' && m.call?.recording_id ? ctx.recordingHref?.(m.call.recording_id) : null;
  return h(
    'li',
    { class: `msg call-line kind-call${event === 'ended' ? ' ended' : ''}${recording ? ' recording-line' : ''}`, dataset: { seq: String(m.seq), id: m.id, event } },
    h(
      'p',
      { class: 'call-line-text' },
      recording ? h('span', { class: 'rec-badge-dot', 'aria-hidden': 'true' }, '●') : icon('video', 18),
      h('span', null, callLineText(m, ctx)),
      href ? h('a', { href, class: 'call-line-link' }, 'Open the recording') : null,
      ((join) => (join ? h('a', { href: join.href, class: 'call-line-link', target: '_blank', rel: 'noopener noreferrer' }, join.label) : null))(callJoinLink(m)),
      h('time', { dateTime: m.created_at }, formatDateTime(m.created_at)),
    ),
  );
}

/** Display size of an image inside a box, keeping its proportions. */
export function fitInside(width: number | null | undefined, height: number | null | undefined, box = 240): [number, number] {
  if (!width || !height) return [box, box];
  const scale = Math.min(1, box / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

/** Only web addresses become links and sources (never `javascript:` or the like). */
export function safeUrl(url: string | null | undefined): string {
  return url && /^(https?:|blob:)/i.test(url) ? url : '';
}

/** Whether browsers can show the image itself (a HEIC photo without a thumbnail they cannot). */
export function showsInline(a: MessageAttachment): boolean {
  return !!safeUrl(a.thumbnail_url) || !/^image\/hei[cf]/i.test(a.content_type);
}

export function urlsExpired(a: MessageAttachment | null | undefined, now = Date.now(), marginMs = 60_000): boolean {
  if (!a?.urls_expire_at) return false;
  const t = Date.parse(a.urls_expire_at);
  return Number.isFinite(t) && t - marginMs <= now;
}

export function messageItem(m: Message, ctx: MessageContext): HTMLLIElement {
  if (m.kind === 'call') return callLine(m, ctx);
  const mine = ctx.isMine(m);
  const sender = ctx.senderName(m);
  const body = h('div', { class: 'bubble' });
  body.appendChild(h('p', { class: 'sender' }, sender));
  const a = m.attachment;
  if (m.kind === 'image' && a && showsInline(a)) {
    const [w, hgt] = fitInside(a.width, a.height);
    const img = h('img', {
      src: safeUrl(a.thumbnail_url) || safeUrl(a.url),
      alt: m.text ? `Image: ${m.text}` : `Image ${a.file_name}`,
      width: w,
      height: hgt,
      loading: 'lazy',
      decoding: 'async',
      class: 'thumb',
    });
    const open = h('button', { type: 'button', class: 'thumb-button', 'aria-label': `Open image ${a.file_name} at full size` }, img);
    open.addEventListener('click', () => ctx.openImage(m, open));
    body.appendChild(open);
    if (m.text) body.appendChild(h('p', { class: 'text caption' }, m.text));
  } else if (m.kind === 'audio' && a) {
    const label = `Voice message from ${sender}${a.duration_ms ? `, ${durationInWords(a.duration_ms)}` : ''}`;
    const audio = h('audio', { controls: true, preload: 'metadata', src: safeUrl(a.url), 'aria-label': label });
    let refreshed = false;
    audio.addEventListener('error', async () => {
      // An expired URL: sign a fresh one once.
      if (refreshed || !urlsExpired(a, Date.now(), 0)) return;
      refreshed = true;
      const fresh = await ctx.fresh(m).catch(() => null);
      if (safeUrl(fresh?.attachment?.url)) audio.src = safeUrl(fresh?.attachment?.url);
    });
    body.appendChild(
      h(
        'div',
        { class: 'voice' },
        audio,
        a.duration_ms ? h('span', { class: 'duration', 'aria-hidden': 'true' }, formatDuration(a.duration_ms)) : null,
      ),
    );
    if (m.text) body.appendChild(h('p', { class: 'text caption' }, m.text));
  } else if ((m.kind === 'file' || m.kind === 'image') && a) {
    const link = h(
      'a',
      { class: 'file', href: safeUrl(a.url) || '#', download: a.file_name, rel: 'noopener' },
      icon('file'),
      h('span', { class: 'file-name' }, a.file_name),
      h('span', { class: 'file-size' }, formatBytes(a.size)),
      srOnly(' (download)'),
    );
    link.addEventListener('click', async (e) => {
      if (!urlsExpired(m.attachment)) return;
      e.preventDefault();
      const fresh = await ctx.fresh(m).catch(() => null);
      const url = safeUrl(fresh?.attachment?.url);
      if (fresh?.attachment && url) {
        m.attachment = fresh.attachment;
        link.href = url;
        link.click();
      }
    });
    body.appendChild(link);
    if (m.text) body.appendChild(h('p', { class: 'text caption' }, m.text));
  } else {
    body.appendChild(h('p', { class: 'text' }, m.text));
  }
  const ticks = mine ? h('span', { class: 'ticks' }) : null;
  const { language, translate } = ctx;
  const translation = !mine && m.text.trim() && language && translate ? translateControl(language, () => translate(m, language)) : null;
  if (translation) body.appendChild(translation.output);
  body.appendChild(
    h('p', { class: 'meta' }, h('time', { dateTime: m.created_at }, formatDateTime(m.created_at)), translation?.button, ticks),
  );
  return h(
    'li',
    { class: `msg ${mine ? 'mine' : 'theirs'} kind-${m.kind}`, dataset: { seq: String(m.seq), id: m.id } },
    body,
  );
}

/** Paints a message's delivery ticks: ✓ stored, ✓✓ delivered, ✓✓ (coloured) read. */
export function paintTicks(li: HTMLElement, status: 'sent' | 'delivered' | 'read'): void {
  const ticks = li.querySelector<HTMLElement>('.ticks');
  if (!ticks || ticks.dataset.status === status) return;
  ticks.dataset.status = status;
  const words = { sent: 'Sent', delivered: 'Delivered', read: 'Read' }[status];
  ticks.replaceChildren(h('span', { 'aria-hidden': 'true' }, status === 'sent' ? '✓' : '✓✓'), srOnly(words));
  ticks.title = words;
}
