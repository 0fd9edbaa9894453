//! Announcements: one message from the business to many customers, with an optional video or
//! audio file, to chosen customers and groups, sent now or at a set time (docs/announcements.md).

use serde::{Deserialize, Serialize};

use super::attachment::RejectionReason;
use super::limits::{
    MAX_ANNOUNCEMENT_BODY_CHARS, MAX_ANNOUNCEMENT_CUSTOMERS, MAX_ANNOUNCEMENT_GROUPS, MAX_SCHEDULE_AHEAD_SECONDS, SCHEDULE_GRACE_SECONDS,
};
use super::{CustomerId, GroupId};
use crate::error::AppError;
use crate::media::AnnouncementMediaKind;

/// Where an announcement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementStatus {
    /// Waiting for its time (sent now: for the queue to pick it up, a moment).
    Scheduled,
    /// Its audience is being expanded into recipients.
    Expanding,
    /// Its recipients' inboxes are being written.
    Sending,
    /// Every recipient's inbox has it.
    Sent,
    /// Cancelled before it was sent.
    Cancelled,
}

impl AnnouncementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementStatus::Scheduled => "scheduled",
            AnnouncementStatus::Expanding => "expanding",
            AnnouncementStatus::Sending => "sending",
            AnnouncementStatus::Sent => "sent",
            AnnouncementStatus::Cancelled => "cancelled",
        }
    }
}

/// Who an announcement is for: customers by id and groups, expanded and de-duplicated when it is
/// sent (a customer in two groups, or named and in a group, gets it once; one who joins a group
/// afterwards does not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// Up to 10,000 customer ids.
    #[serde(default)]
    #[schema(max_items = 10000, value_type = Vec<super::CustomerId>)]
    pub customer_ids: Vec<String>,
    /// Up to 100 group ids.
    #[serde(default)]
    #[schema(max_items = 100, value_type = Vec<super::GroupId>)]
    pub group_ids: Vec<String>,
}

/// A valid audience: distinct, well-formed ids in the order first given.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAudience {
    pub customers: Vec<CustomerId>,
    pub groups: Vec<GroupId>,
}

impl Audience {
    pub fn check(&self) -> Result<CheckedAudience, AppError> {
        if self.customer_ids.is_empty() && self.group_ids.is_empty() {
            return Err(AppError::validation("the audience is empty: name customers, groups or both"));
        }
        if self.customer_ids.len() > MAX_ANNOUNCEMENT_CUSTOMERS {
            return Err(AppError::validation(format!("audience.customer_ids lists at most {MAX_ANNOUNCEMENT_CUSTOMERS} ids")));
        }
        if self.group_ids.len() > MAX_ANNOUNCEMENT_GROUPS {
            return Err(AppError::validation(format!("audience.group_ids lists at most {MAX_ANNOUNCEMENT_GROUPS} groups")));
        }
        let mut customers = Vec::with_capacity(self.customer_ids.len());
        let mut seen = std::collections::HashSet::new();
        for raw in &self.customer_ids {
            let id = CustomerId::parse(raw)?;
            if seen.insert(id.to_string()) {
                customers.push(id);
            }
        }
        let mut groups = Vec::with_capacity(self.group_ids.len());
        for raw in &self.group_ids {
            let id = GroupId::parse(raw)?;
            if seen.insert(id.to_string()) {
                groups.push(id);
            }
        }
        Ok(CheckedAudience { customers, groups })
    }
}

/// The video or audio an announcement carries, as verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MediaSummary {
    #[schema(value_type = String, pattern = "^amd_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub media_id: String,
    pub kind: AnnouncementMediaKind,
    pub content_type: String,
    pub file_name: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// An announcement as agents see it, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Announcement {
    #[schema(value_type = String, pattern = "^ann_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub id: String,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaSummary>,
    pub audience: Audience,
    pub status: AnnouncementStatus,
    /// When it is (or was) to be sent.
    #[schema(format = DateTime)]
    pub send_at: String,
    /// The agent who wrote it.
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub published_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub sent_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub cancelled_at: Option<String>,
    /// Distinct customers the audience expanded to (0 until it is sent).
    #[serde(default)]
    pub targeted: u64,
    /// Recipients whose inbox has it.
    #[serde(default)]
    pub delivered: u64,
    /// Recipients who were online and got it pushed at once.
    #[serde(default)]
    pub delivered_live: u64,
    /// Recipients who opened it and marked it read.
    #[serde(default)]
    pub read: u64,
    /// Chunks the recipients were split into, and how many are delivered.
    #[serde(default)]
    pub chunks: u64,
    #[serde(default)]
    pub chunks_done: u64,
}

