//! The OpenAPI document, generated from the handlers' annotations, with the schemas of query
//! parameters built from the limits the server enforces.

use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use super::{announcements, groups, handlers, providers, recordings, search};
use crate::domain::limits::{DEFAULT_PAGE, MAX_PAGE, MAX_SEQ, MAX_SEQUENCE};

#[derive(OpenApi)]
#[openapi(
    info(title = "Confer API", description = "Customer communication: customers, chat sessions and message history. Real-time chat runs over the WebSocket API (docs/asyncapi.yaml).\n\nEvery response carries the `apigw-requestid` header; every error body is an `ErrorBody` whose `request_id` is that id (docs/errors.md). A method a path does not have answers 405 `method_not_allowed` with an `Allow` header; an unknown path answers 404 `route_not_found`."),
    paths(
        handlers::create_customer, handlers::list_customers, handlers::get_customer, handlers::update_customer,
        handlers::list_customer_sessions, handlers::create_session, handlers::get_session, handlers::close_session,
        handlers::list_messages, handlers::translate_message, handlers::create_attachment, handlers::get_attachment, handlers::list_customer_files,
        handlers::list_my_sessions, handlers::get_me, handlers::create_invitation, handlers::create_customer_token, handlers::start_call, handlers::get_call, handlers::update_call, handlers::join_call, handlers::leave_call, handlers::end_call, handlers::exchange_invitation, handlers::local_sign_in,
        handlers::list_agents, handlers::invite_agent, handlers::update_agent,
        handlers::read_events,
        recordings::start_recording, recordings::stop_recording, recordings::create_chunk, recordings::list_customer_recordings,
        recordings::get_recording, recordings::recording_media, recordings::get_transcript, recordings::export_transcript,
        recordings::name_speakers, recordings::get_settings, recordings::update_settings,
        groups::create_group, groups::list_groups, groups::get_group, groups::update_group, groups::delete_group,
        groups::add_group_members, groups::remove_group_members, groups::list_group_members, groups::list_customer_groups,
        announcements::create_announcement, announcements::list_announcements, announcements::get_announcement,
        announcements::cancel_announcement, announcements::preview_audience, announcements::create_media, announcements::get_media,
        announcements::list_inbox, announcements::open_inbox_entry, announcements::read_inbox_entry,
        search::search,
        providers::list_video_providers, providers::connect_video_provider, providers::disconnect_video_provider, providers::zoom_webhook,
        providers::teams_webhook, providers::meet_webhook
    ),
    // Parameter schemas (utoipa collects those of bodies and responses by itself).
    components(schemas(PageSize, AfterSeq, BeforeSeq, MessageSeq, EventSeq, HistoryDirection, FileKind, SessionStatusParam, SearchText, SearchQuery, SearchKinds, SearchSortParam, SearchLimit, FilterText, crate::domain::CustomerId, crate::domain::SessionId, crate::domain::AttachmentId, crate::domain::CallId, crate::domain::RecordingId, crate::domain::GroupId, crate::domain::ids::AnnouncementId, crate::domain::ids::MediaId, crate::transcript::render::Format, crate::domain::provider::ExternalProvider, providers::WebhookTenant, ValidationToken)),
    modifiers(&BearerAuth, &EveryOperation),
    tags((name = "customers"), (name = "sessions"), (name = "messages"), (name = "attachments", description = "Images, voice messages and files: request an upload, PUT the bytes to the signed URL, the verified upload arrives as a message (docs/media.md)"), (name = "recordings", description = "Call recordings, their transcripts and translations (docs/recordings.md)"), (name = "settings", description = "A tenant's settings"), (name = "groups", description = "Groups of customers, for announcements (docs/announcements.md)"), (name = "announcements", description = "One message to many customers, with a video or audio file; the customer's inbox (docs/announcements.md)"), (name = "search", description = "One search over messages, files, transcripts, announcements and customers (docs/search.md)"), (name = "events", description = "Local runtime only"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// What every operation shares: the answers the gateway and any backend failure can give, and
/// the request id header on every response.
struct EveryOperation;

impl Modify for EveryOperation {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(crate::error::ErrorBody::schema_ref())).build())
                .build()
        };
        let request_id = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some("The request's id, also the `request_id` of an error body"))
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.patch, &mut item.put, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses.entry("401".into()).or_insert_with(|| error("`unauthorized`: no token, or one that is not valid").into());
                responses.entry("413".into()).or_insert_with(|| error("`payload_too_large`: a body over the limit").into());
                responses.entry("500".into()).or_insert_with(|| error("`internal`: a backend failed; safe to retry").into());
                for response in responses.values_mut() {
                    if let RefOr::T(response) = response {
                        response.headers.insert(crate::http::REQUEST_ID_HEADER.into(), request_id.clone());
                    }
                }
            }
        }
        // Schemas utoipa cannot express from attributes.
        if let Some(RefOr::T(Schema::Object(patch))) = openapi.components.as_mut().and_then(|c| c.schemas.get_mut("CustomerPatch")) {
            // An update that names no field changes nothing and is refused.
            patch.min_properties = Some(1);
        }
    }
}

