//! Chat messages: send (idempotent per client message id), history, delivery acknowledgements.

use serde_json::json;

use super::connections::deliver;
use super::paging::{decode_cursor, read_page, PageOf};
use super::sessions::{can_read, load};
use super::{from_item, to_item, App};
use crate::domain::limits::{MAX_SEQ, TYPING_INTERVAL_MS};
use crate::domain::message::{validate_text, Message, MessageKind};
use crate::domain::session::{Session, SessionStatus};
use crate::domain::{ids::parse_client_message_id, now_rfc3339, MessageId, ParticipantRef, Principal, SessionId, TenantId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::keys;
use crate::ports::table::{Condition, Query, SortKey, StoreError, TransactOp, Update};
use crate::ws::protocol::ServerFrame;

#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub message: Message,
    /// A resend of a message already stored: nothing new was written or delivered.
    pub duplicate: bool,
    /// Connections the message was pushed to.
    pub delivered_to: usize,
}

/// Attempts at taking the session's next sequence number before a send gives up with
/// `conflict` (safe to resend with the same client message id). Each lost attempt means another
/// message of the same session committed in between, so this bounds a burst, not a wait.
pub const MAX_SEQUENCE_ATTEMPTS: usize = 32;

/// What a new message says; `append` gives it its id, number and time.
pub(crate) struct Content {
    pub sender: ParticipantRef,
    pub client_message_id: String,
    pub kind: MessageKind,
    pub text: String,
    pub attachment: Option<crate::domain::message::MessageAttachment>,
    pub call: Option<crate::domain::call::CallSummary>,
}

// Short-lived: returned once per append, never stored or collected.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Appended {
    Stored {
        message: Message,
        session: Session,
        unpublished: Vec<EventEnvelope>,
    },
    /// The session is closed (as read).
    Closed,
    /// One of the caller's own operations failed its condition (a duplicate).
    Refused,
}

