//! What a stored item contributes to the search index. The indexer sees item changes (a key and
//! the item as it is now, or none once it is gone) and asks here for the item's documents: a
//! message (and its file), a customer, an announcement, a customer's inbox entry, or a
//! transcript or translation (one document per turn). Other items contribute nothing.

use serde_json::{json, Value};

use crate::app::recordings::store::{Recordings, TranscriptHeader};
use crate::app::{from_item, App};
use crate::domain::announcement::{Announcement, InboxEntry};
use crate::domain::customer::Customer;
use crate::domain::message::Message;
use crate::domain::recording::Recording;
use crate::domain::search::{Reader, SearchDoc, SearchKind, SourceDocs};
use crate::domain::{AttachmentId, RecordingId, SessionId, TenantId};
use crate::error::AppResult;
use crate::keys::{self, SearchSource};
use crate::ports::table::{Item, Key};

/// The source name of an item in the index: its key.
pub fn source_of(key: &Key) -> String {
    format!("{}|{}", key.pk, key.sk)
}

fn epoch_ms(rfc3339: &str) -> i64 {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_default()
}

/// What one batch of changes has looked up already: each session's customer (a session's
/// messages usually change together).
#[derive(Default)]
pub struct Lookups {
    session_customers: std::collections::HashMap<String, Option<String>>,
}

/// The documents of the item under `key` (`item` none: it was removed), or `None` when the index
/// holds nothing of such items.
pub async fn source_docs(app: &App, key: &Key, item: Option<&Item>, lookups: &mut Lookups) -> AppResult<Option<SourceDocs>> {
    let Some((tenant, what)) = keys::search_source(key) else { return Ok(None) };
    let docs = match item {
        None => Vec::new(),
        Some(item) => documents(app, &tenant, what, item, lookups).await?,
    };
    Ok(Some(SourceDocs { tenant, source: source_of(key), docs }))
}

