// Confer's REST API. Every failure becomes an ApiError whose message is the error envelope's
// message (docs/errors.md), written for the person using the client.

import type {
  Announcement,
  AnnouncementMedia,
  Audience,
  AudiencePreview,
  Call,
  CallApp,
  CallWithJoin,
  Customer,
  CustomerFile,
  CustomerGroup,
  Group,
  GroupMember,
  Invitation,
  InboxEntry,
  InboxPage,
  IssuedToken,
  Me,
  MediaTicket,
  Message,
  MessageTranslation,
  Page,
  MediaUrl,
  MembersChanged,
  NewAnnouncement,
  OpenedAnnouncement,
  Quality,
  Recording,
  SearchAnswer,
  Session,
  SessionListItem,
  SessionSummary,
  SignedUpload,
  Transcript,
  UploadTicket,
  VideoSettings,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What a person reads for any error: the API's own words where there are some. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error && e.message) return e.message;
  return 'Something went wrong. Please try again.';
}

/** Reads an error answer: Confer's envelope, API Gateway's `{"message"}`, or the status alone. */
export function errorFromResponse(status: number, body: unknown, requestId?: string): ApiError {
  const envelope = (body as { error?: { code?: string; message?: string; request_id?: string } } | null)?.error;
  if (envelope && typeof envelope.message === 'string') {
    return new ApiError(status, envelope.code ?? 'error', envelope.message, envelope.request_id ?? requestId);
  }
  const plain = (body as { message?: unknown } | null)?.message;
  if (typeof plain === 'string' && plain) return new ApiError(status, `http_${status}`, plain, requestId);
  const words: Record<number, string> = {
    401: 'You are not signed in, or your sign-in has expired.',
    403: 'You are not allowed to do this.',
    404: 'This was not found.',
    413: 'This is too large.',
    429: 'Too many requests; please wait a moment.',
  };
  return new ApiError(status, `http_${status}`, words[status] ?? `The server answered ${status}. Please try again.`, requestId);
}

export const NETWORK_ERROR = 'Confer could not be reached. Check your connection and try again.';

type Query = Record<string, string | number | undefined | null>;

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

export interface ApiOptions {
  base?: string;
  token: () => string | null;
  /** Called when an authenticated call answers 401 (the token expired or was revoked). */
  onUnauthorized?: (e: ApiError) => void;
  fetch?: typeof fetch;
}

