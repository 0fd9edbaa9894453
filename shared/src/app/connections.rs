//! Live connections: record on connect, forget on disconnect, deliver frames to participants.

use futures::future::join_all;
use serde_json::Value;

use super::App;
use crate::domain::limits::CONNECTION_TTL_SECONDS;
use crate::domain::{now_epoch_seconds, now_rfc3339, ParticipantRef, Principal, TenantId};
use crate::error::AppResult;
use crate::keys;
use crate::ports::table::{Item, Query, GSI1, TTL};
use crate::ports::PostError;

pub async fn connect(app: &App, p: &Principal, connection_id: &str) -> AppResult<()> {
    let who = p.participant();
    let mut item = Item::new();
    let key = keys::connection(connection_id);
    item.insert("pk".into(), key.pk.into());
    item.insert("sk".into(), key.sk.into());
    item.insert("gsi1pk".into(), keys::connections_of(&p.tenant, &who).into());
    item.insert("gsi1sk".into(), keys::connection_index_sort(connection_id).into());
    item.insert("connection_id".into(), connection_id.into());
    item.insert("tenant".into(), p.tenant.to_string().into());
    item.insert("role".into(), p.role.as_str().into());
    item.insert("principal".into(), serde_json::to_value(&who).unwrap_or(Value::Null));
    item.insert("connected_at".into(), now_rfc3339().into());
    item.insert(TTL.into(), (now_epoch_seconds() + CONNECTION_TTL_SECONDS).into());
    app.connections_table.put(item, None).await?;
    // The first connection brings the participant online.
    if connections_of(app, &p.tenant, &who).await?.len() == 1 {
        announce_presence(app, &p.tenant, &who, true).await;
    }
    Ok(())
}

pub async fn disconnect(app: &App, connection_id: &str) -> AppResult<()> {
    let gone = app.connections_table.delete(&keys::connection(connection_id), None).await?;
    // The last connection takes the participant offline.
    let owner = gone.and_then(|item| {
        let tenant = TenantId::parse(item.get("tenant")?.as_str()?).ok()?;
        let who: ParticipantRef = serde_json::from_value(item.get("principal")?.clone()).ok()?;
        Some((tenant, who))
    });
    if let Some((tenant, who)) = owner {
        if connections_of(app, &tenant, &who).await?.is_empty() {
            announce_presence(app, &tenant, &who, false).await;
        }
    }
    Ok(())
}

/// Most open sessions a presence change is announced in (the participant's newest).
pub const PRESENCE_SESSIONS: usize = 20;

/// Tells the other participants of `who`'s open sessions that `who` came online or went offline.
/// Best effort: a failure is logged, never the connection's.
pub async fn announce_presence(app: &App, tenant: &TenantId, who: &ParticipantRef, online: bool) {
    if let Err(e) = try_announce_presence(app, tenant, who, online).await {
        tracing::warn!(error = %e, online, "presence not announced");
    }
}

async fn try_announce_presence(app: &App, tenant: &TenantId, who: &ParticipantRef, online: bool) -> AppResult<()> {
    let query = Query::partition(keys::sessions_of(tenant, who))
        .sort(crate::ports::table::SortKey::BeginsWith(keys::SESSION_EDGE_PREFIX.into()))
        .backward()
        .limit(PRESENCE_SESSIONS)
        .attributes(&["id", "status"]);
    let page = app.table.query(query).await?;
    for edge in page.items {
        if edge.get("status").and_then(Value::as_str) != Some("open") {
            continue;
        }
        let Some(id) = edge.get("id").and_then(Value::as_str).and_then(|s| crate::domain::SessionId::parse(s).ok()) else { continue };
        let Some(session) = super::sessions::load(app, tenant, &id).await? else { continue };
        if !online {
            // A browser that is gone is out of its peer-to-peer calls too.
            super::calls::left_with_last_connection(app, tenant, &session, who).await;
        }
        let others: Vec<_> = session.participants.iter().map(|x| x.who.clone()).filter(|x| x != who).collect();
        let frame = crate::ws::protocol::ServerFrame::Presence { session_id: id.to_string(), participant: who.clone(), online }.to_bytes();
        deliver(app, tenant, &others, &frame, None).await?;
    }
    Ok(())
}

/// Live connection ids of one participant: one index query, never a scan.
pub async fn connections_of(app: &App, tenant: &TenantId, who: &ParticipantRef) -> AppResult<Vec<String>> {
    let mut ids = Vec::new();
    let mut start = None;
    loop {
        // Only the id: every message reads these, and the table leaves out expired records.
        let query = Query::on_index(GSI1, keys::connections_of(tenant, who)).attributes(&["connection_id"]);
        let page = app.connections_table.query(query.start_after(start)).await?;
        for mut item in page.items {
            if let Some(Value::String(id)) = item.remove("connection_id") {
                ids.push(id);
            }
        }
        match page.last_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    Ok(ids)
}

/// Posts to one connection; a gone connection's record is deleted (that one only).
pub async fn post(app: &App, connection_id: &str, frame: &[u8]) -> bool {
    match app.gateway.post(connection_id, frame).await {
        Ok(()) => true,
        Err(PostError::Gone) => {
            tracing::info!(connection_id, "delivery failed: connection gone; removing its record");
            if let Err(e) = disconnect(app, connection_id).await {
                tracing::warn!(error = %e, connection_id, "could not remove a gone connection");
            }
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, connection_id, "delivery failed");
            false
        }
    }
}

/// Delivers a frame to every live connection of the given participants, except `skip`.
/// Returns how many connections received it.
pub async fn deliver(app: &App, tenant: &TenantId, to: &[ParticipantRef], frame: &[u8], skip: Option<&str>) -> AppResult<usize> {
    let lookups = join_all(to.iter().map(|who| connections_of(app, tenant, who))).await;
    let mut targets = Vec::new();
    for ids in lookups {
        targets.extend(ids?.into_iter().filter(|id| Some(id.as_str()) != skip));
    }
    let sent = join_all(targets.iter().map(|id| post(app, id, frame))).await;
    Ok(sent.into_iter().filter(|ok| *ok).count())
}