trait SchemaRef {
    fn schema_ref() -> RefOr<Schema>;
}

impl<T: ToSchema> SchemaRef for T {
    fn schema_ref() -> RefOr<Schema> {
        RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))
    }
}

macro_rules! doc_schema {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $name {}
    };
}

fn integer(description: &str, minimum: u64, maximum: u64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .minimum(Some(minimum as f64))
        .maximum(Some(maximum as f64))
        .description(Some(description))
}

doc_schema!(
    /// `limit`: the page size.
    PageSize => integer(&format!("Page size, 1 to {MAX_PAGE}; {DEFAULT_PAGE} when absent"), 1, MAX_PAGE as u64)
        .default(Some(DEFAULT_PAGE.into()))
);

doc_schema!(
    /// `cursor`: a page's `next_cursor`, handed back unchanged.
    Cursor => ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(CURSOR_PATTERN))
        .description(Some("Opaque: the `next_cursor` of the page before, for the same list. Any other value answers 400 `validation_failed`."))
);

/// Cursors are unpadded URL-safe base64 (the event log's are sequence numbers, which also match).
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

doc_schema!(
    /// `after_seq` of the message history.
    AfterSeq => integer("Messages with a sequence number strictly greater, oldest first (the catch-up after a reconnect or a gap: the client's watermark; 0 for all)", 0, MAX_SEQ)
);

doc_schema!(
    /// `before_seq` of the message history.
    BeforeSeq => integer("Messages with a sequence number strictly smaller, newest first", 1, MAX_SEQ)
);

doc_schema!(
    /// A message's place in its session's order, in a path.
    MessageSeq => integer("The message's sequence number", 1, MAX_SEQ)
);

doc_schema!(
    /// `after` of the event log.
    EventSeq => integer("Sequence number of the last event already read; 0 (the default) to start", 0, MAX_SEQUENCE)
);

doc_schema!(
    /// `direction` of the message history.
    HistoryDirection => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["backward", "forward"]))
        .description(Some("`backward`: newest first (the default, and implied by `before_seq`); `forward`: oldest first (implied by `after_seq`)"))
);

doc_schema!(
    /// `status` of the caller's sessions.
    SessionStatusParam => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["open", "closed"]))
        .description(Some("Only sessions in this state"))
);

doc_schema!(
    /// `q` of the customer list.
    SearchText => ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(crate::domain::limits::MAX_NAME_CHARS))
        .pattern(Some(r"\S"))
        .description(Some("Text the name or email contains, in any case"))
);

doc_schema!(
    /// `validationToken` of Graph's check of a webhook.
    ValidationToken => ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(1024))
        .pattern(Some(r"^[^\x00-\x1f\x7f-\x9f]+$"))
        .description(Some("Opaque text Graph sends to check the endpoint, echoed as plain text"))
);

