//! Chat sessions: open for a customer with agents, read, list a customer's, close.

use serde_json::json;

use super::customers::require_customer_access;
use super::paging::{decode_cursor, read_page, PageOf};
use super::{from_item, to_item, App};
use crate::domain::session::{session_agents, validate_subject, NewSession, Participant, Session, SessionStatus};
use crate::domain::{now_rfc3339, CustomerId, ParticipantRef, Principal, Role, SessionId};
use crate::error::{AppError, AppResult};
use crate::events::{types, EventEnvelope};
use crate::keys;
use crate::ports::table::{Condition, Query, SortKey, StoreError, TransactOp, Update, SK};

/// Summary stored under the customer, listing their sessions without touching session partitions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SessionSummary {
    pub id: String,
    pub customer_id: String,
    pub status: SessionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<String>,
    /// The customer's name when the session was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
}

impl From<&Session> for SessionSummary {
    fn from(s: &Session) -> Self {
        SessionSummary {
            id: s.id.clone(),
            customer_id: s.customer_id.clone(),
            status: s.status,
            subject: s.subject.clone(),
            created_at: s.created_at.clone(),
            closed_at: s.closed_at.clone(),
            customer_name: None,
        }
    }
}

/// One of the caller's sessions, with where the caller stands in it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SessionListItem {
    #[serde(flatten)]
    pub summary: SessionSummary,
    /// Sequence number of the session's latest message.
    pub last_seq: u64,
    /// The caller's read watermark.
    pub read_seq: u64,
    /// Messages after the caller's read watermark (their own included until they read on).
    pub unread: u64,
}

pub async fn create(app: &App, p: &Principal, input: NewSession) -> AppResult<Session> {
    p.require_staff()?;
    let customer_id = CustomerId::parse(&input.customer_id)?;
    let agents = session_agents(&p.id, &input.agent_ids)?;
    let subject = input.subject.as_deref().map(validate_subject).transpose()?.filter(|s| !s.is_empty());
    // The customer must exist in the caller's tenant.
    let Some(customer) = app.table.get(&keys::customer(&p.tenant, &customer_id)).await? else {
        return Err(AppError::NotFound("customer"));
    };
    let customer_name = customer.get("name").and_then(|v| v.as_str()).map(str::to_string);
    let id = SessionId::generate();
    let now = now_rfc3339();
    let mut participants = vec![Participant::joining(ParticipantRef::Customer(customer_id.to_string()), &now)];
    participants.extend(agents.into_iter().map(|a| Participant::joining(ParticipantRef::Agent(a), &now)));
    let session = Session {
        id: id.to_string(),
        customer_id: customer_id.to_string(),
        status: SessionStatus::Open,
        subject,
        created_by: p.id.clone(),
        created_at: now,
        closed_at: None,
        last_seq: 0,
        participants: vec![],
    };
    let summary = SessionSummary { customer_name, ..SessionSummary::from(&session) };
    let mut ops = vec![
        TransactOp::Put {
            item: to_item(&session, &keys::session(&p.tenant, &id), &[("entity", "session".into())])?,
            condition: Some(Condition::NotExists),
        },
        TransactOp::Put {
            item: to_item(&summary, &keys::customer_session_edge(&p.tenant, &customer_id, &id), &[("entity", "customer_session".into())])?,
            condition: None,
        },
        TransactOp::Check { key: keys::customer(&p.tenant, &customer_id), condition: Condition::Exists },
    ];
    for part in &participants {
        ops.push(TransactOp::Put {
            item: to_item(part, &keys::participant(&p.tenant, &id, &part.who), &[("entity", "participant".into())])?,
            condition: None,
        });
        // Each agent's own list of sessions (the customer's is the edge above).
        if let ParticipantRef::Agent(agent) = &part.who {
            ops.push(TransactOp::Put {
                item: to_item(&summary, &keys::agent_session_edge(&p.tenant, agent, &id), &[("entity", "agent_session".into())])?,
                condition: None,
            });
        }
    }
    let session = Session { participants, ..session };
    let created = EventEnvelope::new(types::SESSION_CREATED, &p.tenant, format!("{}:created", session.id), json!({ "session": session }));
    match app.transact_and_publish(ops, created).await {
        Ok(()) => {
            announce(app, &p.tenant, &session, &summary).await;
            Ok(session)
        }
        Err(StoreError::TransactionCancelled { reasons }) if reasons.get(2) == Some(&true) => Err(AppError::NotFound("customer")),
        Err(e) => Err(e.into()),
    }
}

