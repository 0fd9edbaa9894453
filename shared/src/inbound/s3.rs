//! S3 event notifications.

use std::sync::Arc;

use aws_lambda_events::s3::S3Event;

use super::Outcome;
use crate::app::{attachments, App};
use crate::keys;

/// Object keys arrive URL-encoded in S3 events (a space as `+`).
pub fn decoded_key(raw: &str) -> String {
    let plus_as_space = raw.replace('+', " ");
    url::form_urlencoded::parse(format!("k={}", plus_as_space.replace('&', "%26").replace('=', "%3D")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Verifies each uploaded object (`attachments-verify`). A record that fails for a transient
/// reason is reported for retry; a refused upload is an answer, not a failure.
pub async fn verify_uploads(app: Arc<App>, event: S3Event) -> Outcome {
    let mut outcome = Outcome::default();
    for (i, record) in event.records.iter().enumerate() {
        let Some(raw) = record.s3.object.key.as_deref() else { continue };
        let key = decoded_key(raw);
        if let Some((tenant, media)) = keys::parse_announcement_upload(&key) {
            match crate::app::announcements::media::verify_upload(&app, &tenant, &media).await {
                Ok(result) => tracing::info!(key = %key, ?result, "announcement media verified"),
                Err(e) => {
                    tracing::error!(key = %key, error = %e, "announcement media verification failed; to be retried");
                    outcome.failed.push(i);
                }
            }
            continue;
        }
        let Some((tenant, session, attachment)) = keys::parse_blob_upload(&key) else {
            tracing::warn!(key = %key, "object outside the upload layout ignored");
            continue;
        };
        match attachments::verify_upload(&app, &tenant, &session, &attachment).await {
            Ok(result) => tracing::info!(key = %key, ?result, "upload verified"),
            Err(e) => {
                tracing::error!(key = %key, error = %e, "upload verification failed; to be retried");
                outcome.failed.push(i);
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_decoded_as_s3_encodes_them() {
        assert_eq!(decoded_key("uploads/acme/ses_1/att_1"), "uploads/acme/ses_1/att_1");
        assert_eq!(decoded_key("a+b%2Bc%26d"), "a b+c&d");
    }
}