doc_schema!(
    /// Graph's validation token as Confer echoes it: the text as it came, whatever it looks like.
    EchoedToken => ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some("The validationToken query parameter's text, unchanged"))
);

doc_schema!(
    /// `q` of the search.
    SearchQuery => ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(crate::domain::search::MAX_QUERY_CHARS))
        .pattern(Some(crate::domain::search::QUERY_PATTERN))
        .description(Some("Words to find (the last one also as the start of a word), and \"quoted phrases\": at most 256 characters and 16 words (counted between spaces), quotes balanced, something besides spaces and quotes, no control characters"))
);

doc_schema!(
    /// `kind` of the search.
    SearchKinds => ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^(message|file|transcript|announcement|customer)(,(message|file|transcript|announcement|customer))*$"))
        .description(Some("Only these kinds, comma-separated: message, file, transcript, announcement, customer"))
);

doc_schema!(
    /// `sort` of the search.
    SearchSortParam => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["relevance", "date"]))
        .description(Some("`relevance` (the default) or `date`, newest first"))
);

doc_schema!(
    /// `limit` of the search.
    SearchLimit => integer(
        &format!("Results per page, 1 to {}; {} when absent", crate::domain::search::MAX_SEARCH_LIMIT, crate::domain::search::DEFAULT_SEARCH_LIMIT),
        1,
        crate::domain::search::MAX_SEARCH_LIMIT as u64
    )
);

doc_schema!(
    /// A search filter's text: a customer or session id, a speaker, a language.
    FilterText => ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(200))
        .pattern(Some(r"^[^\x00-\x1f\x7f-\x9f]*$"))
        .description(Some("Exactly this value (a speaker's name in any case; a language's primary tag also finds its regional ones); empty: no filter"))
);

doc_schema!(
    /// `kind` of a customer's files.
    FileKind => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["image", "audio", "file"]))
        .description(Some("Only files of this kind"))
);

/// The document as utoipa builds it from the annotations.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as served: [`document`] plus the one rule utoipa's types cannot state.
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).expect("the OpenAPI document serialises");
    history_query_rules(&mut doc);
    upload_rules(&mut doc);
    announcement_rules(&mut doc);
    doc
}

/// The message history's query parameters depend on each other: `after_seq` and `before_seq`
/// each start a page on their own — neither goes with `cursor` or with the other — and a
/// `direction` given with them must agree. Independent parameters cannot say so; one exploded
/// object parameter (`style: form`, the same query string on the wire) can.
fn history_query_rules(doc: &mut serde_json::Value) {
    use serde_json::{json, Map, Value};
    let Some(params) = doc.pointer_mut("/paths/~1v1~1sessions~1{sessionId}~1messages/get/parameters").and_then(Value::as_array_mut) else {
        return;
    };
    let (query, mut others): (Vec<Value>, Vec<Value>) = params.drain(..).partition(|p| p["in"] == "query");
    let properties: Map<String, Value> =
        query.into_iter().filter_map(|p| Some((p["name"].as_str()?.to_string(), p["schema"].clone()))).collect();
    others.push(json!({
        "name": "page",
        "in": "query",
        "required": false,
        "style": "form",
        "explode": true,
        "description": "The query parameters `direction`, `cursor`, `after_seq`, `before_seq` and `limit`, each optional and written on its own (`?after_seq=41&limit=50`). `after_seq` and `before_seq` each start a page on their own: neither goes with `cursor` or with the other; a `direction` given with them must agree (forward after, backward before). Anything else answers 400 `validation_failed`.",
        "schema": {
            "type": "object",
            "properties": properties,
            "anyOf": [
                { "description": "From the newest or the oldest message, or on from `cursor`", "properties": { "after_seq": false, "before_seq": false } },
                { "description": "After a sequence number, oldest first", "required": ["after_seq"],
                  "properties": { "cursor": false, "before_seq": false, "direction": { "const": "forward" } } },
                { "description": "Before a sequence number, newest first", "required": ["before_seq"],
                  "properties": { "cursor": false, "after_seq": false, "direction": { "const": "backward" } } }
            ]
        }
    }));
    *params = others;
}

