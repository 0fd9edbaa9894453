//! A local stub of an OpenSearch Service domain's REST API, built from OpenSearch's documented
//! requests and answers, for the OpenSearch adapter's tests (no emulator of OpenSearch runs
//! here). It checks what it receives as a domain would: every request's SigV4 signature
//! (recomputed from the request as it arrived), the index definition (analyzers and normalizers
//! it names exist; the mapping is strict), each indexed document against that mapping, and the
//! routing the mapping requires. It evaluates the query DSL the adapter uses: `bool`, `term`,
//! `terms`, `ids`, `range`, and `multi_match` (`best_fields` with `AUTO:low,high` fuzziness,
//! `bool_prefix`, `phrase`), with `post_filter`, a `terms` aggregation, sorting, paging and
//! highlighting, on words split at what is not a letter or digit and lowercased.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Value};

pub const ACCESS_KEY: &str = "AKIDCONFERSTUB";
pub const SECRET_KEY: &str = "confer-stub-secret";
pub const REGION: &str = "eu-west-1";

#[derive(Default)]
pub struct Domain {
    /// The index definition received, per index.
    pub definitions: BTreeMap<String, Value>,
    /// Documents by `_id`: routing and source.
    pub docs: BTreeMap<String, (String, Value)>,
    /// Every request: method, path, query string.
    pub requests: Vec<(String, String, String)>,
    /// `_search` bodies received.
    pub searches: Vec<Value>,
    /// Statuses to answer the next requests with instead (429, 403, 500…).
    pub fail_next: VecDeque<u16>,
}

pub type Shared = Arc<Mutex<Domain>>;

pub struct Stub {
    pub url: String,
    pub domain: Shared,
}

/// Starts the stub on a free port.
pub async fn start() -> Stub {
    let domain: Shared = Arc::default();
    let app = Router::new()
        .route("/_bulk", post(bulk))
        .route("/{index}", any(index))
        .route("/{index}/_search", post(search))
        .route("/{index}/_delete_by_query", post(delete_by_query))
        .layer(axum::middleware::from_fn_with_state(domain.clone(), check))
        .with_state(domain.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("stub serves") });
    Stub { url, domain }
}

/// An SDK configuration whose credentials and region the stub verifies signatures with.
pub fn sdk_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
            ACCESS_KEY, SECRET_KEY, None, None, "stub",
        )))
        .region(aws_config::Region::new(REGION))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build()
}

fn error(status: StatusCode, kind: &str, reason: &str) -> Response {
    (status, Json(json!({ "error": { "type": kind, "reason": reason }, "status": status.as_u16() }))).into_response()
}

/// Verifies the SigV4 signature and records the request; answers an injected failure first.
async fn check(State(domain): State<Shared>, request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    if let Err(why) = verify_signature(&parts.method, &parts.headers, &path_and_query, &bytes) {
        return (StatusCode::FORBIDDEN, Json(json!({ "message": why }))).into_response();
    }
    {
        let mut d = domain.lock().unwrap();
        d.requests.push((parts.method.to_string(), parts.uri.path().to_string(), parts.uri.query().unwrap_or_default().to_string()));
        if let Some(status) = d.fail_next.pop_front() {
            let status = StatusCode::from_u16(status).unwrap();
            return error(status, "injected", &format!("the stub answers {status}"));
        }
    }
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

fn verify_signature(method: &Method, headers: &HeaderMap, path_and_query: &str, body: &[u8]) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let auth = header("authorization").ok_or("no Authorization header")?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or("not SigV4")?;
    let field =
        |name: &str| rest.split(", ").find_map(|p| p.strip_prefix(&format!("{name}="))).map(str::to_string).ok_or(format!("no {name}"));
    let (credential, signed, signature) = (field("Credential")?, field("SignedHeaders")?, field("Signature")?);
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope[0] != ACCESS_KEY || scope[2] != REGION || scope[3] != "es" || scope[4] != "aws4_request" {
        return Err(format!("credential scope {credential} is not {ACCESS_KEY}/<date>/{REGION}/es/aws4_request"));
    }
    for required in ["host", "x-amz-date", "x-amz-content-sha256"] {
        if !signed.split(';').any(|h| h == required) {
            return Err(format!("{required} is not signed"));
        }
    }
    let date = header("x-amz-date").ok_or("no x-amz-date")?;
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let at = time::PrimitiveDateTime::parse(&date, format).map_err(|e| e.to_string())?.assume_utc();
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(at.unix_timestamp() as u64);
    let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "stub").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("es")
        .time(at)
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let values: Vec<(String, String)> =
        signed.split(';').filter(|h| !h.starts_with("x-amz-")).map(|h| (h.to_string(), header(h).unwrap_or_default())).collect();
    let host = header("host").ok_or("no Host")?;
    let url = format!("http://{host}{path_and_query}");
    let signable =
        SignableRequest::new(method.as_str(), &url, values.iter().map(|(k, v)| (k.as_str(), v.as_str())), SignableBody::Bytes(body))
            .map_err(|e| e.to_string())?;
    let (_, expected) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    if expected != signature {
        return Err("The request signature we calculated does not match the signature you provided.".into());
    }
    Ok(())
}

