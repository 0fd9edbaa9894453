//! Every storage key is built here. Each starts with the tenant, so no query can cross tenants.
//!
//! Main table (`pk` / `sk`, index `gsi1` on `gsi1pk` / `gsi1sk`):
//! - customer            `T#t#C#<cus>` / `PROFILE`        gsi1: `T#t#CUSTOMERS` / `<cus>`
//! - customer's session  `T#t#C#<cus>` / `S#<ses>`
//! - session             `T#t#S#<ses>` / `META`
//! - participant         `T#t#S#<ses>` / `P#A#<sub>` or `P#C#<cus>`
//! - message             `T#t#S#<ses>` / `M#<seq, 12 digits>` (the session's order)
//! - idempotency record  `T#t#S#<ses>` / `CMID#<participant>#<client message id>`
//! - attachment          `T#t#S#<ses>` / `A#<att>`
//! - upload request      `T#t#S#<ses>` / `UPID#<participant>#<client upload id>`
//! - the active call     `T#t#S#<ses>` / `META#CALL`      (read with the session; only while active)
//! - a call              `T#t#S#<ses>` / `CALL#<cal>`
//! - a Chime meeting     `EXT#CHIME#<meeting id>` / `CALL` → tenant, session, call (Chime's events
//!   name only its own meeting id; the one key without a tenant, made from an id Chime issued)
//! - customer's file     `T#t#C#<cus>` / `F#<att>` and `FK#<kind>#<att>` (by kind)
//! - customer's recording `T#t#C#<cus>` / `R#<rec>`
//! - recording           `T#t#R#<rec>` / `META`; its tracks `TRACK#<track>`, each track's turns
//!   `TT#<track>#<page>`, the transcript `TX` and its turns `TX#P#<page>`, a translation
//!   `TL#<lang>` and its turns `TL#<lang>#P#<page>`
//! - a media pipeline    `EXT#PIPELINE#<pipeline id>` / `RECORDING` → tenant, recording (Chime's
//!   pipeline events name only the pipeline)
//! - tenant settings     `T#t#SETTINGS` / `SETTINGS`
//! - group               `T#t#G#<grp>` / `META`            gsi1: `T#t#GROUPS` / `<grp>`
//! - group member        `T#t#G#<grp>` / `M#<cus>`; and the customer's side `T#t#C#<cus>` / `G#<grp>`
//! - announcement        `T#t#AN#<ann>` / `META`          gsi1: `T#t#ANNOUNCEMENTS` / `<ann>`
//! - a delivered chunk   `T#t#AN#<ann>` / `CHUNK#<n, 6 digits>` (what made a redelivery a no-op)
//! - announcement media  `T#t#AM#<amd>` / `META`; its upload request `T#t#AM#UPID` / `<client upload id>`
//! - inbox entry         `T#t#C#<cus>` / `IN#<ann>`       gsi1 while unread: `T#t#C#<cus>#UNREAD` / `<ann>`
//!
//! Connections table (TTL on `ttl`):
//! - connection          `CONN#<id>` / `CONN`             gsi1: `T#t#U#<participant>` / `CONN#<id>`
//!
//! Objects (attachments bucket, or the data directory's `blobs/` folder):
//! - an upload as it arrives `uploads/<tenant>/<ses>/<att>` (the storage trigger watches `uploads/`)
//! - what is served          `media/<tenant>/<ses>/<att>/file` and `…/thumb`
//! - an announcement's media as it arrives `uploads/<tenant>/announcements/<amd>`, then
//!   `announcements/<tenant>/<amd>/file`
//!
//! Sort-key order inside a session partition is `A#… < CALL#… < CMID#… < M#… < META < META#CALL < P#… < UPID#…`, so one query from
//! `META` to `P$` reads the session, its active call and its participants, and `begins_with M#` reads messages in
//! sequence order. `META` holds the session's `last_seq`, the counter every message advances.

use crate::domain::{AttachmentId, CallId, CustomerId, GroupId, ParticipantRef, RecordingId, SessionId, TenantId};
use crate::ports::table::Key;

pub const PROFILE: &str = "PROFILE";
pub const META: &str = "META";
pub const MESSAGE_PREFIX: &str = "M#";
pub const PARTICIPANT_PREFIX: &str = "P#";
pub const SESSION_EDGE_PREFIX: &str = "S#";
/// Upper bound (inclusive) of a session partition's META + participants range.
pub const PARTICIPANTS_END: &str = "P$";

pub fn customer(t: &TenantId, c: &CustomerId) -> Key {
    Key::new(format!("T#{t}#C#{c}"), PROFILE)
}

