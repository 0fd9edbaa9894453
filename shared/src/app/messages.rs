//! Chat messages: send (idempotent per client message id), history, delivery acknowledgements.

use serde_json::json;

use super::connections::deliver;
use super::paging::{decode_cursor, read_page, PageOf};
use super::sessions::{can_read, load};
use super::{from_item, to_item, App};
use crate::domain::message::{validate_text, Message, MessageKind};
use crate::domain::session::SessionStatus;
use crate::domain::{ids::parse_client_message_id, now_rfc3339, MessageId, Principal, SessionId, TenantId};
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

/// Stores a text message and pushes it to the live connections of the session's participants.
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

    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !session.participants.iter().any(|x| x.who == me) {
        return Err(if can_read(p, &session) { AppError::NotAParticipant } else { AppError::NotFound("session") });
    }
    if session.status == SessionStatus::Closed {
        return Err(AppError::SessionClosed);
    }

    let id = MessageId::generate();
    let message = Message {
        id: id.to_string(),
        session_id: session_id.to_string(),
        sender: me.clone(),
        client_message_id: client_message_id.clone(),
        kind: MessageKind::Text,
        text,
        created_at: now_rfc3339(),
    };
    let dedupe_key = keys::client_message(&p.tenant, &session_id, &me, &client_message_id);
    let mut dedupe = crate::ports::table::Item::new();
    dedupe.insert("pk".into(), dedupe_key.pk.clone().into());
    dedupe.insert("sk".into(), dedupe_key.sk.clone().into());
    dedupe.insert("message_id".into(), message.id.clone().into());
    let write = app
        .transact_with_event(
            vec![
                TransactOp::Put {
                    item: to_item(&message, &keys::message(&p.tenant, &session_id, id.ulid_part()), &[("entity", "message".into())])?,
                    condition: Some(Condition::NotExists),
                },
                TransactOp::Put { item: dedupe, condition: Some(Condition::NotExists) },
            ],
            created_event(&p.tenant, &message),
        )
        .await;
    let unpublished = match write {
        Ok(unpublished) => unpublished,
        Err(StoreError::TransactionCancelled { reasons }) if reasons.get(1) == Some(&true) => {
            let stored = stored_for_client_id(app, p, &session_id, &dedupe_key).await?;
            // Where the event is published after the write (the cloud; locally, a message stored
            // before the outbox), the first attempt may have stopped in between (a crash, a failed
            // publication); publishing again completes it. Same id, same envelope: the local log
            // keeps one copy and subscribers de-duplicate on the id.
            app.publish(created_event(&p.tenant, &stored)).await;
            return Ok(Sent { message: stored, duplicate: true, delivered_to: 0 });
        }
        Err(e) => return Err(e.into()),
    };

    let recipients: Vec<_> = session.participants.iter().map(|x| x.who.clone()).collect();
    let frame = ServerFrame::Message { message: message.clone() }.to_bytes();
    let delivered_to = deliver(app, &p.tenant, &recipients, &frame, from_connection).await?;
    if let Some(event) = unpublished {
        app.publish(event).await;
    }
    Ok(Sent { message, duplicate: false, delivered_to })
}

/// `message.created` for a stored message: the same envelope each time it is published.
fn created_event(tenant: &TenantId, message: &Message) -> EventEnvelope {
    let mut event = EventEnvelope::new(types::MESSAGE_CREATED, tenant, format!("{}:created", message.id), json!({ "message": message }));
    event.time = message.created_at.clone();
    event
}

async fn stored_for_client_id(app: &App, p: &Principal, session: &SessionId, dedupe_key: &crate::ports::table::Key) -> AppResult<Message> {
    let record = app.table.get(dedupe_key).await?.ok_or_else(|| AppError::internal("idempotency record vanished"))?;
    let id = record.get("message_id").and_then(|v| v.as_str()).ok_or_else(|| AppError::internal("idempotency record without message"))?;
    let id = MessageId::parse(id)?;
    let item =
        app.table.get(&keys::message(&p.tenant, session, id.ulid_part())).await?.ok_or_else(|| AppError::internal("message vanished"))?;
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
    /// Messages with a sequence number strictly greater (implies forward): the catch-up.
    pub after_seq: Option<u64>,
    /// Messages with a sequence number strictly smaller (implies backward).
    pub before_seq: Option<u64>,
    pub limit: usize,
}

