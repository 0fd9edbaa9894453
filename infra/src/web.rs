//! The web client at `/`: the console built from `web/` (embedded at build time, or read from a
//! folder with `serve --web-dir`), as a single-page application. `GET`/`HEAD` of any path outside
//! the APIs answers a file of the build, or `index.html` for the client's own paths; every page
//! carries a Content-Security-Policy that allows no inline script.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// Paths the client never takes: the REST and WebSocket APIs, signed objects and the gateway's
/// own documents. Unknown paths under them stay the API's 404s.
const API_PREFIXES: &[&str] = &["/v1", "/ws", "/blobs", "/recordings", "/openapi.json", "/healthz", "/.well-known"];

/// Where the client's files come from.
#[derive(Debug, Clone, Default)]
pub enum WebRoot {
    /// Built into the binary (`infra/build.rs`).
    #[default]
    Embedded,
    /// A folder holding a build (`npm run build` writes `web/dist`), read on every request.
    Dir(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Console {
    root: WebRoot,
    /// Origin of signed media URLs (the blob store), when the page may be served from another.
    media_origin: String,
}

impl Console {
    pub fn new(root: WebRoot, media_origin: &str) -> Self {
        Console { root, media_origin: media_origin.trim_end_matches('/').to_string() }
    }

    /// Whether the embedded build holds a client (a build with `CONFER_SKIP_WEB_BUILD` has none).
    pub fn embedded_is_built() -> bool {
        embedded::ASSETS.iter().any(|(name, _)| *name == "index.html")
    }

    /// Answers `GET`/`HEAD` of a path outside the APIs, or `None` when the request is not the
    /// client's (another method, an API path).
    pub fn answer(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        if (method != Method::GET && method != Method::HEAD) || is_api_path(path) {
            return None;
        }
        let head = method == Method::HEAD;
        let Some(relative) = relative_path(path) else {
            return Some(not_found(head));
        };
        let (name, bytes) = match self.read(&relative) {
            Some(found) => (relative, found),
            // A file that is not there (an old asset) is a 404; any other path is the client's route.
            None if last_segment_has_extension(&relative) => return Some(not_found(head)),
            None => match self.read("index.html") {
                Some(index) => ("index.html".to_string(), index),
                None => return Some(not_built(head)),
            },
        };
        let mut response = if head { Response::new(Body::empty()) } else { Response::new(Body::from(bytes.clone())) };
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name)));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        // Vite names assets by their content: they never change. The page itself is always revalidated.
        let cache = if name.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if let Ok(csp) = HeaderValue::from_str(&self.policy(headers)) {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        Some(response)
    }

    /// The Content-Security-Policy of the client's pages: scripts and styles only from files of
    /// this origin (no inline script, no eval), connections to this origin and its WebSocket,
    /// images and sound from this origin, the media origin and `blob:` (a recording played back
    /// before it is sent), nothing framed, no plugins.
    pub fn policy(&self, headers: &HeaderMap) -> String {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).filter(|h| is_plain_host(h));
        let sockets = host.map(|h| format!(" ws://{h} wss://{h}")).unwrap_or_default();
        let media = if self.media_origin.is_empty() || host.is_some_and(|h| self.media_origin.ends_with(&format!("//{h}"))) {
            String::new()
        } else {
            format!(" {}", self.media_origin)
        };
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:{media}; \
             media-src 'self' blob:{media}; connect-src 'self'{sockets}{media}; font-src 'self'; manifest-src 'self'; \
             base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
        )
    }

    fn read(&self, relative: &str) -> Option<Vec<u8>> {
        match &self.root {
            WebRoot::Embedded => embedded::ASSETS.iter().find(|(name, _)| *name == relative).map(|(_, bytes)| bytes.to_vec()),
            WebRoot::Dir(dir) => {
                let path = dir.join(relative);
                if path.is_file() {
                    std::fs::read(path).ok()
                } else {
                    None
                }
            }
        }
    }
}

pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
}

/// The file a URL path names under the build, if it is a plain relative path (`/` is
/// `index.html`); `..`, backslashes, NUL and encoded separators are refused.
fn relative_path(path: &str) -> Option<String> {
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Some("index.html".to_string());
    }
    if trimmed.contains(['\\', '\0', '%']) {
        return None;
    }
    let plain = Path::new(trimmed).components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| trimmed.trim_end_matches('/').to_string())
}

fn last_segment_has_extension(relative: &str) -> bool {
    relative.rsplit('/').next().is_some_and(|s| s.contains('.'))
}

/// A Host header fit to be repeated in the policy (a name or address and a port).
fn is_plain_host(host: &str) -> bool {
    !host.is_empty() && host.len() <= 255 && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

fn not_found(head: bool) -> Response {
    let body = if head { Body::empty() } else { Body::from("Not found\n") };
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// A binary built with `CONFER_SKIP_WEB_BUILD` and started without `--web-dir`.
fn not_built(head: bool) -> Response {
    let text = "This confer-local was built without the web console (CONFER_SKIP_WEB_BUILD).\n\
                Build it with `npm ci && npm run build` in web/ and start with --web-dir web/dist,\n\
                or build confer-local again with Node.js and npm installed.\n\
                The API is at /v1 (GET /openapi.json describes it).\n";
    let body = if head { Body::empty() } else { Body::from(text) };
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_stay_with_the_api() {
        for p in [
            "/v1",
            "/v1/customers",
            "/v1/nothing/here",
            "/ws",
            "/blobs/x",
            "/recordings/x",
            "/openapi.json",
            "/healthz",
            "/.well-known/jwks.json",
        ] {
            assert!(is_api_path(p), "{p}");
        }
        for p in ["/", "/index.html", "/assets/app.js", "/v1x", "/customers", "/healthzz", "/wsx"] {
            assert!(!is_api_path(p), "{p}");
        }
    }

    #[test]
    fn only_plain_relative_paths_name_files() {
        assert_eq!(relative_path("/").as_deref(), Some("index.html"));
        assert_eq!(relative_path("/assets/app.js").as_deref(), Some("assets/app.js"));
        for bad in ["/../etc/passwd", "/assets/../../x", "/a\\b", "/%2e%2e/x", "/./x"] {
            assert_eq!(relative_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn client_routes_get_the_page_and_missing_files_a_404() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<!doctype html><title>Confer</title>").unwrap();
        std::fs::write(dir.path().join("assets/app-1.js"), "console.log(1)").unwrap();
        let console = Console::new(WebRoot::Dir(dir.path().to_path_buf()), "http://127.0.0.1:9");
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("localhost:9"));
        let get = |path: &str| console.answer(&Method::GET, path, &headers);

        let page = get("/customers/cus_1").unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_string();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(csp.contains("connect-src 'self' ws://localhost:9 wss://localhost:9 http://127.0.0.1:9;"), "{csp}");
        let script = get("/assets/app-1.js").unwrap();
        assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert!(script.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
        assert_eq!(get("/assets/gone-0.js").unwrap().status(), 404);
        assert_eq!(get("/../secret").unwrap().status(), 404);
        assert!(get("/v1/customers").is_none());
        assert!(console.answer(&Method::POST, "/customers", &headers).is_none());
        let head = console.answer(&Method::HEAD, "/", &headers).unwrap();
        assert_eq!(head.status(), 200);
    }

    #[test]
    fn the_policy_names_the_media_origin_only_when_it_is_another() {
        let console = Console::new(WebRoot::Embedded, "http://127.0.0.1:8080");
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        let same = console.policy(&headers);
        assert!(same.contains("img-src 'self' blob:;"), "{same}");
        headers.insert(header::HOST, HeaderValue::from_static("evil\"; script-src *"));
        let odd = console.policy(&headers);
        assert!(!odd.contains("evil"), "{odd}");
    }
}