/// What an agent writes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnnouncement {
    #[schema(schema_with = super::customer::fields::name)]
    pub title: String,
    /// 1 to 10,000 characters, not blank; line breaks and tabs kept, no other control characters.
    #[schema(schema_with = body_schema)]
    pub body: String,
    /// A ready video or audio file from `POST /v1/announcement-media`.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^amd_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub media_id: Option<String>,
    pub audience: Audience,
    /// When to send it (RFC 3339); absent to send now. Not in the past, at most a year ahead.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub send_at: Option<String>,
}

/// A request to upload an announcement's video or audio (a chat upload request without caption).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMediaUpload {
    /// The client's idempotency key: a retried request returns the same media.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_upload_id: String,
    #[schema(schema_with = super::attachment::schema::file_name)]
    pub file_name: String,
    /// A video type (`video/mp4`, `video/quicktime`, `video/webm`) or an audio type chat accepts.
    pub content_type: String,
    #[serde(deserialize_with = "super::whole_number")]
    #[schema(minimum = 1)]
    pub size: u64,
}

impl From<NewMediaUpload> for super::attachment::NewUpload {
    fn from(m: NewMediaUpload) -> Self {
        super::attachment::NewUpload {
            client_upload_id: m.client_upload_id,
            file_name: m.file_name,
            content_type: m.content_type,
            size: m.size,
            caption: None,
        }
    }
}

fn body_schema() -> utoipa::openapi::Object {
    use super::customer::fields::SPACE;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let bad = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_ANNOUNCEMENT_BODY_CHARS))
        .pattern(Some(format!("^[^{bad}]*[^{bad}{SPACE}][^{bad}]*$")))
        .build()
}

/// A valid announcement request.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedAnnouncement {
    pub title: String,
    pub body: String,
    pub media_id: Option<String>,
    pub audience: CheckedAudience,
    /// `None`: now.
    pub send_at: Option<time::OffsetDateTime>,
}

impl NewAnnouncement {
    pub fn check(&self, now: time::OffsetDateTime) -> Result<CheckedAnnouncement, AppError> {
        let title = super::customer::validate_name(&self.title).map_err(|e| rename_field(e, "name", "title"))?;
        let n = self.body.chars().count();
        if n > MAX_ANNOUNCEMENT_BODY_CHARS {
            return Err(AppError::validation(format!("body has {n} characters; the limit is {MAX_ANNOUNCEMENT_BODY_CHARS}")));
        }
        if self.body.trim().is_empty() {
            return Err(AppError::validation("body must not be empty"));
        }
        if self.body.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(AppError::validation("body must not contain control characters"));
        }
        let media_id = match &self.media_id {
            Some(id) => Some(parse_media_id(id)?),
            None => None,
        };
        let audience = self.audience.check()?;
        let send_at = match &self.send_at {
            None => None,
            Some(s) => {
                let at = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| AppError::validation("send_at must be an RFC 3339 date and time, e.g. 2027-01-31T09:00:00Z"))?;
                if at < now - time::Duration::seconds(SCHEDULE_GRACE_SECONDS) {
                    return Err(AppError::validation("send_at is in the past; leave it out to send now"));
                }
                if at > now + time::Duration::seconds(MAX_SCHEDULE_AHEAD_SECONDS) {
                    return Err(AppError::validation("send_at is more than a year ahead"));
                }
                Some(at)
            }
        };
        Ok(CheckedAnnouncement { title, body: self.body.trim_end().to_string(), media_id, audience, send_at })
    }
}

fn rename_field(e: AppError, from: &str, to: &str) -> AppError {
    match e {
        AppError::Validation(m) => AppError::Validation(m.replacen(from, to, 1)),
        other => other,
    }
}

/// `amd_` and a ULID.
pub fn parse_media_id(s: &str) -> Result<String, AppError> {
    super::ids::MediaId::parse(s).map(|id| id.to_string())
}

/// `ann_` and a ULID.
pub fn parse_announcement_id(s: &str) -> Result<String, AppError> {
    super::ids::AnnouncementId::parse(s).map(|id| id.to_string())
}

pub fn new_announcement_id() -> String {
    super::ids::AnnouncementId::generate().to_string()
}

pub fn new_media_id() -> String {
    super::ids::MediaId::generate().to_string()
}

