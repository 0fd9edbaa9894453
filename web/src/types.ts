// The shapes of Confer's REST API (GET /openapi.json) and WebSocket protocol (docs/asyncapi.yaml)
// that the client reads.

export type Role = 'admin' | 'agent' | 'customer';

export interface ParticipantRef {
  kind: 'agent' | 'customer';
  id: string;
}

export interface Participant extends ParticipantRef {
  joined_at?: string;
  /** Delivery watermark: holds every message up to here. */
  delivered_seq?: number;
  /** Read watermark: has seen every message up to here. */
  read_seq?: number;
  online?: boolean | null;
}

export type MessageKind = 'text' | 'image' | 'audio' | 'file' | 'call';

export interface MessageAttachment {
  id: string;
  file_name: string;
  content_type: string;
  size: number;
  width?: number | null;
  height?: number | null;
  duration_ms?: number | null;
  has_thumbnail?: boolean;
  url?: string | null;
  thumbnail_url?: string | null;
  urls_expire_at?: string | null;
}

export interface Message {
  id: string;
  session_id: string;
  seq: number;
  sender: ParticipantRef;
  client_message_id: string;
  kind: MessageKind;
  text: string;
  created_at: string;
  attachment?: MessageAttachment | null;
  /** For `call` messages: the call this entry records (docs/calls.md). */
  call?: CallSummary | null;
}