export class Api {
  readonly base: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: ApiOptions) {
    this.base = options.base ?? '';
    this.doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async request<T>(method: string, path: string, body?: unknown, auth = true): Promise<T> {
    return (await this.requestWithStatus<T>(method, path, body, auth)).body;
  }

  /** A request whose answer's status matters too (201 made, 200 already there). */
  async requestWithStatus<T>(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const token = auth ? this.options.token() : null;
    if (auth && token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.doFetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, 'network', NETWORK_ERROR);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) {
      const e = errorFromResponse(response.status, parsed, response.headers.get('apigw-requestid') ?? undefined);
      if (response.status === 401 && auth) this.options.onUnauthorized?.(e);
      throw e;
    }
    return { status: response.status, body: parsed as T };
  }

  /** A file the API answers (an export): its bytes and the name it suggests. */
  async download(path: string): Promise<{ blob: Blob; fileName: string | null }> {
    const headers: Record<string, string> = {};
    const token = this.options.token();
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await this.doFetch(this.base + path, { method: 'GET', headers, credentials: 'omit' });
    } catch {
      throw new ApiError(0, 'network', NETWORK_ERROR);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      const e = errorFromResponse(response.status, parsed, response.headers.get('apigw-requestid') ?? undefined);
      if (response.status === 401) this.options.onUnauthorized?.(e);
      throw e;
    }
    return { blob: await response.blob(), fileName: fileNameOf(response.headers.get('content-disposition')) };
  }

  // Who am I
  me = () => this.request<Me>('GET', '/v1/me');
  signIn = (tenant: string, username: string, password: string) =>
    this.request<IssuedToken>('POST', '/v1/local/sign-in', { tenant, username, password }, false);
  exchangeInvitation = (secret: string) =>
    this.request<IssuedToken>('POST', '/v1/invitations/exchange', { secret }, false);

  // Customers
  customers = (q: Query) => this.request<Page<Customer>>('GET', `/v1/customers${queryString(q)}`);
  customer = (id: string) => this.request<Customer>('GET', `/v1/customers/${encodeURIComponent(id)}`);
  createCustomer = (body: Partial<Customer>) => this.request<Customer>('POST', '/v1/customers', body);
  updateCustomer = (id: string, patch: Partial<Customer>) =>
    this.request<Customer>('PATCH', `/v1/customers/${encodeURIComponent(id)}`, patch);
  customerSessions = (id: string, q: Query = {}) =>
    this.request<Page<SessionSummary>>('GET', `/v1/customers/${encodeURIComponent(id)}/sessions${queryString(q)}`);
  customerFiles = (id: string, q: Query = {}) =>
    this.request<Page<CustomerFile>>('GET', `/v1/customers/${encodeURIComponent(id)}/files${queryString(q)}`);
  invite = (id: string) =>
    this.request<Invitation>('POST', `/v1/customers/${encodeURIComponent(id)}/invitations`, {});

  // Sessions
  mySessions = (q: Query = {}) => this.request<Page<SessionListItem>>('GET', `/v1/sessions${queryString(q)}`);
  session = (id: string) => this.request<Session>('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  openSession = (customer_id: string, subject?: string) =>
    this.request<Session>('POST', '/v1/sessions', subject ? { customer_id, subject } : { customer_id });
  closeSession = (id: string) => this.request<Session>('POST', `/v1/sessions/${encodeURIComponent(id)}/close`, {});
  messages = (id: string, q: Query = {}) =>
    this.request<Page<Message>>('GET', `/v1/sessions/${encodeURIComponent(id)}/messages${queryString(q)}`);
  requestUpload = (
    sessionId: string,
    body: { client_upload_id: string; file_name: string; content_type: string; size: number; caption?: string },
  ) => this.request<UploadTicket>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/attachments`, body);

  // Video calls (docs/calls.md)
  startCall = (sessionId: string, quality: Quality, provider?: CallApp) =>
    this.request<CallWithJoin>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/call`, provider ? { quality, provider } : { quality });
  /** The tenant's video apps (agents and admins). */
  videoSettings = async (): Promise<VideoSettings> => {
    const settings = await this.request<{ video?: Partial<VideoSettings> }>('GET', '/v1/tenant/settings');
    return { providers: settings.video?.providers ?? [], default: settings.video?.default ?? 'integrated' };
  };
  call = (sessionId: string) => this.request<Call>('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/call`);
  joinCall = (sessionId: string) =>
    this.request<CallWithJoin>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/call/join`, {});
  leaveCall = (sessionId: string) => this.request<Call>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/call/leave`, {});
  endCall = (sessionId: string) => this.request<Call>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/call/end`, {});
  setCallQuality = (sessionId: string, quality: Quality) =>
    this.request<Call>('PATCH', `/v1/sessions/${encodeURIComponent(sessionId)}/call`, { quality });

  // Customer groups (docs/announcements.md)
  groups = (q: Query = {}) => this.request<Page<Group>>('GET', `/v1/groups${queryString(q)}`);
  group = (id: string) => this.request<Group>('GET', `/v1/groups/${encodeURIComponent(id)}`);
  createGroup = (body: { name: string; description?: string }) => this.request<Group>('POST', '/v1/groups', body);
  updateGroup = (id: string, patch: { name?: string; description?: string | null }) =>
    this.request<Group>('PATCH', `/v1/groups/${encodeURIComponent(id)}`, patch);
  deleteGroup = (id: string) => this.request<unknown>('DELETE', `/v1/groups/${encodeURIComponent(id)}`);
  groupMembers = (id: string, q: Query = {}) =>
    this.request<Page<GroupMember>>('GET', `/v1/groups/${encodeURIComponent(id)}/members${queryString(q)}`);
  addGroupMembers = (id: string, customerIds: string[]) =>
    this.request<MembersChanged>('POST', `/v1/groups/${encodeURIComponent(id)}/members`, { customer_ids: customerIds });
  removeGroupMembers = (id: string, customerIds: string[]) =>
    this.request<MembersChanged>('POST', `/v1/groups/${encodeURIComponent(id)}/members/remove`, { customer_ids: customerIds });
  customerGroups = (customerId: string, q: Query = {}) =>
    this.request<Page<CustomerGroup>>('GET', `/v1/customers/${encodeURIComponent(customerId)}/groups${queryString(q)}`);

  // Announcements and the customer's inbox (docs/announcements.md)
  announcements = (q: Query = {}) => this.request<Page<Announcement>>('GET', `/v1/announcements${queryString(q)}`);
  announcement = (id: string) => this.request<Announcement>('GET', `/v1/announcements/${encodeURIComponent(id)}`);
  createAnnouncement = (body: NewAnnouncement) => this.request<Announcement>('POST', '/v1/announcements', body);
  cancelAnnouncement = (id: string) => this.request<Announcement>('POST', `/v1/announcements/${encodeURIComponent(id)}/cancel`, {});
  previewAudience = (audience: Partial<Audience>) => this.request<AudiencePreview>('POST', '/v1/announcement-audience', audience);
  requestAnnouncementMedia = (body: { client_upload_id: string; file_name: string; content_type: string; size: number }) =>
    this.request<MediaTicket>('POST', '/v1/announcement-media', body);
  announcementMedia = (id: string) => this.request<AnnouncementMedia>('GET', `/v1/announcement-media/${encodeURIComponent(id)}`);
  inbox = (q: Query = {}) => this.request<InboxPage>('GET', `/v1/inbox${queryString(q)}`);
  inboxEntry = (id: string) => this.request<OpenedAnnouncement>('GET', `/v1/inbox/${encodeURIComponent(id)}`);
  readInboxEntry = (id: string) => this.request<InboxEntry>('POST', `/v1/inbox/${encodeURIComponent(id)}/read`, {});

  /** A message's text in the reader's language (translated once, then stored). */
  translateMessage = (sessionId: string, seq: number, lang: string) =>
    this.request<MessageTranslation>('GET', `/v1/sessions/${encodeURIComponent(sessionId)}/messages/${seq}/translation${queryString({ lang })}`);

  /** One search over messages, files, transcripts, announcements and customers (docs/search.md). */
  search = (q: Query) => this.request<SearchAnswer>('GET', `/v1/search${queryString(q)}`);

  // Recordings and transcripts (docs/recordings.md)
  startRecording = async (sessionId: string): Promise<{ recording: Recording; created: boolean }> => {
    const r = await this.requestWithStatus<{ recording?: Recording } & Partial<Recording>>('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/call/recording`, {});
    return { recording: unwrapRecording(r.body), created: r.status === 201 };
  };
  stopRecording = async (sessionId: string, chunks?: Record<string, number>): Promise<Recording> =>
    unwrapRecording(await this.request('DELETE', `/v1/sessions/${encodeURIComponent(sessionId)}/call/recording`, chunks ? { chunks } : {}));
  recordingChunk = (id: string, body: { track: string; seq: number; content_type: string; size: number; offset_ms?: number }) =>
    this.request<{ upload: SignedUpload }>('POST', `/v1/recordings/${encodeURIComponent(id)}/chunks`, body);
  customerRecordings = (customerId: string, q: Query = {}) =>
    this.request<Page<Recording>>('GET', `/v1/customers/${encodeURIComponent(customerId)}/recordings${queryString(q)}`);
  recording = (id: string) => this.request<Recording>('GET', `/v1/recordings/${encodeURIComponent(id)}`);
  recordingMedia = (id: string, track = 'mixed') =>
    this.request<MediaUrl>('GET', `/v1/recordings/${encodeURIComponent(id)}/media${queryString({ track })}`);
  transcript = (id: string, q: Query = {}) =>
    this.request<Transcript>('GET', `/v1/recordings/${encodeURIComponent(id)}/transcript${queryString(q)}`);
  nameSpeakers = (id: string, speakers: Record<string, string>) =>
    this.request<unknown>('PATCH', `/v1/recordings/${encodeURIComponent(id)}/transcript/speakers`, { speakers });
  exportTranscript = (id: string, format: 'txt' | 'srt' | 'vtt' | 'json', lang?: string | null) =>
    this.download(`/v1/recordings/${encodeURIComponent(id)}/transcript/export${queryString({ format, lang })}`);
}

/** `{recording}` as the recording calls answer it (or the recording itself). */
function unwrapRecording(body: ({ recording?: Recording } & Partial<Recording>) | null): Recording {
  if (body?.recording) return body.recording;
  return body as Recording;
}

/** The file name of a `Content-Disposition` header: `filename*=UTF-8''…` or `filename="…"`. */
export function fileNameOf(disposition: string | null | undefined): string | null {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim().replace(/^"|"$/g, ''));
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*("([^"]*)"|[^;]+)/.exec(disposition);
  const name = (plain?.[2] ?? plain?.[1] ?? '').trim();
  return name ? name.replace(/[\\/]/g, '_') : null;
}
