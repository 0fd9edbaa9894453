//! Object storage for media (S3 in the cloud, files in the data directory locally). Clients never
//! stream media through the API: they get short-lived signed URLs bound to one object, one
//! method and, for uploads, one content type and size.

use std::time::Duration;

use async_trait::async_trait;

/// What a client needs to upload one object: `PUT` the bytes to `url` with exactly `headers`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct SignedUpload {
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the upload must carry as given (they are part of the signature).
    pub headers: std::collections::BTreeMap<String, String>,
    /// RFC 3339; the URL is refused after this.
    pub expires_at: String,
}

/// How a download presents itself to a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub file_name: String,
    pub content_type: String,
    /// `inline` for media a browser may show (raster images, audio); every other type is an
    /// `attachment`, so an uploaded HTML or SVG page is never rendered from Confer's origin.
    pub inline: bool,
}

impl Download {
    /// The `Content-Disposition` header value, with the name in RFC 6266/5987 form.
    pub fn content_disposition(&self) -> String {
        let kind = if self.inline { "inline" } else { "attachment" };
        let ascii: String = self
            .file_name
            .chars()
            .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';') || c == ' ' { c } else { '_' })
            .collect();
        let encoded: String = url::form_urlencoded::byte_serialize(self.file_name.as_bytes()).collect::<String>().replace('+', "%20");
        format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlobError {
    #[error("object of {actual} bytes is over the {limit}-byte limit")]
    TooLarge { actual: u64, limit: u64 },
    /// This runtime was built without object storage (a function that does not use it).
    #[error("object storage is not available here")]
    NotAvailable,
    #[error("object storage: {0}")]
    Backend(String),
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// A URL that accepts one `PUT` of exactly `size` bytes of `content_type` to `key`.
    async fn sign_upload(&self, key: &str, content_type: &str, size: u64, valid_for: Duration) -> Result<SignedUpload, BlobError>;
    /// A URL that serves `key` with the given type and disposition.
    async fn sign_download(&self, key: &str, download: &Download, valid_for: Duration) -> Result<String, BlobError>;
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;
    /// The object's bytes; [`BlobError::TooLarge`] (without reading them) past `max_bytes`.
    async fn read(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, BlobError>;
    async fn write(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError>;
    /// Stores the file at `path` as `key`, streamed from disk (large media never whole in memory).
    async fn write_file(&self, key: &str, path: &std::path::Path, content_type: &str) -> Result<(), BlobError>;
    /// Copies within the store (S3: server side).
    async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<(), BlobError>;
    /// Deleting an absent object is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// The object as a file on this machine, where the store keeps it so (the local runtime):
    /// engines read it in place instead of a copy.
    fn local_file(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }
}

/// The blob port of a runtime that has no object storage: every call answers
/// [`BlobError::NotAvailable`].
pub struct NoBlobs;

#[async_trait]
impl BlobStore for NoBlobs {
    async fn sign_upload(&self, _: &str, _: &str, _: u64, _: Duration) -> Result<SignedUpload, BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn sign_download(&self, _: &str, _: &Download, _: Duration) -> Result<String, BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn head(&self, _: &str) -> Result<Option<BlobMeta>, BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn read(&self, _: &str, _: u64) -> Result<Option<Vec<u8>>, BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn write(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn write_file(&self, _: &str, _: &std::path::Path, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn copy(&self, _: &str, _: &str, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotAvailable)
    }
    async fn delete(&self, _: &str) -> Result<(), BlobError> {
        Err(BlobError::NotAvailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_quotes_nothing_dangerous_and_keeps_the_real_name() {
        let d = Download { file_name: "ré\"port;1.pdf".into(), content_type: "application/pdf".into(), inline: false };
        assert_eq!(d.content_disposition(), "attachment; filename=\"r__port_1.pdf\"; filename*=UTF-8''r%C3%A9%22port%3B1.pdf");
        let img = Download { file_name: "photo 1.jpg".into(), content_type: "image/jpeg".into(), inline: true };
        assert_eq!(img.content_disposition(), "inline; filename=\"photo 1.jpg\"; filename*=UTF-8''photo%201.jpg");
    }
}