/// Stores a message as the session's next in order, together with `extra` operations and the
/// events `events` names, all or nothing.
///
/// The message and the session's advanced `last_seq` are one transaction, conditional on
/// `last_seq` still being what was read: a number is taken only by a committed message, so a
/// session's numbers have no gaps. A concurrent append to the same session makes the condition
/// fail; the append reads the session again and takes the next number.
pub(crate) async fn append(
    app: &App,
    tenant: &TenantId,
    session_id: &SessionId,
    content: Content,
    extra: impl Fn(&Message) -> AppResult<Vec<TransactOp>>,
    events: impl Fn(&Message) -> Vec<EventEnvelope>,
) -> AppResult<Appended> {
    for attempt in 0..MAX_SEQUENCE_ATTEMPTS {
        let session = load(app, tenant, session_id).await?.ok_or(AppError::NotFound("session"))?;
        if !session.participants.iter().any(|x| x.who == content.sender) {
            return Err(AppError::NotAParticipant);
        }
        if session.status == SessionStatus::Closed {
            return Ok(Appended::Closed);
        }
        let seq = session.last_seq + 1;
        if seq > MAX_SEQ {
            return Err(AppError::Conflict(format!("the session holds its maximum of {MAX_SEQ} messages; open a new one")));
        }
        let message = Message {
            id: MessageId::generate().to_string(),
            session_id: session_id.to_string(),
            seq,
            sender: content.sender.clone(),
            client_message_id: content.client_message_id.clone(),
            kind: content.kind,
            text: content.text.clone(),
            attachment: content.attachment.clone(),
            call: content.call.clone(),
            created_at: now_rfc3339(),
        };
        let mut ops = vec![
            TransactOp::Update {
                key: keys::session(tenant, session_id),
                update: Update::default().set("last_seq", seq),
                // Still the number read: `last_seq` only grows, so "below seq" means "equal to seq - 1".
                condition: Some(Condition::AbsentOrLessThan("last_seq".into(), seq.into())),
            },
            TransactOp::Put {
                item: to_item(&message, &keys::message(tenant, session_id, seq), &[("entity", "message".into())])?,
                condition: Some(Condition::NotExists),
            },
        ];
        ops.extend(extra(&message)?);
        match app.transact_with_events(ops, events(&message)).await {
            Ok(unpublished) => return Ok(Appended::Stored { message, session, unpublished }),
            Err(StoreError::TransactionCancelled { reasons }) => {
                if reasons.iter().skip(2).any(|failed| *failed) {
                    return Ok(Appended::Refused);
                }
                // Another message took this number first: read the session again.
                continue;
            }
            // DynamoDB cancels overlapping transactions on one item (TransactionConflict).
            Err(StoreError::Throttled(_)) => {
                tokio::time::sleep(std::time::Duration::from_millis(2 + rand::random::<u64>() % (4 << attempt.min(5)))).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::warn!(session_id = %session_id, attempts = MAX_SEQUENCE_ATTEMPTS, "append gave up on a busy session");
    Err(AppError::Conflict("the session is busy; resend with the same client_message_id".into()))
}

/// Stores a text message as the session's next in order and pushes it to the live connections
/// of the session's participants. A resend (same sender, same client message id) is answered
/// with the stored message — also once the session has closed — and nothing is stored or
/// delivered twice.
pub async fn send(
    app: &App,
    p: &Principal,
    session_id: &str,
    client_message_id: &str,
    text: &str,
    from_connection: Option<&str>,
) -> AppResult<Sent> {
    let session_id = SessionId::parse(session_id)?;
    let client_message_id = parse_client_message_id(client_message_id)?;
    let text = validate_text(text)?;
    let me = p.participant();
    let dedupe_key = keys::client_message(&p.tenant, &session_id, &me, &client_message_id);
    let content = Content { sender: me.clone(), client_message_id, kind: MessageKind::Text, text, attachment: None, call: None };
    let dedupe = |m: &Message| -> AppResult<Vec<TransactOp>> {
        let mut item = to_item(&json!({ "message_id": m.id, "seq": m.seq }), &dedupe_key, &[])?;
        item.insert("entity".into(), "client_message".into());
        Ok(vec![TransactOp::Put { item, condition: Some(Condition::NotExists) }])
    };
    let appended = match append(app, &p.tenant, &session_id, content, dedupe, |m| vec![created_event(&p.tenant, m)]).await {
        // Not a participant: staff of the tenant learn so; anyone else learns nothing.
        Err(AppError::NotAParticipant) => {
            let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
            return Err(if can_read(p, &session) { AppError::NotAParticipant } else { AppError::NotFound("session") });
        }
        other => other?,
    };
    match appended {
        Appended::Stored { message, session, unpublished } => {
            let recipients: Vec<_> = session.participants.iter().map(|x| x.who.clone()).collect();
            let frame = ServerFrame::Message { message: message.clone() }.to_bytes();
            let delivered_to = deliver(app, &p.tenant, &recipients, &frame, from_connection).await?;
            for event in unpublished {
                app.publish(event).await;
            }
            Ok(Sent { message, duplicate: false, delivered_to })
        }
        Appended::Refused => duplicate_of(app, p, &session_id, &dedupe_key).await,
        // A resend of a message stored before the session closed still gets its answer.
        Appended::Closed => match app.table.get(&dedupe_key).await? {
            Some(_) => duplicate_of(app, p, &session_id, &dedupe_key).await,
            None => Err(AppError::SessionClosed),
        },
    }
}

/// The stored message a resend names, as the answer to that resend.
async fn duplicate_of(app: &App, p: &Principal, session_id: &SessionId, dedupe_key: &crate::ports::table::Key) -> AppResult<Sent> {
    let stored = stored_for_client_id(app, p, session_id, dedupe_key).await?;
    // Where the event is published after the write (the cloud; locally, a message stored
    // before the outbox), the first attempt may have stopped in between (a crash, a failed
    // publication); publishing again completes it. Same id, same envelope: the local log
    // keeps one copy and subscribers de-duplicate on the id.
    app.publish(created_event(&p.tenant, &stored)).await;
    Ok(Sent { message: stored, duplicate: true, delivered_to: 0 })
}

/// `message.created` for a stored message: the same envelope each time it is published.
pub(crate) fn created_event(tenant: &TenantId, message: &Message) -> EventEnvelope {
    let mut event = EventEnvelope::new(types::MESSAGE_CREATED, tenant, format!("{}:created", message.id), json!({ "message": message }));
    event.time = message.created_at.clone();
    event
}

async fn stored_for_client_id(app: &App, p: &Principal, session: &SessionId, dedupe_key: &crate::ports::table::Key) -> AppResult<Message> {
    let record = app.table.get(dedupe_key).await?.ok_or_else(|| AppError::internal("idempotency record vanished"))?;
    let seq = record.get("seq").and_then(|v| v.as_u64()).ok_or_else(|| AppError::internal("idempotency record without seq"))?;
    let item = app.table.get(&keys::message(&p.tenant, session, seq)).await?.ok_or_else(|| AppError::internal("message vanished"))?;
    from_item(item)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first.
    Backward,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryQuery<'a> {
    pub direction: Option<&'a str>,
    pub cursor: Option<&'a str>,
    /// Messages with a sequence number above this one, oldest first: the catch-up after a
    /// reconnect or a gap (0 reads from the start).
    pub after_seq: Option<u64>,
    /// Messages with a sequence number below this one, newest first.
    pub before_seq: Option<u64>,
    pub limit: usize,
}

/// A session's messages in its one order (sequence numbers).
pub async fn history(app: &App, p: &Principal, session_id: &str, q: HistoryQuery<'_>) -> AppResult<PageOf<Message>> {
    let session_id = SessionId::parse(session_id)?;
    let anchors = [q.cursor.is_some(), q.after_seq.is_some(), q.before_seq.is_some()].iter().filter(|x| **x).count();
    if anchors > 1 {
        return Err(AppError::validation("use at most one of cursor, after_seq and before_seq"));
    }
    let direction = match (q.direction, q.after_seq, q.before_seq) {
        (Some("forward"), _, None) | (None, Some(_), None) => Direction::Forward,
        (Some("backward"), None, _) | (None, None, _) => Direction::Backward,
        (Some("forward" | "backward"), _, _) => return Err(AppError::validation("after_seq reads forward and before_seq reads backward")),
        (Some(_), _, _) => return Err(AppError::validation("direction is forward or backward")),
        (None, Some(_), Some(_)) => return Err(AppError::validation("use at most one of cursor, after_seq and before_seq")),
    };
    for seq in [q.after_seq, q.before_seq].into_iter().flatten() {
        if seq > MAX_SEQ {
            return Err(AppError::validation(format!("sequence numbers are at most {MAX_SEQ}")));
        }
    }
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
    let partition = keys::session_partition(&p.tenant, &session_id);
    let mut query =
        Query::partition(partition.clone()).sort(SortKey::BeginsWith(keys::MESSAGE_PREFIX.into())).forward(direction == Direction::Forward);
    if let Some(seq) = q.after_seq.or(q.before_seq) {
        let mut key = crate::ports::table::Item::new();
        key.insert("pk".into(), partition.into());
        key.insert("sk".into(), keys::message_sort(seq).into());
        query.start_after = Some(key);
    } else if let Some(c) = q.cursor {
        let key = decode_cursor(c, &query)?;
        if !key.get("sk").and_then(|v| v.as_str()).is_some_and(|sk| sk.starts_with(keys::MESSAGE_PREFIX)) {
            return Err(AppError::validation("cursor is not valid for this list"));
        }
        query.start_after = Some(key);
    }
    let (items, next_cursor) = read_page(app.table.as_ref(), query, q.limit).await?;
    let mut messages: Vec<Message> = items.into_iter().map(from_item).collect::<AppResult<_>>()?;
    for m in messages.iter_mut().filter(|m| m.attachment.is_some()) {
        super::attachments::sign_message(app, &p.tenant, m).await?;
    }
    Ok(PageOf { items: messages, next_cursor })
}

/// Which watermark an acknowledgement moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watermark {
    /// `ack`: every message up to the number has reached the participant.
    Delivered,
    /// `read`: the participant has seen every message up to the number.
    Read,
}

impl Watermark {
    fn attribute(self) -> &'static str {
        match self {
            Watermark::Delivered => "delivered_seq",
            Watermark::Read => "read_seq",
        }
    }
    fn status(self) -> &'static str {
        match self {
            Watermark::Delivered => "delivered",
            Watermark::Read => "read",
        }
    }
    fn event_type(self) -> &'static str {
        match self {
            Watermark::Delivered => types::MESSAGE_DELIVERED,
            Watermark::Read => types::MESSAGE_READ,
        }
    }
}