async fn index(State(domain): State<Shared>, Path(name): Path<String>, method: Method, body: Bytes) -> Response {
    let mut d = domain.lock().unwrap();
    match method.as_str() {
        "HEAD" if d.definitions.contains_key(&name) => StatusCode::OK.into_response(),
        "HEAD" => StatusCode::NOT_FOUND.into_response(),
        "PUT" if d.definitions.contains_key(&name) => {
            error(StatusCode::BAD_REQUEST, "resource_already_exists_exception", &format!("index [{name}] already exists"))
        }
        "PUT" => {
            let definition: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => return error(StatusCode::BAD_REQUEST, "parse_exception", &e.to_string()),
            };
            if let Err(why) = valid_definition(&definition) {
                return error(StatusCode::BAD_REQUEST, "mapper_parsing_exception", &why);
            }
            d.definitions.insert(name.clone(), definition);
            Json(json!({ "acknowledged": true, "shards_acknowledged": true, "index": name })).into_response()
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "HEAD or PUT"),
    }
}

const FIELD_TYPES: &[&str] = &["keyword", "text", "date", "object", "long", "integer", "boolean"];

/// What OpenSearch checks of an index definition that Confer's relies on.
pub fn valid_definition(definition: &Value) -> Result<(), String> {
    let analysis = &definition["settings"]["analysis"];
    let mappings = &definition["mappings"];
    if mappings["dynamic"] != "strict" {
        return Err("the mapping must be strict".into());
    }
    let properties = mappings["properties"].as_object().ok_or("no properties")?;
    for (name, p) in properties {
        let kind = p["type"].as_str().ok_or(format!("[{name}] has no type"))?;
        if !FIELD_TYPES.contains(&kind) {
            return Err(format!("[{name}]: no handler for type [{kind}]"));
        }
        if let Some(a) = p.get("analyzer").and_then(Value::as_str) {
            if kind != "text" || analysis["analyzer"].get(a).is_none() {
                return Err(format!("[{name}]: analyzer [{a}] has not been configured"));
            }
        }
        if let Some(n) = p.get("normalizer").and_then(Value::as_str) {
            if kind != "keyword" || analysis["normalizer"].get(n).is_none() {
                return Err(format!("[{name}]: normalizer [{n}] not found"));
            }
        }
    }
    for (name, a) in analysis["analyzer"].as_object().into_iter().flatten() {
        let tokenizer = a["tokenizer"].as_str().unwrap_or_default();
        if !["standard", "whitespace"].contains(&tokenizer) && analysis["tokenizer"].get(tokenizer).is_none() {
            return Err(format!("analyzer [{name}]: tokenizer [{tokenizer}] not found"));
        }
        for f in a["filter"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !["lowercase", "asciifolding"].contains(&f) && analysis["filter"].get(f).is_none() {
                return Err(format!("analyzer [{name}]: filter [{f}] not found"));
            }
        }
    }
    Ok(())
}

/// A document against a strict mapping: every field mapped, each value of its field's type.
pub fn valid_document(definition: &Value, doc: &Value) -> Result<(), String> {
    let properties = &definition["mappings"]["properties"];
    for (field, value) in doc.as_object().ok_or("a document is an object")? {
        let Some(kind) = properties.get(field).and_then(|p| p["type"].as_str()) else {
            return Err(format!("mapping set to strict, dynamic introduction of [{field}] within [_doc] is not allowed"));
        };
        let values: Vec<&Value> = match value {
            Value::Array(items) if kind != "object" => items.iter().collect(),
            other => vec![other],
        };
        for v in values {
            let ok = match kind {
                "keyword" | "text" => v.is_string(),
                "date" => v.is_i64(),
                "object" => v.is_object() || v.is_null(),
                _ => true,
            };
            if !ok {
                return Err(format!("failed to parse field [{field}] of type [{kind}]: {v}"));
            }
        }
    }
    Ok(())
}

