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
    Ok(())
}

pub async fn disconnect(app: &App, connection_id: &str) -> AppResult<()> {
    app.connections_table.delete(&keys::connection(connection_id), None).await?;
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
