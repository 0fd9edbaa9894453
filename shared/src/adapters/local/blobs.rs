//! Object storage in the data directory: one file per object under a root folder, and signed
//! URLs served by confer-local on its own port (`/blobs/<key>`). A URL is an HMAC-SHA256 over the
//! method, the object key, the content type, the size (uploads) or disposition (downloads) and
//! the expiry, with a key kept in the data directory: change any of them and it is refused.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::{format_rfc3339, now_epoch_seconds};
use crate::ports::blobs::{BlobError, BlobMeta, BlobStore, Download, SignedUpload};

/// Path prefix confer-local serves objects under.
pub const BLOB_PATH: &str = "/blobs/";
/// Path prefix of the recordings store (its own folder and its own URLs).
pub const RECORDINGS_PATH: &str = "/recordings/";
const KEY_FILE: &str = "blob-signing-key";

/// Whether `key` is a safe object key: segments of `A-Z a-z 0-9 . _ -`, no empty, `.` or `..`
/// segment, so no key can leave the root folder.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| {
            !seg.is_empty() && seg != "." && seg != ".." && seg.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

#[derive(Clone)]
pub struct LocalBlobs {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    signing_key: Vec<u8>,
    /// `http://host:port` of the gateway, known once it listens.
    base_url: OnceLock<String>,
    /// The URL path objects are served under ([`BLOB_PATH`], [`RECORDINGS_PATH`]); part of every
    /// signature, so a URL of one store is refused by the other.
    url_path: &'static str,
}

/// What a signed URL allows, once its signature and expiry are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    Upload { content_type: String, size: u64 },
    Download { content_type: String, disposition: String },
}

/// Why a signed URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the URL is incomplete")]
    Incomplete,
    #[error("the URL's signature does not match")]
    BadSignature,
    #[error("the URL has expired")]
    Expired,
}

impl LocalBlobs {
    /// Objects under `root`; the signing key is read from (or created in) `key_dir`.
    pub fn open(root: &Path, key_dir: &Path) -> std::io::Result<Self> {
        Self::open_at(root, key_dir, BLOB_PATH)
    }