pub fn customers_index(t: &TenantId) -> String {
    format!("T#{t}#CUSTOMERS")
}

pub const GROUP_MEMBER_PREFIX: &str = "M#";
pub const CUSTOMER_GROUP_PREFIX: &str = "G#";

pub fn group_partition(t: &TenantId, g: &GroupId) -> String {
    format!("T#{t}#G#{g}")
}

pub fn group(t: &TenantId, g: &GroupId) -> Key {
    Key::new(group_partition(t, g), META)
}

pub fn groups_index(t: &TenantId) -> String {
    format!("T#{t}#GROUPS")
}

pub fn group_member(t: &TenantId, g: &GroupId, c: &CustomerId) -> Key {
    Key::new(group_partition(t, g), format!("{GROUP_MEMBER_PREFIX}{c}"))
}

pub fn customer_group(t: &TenantId, c: &CustomerId, g: &GroupId) -> Key {
    Key::new(format!("T#{t}#C#{c}"), format!("{CUSTOMER_GROUP_PREFIX}{g}"))
}

pub fn announcement_partition(t: &TenantId, id: &str) -> String {
    format!("T#{t}#AN#{id}")
}

pub fn announcement(t: &TenantId, id: &str) -> Key {
    Key::new(announcement_partition(t, id), META)
}

pub fn announcements_index(t: &TenantId) -> String {
    format!("T#{t}#ANNOUNCEMENTS")
}

pub fn announcement_chunk(t: &TenantId, id: &str, chunk: u32) -> Key {
    Key::new(announcement_partition(t, id), format!("CHUNK#{chunk:06}"))
}

pub fn announcement_media(t: &TenantId, id: &str) -> Key {
    Key::new(format!("T#{t}#AM#{id}"), META)
}

pub fn announcement_media_request(t: &TenantId, client_upload_id: &str) -> Key {
    Key::new(format!("T#{t}#AM#UPID"), client_upload_id)
}

pub const INBOX_PREFIX: &str = "IN#";

pub fn inbox_entry(t: &TenantId, c: &CustomerId, announcement: &str) -> Key {
    Key::new(format!("T#{t}#C#{c}"), format!("{INBOX_PREFIX}{announcement}"))
}

/// The index partition of a customer's unread announcements.
pub fn unread_index(t: &TenantId, c: &CustomerId) -> String {
    format!("T#{t}#C#{c}#UNREAD")
}

pub const ANNOUNCEMENT_UPLOADS: &str = "announcements";

pub fn blob_announcement_upload(t: &TenantId, media: &str) -> String {
    format!("{UPLOADS_PREFIX}{t}/{ANNOUNCEMENT_UPLOADS}/{media}")
}

/// `(tenant, media id)` of an announcement media upload's object key, if it is one.
pub fn parse_announcement_upload(key: &str) -> Option<(TenantId, String)> {
    let mut parts = key.strip_prefix(UPLOADS_PREFIX)?.split('/');
    let (t, folder, m) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || folder != ANNOUNCEMENT_UPLOADS {
        return None;
    }
    Some((TenantId::parse(t).ok()?, crate::domain::announcement::parse_media_id(m).ok()?))
}

pub fn blob_announcement_media(t: &TenantId, media: &str) -> String {
    format!("announcements/{t}/{media}/file")
}

pub fn customer_session_edge(t: &TenantId, c: &CustomerId, s: &SessionId) -> Key {
    Key::new(format!("T#{t}#C#{c}"), format!("{SESSION_EDGE_PREFIX}{s}"))
}

/// An agent's partition: their sessions (`S#<ses>`).
pub fn agent_partition(t: &TenantId, agent: &str) -> String {
    format!("T#{t}#A#{agent}")
}

pub fn agent_session_edge(t: &TenantId, agent: &str, s: &SessionId) -> Key {
    Key::new(agent_partition(t, agent), format!("{SESSION_EDGE_PREFIX}{s}"))
}

/// The partition listing a participant's sessions: the customer's, or the agent's.
pub fn sessions_of(t: &TenantId, who: &ParticipantRef) -> String {
    match who {
        ParticipantRef::Customer(c) => format!("T#{t}#C#{c}"),
        ParticipantRef::Agent(a) => agent_partition(t, a),
    }
}

pub fn customer_partition(t: &TenantId, c: &CustomerId) -> String {
    format!("T#{t}#C#{c}")
}

pub fn session_partition(t: &TenantId, s: &SessionId) -> String {
    format!("T#{t}#S#{s}")
}

