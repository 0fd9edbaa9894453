//! Builds events in the exact JSON shape API Gateway sends to Lambda, then parses them with the
//! same code the Lambda runtime uses, so a handler cannot tell confer-local from AWS.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest};
use http::HeaderMap;
use serde_json::{json, Map, Value};

pub const ACCOUNT_ID: &str = "000000000000";
pub const HTTP_API_ID: &str = "local-http";
pub const WS_API_ID: &str = "local-ws";
pub const STAGE: &str = "$default";

fn clf_time(now: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
    now.format(&fmt).unwrap_or_default()
}

pub fn request_id() -> String {
    // API Gateway request ids are opaque; a ULID keeps them unique and sortable.
    ulid::Ulid::new().to_string()
}

/// Headers as API Gateway v2 passes them: lower-case names, repeated values joined by commas.
fn joined_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            out.entry(name.as_str().to_ascii_lowercase()).or_default().push(v.to_string());
        }
    }
    out.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect()
}

fn multi_headers(headers: &HeaderMap) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            // Single-value maps keep the last value, as API Gateway's REST-style events do.
            single.insert(name.as_str().to_string(), Value::String(v.to_string()));
            multi.entry(name.as_str().to_string()).or_default().push(Value::String(v.to_string()));
        }
    }
    (single, multi.into_iter().map(|(k, v)| (k, Value::Array(v))).collect())
}

fn query_maps(raw_query: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut multi: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        multi.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    let single = multi.iter().map(|(k, v)| (k.clone(), Value::String(v.last().cloned().unwrap_or_default()))).collect();
    let multi = multi.into_iter().map(|(k, v)| (k, Value::Array(v.into_iter().map(Value::String).collect()))).collect();
    (single, multi)
}

pub struct HttpRequestParts<'a> {
    /// Made once when the request arrived (also in the gateway's own errors and response header).
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub route_key: &'a str,
    pub path_parameters: &'a [(String, String)],
    /// The verified token's claims; `None` for a route without an authorizer.
    pub claims: Option<&'a HashMap<String, String>>,
    pub source: SocketAddr,
    pub host: &'a str,
}

/// An HTTP API payload format 2.0 event with JWT authorizer claims.
pub fn http_v2_event(p: &HttpRequestParts<'_>) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(p.raw_query.as_bytes()) {
        query.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    let query: Map<String, Value> = query.into_iter().map(|(k, v)| (k, Value::String(v.join(",")))).collect();
    let cookies: Vec<Value> = p
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';').map(|c| Value::String(c.trim().to_string())))
        .collect();
    let (body, is_base64) = match std::str::from_utf8(p.body) {
        Ok(s) => (s.to_string(), false),
        Err(_) => {
            use base64::Engine;
            (base64::engine::general_purpose::STANDARD.encode(p.body), true)
        }
    };
    // API Gateway sends no authorizer for a route without one.
    let authorizer = match p.claims {
        Some(claims) => json!({ "jwt": { "claims": claims, "scopes": null } }),
        None => Value::Null,
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": p.route_key,
        "rawPath": p.path,
        "rawQueryString": p.raw_query,
        "headers": joined_headers(p.headers),
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": HTTP_API_ID,
            "authorizer": authorizer,
            "domainName": p.host,
            "domainPrefix": p.host.split('.').next().unwrap_or(p.host),
            "http": {
                "method": p.method,
                "path": p.path,
                "protocol": "HTTP/1.1",
                "sourceIp": p.source.ip().to_string(),
                "userAgent": p.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
            },
            "requestId": p.request_id,
            "routeKey": p.route_key,
            "stage": STAGE,
            "time": clf_time(now),
            "timeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64
        },
        "isBase64Encoded": is_base64
    });
    let obj = event.as_object_mut().expect("object");
    if !cookies.is_empty() {
        obj.insert("cookies".into(), Value::Array(cookies));
    }
    if !query.is_empty() {
        obj.insert("queryStringParameters".into(), Value::Object(query));
    }
    if !p.path_parameters.is_empty() {
        let params: Map<String, Value> = p.path_parameters.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        obj.insert("pathParameters".into(), Value::Object(params));
    }
    if !p.body.is_empty() {
        obj.insert("body".into(), Value::String(body));
    }
    event
}

/// Converts an HTTP API event into the request a `lambda_http` handler receives.
pub fn to_lambda_request(event: &Value) -> Result<lambda_http::Request, serde_json::Error> {
    lambda_http::request::from_str(&event.to_string())
}

pub struct WsConnection<'a> {
    pub connection_id: &'a str,
    pub connected_at_ms: i64,
    pub source: SocketAddr,
    pub host: &'a str,
}

fn ws_request_context(c: &WsConnection<'_>, route_key: &str, event_type: &str, authorizer: Option<&Map<String, Value>>) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let mut ctx = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id(),
        "requestTime": clf_time(now),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": c.connected_at_ms,
        "requestTimeEpoch": (now.unix_timestamp_nanos() / 1_000_000) as i64,
        "identity": { "sourceIp": c.source.ip().to_string() },
        "requestId": request_id(),
        "domainName": c.host,
        "connectionId": c.connection_id,
        "apiId": WS_API_ID
    });
    if event_type == "MESSAGE" {
        ctx["messageId"] = Value::String(request_id());
    }
    if let Some(a) = authorizer {
        ctx["authorizer"] = Value::Object(a.clone());
    }
    ctx
}

