//! What a function uses beyond its code: each capability is a group of ports, the environment
//! that configures them in the cloud, and the permissions template.yaml grants for them. The route
//! and trigger tables name the capabilities of every function, so a Lambda builds (and warms)
//! only the clients it calls, and tests/template_routes.rs proves each function's environment
//! and permissions match. A port a function lacks answers a clear `not_available` error.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// The single table (customers, sessions, messages, attachments).
    Table,
    /// Live connections: their records and pushing frames to them (@connections).
    Live,
    /// Recording integration events: in the table's outbox, committed with the change that
    /// causes them (the stream's relay publishes them).
    Events,
    /// Publishing committed events to the integrators' topic (SNS): the outbox relay only.
    Publish,
    /// The search index (an OpenSearch Service domain).
    Search,
    /// Media storage (the attachments bucket) and its signed URLs.
    Blobs,
    /// Minting customer tokens and managing a tenant's agents (Cognito).
    Identity,
    /// The media of calls (Chime SDK meetings).
    Video,
    /// The recordings bucket (and its KMS key), apart from live media.
    Recordings,
    /// Capturing and concatenating recordings (Chime SDK media pipelines).
    Pipelines,
    /// Batch transcription jobs (Amazon Transcribe).
    Transcription,
    /// Translation into a reader's language (Amazon Translate).
    Translation,
    /// Sending work to the fan-out queue (SQS).
    Queue,
    /// Setting and removing schedules that send to the fan-out queue (EventBridge Scheduler).
    Schedules,
    /// Sending recordings to import from the video apps to the imports queue (SQS).
    Imports,
    /// The tenants' video apps: their credentials (AWS Secrets Manager), and Confer's public
    /// address, where the apps send their notifications.
    Secrets,
}

pub const ENV_TABLE: &str = "CONFER_TABLE";
pub const ENV_CONNECTIONS_TABLE: &str = "CONFER_CONNECTIONS_TABLE";
/// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`: the @connections endpoint.
pub const ENV_WS_ENDPOINT: &str = "CONFER_WS_ENDPOINT";
pub const ENV_EVENTS_TOPIC_ARN: &str = "CONFER_EVENTS_TOPIC_ARN";
/// The OpenSearch domain's endpoint (`https://…es.amazonaws.com`) and the index in it.
pub const ENV_SEARCH_ENDPOINT: &str = "CONFER_SEARCH_ENDPOINT";
pub const ENV_SEARCH_INDEX: &str = "CONFER_SEARCH_INDEX";
pub const ENV_ATTACHMENTS_BUCKET: &str = "CONFER_ATTACHMENTS_BUCKET";
pub const ENV_USER_POOL_ID: &str = "CONFER_USER_POOL_ID";
/// Where Chime hosts a call's media (e.g. `eu-central-1`); the control region is the function's.
pub const ENV_CHIME_MEDIA_REGION: &str = "CONFER_CHIME_MEDIA_REGION";
/// The app client Confer signs customers in through (`ADMIN_USER_PASSWORD_AUTH`).
pub const ENV_USER_POOL_CLIENT_ID: &str = "CONFER_USER_POOL_CLIENT_ID";
pub const ENV_RECORDINGS_BUCKET: &str = "CONFER_RECORDINGS_BUCKET";
pub const ENV_FANOUT_QUEUE_URL: &str = "CONFER_FANOUT_QUEUE_URL";
/// The queue schedules send to, the role they send as, and the schedule group they live in.
pub const ENV_FANOUT_QUEUE_ARN: &str = "CONFER_FANOUT_QUEUE_ARN";
pub const ENV_SCHEDULER_ROLE_ARN: &str = "CONFER_SCHEDULER_ROLE_ARN";
pub const ENV_SCHEDULE_GROUP: &str = "CONFER_SCHEDULE_GROUP";
pub const ENV_IMPORTS_QUEUE_URL: &str = "CONFER_IMPORTS_QUEUE_URL";
/// The names of the tenants' video app secrets begin with this (`{NamePrefix}/{Stage}/video-apps/`).
pub const ENV_SECRETS_PREFIX: &str = "CONFER_SECRETS_PREFIX";
/// Confer's public REST address, where the video apps send their notifications (Teams).
pub const ENV_PUBLIC_URL: &str = "CONFER_PUBLIC_URL";

