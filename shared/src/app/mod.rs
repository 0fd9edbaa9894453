//! Use cases. Each takes the ports it needs through [`App`]; none knows which backend runs.

pub mod agents;
pub mod announcements;
pub mod attachments;
pub mod calls;
pub mod connections;
pub mod customers;
pub mod groups;
pub mod invitations;
pub mod message_translations;
pub mod messages;
pub mod outbox;
pub mod paging;
pub mod recordings;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod video_apps;

use std::sync::Arc;

use crate::ports::{BlobStore, ConnectionGateway, EventLog, EventPublisher, Table, TransactWithEvents};

/// The ports one deployment wires together, built once per process (Lambda init or confer-local start).
#[derive(Clone)]
pub struct App {
    /// Single-table store of customers, sessions, participants and messages.
    pub table: Arc<dyn Table>,
    /// Live WebSocket connections (TTL'd records, indexed by participant).
    pub connections_table: Arc<dyn Table>,
    /// Pushes frames to live connections.
    pub gateway: Arc<dyn ConnectionGateway>,
    /// Where use cases publish integration events: the local event log; the table's outbox in
    /// the cloud.
    pub events: Arc<dyn EventPublisher>,
    /// Where the cloud's outbox relay sends committed events (the SNS topic integrators
    /// subscribe to).
    pub integrations: Arc<dyn EventPublisher>,
    /// Readable event log (local runtime only; integrators use SNS in the cloud).
    pub event_log: Arc<dyn EventLog>,
    /// Writes to `table` that record their events in the same transaction: the event log in the
    /// local database; the outbox items of the table in the cloud (it must write to the same
    /// table as `table`).
    pub outbox: Option<Arc<dyn TransactWithEvents>>,
    /// Media objects and their signed URLs.
    pub blobs: Arc<dyn BlobStore>,
    /// Mints tokens: customers (invitations, server to server); locally also signed-in agents.
    pub tokens: Arc<dyn crate::ports::identity::TokenIssuer>,
    /// A tenant's agents (confer-local's agents file; Cognito in the cloud).
    pub agents: Arc<dyn crate::ports::identity::AgentDirectory>,
    /// The media side of calls (WebRTC signalled locally; Chime in the cloud).
    pub video: Arc<dyn crate::ports::video::VideoProvider>,
    /// Recordings, apart from live media (the recordings bucket; the data directory's `recordings/`).
    pub recordings: Arc<dyn BlobStore>,
    /// Captures and assembles recordings (Chime media pipelines; the browser's tracks locally).
    pub recorder: Arc<dyn crate::ports::recorder::Recorder>,
    /// Speech to text on a participant's track (local engine).
    pub transcriber: Arc<dyn crate::ports::transcriber::Transcriber>,
    /// Batch transcription jobs (Amazon Transcribe).
    pub transcription: Arc<dyn crate::ports::transcription::TranscriptionJobs>,
    /// Translation into a reader's language.
    pub translator: Arc<dyn crate::ports::translator::Translator>,
    /// Tenants' credentials for their video apps (Secrets Manager; a sealed file locally).
    pub secrets: Arc<dyn crate::ports::secrets::ProviderSecrets>,
    /// Meetings in the customers' own video apps (Zoom, Jitsi).
    pub meeting_apps: Arc<dyn crate::ports::meetings::MeetingApps>,
    /// The search index (OpenSearch; tantivy in the data directory).
    pub search: Arc<dyn crate::ports::search::SearchIndex>,
    /// Work done in chunks, off the request path (the fan-out queue).
    pub queue: Arc<dyn crate::ports::queue::WorkQueue>,
    /// Work set for a later time (scheduled announcements).
    pub scheduler: Arc<dyn crate::ports::queue::Scheduler>,
    /// Recordings to import from the video apps (the imports queue).
    pub imports: Arc<dyn crate::ports::queue::WorkQueue>,
}