async fn documents(app: &App, tenant: &str, what: SearchSource, item: &Item, lookups: &mut Lookups) -> AppResult<Vec<SearchDoc>> {
    let t = TenantId::parse(tenant)?;
    let base = |id: String, kind: SearchKind, readers: Vec<Reader>, text: String, at_ms: i64, link: Value| SearchDoc {
        id,
        tenant: tenant.to_string(),
        kind,
        readers,
        customer_id: None,
        session_id: None,
        title: None,
        text,
        speaker: None,
        language: None,
        at_ms,
        link,
    };
    Ok(match what {
        SearchSource::Message { session } => {
            let m: Message = from_item(item.clone())?;
            let session_id = SessionId::parse(&session)?;
            let customer = match lookups.session_customers.get(&session) {
                Some(known) => known.clone(),
                None => {
                    let session_item = app.table.get(&keys::session(&t, &session_id)).await?;
                    let customer = session_item.and_then(|s| s.get("customer_id").and_then(|c| c.as_str()).map(str::to_string));
                    lookups.session_customers.insert(session.clone(), customer.clone());
                    customer
                }
            };
            let mut readers = vec![Reader::Staff];
            readers.extend(customer.clone().map(Reader::Customer));
            let at_ms = epoch_ms(&m.created_at);
            let link = json!({ "session_id": m.session_id, "seq": m.seq, "message_id": m.id });
            let mut docs = Vec::new();
            if !m.text.trim().is_empty() {
                docs.push(SearchDoc {
                    customer_id: customer.clone(),
                    session_id: Some(m.session_id.clone()),
                    ..base(format!("message:{}", m.id), SearchKind::Message, readers.clone(), m.text.clone(), at_ms, link.clone())
                });
            }
            if let Some(a) = &m.attachment {
                let mut link = link;
                link["attachment_id"] = json!(a.id);
                let file_text = match AttachmentId::parse(&a.id) {
                    Ok(id) => app
                        .table
                        .get(&keys::attachment(&t, &session_id, &id))
                        .await?
                        .and_then(|item| item.get(crate::app::attachments::FILE_TEXT).and_then(Value::as_str).map(str::to_string)),
                    Err(_) => None,
                };
                let text = [m.text.as_str(), file_text.as_deref().unwrap_or_default(), a.content_type.as_str()]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                docs.push(SearchDoc {
                    customer_id: customer,
                    session_id: Some(m.session_id.clone()),
                    title: Some(a.file_name.clone()),
                    ..base(format!("file:{}", a.id), SearchKind::File, readers, text, at_ms, link)
                });
            }
            docs
        }
        SearchSource::Customer { customer } => {
            let c: Customer = from_item(item.clone())?;
            let text =
                [c.email.as_deref(), c.phone.as_deref(), c.external_ref.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
            vec![SearchDoc {
                customer_id: Some(customer.clone()),
                title: Some(c.name),
                ..base(
                    format!("customer:{customer}"),
                    SearchKind::Customer,
                    vec![Reader::Staff],
                    text,
                    epoch_ms(&c.created_at),
                    json!({ "customer_id": customer }),
                )
            }]
        }
        SearchSource::Announcement { announcement } => {
            let a: Announcement = from_item(item.clone())?;
            vec![SearchDoc {
                title: Some(a.title),
                ..base(
                    format!("announcement:{announcement}"),
                    SearchKind::Announcement,
                    vec![Reader::Staff],
                    a.body,
                    epoch_ms(&a.created_at),
                    json!({ "announcement_id": announcement }),
                )
            }]
        }
        SearchSource::Inbox { customer, announcement } => {
            // The customer finds the whole body, as they read it, under their own reader.
            let entry: InboxEntry = from_item(item.clone())?;
            let body = app
                .table
                .get(&keys::announcement(&t, &announcement))
                .await?
                .and_then(|a| from_item::<Announcement>(a).ok())
                .map(|a| a.body);
            vec![SearchDoc {
                customer_id: Some(customer.clone()),
                title: Some(entry.title),
                ..base(
                    format!("inbox:{customer}:{announcement}"),
                    SearchKind::Announcement,
                    vec![Reader::Customer(customer)],
                    body.unwrap_or(entry.preview),
                    epoch_ms(&entry.published_at),
                    json!({ "announcement_id": announcement }),
                )
            }]
        }
        SearchSource::Transcript { recording, language } => {
            let header: TranscriptHeader = from_item(item.clone())?;
            let id = RecordingId::parse(&recording)?;
            let Some(rec) = app.table.get(&keys::recording(&t, &id)).await? else { return Ok(Vec::new()) };
            let rec: Recording = from_item(rec)?;
            let turns = Recordings::new(app, &t).transcript_turns(&id, language.as_deref(), 0, header.turns).await?;
            let started = epoch_ms(&rec.started_at);
            let tag = language.clone().unwrap_or_else(|| "source".into());
            turns
                .into_iter()
                .enumerate()
                .filter(|(_, turn)| !turn.text.trim().is_empty())
                .map(|(n, turn)| {
                    let speaker = header.known.get(&turn.speaker).map(|(name, _)| name.clone()).unwrap_or_else(|| turn.speaker.clone());
                    SearchDoc {
                        customer_id: Some(rec.customer_id.clone()),
                        session_id: Some(rec.session_id.clone()),
                        speaker: Some(speaker),
                        language: language.clone().or_else(|| turn.language.clone()).or_else(|| header.language.clone()),
                        ..base(
                            format!("transcript:{recording}:{tag}:{n}"),
                            SearchKind::Transcript,
                            vec![Reader::Staff, Reader::Customer(rec.customer_id.clone())],
                            turn.text,
                            started + turn.start_ms as i64,
                            json!({ "recording_id": recording, "session_id": rec.session_id, "offset_ms": turn.start_ms, "language": language }),
                        )
                    }
                })
                .collect()
        }
    })
}