impl Capability {
    /// Environment variables the cloud adapters of this capability read.
    pub fn env(self) -> &'static [&'static str] {
        match self {
            Capability::Table => &[ENV_TABLE],
            Capability::Live => &[ENV_CONNECTIONS_TABLE, ENV_WS_ENDPOINT],
            Capability::Events => &[ENV_TABLE],
            Capability::Publish => &[ENV_EVENTS_TOPIC_ARN],
            Capability::Search => &[ENV_SEARCH_ENDPOINT, ENV_SEARCH_INDEX],
            Capability::Blobs => &[ENV_ATTACHMENTS_BUCKET],
            Capability::Identity => &[ENV_USER_POOL_ID, ENV_USER_POOL_CLIENT_ID],
            Capability::Video => &[ENV_CHIME_MEDIA_REGION],
            Capability::Recordings => &[ENV_RECORDINGS_BUCKET],
            Capability::Pipelines => &[ENV_RECORDINGS_BUCKET],
            Capability::Transcription | Capability::Translation => &[],
            Capability::Queue => &[ENV_FANOUT_QUEUE_URL],
            Capability::Schedules => &[ENV_FANOUT_QUEUE_ARN, ENV_SCHEDULER_ROLE_ARN, ENV_SCHEDULE_GROUP],
            Capability::Imports => &[ENV_IMPORTS_QUEUE_URL],
            Capability::Secrets => &[ENV_SECRETS_PREFIX, ENV_PUBLIC_URL],
        }
    }

    /// IAM grants only this capability gives: an action prefix and a text its resource names
    /// (`""` for any), checked against each function's role.
    pub fn grants(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Capability::Table => &[],
            Capability::Live => &[("execute-api:ManageConnections", "")],
            // Outbox items are the table's (tests/template_routes.rs checks their own statement).
            Capability::Events => &[],
            Capability::Publish => &[("sns:", "")],
            Capability::Search => &[("es:", "SearchDomain")],
            Capability::Blobs => &[("s3:", "-attachments-")],
            Capability::Identity => &[("cognito-idp:", "")],
            Capability::Video => &[("chime:", "meeting/")],
            Capability::Recordings => &[("s3:", "-recordings-"), ("kms:", "RecordingsKey")],
            Capability::Pipelines => &[("chime:", "media-pipeline/")],
            Capability::Transcription => &[("transcribe:", "")],
            Capability::Translation => &[("translate:", "")],
            Capability::Queue => &[("sqs:SendMessage", "FanoutQueue")],
            Capability::Schedules => &[("scheduler:", "schedule/"), ("iam:PassRole", "SchedulerRole")],
            Capability::Imports => &[("sqs:SendMessage", "ImportsQueue")],
            Capability::Secrets => &[("secretsmanager:", "/video-apps/")],
        }
    }

    pub const ALL: [Capability; 16] = [
        Capability::Table,
        Capability::Live,
        Capability::Events,
        Capability::Publish,
        Capability::Search,
        Capability::Blobs,
        Capability::Identity,
        Capability::Video,
        Capability::Recordings,
        Capability::Pipelines,
        Capability::Transcription,
        Capability::Translation,
        Capability::Queue,
        Capability::Schedules,
        Capability::Imports,
        Capability::Secrets,
    ];
}

/// Shorthands for the tables.
pub mod needs {
    use super::Capability::{self, *};
    pub const NONE: &[Capability] = &[];
    pub const TABLE: &[Capability] = &[Table];
    pub const TABLE_EVENTS: &[Capability] = &[Table, Events];
    pub const TABLE_BLOBS: &[Capability] = &[Table, Blobs];
    pub const LIVE: &[Capability] = &[Live];
    pub const TABLE_LIVE: &[Capability] = &[Table, Live];
    pub const CHAT: &[Capability] = &[Table, Live, Events];
    pub const MEDIA: &[Capability] = &[Table, Live, Events, Blobs];
    pub const IDENTITY: &[Capability] = &[Identity];
    pub const TABLE_IDENTITY: &[Capability] = &[Table, Identity];
    /// Changing an agent: the directory, and closing a disabled agent's sockets.
    pub const AGENTS_UPDATE: &[Capability] = &[Table, Live, Identity];
    /// Starting, joining, leaving and ending calls: the call's records and history, frames,
    /// events, and the provider's meeting (Chime's, or the tenant's video app's with its
    /// credentials). (Ending a call also stops its recording's capture pipeline.)
    pub const CALLS: &[Capability] = &[Table, Live, Events, Video, Pipelines, Secrets];
    /// The tenant's video app credentials, for its admins.
    pub const VIDEO_APPS: &[Capability] = &[Table, Secrets];
    /// A video app's webhook: the call's state as the app reports it, and its recordings queued.
    pub const VIDEO_APP_WEBHOOK: &[Capability] = &[Table, Live, Events, Video, Pipelines, Secrets, Imports];
    /// Starting and stopping a call's recording.
    pub const RECORD: &[Capability] = &[Table, Live, Events, Pipelines];
    /// Reading recordings and their media.
    pub const RECORDINGS: &[Capability] = &[Table, Recordings];
    /// Reading transcripts, translating them on first demand.
    pub const TRANSCRIPTS: &[Capability] = &[Table, Events, Translation];
    /// A chat message in the reader's language.
    pub const TABLE_TRANSLATION: &[Capability] = &[Table, Translation];
    /// The final files' storage trigger: the recording, its events, the Transcribe job.
    pub const TRANSCRIBE: &[Capability] = &[Table, Live, Events, Recordings, Transcription];
    /// A Transcribe job finished: its output is read and stored.
    pub const TRANSCRIBED: &[Capability] = &[Table, Live, Events, Recordings, Transcription];
    /// Writing an announcement: sent now through the queue, or scheduled.
    pub const ANNOUNCE: &[Capability] = &[Table, Queue, Schedules];
    /// Cancelling a scheduled announcement.
    /// Searching: the tenant's settings, and the index.
    pub const SEARCH: &[Capability] = &[Table, Search];
    /// The table stream's indexer: items read as they are now, into the index.
    pub const INDEXER: &[Capability] = &[Table, Search];
    /// The table stream's outbox relay: outbox items, published and marked.
    pub const RELAY: &[Capability] = &[Table, Publish];
    pub const TABLE_SCHEDULES: &[Capability] = &[Table, Schedules];
    /// The fan-out queue's consumer: inboxes, live pushes, events, and chunks queued.
    pub const FANOUT: &[Capability] = &[Table, Live, Events, Queue];
    /// The imports queue's consumer: a video app's recording downloaded into the recordings
    /// bucket, the recording and its events.
    pub const IMPORT: &[Capability] = &[Table, Live, Events, Recordings, Secrets];
    /// A capture pipeline ended: its chunks are concatenated.
    pub const PIPELINES: &[Capability] = &[Table, Live, Events, Pipelines];
}