pub fn session(t: &TenantId, s: &SessionId) -> Key {
    Key::new(session_partition(t, s), META)
}

pub fn participant(t: &TenantId, s: &SessionId, p: &ParticipantRef) -> Key {
    Key::new(session_partition(t, s), format!("{PARTICIPANT_PREFIX}{}", p.key_segment()))
}

/// Sequence numbers are written with this many digits, so sort keys order as numbers do.
pub const SEQ_DIGITS: usize = 12;

/// Sort key of the message with sequence number `seq` (zero-padded: keys sort as numbers).
pub fn message_sort(seq: u64) -> String {
    format!("{MESSAGE_PREFIX}{seq:0width$}", width = SEQ_DIGITS)
}

pub fn message(t: &TenantId, s: &SessionId, seq: u64) -> Key {
    Key::new(session_partition(t, s), message_sort(seq))
}

/// A message's translation into `lang`, beside the message (outside the `M#` history range).
pub fn message_translation(t: &TenantId, s: &SessionId, seq: u64, lang: &str) -> Key {
    Key::new(session_partition(t, s), format!("MT#{}#{lang}", message_sort(seq).trim_start_matches(MESSAGE_PREFIX)))
}

pub fn client_message(t: &TenantId, s: &SessionId, sender: &ParticipantRef, client_message_id: &str) -> Key {
    Key::new(session_partition(t, s), format!("CMID#{}#{client_message_id}", sender.key_segment()))
}

pub const CUSTOMER_FILE_PREFIX: &str = "F#";

/// Sort key of a session's active call (between `META` and the participants).
pub const ACTIVE_CALL: &str = "META#CALL";

pub fn active_call(t: &TenantId, s: &SessionId) -> Key {
    Key::new(session_partition(t, s), ACTIVE_CALL)
}

pub fn call(t: &TenantId, s: &SessionId, c: &CallId) -> Key {
    Key::new(session_partition(t, s), format!("CALL#{c}"))
}

/// Where a Chime meeting's events find their call.
pub fn chime_meeting(meeting_id: &str) -> Key {
    Key::new(format!("EXT#CHIME#{meeting_id}"), "CALL")
}

/// Where a provider's meeting events find their call: Chime's meetings as before, a video
/// app's under its name.
pub fn provider_meeting(provider: crate::domain::call::CallProvider, meeting_id: &str) -> Key {
    match provider {
        crate::domain::call::CallProvider::Chime | crate::domain::call::CallProvider::Webrtc => chime_meeting(meeting_id),
        other => Key::new(format!("EXT#{}#{meeting_id}", other.as_str().to_uppercase()), "CALL"),
    }
}

/// A provider's webhook delivery already applied (retries carry the same body).
pub fn webhook_delivery(provider: &str, digest: &str) -> Key {
    Key::new(format!("HOOK#{provider}#{digest}"), "DELIVERY")
}

pub const CUSTOMER_RECORDING_PREFIX: &str = "R#";

pub fn customer_recording(t: &TenantId, c: &CustomerId, r: &RecordingId) -> Key {
    Key::new(customer_partition(t, c), format!("{CUSTOMER_RECORDING_PREFIX}{r}"))
}

pub fn recording_partition(t: &TenantId, r: &RecordingId) -> String {
    format!("T#{t}#R#{r}")
}

pub fn recording(t: &TenantId, r: &RecordingId) -> Key {
    Key::new(recording_partition(t, r), META)
}

pub const RECORDING_TRACK_PREFIX: &str = "TRACK#";

pub fn recording_track(t: &TenantId, r: &RecordingId, track: &str) -> Key {
    Key::new(recording_partition(t, r), format!("{RECORDING_TRACK_PREFIX}{track}"))
}

/// A page of one track's turns (the local engine transcribes each track apart).
pub fn track_turns(t: &TenantId, r: &RecordingId, track: &str, page: usize) -> Key {
    Key::new(recording_partition(t, r), format!("TT#{track}#{page:05}"))
}

pub fn track_turns_prefix(track: &str) -> String {
    format!("TT#{track}#")
}

/// The transcript's header (`lang` `None`) or a translation's.
pub fn transcript(t: &TenantId, r: &RecordingId, lang: Option<&str>) -> Key {
    match lang {
        None => Key::new(recording_partition(t, r), "TX"),
        Some(l) => Key::new(recording_partition(t, r), format!("TL#{l}")),
    }
}

/// A page of the transcript's turns, or of a translation's.
pub fn transcript_page(t: &TenantId, r: &RecordingId, lang: Option<&str>, page: usize) -> Key {
    match lang {
        None => Key::new(recording_partition(t, r), format!("TX#P#{page:05}")),
        Some(l) => Key::new(recording_partition(t, r), format!("TL#{l}#P#{page:05}")),
    }
}

