//! The route table: the one list of REST routes and WebSocket routes. confer-local serves it;
//! a test proves template.yaml declares exactly the same routes and functions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::announcements as an;
use super::groups as g;
use super::handlers as h;
use super::providers as pr;
use super::recordings as r;
use crate::app::App;
use crate::capabilities::{needs, Capability};

pub type HttpFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;
pub type HttpHandler = fn(Arc<App>, Request) -> HttpFuture;

pub struct Route {
    pub method: &'static str,
    /// API Gateway path template, e.g. `/v1/customers/{customerId}`.
    pub path: &'static str,
    /// Binary in `functions/` and logical id stem in template.yaml.
    pub function: &'static str,
    /// False for routes only the local runtime serves.
    pub cloud: bool,
    /// The ports the function uses: what its Lambda builds, its environment and permissions.
    pub needs: &'static [Capability],
    /// Called without a token (no authorizer): the handler authenticates what it is given.
    pub public: bool,
    pub handler: HttpHandler,
}

macro_rules! route {
    (public $method:literal, $path:literal, $function:literal, $cloud:expr, $needs:expr, $handler:path) => {
        route!(@ true, $method, $path, $function, $cloud, $needs, $handler)
    };
    ($method:literal, $path:literal, $function:literal, $cloud:expr, $needs:expr, $handler:path) => {
        route!(@ false, $method, $path, $function, $cloud, $needs, $handler)
    };
    (@ $public:expr, $method:literal, $path:literal, $function:literal, $cloud:expr, $needs:expr, $handler:path) => {
        Route {
            method: $method,
            path: $path,
            function: $function,
            cloud: $cloud,
            needs: $needs,
            public: $public,
            handler: |app, req| Box::pin($handler(app, req)),
        }
    };
}