pub async fn history(app: &App, p: &Principal, session_id: &str, q: HistoryQuery<'_>) -> AppResult<PageOf<Message>> {
    let session_id = SessionId::parse(session_id)?;
    let session = load(app, &p.tenant, &session_id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
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
    let partition = keys::session_partition(&p.tenant, &session_id);
    let mut query =
        Query::partition(partition.clone()).sort(SortKey::BeginsWith(keys::MESSAGE_PREFIX.into())).forward(direction == Direction::Forward);
    if let Some(seq) = q.after_seq.or(q.before_seq).filter(|seq| *seq > 0) {
        // Stand-in until messages carry their sequence number: the n-th message in time order.
        match nth_message_key(app, &partition, seq).await? {
            Some(key) => query.start_after = Some(key),
            // Fewer messages than that: none after it; all of them before it.
            None if q.after_seq.is_some() => return Ok(PageOf { items: Vec::new(), next_cursor: None }),
            None => {}
        }
    } else if let Some(c) = q.cursor {
        let key = decode_cursor(c, &query)?;
        if !key.get("sk").and_then(|v| v.as_str()).is_some_and(|sk| sk.starts_with(keys::MESSAGE_PREFIX)) {
            return Err(AppError::validation("cursor is not valid for this list"));
        }
        query.start_after = Some(key);
    }
    let (items, next_cursor) = read_page(app.table.as_ref(), query, q.limit).await?;
    Ok(PageOf { items: items.into_iter().map(from_item).collect::<AppResult<_>>()?, next_cursor })
}

/// The key of a session's `n`-th message (1-based, oldest first); None when it has fewer.
async fn nth_message_key(app: &App, partition: &str, n: u64) -> AppResult<Option<crate::ports::table::Item>> {
    let mut query =
        Query::partition(partition.to_string()).sort(SortKey::BeginsWith(keys::MESSAGE_PREFIX.into())).attributes(&["pk", "sk"]);
    let mut seen = 0u64;
    loop {
        query.limit = Some(usize::try_from(n - seen).unwrap_or(usize::MAX).min(1_000));
        let page = app.table.query(query.clone()).await?;
        seen += page.items.len() as u64;
        if seen == n {
            return Ok(page.items.into_iter().last());
        }
        match page.last_key {
            Some(key) => query.start_after = Some(key),
            None => return Ok(None),
        }
    }
}

/// Records that `p` received messages up to `message_id` and tells the sender.
/// An acknowledgement at or below the recorded one changes nothing (safe to resend).
pub async fn acknowledge(app: &App, p: &Principal, session_id: &str, message_id: &str) -> AppResult<bool> {
    let session_id = SessionId::parse(session_id)?;
    let message_id = MessageId::parse(message_id)?;
    let me = p.participant();
    let participant_key = keys::participant(&p.tenant, &session_id, &me);
    let message_key = keys::message(&p.tenant, &session_id, message_id.ulid_part());
    let (member, message) = futures::join!(app.table.get(&participant_key), app.table.get(&message_key));
    if member?.is_none() {
        return Err(AppError::NotAParticipant);
    }
    let message: Message = from_item(message?.ok_or(AppError::NotFound("message"))?)?;
    let update = Update::default().set("delivered_up_to", message.id.clone());
    match app.table.update(&participant_key, update, Some(Condition::AbsentOrLessThan("delivered_up_to".into(), message.id.clone()))).await
    {
        Ok(_) => {}
        Err(StoreError::ConditionFailed) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    if message.sender != me {
        let frame = ServerFrame::Receipt {
            session_id: session_id.to_string(),
            message_id: message.id.clone(),
            participant: me.clone(),
            status: "delivered".into(),
        }
        .to_bytes();
        deliver(app, &p.tenant, std::slice::from_ref(&message.sender), &frame, None).await?;
    }
    app.publish(EventEnvelope::new(
        types::MESSAGE_DELIVERED,
        &p.tenant,
        format!("{}:delivered:{}", message.id, me.key_segment()),
        json!({ "session_id": session_id, "message_id": message.id, "participant": me }),
    ))
    .await;
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