async fn bulk(State(domain): State<Shared>, RawQuery(query): RawQuery, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-ndjson") {
        return error(StatusCode::NOT_ACCEPTABLE, "content_type", "bulk bodies are application/x-ndjson");
    }
    if !body.ends_with(b"\n") {
        return error(StatusCode::BAD_REQUEST, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]");
    }
    let refresh = query.unwrap_or_default().contains("refresh=wait_for");
    let mut d = domain.lock().unwrap();
    let text = String::from_utf8_lossy(&body).to_string();
    let lines: Vec<&str> = text.lines().collect();
    let (mut items, mut errors) = (Vec::new(), false);
    for pair in lines.chunks(2) {
        let action: Value = serde_json::from_str(pair[0]).unwrap_or(Value::Null);
        let doc: Value = pair.get(1).and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
        let a = &action["index"];
        let (index, id, routing) = (a["_index"].as_str(), a["_id"].as_str(), a["routing"].as_str());
        let outcome = match (index.and_then(|i| d.definitions.get(i)), id, routing) {
            (None, ..) => Err(("index_not_found_exception", format!("no such index [{}]", index.unwrap_or_default()))),
            (_, None, _) => Err(("action_request_validation_exception", "an id is required".to_string())),
            (_, _, None) => Err(("routing_missing_exception", "routing is required".to_string())),
            (Some(def), Some(_), Some(_)) => valid_document(def, &doc).map_err(|why| ("mapper_parsing_exception", why)),
        };
        match outcome {
            Ok(()) => {
                let created = d.docs.insert(id.unwrap().to_string(), (routing.unwrap().to_string(), doc)).is_none();
                items.push(json!({ "index": { "_index": index, "_id": id, "status": if created { 201 } else { 200 },
                    "result": if created { "created" } else { "updated" }, "forced_refresh": refresh } }));
            }
            Err((kind, reason)) => {
                errors = true;
                items.push(json!({ "index": { "_index": index, "_id": id, "status": 400, "error": { "type": kind, "reason": reason } } }));
            }
        }
    }
    Json(json!({ "took": 1, "errors": errors, "items": items })).into_response()
}

fn routing_of(query: &Option<String>) -> Option<String> {
    url::form_urlencoded::parse(query.as_deref().unwrap_or_default().as_bytes()).find(|(k, _)| k == "routing").map(|(_, v)| v.to_string())
}

async fn delete_by_query(
    State(domain): State<Shared>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    Json(body): Json<Value>,
) -> Response {
    let Some(routing) = routing_of(&query) else { return error(StatusCode::BAD_REQUEST, "routing_missing_exception", "routing") };
    let mut d = domain.lock().unwrap();
    if !d.definitions.contains_key(&name) {
        return error(StatusCode::NOT_FOUND, "index_not_found_exception", &name);
    }
    let gone: Vec<String> =
        d.docs.iter().filter(|(id, (r, doc))| *r == routing && matches(&body["query"], id, doc)).map(|(id, _)| id.clone()).collect();
    for id in &gone {
        d.docs.remove(id);
    }
    Json(json!({ "took": 1, "timed_out": false, "deleted": gone.len(), "failures": [] })).into_response()
}

/// Words as the `confer` analyzer makes them.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

fn fuzziness(spec: Option<&str>, token: &str) -> usize {
    let Some(spec) = spec.and_then(|s| s.strip_prefix("AUTO:")) else { return 0 };
    let (low, high) = spec.split_once(',').map(|(l, h)| (l.parse().unwrap_or(3), h.parse().unwrap_or(6))).unwrap_or((3, 6));
    match token.chars().count() {
        n if n < low => 0,
        n if n < high => 1,
        _ => 2,
    }
}

/// How a query token matches a document word.
#[derive(Clone)]
enum Token {
    Word(String, usize),
    Prefix(String),
}

impl Token {
    fn matches(&self, word: &str) -> bool {
        match self {
            Token::Word(t, d) => t == word || (*d > 0 && strsim::osa_distance(t, word) <= *d),
            Token::Prefix(p) => word.starts_with(p.as_str()),
        }
    }
}