/// Where a media pipeline's events find their recording.
pub fn media_pipeline(pipeline_id: &str) -> Key {
    Key::new(format!("EXT#PIPELINE#{pipeline_id}"), "RECORDING")
}

pub fn tenant_settings(t: &TenantId) -> Key {
    Key::new(format!("T#{t}#SETTINGS"), "SETTINGS")
}

/// An invitation link, by the hash of its secret.
pub fn invitation(t: &TenantId, secret_hash: &str) -> Key {
    Key::new(format!("T#{t}#INV#{secret_hash}"), "INVITATION")
}

pub fn attachment(t: &TenantId, s: &SessionId, a: &AttachmentId) -> Key {
    Key::new(session_partition(t, s), format!("A#{a}"))
}

pub fn upload_request(t: &TenantId, s: &SessionId, uploader: &ParticipantRef, client_upload_id: &str) -> Key {
    Key::new(session_partition(t, s), format!("UPID#{}#{client_upload_id}", uploader.key_segment()))
}

/// A customer's file, newest first by its ULID.
pub fn customer_file(t: &TenantId, c: &CustomerId, a: &AttachmentId) -> Key {
    Key::new(customer_partition(t, c), format!("{CUSTOMER_FILE_PREFIX}{a}"))
}

/// Prefix of a customer's files of one kind (`image`, `audio`, `file`).
pub fn customer_files_of_kind_prefix(kind: &str) -> String {
    format!("FK#{kind}#")
}

pub fn customer_file_of_kind(t: &TenantId, c: &CustomerId, kind: &str, a: &AttachmentId) -> Key {
    Key::new(customer_partition(t, c), format!("{}{a}", customer_files_of_kind_prefix(kind)))
}

/// Object keys. Tenant and ids are made of URL-safe characters (validated in `domain::ids`).
pub const UPLOADS_PREFIX: &str = "uploads/";

pub fn blob_upload(t: &TenantId, s: &SessionId, a: &AttachmentId) -> String {
    format!("{UPLOADS_PREFIX}{t}/{s}/{a}")
}

/// `(tenant, session, attachment)` of an upload's object key, if it is one.
pub fn parse_blob_upload(key: &str) -> Option<(TenantId, SessionId, AttachmentId)> {
    let mut parts = key.strip_prefix(UPLOADS_PREFIX)?.split('/');
    let (t, s, a) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((TenantId::parse(t).ok()?, SessionId::parse(s).ok()?, AttachmentId::parse(a).ok()?))
}

pub fn blob_media(t: &TenantId, s: &SessionId, a: &AttachmentId) -> String {
    format!("media/{t}/{s}/{a}/file")
}

pub fn blob_thumbnail(t: &TenantId, s: &SessionId, a: &AttachmentId) -> String {
    format!("media/{t}/{s}/{a}/thumb")
}

pub fn connection(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "CONN")
}

pub fn connections_of(t: &TenantId, p: &ParticipantRef) -> String {
    format!("T#{t}#U#{}", p.key_segment())
}

pub fn connection_index_sort(connection_id: &str) -> String {
    format!("CONN#{connection_id}")
}

/// An item the search index holds documents of (app::search::documents), read from its key; the
/// local store logs changes to these items only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchSource {
    Message {
        session: String,
    },
    Customer {
        customer: String,
    },
    Announcement {
        announcement: String,
    },
    Inbox {
        customer: String,
        announcement: String,
    },
    /// A transcript (`language` none) or a translation's header.
    Transcript {
        recording: String,
        language: Option<String>,
    },
}

/// Partition prefix of the outbox: events committed with the writes that caused them, each in
/// its own partition, published from the table's stream (and expired a week later).
pub const OUTBOX_PREFIX: &str = "OUTBOX#";

pub fn outbox(event_id: &str) -> Key {
    Key::new(format!("{OUTBOX_PREFIX}{event_id}"), "EVENT")
}

pub fn is_outbox(key: &Key) -> bool {
    key.pk.starts_with(OUTBOX_PREFIX) && key.sk == "EVENT"
}