/// Where an announcement's media is in its verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaStatus {
    Pending,
    Ready,
    Rejected,
}

impl MediaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaStatus::Pending => "pending",
            MediaStatus::Ready => "ready",
            MediaStatus::Rejected => "rejected",
        }
    }
}

/// A video or audio file uploaded for announcements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnnouncementMedia {
    #[schema(value_type = String, pattern = "^amd_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub id: String,
    pub client_upload_id: String,
    pub file_name: String,
    pub kind: AnnouncementMediaKind,
    /// As declared by the uploader.
    pub declared_type: String,
    pub size: u64,
    pub status: MediaStatus,
    /// The real type, once verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<RejectionReason>,
    pub uploaded_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl AnnouncementMedia {
    pub fn summary(&self) -> Option<MediaSummary> {
        (self.status == MediaStatus::Ready).then(|| MediaSummary {
            media_id: self.id.clone(),
            kind: self.kind,
            content_type: self.content_type.clone().unwrap_or_else(|| self.declared_type.clone()),
            file_name: self.file_name.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            duration_ms: self.duration_ms,
        })
    }
}

/// An announcement in a customer's inbox: what a list shows (the body's opening lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InboxEntry {
    #[schema(value_type = String, pattern = "^ann_[0-7][0-9A-HJKMNP-TV-Z]{25}$")]
    pub announcement_id: String,
    pub title: String,
    /// The body's first 280 characters.
    pub preview: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaSummary>,
    #[schema(format = DateTime)]
    pub published_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub read_at: Option<String>,
}

/// Characters of the body an inbox entry keeps.
pub const PREVIEW_CHARS: usize = 280;

pub fn preview(body: &str) -> String {
    let mut p: String = body.chars().take(PREVIEW_CHARS).collect();
    if body.chars().nth(PREVIEW_CHARS).is_some() {
        p.push('…');
    }
    p
}

/// An announcement opened from the inbox: the whole body, and its media with a short-lived URL.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OpenedAnnouncement {
    #[serde(flatten)]
    pub entry: InboxEntry,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub media_url_expires_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc()
    }

    fn request(audience: Audience, send_at: Option<&str>) -> NewAnnouncement {
        NewAnnouncement { title: "Hello".into(), body: "Body".into(), media_id: None, audience, send_at: send_at.map(String::from) }
    }

    #[test]
    fn audiences_are_not_empty_and_repeat_nothing() {
        let c = CustomerId::generate().to_string();
        let g = GroupId::generate().to_string();
        let a = Audience { customer_ids: vec![c.clone(), c.clone()], group_ids: vec![g.clone(), g] };
        let checked = a.check().unwrap();
        assert_eq!((checked.customers.len(), checked.groups.len()), (1, 1));
        assert!(Audience::default().check().is_err());
        assert!(Audience { customer_ids: vec!["cus_x".into()], group_ids: vec![] }.check().is_err());
        let many = (0..=MAX_ANNOUNCEMENT_GROUPS).map(|_| GroupId::generate().to_string()).collect();
        assert!(Audience { customer_ids: vec![], group_ids: many }.check().is_err());
    }

    #[test]
    fn schedules_are_ahead_but_not_too_far() {
        let a = Audience { customer_ids: vec![CustomerId::generate().to_string()], group_ids: vec![] };
        let fmt = |t: time::OffsetDateTime| super::super::format_rfc3339(t);
        assert!(request(a.clone(), None).check(now()).unwrap().send_at.is_none());
        assert!(request(a.clone(), Some(&fmt(now() + time::Duration::hours(1)))).check(now()).is_ok());
        assert!(request(a.clone(), Some(&fmt(now() - time::Duration::hours(1)))).check(now()).is_err());
        assert!(request(a.clone(), Some(&fmt(now() + time::Duration::days(400)))).check(now()).is_err());
        assert!(request(a, Some("tomorrow")).check(now()).is_err());
    }

    #[test]
    fn bodies_have_a_limit_and_previews_an_ellipsis() {
        let a = Audience { customer_ids: vec![CustomerId::generate().to_string()], group_ids: vec![] };
        let mut r = request(a, None);
        r.body = "x".repeat(MAX_ANNOUNCEMENT_BODY_CHARS + 1);
        assert!(r.check(now()).is_err());
        r.body = "   ".into();
        assert!(r.check(now()).is_err());
        assert_eq!(preview("short"), "short");
        assert_eq!(preview(&"y".repeat(300)).chars().count(), PREVIEW_CHARS + 1);
    }
}