pub static ROUTES: &[Route] = &[
    route!("POST", "/v1/customers", "customers-create", true, needs::TABLE_EVENTS, h::create_customer),
    route!("GET", "/v1/customers", "customers-list", true, needs::TABLE, h::list_customers),
    route!("GET", "/v1/customers/{customerId}", "customers-get", true, needs::TABLE, h::get_customer),
    route!("PATCH", "/v1/customers/{customerId}", "customers-update", true, needs::TABLE_EVENTS, h::update_customer),
    route!("GET", "/v1/customers/{customerId}/sessions", "customer-sessions-list", true, needs::TABLE, h::list_customer_sessions),
    route!("GET", "/v1/customers/{customerId}/files", "customer-files-list", true, needs::TABLE_BLOBS, h::list_customer_files),
    route!("POST", "/v1/sessions", "sessions-create", true, needs::CHAT, h::create_session),
    route!("GET", "/v1/sessions", "sessions-list", true, needs::TABLE, h::list_my_sessions),
    route!("GET", "/v1/sessions/{sessionId}", "sessions-get", true, needs::TABLE_LIVE, h::get_session),
    route!("POST", "/v1/sessions/{sessionId}/close", "sessions-close", true, needs::CHAT, h::close_session),
    route!("GET", "/v1/sessions/{sessionId}/messages", "messages-list", true, needs::TABLE_BLOBS, h::list_messages),
    route!(
        "GET",
        "/v1/sessions/{sessionId}/messages/{seq}/translation",
        "messages-translate",
        true,
        needs::TABLE_TRANSLATION,
        h::translate_message
    ),
    route!("POST", "/v1/sessions/{sessionId}/attachments", "attachments-create", true, needs::TABLE_BLOBS, h::create_attachment),
    route!("GET", "/v1/sessions/{sessionId}/attachments/{attachmentId}", "attachments-get", true, needs::TABLE_BLOBS, h::get_attachment),
    route!("POST", "/v1/sessions/{sessionId}/call", "calls-start", true, needs::CALLS, h::start_call),
    route!("GET", "/v1/sessions/{sessionId}/call", "calls-get", true, needs::TABLE, h::get_call),
    route!("PATCH", "/v1/sessions/{sessionId}/call", "calls-update", true, needs::TABLE_LIVE, h::update_call),
    route!("POST", "/v1/sessions/{sessionId}/call/join", "calls-join", true, needs::CALLS, h::join_call),
    route!("POST", "/v1/sessions/{sessionId}/call/leave", "calls-leave", true, needs::CALLS, h::leave_call),
    route!("POST", "/v1/sessions/{sessionId}/call/end", "calls-end", true, needs::CALLS, h::end_call),
    route!("POST", "/v1/sessions/{sessionId}/call/recording", "calls-record-start", true, needs::RECORD, r::start_recording),
    route!("DELETE", "/v1/sessions/{sessionId}/call/recording", "calls-record-stop", true, needs::RECORD, r::stop_recording),
    route!("POST", "/v1/recordings/{recordingId}/chunks", "recordings-chunks-create", false, needs::RECORDINGS, r::create_chunk),
    route!("GET", "/v1/customers/{customerId}/recordings", "customer-recordings-list", true, needs::TABLE, r::list_customer_recordings),
    route!("GET", "/v1/recordings/{recordingId}", "recordings-get", true, needs::TABLE, r::get_recording),
    route!("GET", "/v1/recordings/{recordingId}/media", "recordings-media", true, needs::RECORDINGS, r::recording_media),
    route!("GET", "/v1/recordings/{recordingId}/transcript", "transcripts-get", true, needs::TRANSCRIPTS, r::get_transcript),
    route!("GET", "/v1/recordings/{recordingId}/transcript/export", "transcripts-export", true, needs::TRANSCRIPTS, r::export_transcript),
    route!(
        "PATCH",
        "/v1/recordings/{recordingId}/transcript/speakers",
        "transcripts-speakers-update",
        true,
        needs::TABLE,
        r::name_speakers
    ),
    route!("POST", "/v1/groups", "groups-create", true, needs::TABLE_EVENTS, g::create_group),
    route!("GET", "/v1/groups", "groups-list", true, needs::TABLE, g::list_groups),
    route!("GET", "/v1/groups/{groupId}", "groups-get", true, needs::TABLE, g::get_group),
    route!("PATCH", "/v1/groups/{groupId}", "groups-update", true, needs::TABLE_EVENTS, g::update_group),
    route!("DELETE", "/v1/groups/{groupId}", "groups-delete", true, needs::TABLE_EVENTS, g::delete_group),
    route!("POST", "/v1/groups/{groupId}/members", "group-members-add", true, needs::TABLE_EVENTS, g::add_group_members),
    route!("POST", "/v1/groups/{groupId}/members/remove", "group-members-remove", true, needs::TABLE_EVENTS, g::remove_group_members),
    route!("GET", "/v1/groups/{groupId}/members", "group-members-list", true, needs::TABLE, g::list_group_members),
    route!("GET", "/v1/customers/{customerId}/groups", "customer-groups-list", true, needs::TABLE, g::list_customer_groups),
    route!("POST", "/v1/announcements", "announcements-create", true, needs::ANNOUNCE, an::create_announcement),
    route!("GET", "/v1/announcements", "announcements-list", true, needs::TABLE, an::list_announcements),
    route!("GET", "/v1/announcements/{announcementId}", "announcements-get", true, needs::TABLE, an::get_announcement),
    route!(
        "POST",
        "/v1/announcements/{announcementId}/cancel",
        "announcements-cancel",
        true,
        needs::TABLE_SCHEDULES,
        an::cancel_announcement
    ),
    route!("POST", "/v1/announcement-audience", "announcements-audience", true, needs::TABLE, an::preview_audience),
    route!("POST", "/v1/announcement-media", "announcement-media-create", true, needs::TABLE_BLOBS, an::create_media),
    route!("GET", "/v1/announcement-media/{mediaId}", "announcement-media-get", true, needs::TABLE_BLOBS, an::get_media),
    route!("GET", "/v1/inbox", "inbox-list", true, needs::TABLE, an::list_inbox),
    route!("GET", "/v1/inbox/{announcementId}", "inbox-get", true, needs::TABLE_BLOBS, an::open_inbox_entry),
    route!("POST", "/v1/inbox/{announcementId}/read", "inbox-read", true, needs::TABLE_EVENTS, an::read_inbox_entry),
    route!("GET", "/v1/search", "search", true, needs::SEARCH, super::search::search),
    route!("GET", "/v1/tenant/settings", "settings-get", true, needs::TABLE, r::get_settings),
    // The video apps' credentials: Secrets Manager in the cloud, a sealed file locally.
    route!("GET", "/v1/tenant/video-providers", "video-providers-list", true, needs::VIDEO_APPS, pr::list_video_providers),
    route!("PUT", "/v1/tenant/video-providers/{provider}", "video-providers-connect", true, needs::VIDEO_APPS, pr::connect_video_provider),
    route!(
        "DELETE",
        "/v1/tenant/video-providers/{provider}",
        "video-providers-disconnect",
        true,
        needs::VIDEO_APPS,
        pr::disconnect_video_provider
    ),
    route!(public "POST", "/v1/webhooks/zoom/{tenantId}", "zoom-webhook", true, needs::VIDEO_APP_WEBHOOK, pr::zoom_webhook),
    route!(public "POST", "/v1/webhooks/teams/{tenantId}", "teams-webhook", true, needs::VIDEO_APP_WEBHOOK, pr::teams_webhook),
    route!(public "POST", "/v1/webhooks/meet/{tenantId}", "meet-webhook", true, needs::VIDEO_APP_WEBHOOK, pr::meet_webhook),
    route!("PATCH", "/v1/tenant/settings", "settings-update", true, needs::TABLE, r::update_settings),
    route!("GET", "/v1/me", "me-get", true, needs::NONE, h::get_me),
    route!("POST", "/v1/customers/{customerId}/invitations", "invitations-create", true, needs::TABLE, h::create_invitation),
    route!("POST", "/v1/customers/{customerId}/tokens", "customer-tokens-create", true, needs::TABLE_IDENTITY, h::create_customer_token),
    route!(public "POST", "/v1/invitations/exchange", "invitations-exchange", true, needs::TABLE_IDENTITY, h::exchange_invitation),
    route!(public "POST", "/v1/local/sign-in", "local-sign-in", false, needs::IDENTITY, h::local_sign_in),
    route!("GET", "/v1/agents", "agents-list", true, needs::IDENTITY, h::list_agents),
    route!("POST", "/v1/agents", "agents-invite", true, needs::IDENTITY, h::invite_agent),
    route!("PATCH", "/v1/agents/{agentId}", "agents-update", true, needs::AGENTS_UPDATE, h::update_agent),
    route!("GET", "/v1/events", "events-read", false, needs::TABLE, h::read_events),
];