/// Records that `p` received (or read) every message of the session up to `up_to_seq` and tells
/// the other participants (a `receipt`). An acknowledgement at or below the recorded watermark
/// changes nothing (safe to resend); one beyond the session's latest message is refused.
pub async fn acknowledge(app: &App, p: &Principal, session_id: &str, up_to_seq: u64, mark: Watermark) -> AppResult<bool> {
    let session_id = SessionId::parse(session_id)?;
    if up_to_seq == 0 {
        return Err(AppError::validation("up_to_seq starts at 1"));
    }
    let me = p.participant();
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !session.participants.iter().any(|x| x.who == me) {
        return Err(if can_read(p, &session) { AppError::NotAParticipant } else { AppError::NotFound("session") });
    }
    if up_to_seq > session.last_seq {
        return Err(AppError::validation(format!("up_to_seq {up_to_seq} is beyond the session's latest message ({})", session.last_seq)));
    }
    let participant_key = keys::participant(&p.tenant, &session_id, &me);
    let update = Update::default().set(mark.attribute(), up_to_seq);
    let below = Some(Condition::AbsentOrLessThan(mark.attribute().into(), up_to_seq.into()));
    match app.table.update(&participant_key, update, below).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let others: Vec<_> = session.participants.iter().map(|x| x.who.clone()).filter(|who| *who != me).collect();
    let frame =
        ServerFrame::Receipt { session_id: session_id.to_string(), participant: me.clone(), status: mark.status().into(), up_to_seq }
            .to_bytes();
    deliver(app, &p.tenant, &others, &frame, None).await?;
    app.publish(EventEnvelope::new(
        mark.event_type(),
        &p.tenant,
        format!("{session_id}:{}:{}:{up_to_seq}", mark.status(), me.key_segment()),
        json!({ "session_id": session_id, "participant": me, "up_to_seq": up_to_seq }),
    ))
    .await;
    Ok(true)
}