export interface Customer {
  id: string;
  name: string;
  email?: string | null;
  phone?: string | null;
  external_ref?: string | null;
  attributes?: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export type SessionStatus = 'open' | 'closed';

export interface Session {
  id: string;
  customer_id: string;
  status: SessionStatus;
  created_by: string;
  created_at: string;
  closed_at?: string | null;
  subject?: string | null;
  last_seq?: number;
  participants?: Participant[];
}

export interface SessionSummary {
  id: string;
  customer_id: string;
  customer_name?: string | null;
  status: SessionStatus;
  subject?: string | null;
  created_at: string;
  closed_at?: string | null;
}

export interface SessionListItem extends SessionSummary {
  last_seq: number;
  read_seq: number;
  unread: number;
}

export interface Page<T> {
  items: T[];
  next_cursor?: string | null;
}

export interface IssuedToken {
  token: string;
  tenant: string;
  role: Role;
  id: string;
  expires_at: string;
}

export interface Me {
  tenant: string;
  role: Role;
  id: string;
}

export interface Invitation {
  secret?: string;
  join_path?: string;
  invitation_url?: string;
  customer_id?: string;
  expires_at: string;
}

export interface SignedUpload {
  url: string;
  method: string;
  headers: Record<string, string>;
  expires_at: string;
}

export interface Attachment {
  id: string;
  session_id: string;
  client_upload_id: string;
  file_name: string;
  kind: 'image' | 'audio' | 'file';
  size: number;
  status: 'pending' | 'ready' | 'rejected';
  rejection?: { code: string; message?: string } | null;
}

export interface UploadTicket {
  attachment: Attachment;
  upload?: SignedUpload | null;
}

export interface CustomerFile {
  attachment_id: string;
  session_id: string;
  message_seq: number;
  kind: 'image' | 'audio' | 'file';
  file_name: string;
  content_type: string;
  size: number;
  uploader: ParticipantRef;
  created_at: string;
  duration_ms?: number | null;
  width?: number | null;
  height?: number | null;
  url?: string | null;
  thumbnail_url?: string | null;
}

// Video calls (docs/calls.md).
export type Quality = '480p' | '720p' | '1080p' | '4k';

export interface CallParticipant {
  who: ParticipantRef;
  joined_at: string;
  left_at?: string | null;
}

export interface Call {
  id: string;
  session_id: string;
  provider: 'webrtc' | 'chime' | VideoApp;
  state: 'active' | 'ended';
  quality: Quality;
  max_quality: Quality;
  started_by: ParticipantRef;
  started_at: string;
  ended_at?: string | null;
  duration_seconds?: number | null;
  participants: CallParticipant[];
  /** Set while the call is being recorded (docs/recordings.md). */
  recording?: CallRecording | null;
  /** A call in the customer's own video app: the meeting's link (docs/providers.md). */
  join_url?: string | null;
}

export interface IceServer {
  urls: string[] | string;
  username?: string;
  credential?: string;
}

export type JoinInfo =
  | { provider: 'webrtc'; ice_servers: IceServer[]; peers: ParticipantRef[] }
  | { provider: 'chime'; meeting: Record<string, unknown>; attendee: Record<string, unknown> }
  | { provider: VideoApp; join_url: string };

export interface CallWithJoin {
  call: Call;
  join: JoinInfo;
}

/** What a `call` message in the history says. */
export interface CallSummary {
  call_id: string;
  event: 'started' | 'ended' | 'recording_started' | 'recording_stopped';
  quality: Quality;
  started_at: string;
  ended_at?: string | null;
  duration_seconds?: number | null;
  participants: ParticipantRef[];
  /** Who started or stopped the recording (`recording_*`). */
  by?: ParticipantRef | null;
  recording_id?: string | null;
  /** A call in the customer's own video app (`started`): which, and the meeting's link. */
  provider?: VideoApp | null;
  join_url?: string | null;
}

/** The customers' own video apps a call can run in (docs/providers.md). */
export type VideoApp = 'zoom' | 'jitsi' | 'teams' | 'meet';
/** Where a call runs: Confer's own video, or one of the tenant's apps. */
export type CallApp = 'integrated' | VideoApp;

/** The tenant's video apps: those offered when a call starts, and the default. */
export interface VideoSettings {
  providers: VideoApp[];
  default: CallApp;
}

// Recordings and transcripts (docs/recordings.md).
export interface CallRecording {
  recording_id: string;
  started_by: ParticipantRef;
  started_at: string;
}

export type RecordingStatus = 'recording' | 'processing' | 'available' | 'failed';
export type TranscriptStatus = 'pending' | 'processing' | 'ready' | 'unavailable' | 'failed';

export interface RecordingTrack {
  track: string;
  participant: ParticipantRef;
  name: string;
  content_type: string;
  size: number;
  duration_ms?: number | null;
}

export interface RecordingMedia {
  track: string;
  content_type: string;
  size: number;
}

export interface Recording {
  id: string;
  session_id: string;
  customer_id: string;
  call_id: string;
  mode: 'browser' | 'pipeline';
  status: RecordingStatus;
  started_by: ParticipantRef;
  started_at: string;
  stopped_by?: ParticipantRef | null;
  stopped_at?: string | null;
  duration_ms?: number | null;
  tracks: RecordingTrack[];
  media: RecordingMedia[];
  failure?: string | null;
  transcript: { status: TranscriptStatus; reason?: string | null; language?: string | null; turns?: number | null };
  /** The video app that made it, for a recording imported from one (docs/providers.md). */
  provider?: VideoApp | null;
}

export interface MediaUrl {
  url: string;
  expires_at: string;
  content_type: string;
}

export interface TranscriptTurn {
  index: number;
  speaker: string;
  name: string;
  start_ms: number;
  end_ms: number;
  text: string;
  confidence?: number | null;
  language?: string | null;
}

export interface TranscriptSpeaker {
  label: string;
  name: string;
  participant?: ParticipantRef | null;
}

/** A message's text in another language (`GET …/messages/{seq}/translation`). */
export interface MessageTranslation {
  session_id: string;
  seq: number;
  language: string;
  text: string;
  translated_at: string;
}

export interface Transcript {
  recording_id: string;
  /** The language spoken. */
  language: string;
  /** The language it is shown in (the one asked for, or the spoken one). */
  lang?: string | null;
  speakers: TranscriptSpeaker[];
  turns: TranscriptTurn[];
  next_cursor?: string | null;
}

export type SignalKind = 'offer' | 'answer' | 'candidate' | 'hangup' | 'decline';

// Server frames.
export interface MessageFrame {
  type: 'message';
  message: Message;
}
export interface AckFrame {
  type: 'ack';
  client_message_id: string;
  message: Message;
  duplicate: boolean;
}
export interface ReceiptFrame {
  type: 'receipt';
  session_id: string;
  participant: ParticipantRef;
  status: 'delivered' | 'read';
  up_to_seq: number;
}
export interface TypingFrame {
  type: 'typing';
  session_id: string;
  participant: ParticipantRef;
}
export interface PresenceFrame {
  type: 'presence';
  session_id: string;
  participant: ParticipantRef;
  online: boolean;
}
export interface SessionFrame {
  type: 'session';
  session: SessionListItem;
}
export interface ErrorFrame {
  type: 'error';
  code: string;
  message: string;
  client_message_id?: string;
  attachment_id?: string;
}
export interface CallFrame {
  type: 'call';
  event: 'started' | 'joined' | 'left' | 'ended' | 'quality' | 'recording_started' | 'recording_stopped';
  session_id: string;
  call: Call;
  participant?: ParticipantRef | null;
}
export interface SignalFrame {
  type: 'signal';
  session_id: string;
  call_id: string;
  from: ParticipantRef;
  kind: SignalKind;
  data: Record<string, unknown>;
}
export interface PongFrame {
  type: 'pong';
}
/** An announcement arrived in the customer's inbox (docs/announcements.md). */
export interface AnnouncementFrame {
  type: 'announcement';
  announcement: InboxEntry;
}
export type ServerFrame =
  | MessageFrame
  | AckFrame
  | ReceiptFrame
  | TypingFrame
  | PresenceFrame
  | SessionFrame
  | ErrorFrame
  | CallFrame
  | SignalFrame
  | AnnouncementFrame
  | PongFrame;

/** A group of customers (docs/announcements.md). */
export interface Group {
  id: string;
  name: string;
  description?: string;
  created_at: string;
  updated_at: string;
}

export interface GroupMember {
  customer_id: string;
  added_at: string;
}

export interface CustomerGroup {
  group_id: string;
  name: string;
  added_at: string;
}

export interface MembersChanged {
  group_id: string;
  requested: number;
  changed: number;
}

// Announcements (docs/announcements.md).
export type AnnouncementStatus = 'scheduled' | 'expanding' | 'sending' | 'sent' | 'cancelled';
export type AnnouncementMediaKind = 'video' | 'audio';

/** The video or audio an announcement carries, as verified. */
export interface MediaSummary {
  media_id: string;
  kind: AnnouncementMediaKind;
  content_type: string;
  file_name: string;
  size: number;
  width?: number | null;
  height?: number | null;
  duration_ms?: number | null;
}

export interface Audience {
  customer_ids: string[];
  group_ids: string[];
}

export interface Announcement {
  id: string;
  title: string;
  body: string;
  media?: MediaSummary | null;
  audience: Audience;
  status: AnnouncementStatus;
  send_at: string;
  created_by: string;
  created_at: string;
  published_at?: string | null;
  sent_at?: string | null;
  cancelled_at?: string | null;
  targeted: number;
  delivered: number;
  delivered_live: number;
  read: number;
  chunks: number;
  chunks_done: number;
}

export interface NewAnnouncement {
  title: string;
  body: string;
  media_id?: string;
  audience: Audience;
  send_at?: string;
}

/** A video or audio file uploaded for announcements: `url` once ready. */
export interface AnnouncementMedia {
  id: string;
  client_upload_id: string;
  file_name: string;
  kind: AnnouncementMediaKind;
  declared_type: string;
  size: number;
  status: 'pending' | 'ready' | 'rejected';
  content_type?: string | null;
  width?: number | null;
  height?: number | null;
  duration_ms?: number | null;
  rejection?: { code: string; message: string } | null;
  url?: string | null;
  url_expires_at?: string | null;
}

export interface MediaTicket {
  media: AnnouncementMedia;
  upload?: SignedUpload | null;
}

export interface AudiencePreview {
  recipients: number;
  customers: number;
  groups: { group_id: string; name: string; members: number }[];
}

/** An announcement in a customer's inbox: the body's opening (`preview`). */
export interface InboxEntry {
  announcement_id: string;
  title: string;
  preview: string;
  media?: MediaSummary | null;
  published_at: string;
  read_at?: string | null;
}

export interface InboxPage extends Page<InboxEntry> {
  unread: number;
  unread_more: boolean;
}

/** An inbox entry opened: the whole body and a short-lived URL of its media. */
export interface OpenedAnnouncement extends InboxEntry {
  body: string;
  media_url?: string | null;
  media_url_expires_at?: string | null;
}

// ---- Search (docs/search.md) ----

export type SearchKind = 'message' | 'file' | 'transcript' | 'announcement' | 'customer';

/** A piece of a title or snippet; `hit` pieces are the words that matched. */
export interface HighlightPart {
  text: string;
  hit?: boolean;
}

/** Where a hit opens: a message or file, a transcript turn, an announcement or a customer. */
export interface SearchLink {
  session_id?: string;
  seq?: number;
  message_id?: string;
  attachment_id?: string;
  recording_id?: string;
  offset_ms?: number;
  language?: string;
  announcement_id?: string;
  customer_id?: string;
}

export interface SearchItem {
  id: string;
  kind: SearchKind;
  customer_id?: string | null;
  session_id?: string | null;
  title?: string | null;
  title_highlight?: HighlightPart[] | null;
  snippet?: HighlightPart[] | null;
  speaker?: string | null;
  language?: string | null;
  at?: string | null;
  link: SearchLink;
  score?: number;
}

export interface SearchAnswer {
  items: SearchItem[];
  next_cursor?: string | null;
  total: number;
  facets: Partial<Record<SearchKind, number>>;
}