/// The tenant and kind of item of `key`, when the index holds documents of such items.
pub fn search_source(key: &Key) -> Option<(String, SearchSource)> {
    let parts: Vec<&str> = key.pk.split('#').collect();
    let ["T", tenant, entity, id] = parts.as_slice() else { return None };
    let (tenant, id) = (tenant.to_string(), id.to_string());
    let sk = key.sk.as_str();
    let what = match *entity {
        "S" if sk.starts_with(MESSAGE_PREFIX) => SearchSource::Message { session: id },
        "C" if sk == PROFILE => SearchSource::Customer { customer: id },
        "C" => SearchSource::Inbox { customer: id, announcement: sk.strip_prefix("IN#")?.to_string() },
        "AN" if sk == META => SearchSource::Announcement { announcement: id },
        "R" if sk == "TX" => SearchSource::Transcript { recording: id, language: None },
        "R" if sk.starts_with("TL#") && !sk.contains("#P#") => {
            SearchSource::Transcript { recording: id, language: Some(sk.trim_start_matches("TL#").to_string()) }
        }
        _ => return None,
    };
    Some((tenant, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_partition_orders_meta_and_participants_after_messages() {
        let t = TenantId::parse("acme").unwrap();
        let s = SessionId::generate();
        let m = message(&t, &s, 1).sk;
        let cmid = client_message(&t, &s, &ParticipantRef::Agent("a".into()), "c1").sk;
        let meta = session(&t, &s).sk;
        let p = participant(&t, &s, &ParticipantRef::Customer("cus_x".into())).sk;
        let pa = participant(&t, &s, &ParticipantRef::Agent("zzz".into())).sk;
        assert!(cmid < m && m < meta.clone() && meta < p);
        assert!(meta.as_str() >= META && p.as_str() <= PARTICIPANTS_END && pa.as_str() <= PARTICIPANTS_END);
        assert!(!m.starts_with("META") && !meta.starts_with(MESSAGE_PREFIX));
        let a = attachment(&t, &s, &AttachmentId::generate()).sk;
        let up = upload_request(&t, &s, &ParticipantRef::Agent("a".into()), "u1").sk;
        assert!(a < cmid && up.as_str() > PARTICIPANTS_END, "attachments and upload requests lie outside the header range");
        let att = AttachmentId::generate();
        assert_eq!(parse_blob_upload(&blob_upload(&t, &s, &att)), Some((t.clone(), s.clone(), att.clone())));
        assert_eq!(parse_blob_upload(&blob_media(&t, &s, &att)), None);
        assert_eq!(parse_blob_upload(&format!("{}/extra", blob_upload(&t, &s, &att))), None);
        assert_eq!(parse_blob_upload("uploads/Bad#Tenant/x/y"), None);
        assert!(message_sort(9) < message_sort(10) && message_sort(999_999_999_999) > message_sort(1));
        assert!(message(&t, &s, 999_999_999_999).sk < meta);
    }
}

#[cfg(test)]
mod search_source_tests {
    use super::*;

    #[test]
    fn indexed_items_are_known_by_their_keys() {
        let k = |pk: &str, sk: &str| search_source(&Key::new(pk, sk)).map(|(t, w)| (t, w));
        assert_eq!(k("T#acme#S#ses_1", "M#000000000001"), Some(("acme".into(), SearchSource::Message { session: "ses_1".into() })));
        assert_eq!(k("T#acme#C#cus_1", "PROFILE"), Some(("acme".into(), SearchSource::Customer { customer: "cus_1".into() })));
        assert_eq!(
            k("T#acme#C#cus_1", "IN#ann_1"),
            Some(("acme".into(), SearchSource::Inbox { customer: "cus_1".into(), announcement: "ann_1".into() }))
        );
        assert_eq!(k("T#acme#AN#ann_1", "META"), Some(("acme".into(), SearchSource::Announcement { announcement: "ann_1".into() })));
        assert_eq!(
            k("T#acme#R#rec_1", "TX"),
            Some(("acme".into(), SearchSource::Transcript { recording: "rec_1".into(), language: None }))
        );
        assert_eq!(
            k("T#acme#R#rec_1", "TL#es"),
            Some(("acme".into(), SearchSource::Transcript { recording: "rec_1".into(), language: Some("es".into()) }))
        );
        for (pk, sk) in [
            ("T#acme#S#ses_1", "META"),
            ("T#acme#S#ses_1", "CMID#x"),
            ("T#acme#C#cus_1", "S#ses_1"),
            ("T#acme#C#cus_1", "G#grp_1"),
            ("T#acme#R#rec_1", "TX#P#00000"),
            ("T#acme#R#rec_1", "TL#es#P#00000"),
            ("T#acme#AN#ann_1", "CHUNK#000001"),
            ("EXT#CHIME#x", "CALL"),
            ("CONN#1", "CONN"),
        ] {
            assert_eq!(k(pk, sk), None, "{pk} {sk}");
        }
    }
}