/// Reads the session with its participants in one query (`META` .. `P$`).
pub async fn load(app: &App, tenant: &crate::domain::TenantId, id: &SessionId) -> AppResult<Option<Session>> {
    let query =
        Query::partition(keys::session_partition(tenant, id)).sort(SortKey::Between(keys::META.into(), keys::PARTICIPANTS_END.into()));
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = app.table.query(query.clone().start_after(start)).await?;
        items.extend(page.items);
        match page.last_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    let mut session: Option<Session> = None;
    let mut participants = Vec::new();
    for item in items {
        match item.get(SK).and_then(|v| v.as_str()) {
            Some(keys::META) => session = Some(from_item(item)?),
            Some(sk) if sk.starts_with(keys::PARTICIPANT_PREFIX) => participants.push(from_item::<Participant>(item)?),
            _ => {}
        }
    }
    Ok(session.map(|s| Session { participants, ..s }))
}

/// Who may read a session: staff of the tenant, or its own customer.
pub fn can_read(p: &Principal, s: &Session) -> bool {
    match p.role {
        Role::Admin | Role::Agent => true,
        Role::Customer => s.customer_id == p.id,
    }
}

pub async fn get(app: &App, p: &Principal, id: &SessionId) -> AppResult<Session> {
    let session = load(app, &p.tenant, id).await?.ok_or(AppError::NotFound("session"))?;
    if !can_read(p, &session) {
        return Err(AppError::NotFound("session"));
    }
    Ok(session)
}

/// [`get`], with each participant's presence.
pub async fn get_with_presence(app: &App, p: &Principal, id: &SessionId) -> AppResult<Session> {
    let session = get(app, p, id).await?;
    with_presence(app, &p.tenant, session).await
}