pub fn ws_method_arn(route_key: &str) -> String {
    format!("arn:aws:execute-api:local:{ACCOUNT_ID}:{WS_API_ID}/{STAGE}/{route_key}")
}

/// The REQUEST authorizer input API Gateway sends on `$connect`.
pub fn ws_authorizer_event(
    c: &WsConnection<'_>,
    headers: &HeaderMap,
    raw_query: &str,
) -> Result<ApiGatewayCustomAuthorizerRequestTypeRequest, serde_json::Error> {
    let (single, multi) = multi_headers(headers);
    let (q, mq) = query_maps(raw_query);
    let mut ctx = ws_request_context(c, "$connect", "CONNECT", None);
    ctx.as_object_mut().expect("object").remove("messageDirection");
    let event = json!({
        "type": "REQUEST",
        "methodArn": ws_method_arn("$connect"),
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": q,
        "multiValueQueryStringParameters": mq,
        "stageVariables": {},
        "requestContext": ctx
    });
    serde_json::from_value(event)
}

/// The context API Gateway passes to every route of a connection from its authorizer's answer.
pub fn authorizer_context(principal_id: &str, context: &Map<String, Value>) -> Map<String, Value> {
    let mut a = context.clone();
    a.insert("principalId".into(), Value::String(principal_id.to_string()));
    a.insert("integrationLatency".into(), Value::from(0));
    a
}

pub fn ws_connect_event(
    c: &WsConnection<'_>,
    headers: &HeaderMap,
    raw_query: &str,
    authorizer: &Map<String, Value>,
) -> Result<ApiGatewayWebsocketProxyRequest, serde_json::Error> {
    let (single, multi) = multi_headers(headers);
    let (q, mq) = query_maps(raw_query);
    let mut event = json!({
        "headers": single,
        "multiValueHeaders": multi,
        "requestContext": ws_request_context(c, "$connect", "CONNECT", Some(authorizer)),
        "isBase64Encoded": false
    });
    if !q.is_empty() {
        event["queryStringParameters"] = Value::Object(q);
        event["multiValueQueryStringParameters"] = Value::Object(mq);
    }
    serde_json::from_value(event)
}

pub fn ws_message_event(
    c: &WsConnection<'_>,
    route_key: &str,
    body: &str,
    authorizer: &Map<String, Value>,
) -> Result<ApiGatewayWebsocketProxyRequest, serde_json::Error> {
    serde_json::from_value(json!({
        "requestContext": ws_request_context(c, route_key, "MESSAGE", Some(authorizer)),
        "body": body,
        "isBase64Encoded": false
    }))
}

/// MESSAGE events of one connection. What stays the same for the connection is built once, in
/// API Gateway's JSON shape, by [`ws_message_event`]; each frame then only fills in what changes
/// per message (route, ids, time, body) — the JSON round trip per frame cost more than the chat.
pub struct WsMessageEvents {
    template: ApiGatewayWebsocketProxyRequest,
}

impl WsMessageEvents {
    pub fn new(c: &WsConnection<'_>, authorizer: &Map<String, Value>) -> Result<Self, serde_json::Error> {
        Ok(WsMessageEvents { template: ws_message_event(c, "$default", "", authorizer)? })
    }

    pub fn event(&self, route_key: &str, body: &str) -> ApiGatewayWebsocketProxyRequest {
        let mut event = self.template.clone();
        let now = time::OffsetDateTime::now_utc();
        let ctx = &mut event.request_context;
        ctx.route_key = Some(route_key.to_string());
        ctx.extended_request_id = Some(request_id());
        ctx.request_id = Some(request_id());
        ctx.message_id = Some(request_id());
        ctx.request_time = Some(clf_time(now));
        ctx.request_time_epoch = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        event.body = Some(body.to_string());
        event
    }
}

pub fn ws_disconnect_event(
    c: &WsConnection<'_>,
    authorizer: &Map<String, Value>,
    status: u16,
    reason: &str,
) -> Result<ApiGatewayWebsocketProxyRequest, serde_json::Error> {
    let mut ctx = ws_request_context(c, "$disconnect", "DISCONNECT", Some(authorizer));
    ctx["disconnectStatusCode"] = Value::from(status);
    ctx["disconnectReason"] = Value::String(reason.to_string());
    serde_json::from_value(json!({
        "headers": { "Host": c.host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": "" },
        "multiValueHeaders": { "Host": [c.host] },
        "requestContext": ctx,
        "isBase64Encoded": false
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_frame_events_match_the_full_construction_but_for_ids_and_time() {
        let c = WsConnection {
            connection_id: "abc=",
            connected_at_ms: 1_700_000_000_000,
            source: "10.0.0.7:5000".parse().unwrap(),
            host: "localhost:8080",
        };
        let mut authorizer = Map::new();
        authorizer.insert("tenant".into(), "acme".into());
        authorizer.insert("principalId".into(), "agent-ann".into());
        let body = r#"{"action":"send","text":"hi"}"#;
        let full = serde_json::to_value(ws_message_event(&c, "send", body, &authorizer).unwrap()).unwrap();
        let quick = serde_json::to_value(WsMessageEvents::new(&c, &authorizer).unwrap().event("send", body)).unwrap();
        let normalised = |mut v: Value| {
            for k in ["requestId", "extendedRequestId", "messageId", "requestTime", "requestTimeEpoch"] {
                assert!(!v["requestContext"][k].is_null(), "{k} is set");
                v["requestContext"][k] = Value::Null;
            }
            v
        };
        assert_eq!(normalised(full), normalised(quick));
    }
}