fn fields_of(clause: &Value) -> Vec<String> {
    clause["fields"].as_array().into_iter().flatten().filter_map(Value::as_str).map(|f| f.split('^').next().unwrap().to_string()).collect()
}

/// The tokens of a `multi_match` clause.
fn tokens(clause: &Value) -> Vec<Token> {
    let q = words(clause["query"].as_str().unwrap_or_default());
    let n = q.len();
    q.into_iter()
        .enumerate()
        .map(|(i, w)| match clause["type"].as_str() {
            Some("bool_prefix") if i + 1 == n => Token::Prefix(w),
            _ => {
                let d = fuzziness(clause["fuzziness"].as_str(), &w);
                Token::Word(w, d)
            }
        })
        .collect()
}

fn multi_match(clause: &Value, doc: &Value) -> bool {
    let toks = tokens(clause);
    fields_of(clause).iter().any(|field| {
        let field_words = words(doc[field].as_str().unwrap_or_default());
        if clause["type"] == "phrase" {
            let phrase: Vec<String> = words(clause["query"].as_str().unwrap_or_default());
            !phrase.is_empty() && field_words.windows(phrase.len()).any(|w| w == phrase.as_slice())
        } else {
            !toks.is_empty() && toks.iter().all(|t| field_words.iter().any(|w| t.matches(w)))
        }
    })
}

fn term_matches(doc: &Value, field: &str, wanted: &Value) -> bool {
    let wanted = wanted.as_str().unwrap_or_default();
    let normalise = |s: &str| if field == "speaker" { s.to_lowercase() } else { s.to_string() };
    match &doc[field] {
        Value::String(s) => normalise(s) == normalise(wanted),
        Value::Array(items) => items.iter().any(|v| v.as_str().map(normalise).as_deref() == Some(&normalise(wanted))),
        _ => false,
    }
}

/// Whether the document `id` matches `query`.
pub fn matches(query: &Value, id: &str, doc: &Value) -> bool {
    let Some((kind, body)) = query.as_object().and_then(|o| o.iter().next()) else { return true };
    match kind.as_str() {
        "match_all" => true,
        "bool" => {
            let all = |k: &str| body[k].as_array().into_iter().flatten().all(|q| matches(q, id, doc));
            let should: Vec<&Value> = body["should"].as_array().into_iter().flatten().collect();
            let minimum = body["minimum_should_match"].as_u64().unwrap_or(if should.is_empty() { 0 } else { 1 }) as usize;
            all("must")
                && all("filter")
                && body["must_not"].as_array().into_iter().flatten().all(|q| !matches(q, id, doc))
                && should.iter().filter(|q| matches(q, id, doc)).count() >= minimum
        }
        "term" => body.as_object().and_then(|o| o.iter().next()).is_some_and(|(f, v)| term_matches(doc, f, v)),
        "terms" => body
            .as_object()
            .and_then(|o| o.iter().next())
            .is_some_and(|(f, vs)| vs.as_array().into_iter().flatten().any(|v| term_matches(doc, f, v))),
        "ids" => body["values"].as_array().into_iter().flatten().any(|v| v.as_str() == Some(id)),
        "range" => body.as_object().and_then(|o| o.iter().next()).is_some_and(|(f, r)| {
            let v = doc[f].as_i64().unwrap_or_default();
            r["gte"].as_i64().is_none_or(|g| v >= g) && r["lt"].as_i64().is_none_or(|l| v < l)
        }),
        "multi_match" => multi_match(body, doc),
        other => panic!("the stub does not know the query {other}"),
    }
}

/// The `multi_match` clauses under `must`, whose words the highlighter marks.
fn highlight_tokens(query: &Value) -> Vec<Token> {
    query["bool"]["must"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| q.get("multi_match"))
        .flat_map(|c| {
            if c["type"] == "phrase" {
                words(c["query"].as_str().unwrap_or_default()).into_iter().map(|w| Token::Word(w, 0)).collect()
            } else {
                tokens(c)
            }
        })
        .collect()
}