pub async fn list_for_customer(
    app: &App,
    p: &Principal,
    customer: &CustomerId,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<PageOf<SessionSummary>> {
    require_customer_access(p, customer)?;
    // Newest first: session ids are ULIDs.
    let mut query = Query::partition(keys::customer_partition(&p.tenant, customer))
        .sort(SortKey::BeginsWith(keys::SESSION_EDGE_PREFIX.into()))
        .backward();
    if let Some(c) = cursor {
        query.start_after = Some(decode_cursor(c, &query)?);
    }
    // The customer must exist in the caller's tenant: read the profile alongside the page.
    let profile = keys::customer(&p.tenant, customer);
    let (profile, page) = futures::join!(app.table.get(&profile), read_page(app.table.as_ref(), query, limit));
    if profile?.is_none() {
        return Err(AppError::NotFound("customer"));
    }
    let (items, next_cursor) = page?;
    Ok(PageOf { items: items.into_iter().map(from_item).collect::<AppResult<_>>()?, next_cursor })
}

/// Closes the session. Closing a closed session returns it unchanged (safe to retry).
pub async fn close(app: &App, p: &Principal, id: &SessionId) -> AppResult<Session> {
    p.require_staff()?;
    let session = get(app, p, id).await?;
    let me = p.participant();
    if p.role != Role::Admin && !session.participants.iter().any(|x| x.who == me) {
        return Err(AppError::NotAParticipant);
    }
    if session.status == SessionStatus::Closed {
        return Ok(session);
    }
    // A call ends with its session (its end is the last thing in the history).
    super::calls::end_for_session(app, &p.tenant, &session, &me).await?;
    let customer = CustomerId::parse(&session.customer_id)?;
    let now = now_rfc3339();
    let set = |u: Update| u.set("status", SessionStatus::Closed.as_str()).set("closed_at", now.clone());
    let closed = Session { status: SessionStatus::Closed, closed_at: Some(now.clone()), ..session };
    let event = EventEnvelope::new(
        types::SESSION_CLOSED,
        &p.tenant,
        format!("{}:closed", closed.id),
        json!({ "session": SessionSummary::from(&closed), "closed_by": p.participant() }),
    );
    let mut ops = vec![
        TransactOp::Update {
            key: keys::session(&p.tenant, id),
            update: set(Update::default()),
            condition: Some(Condition::Equals("status".into(), SessionStatus::Open.as_str().into())),
        },
        TransactOp::Update {
            key: keys::customer_session_edge(&p.tenant, &customer, id),
            update: set(Update::default()),
            condition: Some(Condition::Exists),
        },
    ];
    for part in &closed.participants {
        if let ParticipantRef::Agent(agent) = &part.who {
            // Sessions opened before agents had their own lists have no edge: created here then.
            ops.push(TransactOp::Update {
                key: keys::agent_session_edge(&p.tenant, agent, id),
                update: set(Update::default()),
                condition: None,
            });
        }
    }
    let result = app.transact_and_publish(ops, event).await;
    match result {
        Ok(()) => {
            announce(app, &p.tenant, &closed, &SessionSummary::from(&closed)).await;
            Ok(closed)
        }
        // Closed concurrently: the other close won and published.
        Err(StoreError::TransactionCancelled { .. }) => get(app, p, id).await,
        Err(e) => Err(e.into()),
    }
}

/// Tells every live connection of the session's participants that it opened or closed (a
/// `session` frame), so their lists follow without polling. Best effort, as every push.
async fn announce(app: &App, tenant: &crate::domain::TenantId, session: &Session, summary: &SessionSummary) {
    let item = SessionListItem { summary: summary.clone(), last_seq: session.last_seq, read_seq: 0, unread: session.last_seq };
    let frame = crate::ws::protocol::ServerFrame::Session { session: item }.to_bytes();
    let everyone: Vec<_> = session.participants.iter().map(|x| x.who.clone()).collect();
    if let Err(e) = super::connections::deliver(app, tenant, &everyone, &frame, None).await {
        tracing::warn!(error = %e, session_id = %session.id, "session frame not delivered");
    }
}

/// Statuses `list_mine` filters on.
pub fn parse_status(s: Option<&str>) -> AppResult<Option<SessionStatus>> {
    match s {
        None => Ok(None),
        Some("open") => Ok(Some(SessionStatus::Open)),
        Some("closed") => Ok(Some(SessionStatus::Closed)),
        Some(_) => Err(AppError::validation("status is open or closed")),
    }
}

/// The caller's sessions, newest first, with their unread counts. A status filter applies to the
/// page as read (as a DynamoDB filter does): a page may hold fewer than `limit` items while
/// `next_cursor` says more may follow.
pub async fn list_mine(
    app: &App,
    p: &Principal,
    status: Option<SessionStatus>,
    limit: usize,
    cursor: Option<&str>,
) -> AppResult<PageOf<SessionListItem>> {
    let me = p.participant();
    let mut query =
        Query::partition(keys::sessions_of(&p.tenant, &me)).sort(SortKey::BeginsWith(keys::SESSION_EDGE_PREFIX.into())).backward();
    if let Some(c) = cursor {
        query.start_after = Some(decode_cursor(c, &query)?);
    }
    let (items, next_cursor) = read_page(app.table.as_ref(), query, limit).await?;
    let summaries: Vec<SessionSummary> = items.into_iter().map(from_item).collect::<AppResult<_>>()?;
    let wanted: Vec<SessionSummary> = summaries.into_iter().filter(|s| status.is_none_or(|st| s.status == st)).collect();
    let loads = futures::future::join_all(wanted.iter().map(|s| async move {
        let id = SessionId::parse(&s.id)?;
        load(app, &p.tenant, &id).await
    }))
    .await;
    let mut out = Vec::with_capacity(wanted.len());
    for (summary, loaded) in wanted.into_iter().zip(loads) {
        let Some(session) = loaded? else { continue };
        let read_seq = session.participants.iter().find(|x| x.who == me).map(|x| x.read_seq).unwrap_or(0);
        let summary = SessionSummary { status: session.status, closed_at: session.closed_at.clone(), ..summary };
        out.push(SessionListItem { summary, last_seq: session.last_seq, read_seq, unread: session.last_seq.saturating_sub(read_seq) });
    }
    Ok(PageOf { items: out, next_cursor })
}

/// Whether each participant has a live connection now.
pub async fn with_presence(app: &App, tenant: &crate::domain::TenantId, mut session: Session) -> AppResult<Session> {
    let lookups =
        futures::future::join_all(session.participants.iter().map(|x| super::connections::connections_of(app, tenant, &x.who))).await;
    for (part, conns) in session.participants.iter_mut().zip(lookups) {
        part.online = Some(!conns?.is_empty());
    }
    Ok(session)
}