impl App {
    /// An App whose every port is missing (each answers an error naming it); runtimes replace
    /// the ports they provide.
    pub fn without_backends() -> Self {
        use crate::adapters::missing::Missing;
        App {
            table: Arc::new(Missing("the table")),
            connections_table: Arc::new(Missing("the connections table")),
            gateway: Arc::new(Missing("live connections")),
            events: Arc::new(Missing("event publication")),
            integrations: Arc::new(Missing("the integrations topic")),
            event_log: Arc::new(Missing("a readable event log")),
            outbox: None,
            blobs: Arc::new(crate::ports::blobs::NoBlobs),
            tokens: Arc::new(crate::ports::identity::NoIdentity),
            agents: Arc::new(crate::ports::identity::NoIdentity),
            video: Arc::new(crate::ports::video::NoVideo),
            recordings: Arc::new(crate::ports::blobs::NoBlobs),
            recorder: Arc::new(crate::ports::recorder::NoRecorder),
            transcriber: Arc::new(crate::ports::transcriber::NoTranscriber("no speech engine is configured".into())),
            transcription: Arc::new(crate::ports::transcription::NoTranscriptionJobs),
            translator: Arc::new(crate::ports::translator::NoTranslator("no translation service is configured")),
            queue: Arc::new(crate::ports::queue::NoQueue),
            scheduler: Arc::new(crate::ports::queue::NoQueue),
            imports: Arc::new(crate::ports::queue::NoQueue),
            search: Arc::new(crate::ports::search::NoSearch),
            secrets: Arc::new(crate::ports::secrets::NoSecrets),
            meeting_apps: Arc::new(crate::adapters::meetings::ProviderApps::from_env()),
        }
    }

    /// Runs a transaction on `table` and, where the backends allow, records `event` in it.
    /// Returns the event when it is still to be published — by the caller, after whatever must
    /// come first (a message's delivery) — and `None` once it is committed with the write.
    pub async fn transact_with_event(
        &self,
        ops: Vec<crate::ports::table::TransactOp>,
        event: crate::events::EventEnvelope,
    ) -> Result<Option<crate::events::EventEnvelope>, crate::ports::table::StoreError> {
        match &self.outbox {
            Some(outbox) => outbox.transact_write_with_events(ops, vec![event]).await.map(|()| None),
            None => self.table.transact_write(ops).await.map(|()| Some(event)),
        }
    }

    /// [`transact_with_event`](Self::transact_with_event) with several events (or none).
    pub async fn transact_with_events(
        &self,
        ops: Vec<crate::ports::table::TransactOp>,
        events: Vec<crate::events::EventEnvelope>,
    ) -> Result<Vec<crate::events::EventEnvelope>, crate::ports::table::StoreError> {
        match &self.outbox {
            Some(outbox) if !events.is_empty() => outbox.transact_write_with_events(ops, events).await.map(|()| Vec::new()),
            _ => self.table.transact_write(ops).await.map(|()| events),
        }
    }

    /// [`transact_with_event`](Self::transact_with_event) for a write with nothing to do between
    /// it and its event: an event not committed with the write is published at once.
    pub async fn transact_and_publish(
        &self,
        ops: Vec<crate::ports::table::TransactOp>,
        event: crate::events::EventEnvelope,
    ) -> Result<(), crate::ports::table::StoreError> {
        if let Some(event) = self.transact_with_event(ops, event).await? {
            self.publish(event).await;
        }
        Ok(())
    }

    /// Publishes an event; a failure is logged and does not undo the stored change.
    pub async fn publish(&self, event: crate::events::EventEnvelope) {
        if let Err(e) = self.events.publish(&event).await {
            tracing::error!(error = %e, event_type = %event.event_type, event_id = %event.id, "event publication failed");
        }
    }
}

/// Writes `ops` in batches of 25 (`BatchWriteItem`'s most), `in_flight` batches at a time.
pub(crate) async fn write_in_batches(
    table: &Arc<dyn Table>,
    ops: Vec<crate::ports::table::WriteOp>,
    in_flight: usize,
) -> Result<(), crate::ports::table::StoreError> {
    use futures::{StreamExt, TryStreamExt};
    let writes: Vec<_> = ops
        .chunks(crate::ports::table::MAX_BATCH_WRITE)
        .map(|batch| {
            let (table, batch) = (table.clone(), batch.to_vec());
            async move { table.batch_write(batch).await }
        })
        .collect();
    futures::stream::iter(writes).buffer_unordered(in_flight).try_collect::<Vec<()>>().await?;
    Ok(())
}

/// Serialises an entity and adds storage attributes.
pub(crate) fn to_item<T: serde::Serialize>(
    entity: &T,
    key: &crate::ports::table::Key,
    extra: &[(&str, serde_json::Value)],
) -> Result<crate::ports::table::Item, crate::error::AppError> {
    let mut item = match serde_json::to_value(entity).map_err(crate::error::AppError::internal)? {
        serde_json::Value::Object(map) => map,
        _ => return Err(crate::error::AppError::internal("entity is not an object")),
    };
    item.insert(crate::ports::table::PK.into(), key.pk.clone().into());
    item.insert(crate::ports::table::SK.into(), key.sk.clone().into());
    for (k, v) in extra {
        item.insert((*k).to_string(), v.clone());
    }
    Ok(item)
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: crate::ports::table::Item) -> Result<T, crate::error::AppError> {
    serde_json::from_value(serde_json::Value::Object(item)).map_err(crate::error::AppError::internal)
}