    /// A store served under `url_path` (e.g. [`RECORDINGS_PATH`]).
    pub fn open_at(root: &Path, key_dir: &Path, url_path: &'static str) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let key_path = key_dir.join(KEY_FILE);
        let signing_key = match std::fs::read(&key_path) {
            Ok(k) if k.len() >= 32 => k,
            _ => {
                use rand::RngCore;
                let mut k = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut k);
                write_private(&key_path, &k)?;
                k
            }
        };
        Ok(LocalBlobs { inner: Arc::new(Inner { root: root.to_path_buf(), signing_key, base_url: OnceLock::new(), url_path }) })
    }

    /// Sets the gateway address signed URLs point at (once; later calls are ignored).
    pub fn set_base_url(&self, base: &str) {
        let _ = self.inner.base_url.set(base.trim_end_matches('/').to_string());
    }

    fn base(&self) -> &str {
        self.inner.base_url.get().map(String::as_str).unwrap_or("http://127.0.0.1:8080")
    }

    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        if !valid_key(key) {
            return Err(BlobError::Backend(format!("invalid object key {key:?}")));
        }
        Ok(self.inner.root.join(key))
    }

    fn signature(&self, op: &str, key: &str, content_type: &str, bound: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.inner.signing_key).expect("HMAC takes any key length");
        mac.update(format!("confer-blob-v1\n{}\n{op}\n{key}\n{content_type}\n{bound}\n{expires}", self.inner.url_path).as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn signed_url(&self, op: &str, key: &str, content_type: &str, bound_name: &str, bound: &str, expires: i64) -> String {
        let sig = self.signature(op, key, content_type, bound, expires);
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("op", op)
            .append_pair("ct", content_type)
            .append_pair(bound_name, bound)
            .append_pair("exp", &expires.to_string())
            .append_pair("sig", &sig)
            .finish();
        format!("{}{}{key}?{query}", self.base(), self.inner.url_path)
    }

    /// Checks a request's signed query for `op` (`put` or `get`) on `key`.
    pub fn check(&self, op: &str, key: &str, query: &str) -> Result<Allowed, Refused> {
        let params: std::collections::HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        let get = |name: &str| params.get(name).cloned().ok_or(Refused::Incomplete);
        if get("op")? != op || !valid_key(key) {
            return Err(Refused::BadSignature);
        }
        let content_type = get("ct")?;
        let (bound_name, bound) = if op == "put" { ("len", get("len")?) } else { ("cd", get("cd")?) };
        let expires: i64 = get("exp")?.parse().map_err(|_| Refused::Incomplete)?;
        let given = URL_SAFE_NO_PAD.decode(get("sig")?).map_err(|_| Refused::BadSignature)?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.inner.signing_key).expect("HMAC takes any key length");
        mac.update(format!("confer-blob-v1\n{}\n{op}\n{key}\n{content_type}\n{bound}\n{expires}", self.inner.url_path).as_bytes());
        mac.verify_slice(&given).map_err(|_| Refused::BadSignature)?;
        if now_epoch_seconds() > expires {
            return Err(Refused::Expired);
        }
        let _ = bound_name;
        Ok(if op == "put" {
            Allowed::Upload { content_type, size: bound.parse().map_err(|_| Refused::Incomplete)? }
        } else {
            Allowed::Download { content_type, disposition: bound }
        })
    }

    /// Stores an upload's bytes, arriving in chunks, atomically: written to a temporary file and
    /// renamed into place only when complete, so a reader never sees half an object.
    pub async fn store_stream<S, E>(&self, key: &str, mut chunks: S, exact_size: u64) -> Result<(), StoreStreamError>
    where
        S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let path = self.path(key).map_err(|e| StoreStreamError::Io(e.to_string()))?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(|e| StoreStreamError::Io(e.to_string()))?;
        }
        let tmp = path.with_extension(format!("part-{}", rand::random::<u32>()));
        let mut file = tokio::fs::File::create(&tmp).await.map_err(|e| StoreStreamError::Io(e.to_string()))?;
        let mut written = 0u64;
        let outcome = async {
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|_| StoreStreamError::Interrupted)?;
                written += chunk.len() as u64;
                if written > exact_size {
                    return Err(StoreStreamError::TooLong);
                }
                file.write_all(&chunk).await.map_err(|e| StoreStreamError::Io(e.to_string()))?;
            }
            if written != exact_size {
                return Err(StoreStreamError::TooShort { received: written });
            }
            file.sync_all().await.map_err(|e| StoreStreamError::Io(e.to_string()))?;
            Ok(())
        }
        .await;
        drop(file);
        match outcome {
            Ok(()) => tokio::fs::rename(&tmp, &path).await.map_err(|e| StoreStreamError::Io(e.to_string())),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    /// The file holding `key`, if it exists.
    pub fn file_of(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok().filter(|p| p.is_file())
    }

    /// Deletes objects under `prefix` last written before `age` ago (uploads never verified, and
    /// temporary files of uploads cut off). Returns how many were removed.
    pub fn sweep(&self, prefix: &str, age: Duration) -> usize {
        let Some(cutoff) = SystemTime::now().checked_sub(age) else { return 0 };
        let mut removed = 0;
        let mut stack = vec![self.inner.root.join(prefix)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(meta) = entry.metadata() else { continue };
                if meta.is_dir() {
                    stack.push(path);
                } else if meta.modified().is_ok_and(|m| m < cutoff) && std::fs::remove_file(&path).is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreStreamError {
    #[error("the body is longer than the signed size")]
    TooLong,
    #[error("the body ended after {received} bytes, before the signed size")]
    TooShort { received: u64 },
    #[error("the upload was interrupted")]
    Interrupted,
    #[error("{0}")]
    Io(String),
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
        f.write_all(bytes)
    }
    #[cfg(not(unix))]
    std::fs::write(path, bytes)
}

fn io(e: std::io::Error) -> BlobError {
    BlobError::Backend(e.to_string())
}

#[async_trait]
impl BlobStore for LocalBlobs {
    fn local_file(&self, key: &str) -> Option<PathBuf> {
        self.file_of(key)
    }

    async fn sign_upload(&self, key: &str, content_type: &str, size: u64, valid_for: Duration) -> Result<SignedUpload, BlobError> {
        self.path(key)?;
        let expires = now_epoch_seconds() + valid_for.as_secs() as i64;
        let url = self.signed_url("put", key, content_type, "len", &size.to_string(), expires);
        let mut headers = std::collections::BTreeMap::new();
        headers.insert("content-type".to_string(), content_type.to_string());
        let expires_at = time::OffsetDateTime::from_unix_timestamp(expires).map(format_rfc3339).unwrap_or_default();
        Ok(SignedUpload { url, method: "PUT".into(), headers, expires_at })
    }

    async fn sign_download(&self, key: &str, download: &Download, valid_for: Duration) -> Result<String, BlobError> {
        self.path(key)?;
        let expires = now_epoch_seconds() + valid_for.as_secs() as i64;
        Ok(self.signed_url("get", key, &download.content_type, "cd", &download.content_disposition(), expires))
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(m) if m.is_file() => Ok(Some(BlobMeta { size: m.len() })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn read(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let Some(meta) = self.head(key).await? else { return Ok(None) };
        if meta.size > max_bytes {
            return Err(BlobError::TooLarge { actual: meta.size, limit: max_bytes });
        }
        match tokio::fs::read(self.path(key)?).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn write(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), BlobError> {
        let size = bytes.len() as u64;
        let chunks = futures::stream::iter([Ok::<_, std::convert::Infallible>(bytes::Bytes::from(bytes))]);
        self.store_stream(key, chunks, size).await.map_err(|e| BlobError::Backend(e.to_string()))
    }

    async fn write_file(&self, key: &str, path: &std::path::Path, _content_type: &str) -> Result<(), BlobError> {
        let dst = self.path(key)?;
        if let Some(dir) = dst.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let tmp = dst.with_extension(format!("part-{}", rand::random::<u32>()));
        tokio::fs::copy(path, &tmp).await.map_err(io)?;
        tokio::fs::rename(&tmp, &dst).await.map_err(io)
    }

    async fn copy(&self, from: &str, to: &str, _content_type: &str) -> Result<(), BlobError> {
        let (src, dst) = (self.path(from)?, self.path(to)?);
        if let Some(dir) = dst.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let tmp = dst.with_extension(format!("part-{}", rand::random::<u32>()));
        tokio::fs::copy(&src, &tmp).await.map_err(io)?;
        tokio::fs::rename(&tmp, &dst).await.map_err(io)
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blobs() -> (tempfile::TempDir, LocalBlobs) {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(&dir.path().join("blobs"), dir.path()).unwrap();
        blobs.set_base_url("http://127.0.0.1:9");
        (dir, blobs)
    }

    fn query_of(url: &str) -> (String, String) {
        let u = url::Url::parse(url).unwrap();
        (u.path().trim_start_matches(BLOB_PATH).to_string(), u.query().unwrap_or("").to_string())
    }

    #[tokio::test]
    async fn signed_urls_allow_exactly_what_they_name() {
        let (_dir, blobs) = blobs();
        let up = blobs.sign_upload("uploads/acme/a1", "image/png", 1234, Duration::from_secs(60)).await.unwrap();
        assert_eq!(up.method, "PUT");
        assert_eq!(up.headers.get("content-type").map(String::as_str), Some("image/png"));
        let (key, query) = query_of(&up.url);
        assert_eq!(key, "uploads/acme/a1");
        assert_eq!(blobs.check("put", &key, &query), Ok(Allowed::Upload { content_type: "image/png".into(), size: 1234 }));
        // Another key, another method, another type or size, or a changed expiry: refused.
        assert_eq!(blobs.check("put", "uploads/acme/a2", &query), Err(Refused::BadSignature));
        assert_eq!(blobs.check("get", &key, &query), Err(Refused::BadSignature));
        for (from, to) in [("ct=image%2Fpng", "ct=text%2Fhtml"), ("len=1234", "len=99999"), ("exp=", "exp=9")] {
            assert_eq!(blobs.check("put", &key, &query.replacen(from, to, 1)), Err(Refused::BadSignature), "{from} → {to}");
        }
        assert_eq!(blobs.check("put", &key, "op=put"), Err(Refused::Incomplete));

        let down = Download { file_name: "a.png".into(), content_type: "image/png".into(), inline: true };
        let url = blobs.sign_download("media/acme/a1/file", &down, Duration::from_secs(60)).await.unwrap();
        let (key, query) = query_of(&url);
        assert_eq!(
            blobs.check("get", &key, &query),
            Ok(Allowed::Download { content_type: "image/png".into(), disposition: down.content_disposition() })
        );
    }

    #[tokio::test]
    async fn an_expired_url_is_refused_and_a_key_from_another_store_is_not_accepted() {
        let (_dir, blobs) = blobs();
        let past = blobs.signed_url("put", "uploads/k", "image/png", "len", "1", now_epoch_seconds() - 1);
        let (key, query) = query_of(&past);
        assert_eq!(blobs.check("put", &key, &query), Err(Refused::Expired));
        let (_other_dir, other) = self::blobs();
        let url = other.sign_upload("uploads/k", "image/png", 1, Duration::from_secs(60)).await.unwrap();
        let (key, query) = query_of(&url.url);
        assert_eq!(blobs.check("put", &key, &query), Err(Refused::BadSignature));
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_root_and_objects_round_trip() {
        let (_dir, blobs) = blobs();
        for bad in ["../etc/passwd", "a//b", "/abs", "a/./b", "a/b c", ""] {
            assert!(!valid_key(bad), "{bad}");
            assert!(blobs.sign_upload(bad, "image/png", 1, Duration::from_secs(1)).await.is_err());
        }
        blobs.write("media/t/a/file", b"hello".to_vec(), "text/plain").await.unwrap();
        assert_eq!(blobs.head("media/t/a/file").await.unwrap(), Some(BlobMeta { size: 5 }));
        assert_eq!(blobs.read("media/t/a/file", 5).await.unwrap().as_deref(), Some(&b"hello"[..]));
        assert_eq!(blobs.read("media/t/a/file", 4).await, Err(BlobError::TooLarge { actual: 5, limit: 4 }));
        blobs.copy("media/t/a/file", "media/t/b/file", "text/plain").await.unwrap();
        blobs.delete("media/t/a/file").await.unwrap();
        blobs.delete("media/t/a/file").await.unwrap();
        assert_eq!(blobs.head("media/t/a/file").await.unwrap(), None);
        assert_eq!(blobs.read("media/t/b/file", 100).await.unwrap().as_deref(), Some(&b"hello"[..]));
    }

    #[tokio::test]
    async fn a_stream_of_the_wrong_length_leaves_nothing() {
        let (_dir, blobs) = blobs();
        let chunks = |parts: Vec<&'static [u8]>| {
            futures::stream::iter(parts.into_iter().map(|p| Ok::<_, std::io::Error>(bytes::Bytes::from_static(p))))
        };
        assert_eq!(blobs.store_stream("uploads/x", chunks(vec![b"abc", b"def"]), 5).await, Err(StoreStreamError::TooLong));
        assert_eq!(blobs.store_stream("uploads/x", chunks(vec![b"abc"]), 5).await, Err(StoreStreamError::TooShort { received: 3 }));
        assert_eq!(blobs.head("uploads/x").await.unwrap(), None);
        assert_eq!(std::fs::read_dir(blobs.root().join("uploads")).unwrap().count(), 0, "no temporary file left");
        blobs.store_stream("uploads/x", chunks(vec![b"abc", b"de"]), 5).await.unwrap();
        assert_eq!(blobs.read("uploads/x", 10).await.unwrap().as_deref(), Some(&b"abcde"[..]));
        assert_eq!(blobs.sweep("uploads", Duration::from_secs(3600)), 0, "fresh files stay");
        assert_eq!(blobs.sweep("uploads", Duration::ZERO), 1);
    }
}