/// WebSocket routes (route selection expression `$request.body.action`): route key, function,
/// and the ports it uses.
pub static WS_ROUTES: &[(&str, &str, &[Capability])] = &[
    ("$connect", "ws-connect", needs::TABLE_LIVE),
    ("$disconnect", "ws-disconnect", needs::TABLE_LIVE),
    ("$default", "ws-default", needs::TABLE_LIVE),
    ("send", "ws-send", needs::CHAT),
    ("ack", "ws-ack", needs::CHAT),
    ("read", "ws-read", needs::CHAT),
    ("typing", "ws-typing", needs::TABLE_LIVE),
    ("signal", "ws-signal", needs::TABLE_LIVE),
];

/// The Lambda REQUEST authorizer on `$connect`.
pub const WS_AUTHORIZER_FUNCTION: &str = "ws-authorizer";

/// Matches a concrete path against a template, returning path parameters.
pub fn match_path(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let mut params = Vec::new();
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) => {
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    params.push((name.to_string(), ps.to_string()));
                } else if ts != ps {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

pub enum Matched<'a> {
    Found(&'a Route, Vec<(String, String)>),
    /// The path exists with other methods: these (the `Allow` header of a 405).
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

/// The route for a method and a concrete path. Methods are case-sensitive, as in HTTP.
pub fn find(method: &str, path: &str) -> Matched<'static> {
    let mut allow = Vec::new();
    for route in ROUTES {
        if let Some(params) = match_path(route.path, path) {
            if route.method == method {
                return Matched::Found(route, params);
            }
            allow.push(route.method);
        }
    }
    if allow.is_empty() {
        Matched::NotFound
    } else {
        Matched::MethodNotAllowed(allow)
    }
}

pub type WsFuture = Pin<Box<dyn Future<Output = aws_lambda_events::apigw::ApiGatewayProxyResponse> + Send>>;
pub type WsHandler = fn(Arc<App>, aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest) -> WsFuture;

/// The handler of a WebSocket route key.
pub fn ws_handler(route_key: &str) -> Option<WsHandler> {
    use crate::ws;
    let h: WsHandler = match route_key {
        "$connect" => |a, e| Box::pin(ws::on_connect(a, e)),
        "$disconnect" => |a, e| Box::pin(ws::on_disconnect(a, e)),
        "$default" => |a, e| Box::pin(ws::on_default(a, e)),
        "send" => |a, e| Box::pin(ws::on_send(a, e)),
        "ack" => |a, e| Box::pin(ws::on_ack(a, e)),
        "read" => |a, e| Box::pin(ws::on_read(a, e)),
        "typing" => |a, e| Box::pin(ws::on_typing(a, e)),
        "signal" => |a, e| Box::pin(ws::on_signal(a, e)),
        _ => return None,
    };
    Some(h)
}

/// The handler a REST function binary runs.
pub fn http_handler(function: &str) -> Option<HttpHandler> {
    ROUTES.iter().find(|r| r.function == function).map(|r| r.handler)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_templates() {
        assert_eq!(match_path("/v1/customers/{customerId}", "/v1/customers/cus_1"), Some(vec![("customerId".into(), "cus_1".into())]));
        assert_eq!(match_path("/v1/customers/{customerId}", "/v1/customers/"), None);
        assert_eq!(match_path("/v1/customers", "/v1/customers/x"), None);
        assert!(matches!(find("GET", "/v1/sessions/ses_1/messages"), Matched::Found(r, _) if r.function == "messages-list"));
        assert!(matches!(find("DELETE", "/v1/customers"), Matched::MethodNotAllowed(allow) if allow == ["POST", "GET"]));
        assert!(matches!(find("get", "/v1/customers"), Matched::MethodNotAllowed(_)));
        assert!(matches!(find("TRACE", "/v1/sessions/ses_1/messages"), Matched::MethodNotAllowed(allow) if allow == ["GET"]));
        assert!(matches!(find("GET", "/v2/nothing"), Matched::NotFound));
    }

    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc = crate::http::openapi::document();
        for r in ROUTES {
            let item = doc.paths.paths.get(r.path).unwrap_or_else(|| panic!("{} missing from OpenAPI", r.path));
            let json = serde_json::to_value(item).unwrap();
            assert!(json.get(r.method.to_lowercase()).is_some(), "{} {} missing from OpenAPI", r.method, r.path);
        }
        let documented: usize = doc.paths.paths.values().map(|i| serde_json::to_value(i).unwrap().as_object().unwrap().len()).sum();
        assert_eq!(documented, ROUTES.len(), "OpenAPI documents routes the gateway does not serve");
    }
}