/// Relays that `p` is typing to the session's other participants: never stored, at most once per
/// [`TYPING_INTERVAL_MS`] per connection (more often is dropped silently: the indicator is
/// already showing). The limiter's state is a time on the connection's own record.
pub async fn typing(app: &App, p: &Principal, session_id: &str, connection_id: &str) -> AppResult<bool> {
    let session_id = SessionId::parse(session_id)?;
    let me = p.participant();
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !session.participants.iter().any(|x| x.who == me) {
        return Err(if can_read(p, &session) { AppError::NotAParticipant } else { AppError::NotFound("session") });
    }
    if session.status == SessionStatus::Closed {
        return Err(AppError::SessionClosed);
    }
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let update = Update::default().set("typing_at_ms", now_ms);
    let quiet = Some(Condition::AbsentOrLessThan("typing_at_ms".into(), (now_ms - TYPING_INTERVAL_MS + 1).into()));
    // Only a live connection's record is touched: one that vanished is not created again.
    if app.connections_table.get(&keys::connection(connection_id)).await?.is_none() {
        return Ok(false);
    }
    match app.connections_table.update(&keys::connection(connection_id), update, quiet).await {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let others: Vec<_> = session.participants.iter().map(|x| x.who.clone()).filter(|who| *who != me).collect();
    let frame = ServerFrame::Typing { session_id: session_id.to_string(), participant: me }.to_bytes();
    deliver(app, &p.tenant, &others, &frame, None).await?;
    Ok(true)
}

#[cfg(all(test, feature = "local"))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use async_trait::async_trait;

    use super::*;
    use crate::adapters::local::{assemble, SqliteEventLog, SqliteStore};
    use crate::domain::customer::NewCustomer;
    use crate::domain::session::NewSession;
    use crate::domain::Role;
    use crate::ports::events::{EventLog, EventPublisher, PublishError};

    /// The local event log, except that its first publications fail (as if the process had
    /// stopped between a message's write and its event).
    struct FailingFirst {
        log: SqliteEventLog,
        failures_left: AtomicUsize,
        attempts: AtomicUsize,
    }

    #[async_trait]
    impl EventPublisher for FailingFirst {
        async fn publish(&self, event: &EventEnvelope) -> Result<(), PublishError> {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            if self.failures_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                return Err(PublishError("subscriber side down".into()));
            }
            self.log.publish(event).await
        }
    }

    async fn created_events(log: &SqliteEventLog) -> Vec<serde_json::Value> {
        let all = log.read("acme", 0, 100).await.expect("log readable");
        all.into_iter().map(|e| e.event).filter(|e| e["type"] == types::MESSAGE_CREATED).collect()
    }

    #[tokio::test]
    async fn a_resend_completes_an_event_the_first_attempt_lost_and_never_logs_it_twice() {
        let store = SqliteStore::in_memory().expect("store");
        let mut backends = assemble(&store).expect("backends");
        let publisher =
            Arc::new(FailingFirst { log: backends.event_log.clone(), failures_left: AtomicUsize::new(0), attempts: AtomicUsize::new(0) });
        backends.app.events = publisher.clone();
        // As in the cloud: the event is published after the write, so it can be lost in between.
        backends.app.outbox = None;
        let app = backends.app;
        let tenant = TenantId::parse("acme").unwrap();
        let agent = Principal { tenant: tenant.clone(), role: Role::Agent, id: "agent-1".into() };
        let customer =
            super::super::customers::create(&app, &agent, NewCustomer { name: "Ada".into(), ..Default::default() }).await.unwrap();
        let session =
            super::super::sessions::create(&app, &agent, NewSession { customer_id: customer.id.clone(), agent_ids: vec![], subject: None })
                .await
                .unwrap();

        publisher.failures_left.store(1, Ordering::SeqCst);
        let first = send(&app, &agent, &session.id, "c-1", "hello", None).await.expect("stored although its event failed");
        assert!(!first.duplicate);
        assert!(created_events(&backends.event_log).await.is_empty(), "the failed publication left no event");

        let resend = send(&app, &agent, &session.id, "c-1", "hello", None).await.expect("resend");
        assert!(resend.duplicate);
        assert_eq!(resend.message, first.message);
        let events = created_events(&backends.event_log).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["id"], format!("{}:created", first.message.id));
        assert_eq!(events[0]["time"], first.message.created_at.as_str(), "the envelope is the message's, not the resend's");
        assert_eq!(events[0]["data"]["message"]["text"], "hello");

        // Further resends publish again (same id) and the log still holds one copy.
        let attempts = publisher.attempts.load(Ordering::SeqCst);
        send(&app, &agent, &session.id, "c-1", "hello", None).await.expect("second resend");
        assert_eq!(publisher.attempts.load(Ordering::SeqCst), attempts + 1);
        assert_eq!(created_events(&backends.event_log).await.len(), 1);
    }
}