/// The text with each matching word between the tags; `None` when nothing matched.
fn highlight(text: &str, toks: &[Token], pre: &str, post: &str, max_chars: Option<usize>) -> Option<String> {
    let mut out = String::new();
    let mut word = String::new();
    let mut any = false;
    let flush = |word: &mut String, out: &mut String, any: &mut bool| {
        if !word.is_empty() {
            if toks.iter().any(|t| t.matches(&word.to_lowercase())) {
                out.push_str(pre);
                out.push_str(word);
                out.push_str(post);
                *any = true;
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    let limit = max_chars.unwrap_or(usize::MAX);
    for c in text.chars().take(limit) {
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out, &mut any);
            out.push(c);
        }
    }
    flush(&mut word, &mut out, &mut any);
    any.then_some(out)
}

fn score(toks: &[Token], doc: &Value) -> f64 {
    let all: Vec<String> = words(&format!("{} {}", doc["title"].as_str().unwrap_or_default(), doc["text"].as_str().unwrap_or_default()));
    toks.iter().map(|t| all.iter().filter(|w| t.matches(w)).count() as f64).sum::<f64>() + 1.0
}

async fn search(State(domain): State<Shared>, Path(name): Path<String>, RawQuery(query): RawQuery, Json(body): Json<Value>) -> Response {
    if routing_of(&query).is_none() {
        return error(StatusCode::BAD_REQUEST, "routing_missing_exception", "searches here are routed");
    }
    let mut d = domain.lock().unwrap();
    d.searches.push(body.clone());
    if !d.definitions.contains_key(&name) {
        return error(StatusCode::NOT_FOUND, "index_not_found_exception", &name);
    }
    let matched: Vec<(&String, &Value)> =
        d.docs.iter().filter(|(id, (_, doc))| matches(&body["query"], id, doc)).map(|(id, (_, doc))| (id, doc)).collect();
    let mut buckets: BTreeMap<String, u64> = BTreeMap::new();
    for (_, doc) in &matched {
        *buckets.entry(doc["kind"].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    let toks = highlight_tokens(&body["query"]);
    let mut hits: Vec<(f64, &String, &Value)> = matched
        .into_iter()
        .filter(|(id, doc)| body.get("post_filter").is_none_or(|f| matches(f, id, doc)))
        .map(|(id, doc)| (score(&toks, doc), id, doc))
        .collect();
    let by_score = body["sort"][0] == "_score";
    hits.sort_by(|a, b| {
        let at = |d: &Value| d["at"].as_i64().unwrap_or_default();
        if by_score {
            b.0.total_cmp(&a.0).then(at(b.2).cmp(&at(a.2)))
        } else {
            at(b.2).cmp(&at(a.2))
        }
    });
    let total = hits.len();
    let (from, size) = (body["from"].as_u64().unwrap_or(0) as usize, body["size"].as_u64().unwrap_or(10) as usize);
    let h = &body["highlight"];
    let (pre, post) = (h["pre_tags"][0].as_str().unwrap_or("<em>"), h["post_tags"][0].as_str().unwrap_or("</em>"));
    let page: Vec<Value> = hits
        .into_iter()
        .skip(from)
        .take(size)
        .map(|(score, id, doc)| {
            let mut highlight_of = serde_json::Map::new();
            let text = doc["text"].as_str().unwrap_or_default();
            let size = h["fields"]["text"]["fragment_size"].as_u64().map(|n| n as usize);
            match self::highlight(text, &toks, pre, post, size) {
                Some(fragment) => {
                    highlight_of.insert("text".into(), json!([fragment]));
                }
                None => {
                    let no_match = h["fields"]["text"]["no_match_size"].as_u64().unwrap_or(0) as usize;
                    if no_match > 0 {
                        highlight_of.insert("text".into(), json!([text.chars().take(no_match).collect::<String>()]));
                    }
                }
            }
            if let Some(fragment) = doc["title"].as_str().and_then(|t| self::highlight(t, &toks, pre, post, None)) {
                highlight_of.insert("title".into(), json!([fragment]));
            }
            json!({ "_index": name, "_id": id, "_score": if by_score { json!(score) } else { Value::Null },
                "_routing": doc["tenant"], "_source": doc, "highlight": highlight_of })
        })
        .collect();
    let buckets: Vec<Value> = buckets.into_iter().map(|(key, n)| json!({ "key": key, "doc_count": n })).collect();
    Json(json!({
        "took": 1, "timed_out": false,
        "_shards": { "total": 1, "successful": 1, "skipped": 0, "failed": 0 },
        "hits": { "total": { "value": total, "relation": "eq" }, "max_score": null, "hits": page },
        "aggregations": { "kinds": { "doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": buckets } }
    }))
    .into_response()
}
