//! The attachments bucket (S3): presigned PUT bound to content type and length, presigned GET
//! with the response's type and disposition, and the object operations the storage trigger
//! needs.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::domain::{format_rfc3339, now_epoch_seconds};
use crate::ports::blobs::{BlobError, BlobMeta, BlobStore, Download, SignedUpload};

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn backend(e: impl std::error::Error) -> BlobError {
    BlobError::Backend(DisplayErrorContext(&e).to_string())
}

fn presigning(valid_for: Duration) -> Result<PresigningConfig, BlobError> {
    PresigningConfig::expires_in(valid_for).map_err(|e| BlobError::Backend(e.to_string()))
}

impl S3Blobs {
    pub fn new(config: &aws_config::SdkConfig, bucket: String) -> Self {
        S3Blobs { client: Client::new(config), bucket }
    }

    /// Path-style addressing (`endpoint/bucket/key`), as S3 emulators on a plain address need.
    pub fn with_path_style(config: &aws_config::SdkConfig, bucket: String) -> Self {
        let conf = aws_sdk_s3::config::Builder::from(config).force_path_style(true).build();
        S3Blobs { client: Client::from_conf(conf), bucket }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn sign_upload(&self, key: &str, content_type: &str, size: u64, valid_for: Duration) -> Result<SignedUpload, BlobError> {
        // Type and length are signed: S3 refuses a PUT whose headers differ.
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size as i64)
            .presigned(presigning(valid_for)?)
            .await
            .map_err(backend)?;
        // Host and Content-Length are set by every HTTP client from the URL and the body.
        let headers = request
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
            .collect();
        let expires_at = time::OffsetDateTime::from_unix_timestamp(now_epoch_seconds() + valid_for.as_secs() as i64)
            .map(format_rfc3339)
            .unwrap_or_default();
        Ok(SignedUpload { url: request.uri().to_string(), method: "PUT".into(), headers, expires_at })
    }

    async fn sign_download(&self, key: &str, download: &Download, valid_for: Duration) -> Result<String, BlobError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type(&download.content_type)
            .response_content_disposition(download.content_disposition())
            .presigned(presigning(valid_for)?)
            .await
            .map_err(backend)?;
        Ok(request.uri().to_string())
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(BlobMeta { size: out.content_length().unwrap_or(0).max(0) as u64 })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn read(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(backend(e)),
        };
        let size = out.content_length().unwrap_or(0).max(0) as u64;
        if size > max_bytes {
            return Err(BlobError::TooLarge { actual: size, limit: max_bytes });
        }
        let bytes = out.body.collect().await.map_err(|e| BlobError::Backend(e.to_string()))?.into_bytes();
        if bytes.len() as u64 > max_bytes {
            return Err(BlobError::TooLarge { actual: bytes.len() as u64, limit: max_bytes });
        }
        Ok(Some(bytes.to_vec()))
    }

    async fn write(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn write_file(&self, key: &str, path: &std::path::Path, content_type: &str) -> Result<(), BlobError> {
        // One PUT (up to 5 GB), read from the file as it is sent.
        let body = ByteStream::from_path(path).await.map_err(|e| BlobError::Backend(e.to_string()))?;
        self.client.put_object().bucket(&self.bucket).key(key).content_type(content_type).body(body).send().await.map_err(backend)?;
        Ok(())
    }

    async fn copy(&self, from: &str, to: &str, content_type: &str) -> Result<(), BlobError> {
        // Keys are made of URL-safe characters only (see keys::blob_*), so no encoding is needed.
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{from}", self.bucket))
            .content_type(content_type)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.client.delete_object().bucket(&self.bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("NoSuchKey") => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }
}