/// An upload request's size limit depends on the kind its declared type names: one branch per kind,
/// each with the types of that kind and its limit.
fn upload_rules(doc: &mut serde_json::Value) {
    use crate::domain::attachment::schema::content_type_pattern;
    use crate::media::{allowed_types, max_bytes, MediaKind};
    use serde_json::{json, Value};
    let Some(upload) = doc.pointer_mut("/components/schemas/NewUpload").and_then(Value::as_object_mut) else { return };
    let branches: Vec<Value> = [MediaKind::Image, MediaKind::Audio, MediaKind::File]
        .into_iter()
        .map(|kind| {
            let pattern = content_type_pattern(allowed_types().filter(|(_, k)| *k == kind).map(|(name, _)| name));
            json!({
                "description": format!("A {} of at most {} bytes", kind.as_str(), max_bytes(kind)),
                "properties": {
                    "content_type": { "type": "string", "pattern": pattern },
                    "size": { "type": "integer", "minimum": 1, "maximum": max_bytes(kind) }
                }
            })
        })
        .collect();
    upload.insert("anyOf".into(), Value::Array(branches));
}

/// An announcement's media: a video or an audio type, each with its limit; an audience names at
/// least one customer or group.
fn announcement_rules(doc: &mut serde_json::Value) {
    use crate::domain::attachment::schema::content_type_pattern;
    use crate::domain::limits::{MAX_AUDIO_BYTES, MAX_VIDEO_BYTES};
    use crate::media::{allowed_types, announcement_video_types, MediaKind};
    use serde_json::{json, Value};
    if let Some(upload) = doc.pointer_mut("/components/schemas/NewMediaUpload").and_then(Value::as_object_mut) {
        let video = content_type_pattern(announcement_video_types());
        let audio = content_type_pattern(allowed_types().filter(|(_, k)| *k == MediaKind::Audio).map(|(name, _)| name));
        upload.insert(
            "anyOf".into(),
            json!([
                { "description": format!("A video of at most {MAX_VIDEO_BYTES} bytes"),
                  "properties": { "content_type": { "type": "string", "pattern": video }, "size": { "type": "integer", "minimum": 1, "maximum": MAX_VIDEO_BYTES } } },
                { "description": format!("An audio file of at most {MAX_AUDIO_BYTES} bytes"),
                  "properties": { "content_type": { "type": "string", "pattern": audio }, "size": { "type": "integer", "minimum": 1, "maximum": MAX_AUDIO_BYTES } } }
            ]),
        );
    }
    if let Some(audience) = doc.pointer_mut("/components/schemas/Audience").and_then(Value::as_object_mut) {
        audience.insert(
            "anyOf".into(),
            json!([
                { "description": "Customers", "required": ["customer_ids"], "properties": { "customer_ids": { "minItems": 1 } } },
                { "description": "Groups", "required": ["group_ids"], "properties": { "group_ids": { "minItems": 1 } } }
            ]),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::domain::limits::*;
    use crate::domain::{ids::AgentId, CustomerId, MessageId, SessionId};

    fn doc() -> Value {
        document_json()
    }

    fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
        let s = &doc["components"]["schemas"][name];
        assert!(s.is_object(), "schema {name} missing");
        s
    }

    #[test]
    fn declared_limits_are_the_enforced_ones() {
        let doc = doc();
        let props = |name: &str| schema(&doc, name)["properties"].clone();
        let (new, patch, customer) = (props("NewCustomer"), props("CustomerPatch"), props("Customer"));
        for p in [&new, &patch, &customer] {
            assert_eq!(p["name"]["maxLength"], json!(MAX_NAME_CHARS));
            assert_eq!(p["email"]["maxLength"], json!(MAX_EMAIL_CHARS));
            assert_eq!(p["phone"]["maxLength"], json!(MAX_PHONE_CHARS));
            assert_eq!(p["external_ref"]["maxLength"], json!(MAX_EXTERNAL_REF_CHARS));
            let attributes = &p["attributes"];
            assert_eq!(attributes["maxProperties"], json!(MAX_ATTRIBUTES));
            assert_eq!(attributes["propertyNames"]["maxLength"], json!(MAX_ATTRIBUTE_KEY_CHARS));
            assert_eq!(attributes["additionalProperties"]["maxLength"], json!(MAX_ATTRIBUTE_VALUE_CHARS));
        }
        let session = props("NewSession");
        assert_eq!(session["agent_ids"]["maxItems"], json!(MAX_SESSION_AGENTS - 1));
        assert_eq!(session["subject"]["maxLength"], json!(MAX_SUBJECT_CHARS));
        let message = props("Message");
        assert_eq!(message["text"]["maxLength"], json!(MAX_TEXT_CHARS));
        assert_eq!(message["client_message_id"]["maxLength"], json!(MAX_CLIENT_MESSAGE_ID));
        assert_eq!(schema(&doc, "PageSize")["maximum"], json!(MAX_PAGE));
        for seq in ["AfterSeq", "BeforeSeq", "MessageSeq"] {
            assert_eq!(schema(&doc, seq)["maximum"], json!(MAX_SEQ), "{seq}");
        }
        assert_eq!(schema(&doc, "EventSeq")["maximum"], json!(MAX_SEQUENCE));
        assert_eq!(message["seq"]["minimum"], json!(1));
    }

    #[test]
    fn every_reference_resolves() {
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        out.push(r.clone());
                    }
                    map.values().for_each(|v| refs(v, out));
                }
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = doc();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected reference {r}"));
            schema(&doc, name);
        }
    }

    #[test]
    fn history_anchors_exclude_each_other() {
        let doc = doc();
        let params = doc["paths"]["/v1/sessions/{sessionId}/messages"]["get"]["parameters"].as_array().unwrap().clone();
        assert_eq!(params.len(), 2, "{params:?}");
        let page = &params[1];
        assert_eq!((page["in"].as_str(), page["style"].as_str(), page["explode"].as_bool()), (Some("query"), Some("form"), Some(true)));
        let mut names: Vec<&str> = page["schema"]["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["after_seq", "before_seq", "cursor", "direction", "limit"]);
        assert_eq!(page["schema"]["anyOf"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn request_bodies_refuse_unknown_fields() {
        let doc = doc();
        for name in ["NewCustomer", "CustomerPatch", "NewSession"] {
            assert_eq!(schema(&doc, name)["additionalProperties"], json!(false), "{name}");
        }
        assert_eq!(schema(&doc, "CustomerPatch")["minProperties"], json!(1));
    }

    #[test]
    fn ids_are_declared_with_their_patterns() {
        let doc = doc();
        assert_eq!(schema(&doc, "CustomerId")["pattern"], json!(CustomerId::pattern()));
        assert_eq!(schema(&doc, "SessionId")["pattern"], json!(SessionId::pattern()));
        assert_eq!(schema(&doc, "MessageId")["pattern"], json!(MessageId::pattern()));
        assert_eq!(schema(&doc, "AgentId")["pattern"], json!(AgentId::pattern()));
        assert_eq!(CustomerId::pattern(), "^cus_[0-7][0-9A-HJKMNP-TV-Z]{25}$");
    }

    #[test]
    fn every_operation_documents_the_shared_answers_and_the_request_id() {
        let doc = doc();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for status in ["401", "413", "500"] {
                    assert_eq!(
                        op["responses"][status]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
                let with_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty()) || op.get("requestBody").is_some();
                assert_eq!(with_params, op["responses"].get("400").is_some(), "{method} {path}: 400 where input can be invalid");
                for (status, response) in op["responses"].as_object().unwrap() {
                    assert!(response["headers"][crate::http::REQUEST_ID_HEADER].is_object(), "{method} {path} {status}");
                }
            }
        }
    }
}
