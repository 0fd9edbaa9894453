//! Meetings in the customers' own video apps, over their public APIs: the same adapters in both
//! runtimes (only their base URLs change, for stub servers in tests).

pub mod jitsi;
pub mod zoom;

use async_trait::async_trait;

use crate::domain::provider::ProviderCredentials;
use crate::ports::meetings::{Attendee, ExternalMeeting, MeetingApps};
use crate::ports::video::{CallRef, VideoError};

/// Every provider Confer creates meetings in.
pub struct ProviderApps {
    pub zoom: zoom::Zoom,
}

impl ProviderApps {
    /// The providers at their public addresses, or where `CONFER_ZOOM_OAUTH_URL` and
    /// `CONFER_ZOOM_API_URL` point.
    pub fn from_env() -> Self {
        let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
        ProviderApps { zoom: zoom::Zoom::new(&var(zoom::ENV_OAUTH_URL, zoom::OAUTH_URL), &var(zoom::ENV_API_URL, zoom::API_URL)) }
    }
}

#[async_trait]
impl MeetingApps for ProviderApps {
    async fn create(&self, credentials: &ProviderCredentials, call: &CallRef, topic: &str) -> Result<ExternalMeeting, VideoError> {
        match credentials {
            ProviderCredentials::Zoom { .. } => self.zoom.create(credentials, topic).await,
            ProviderCredentials::Jitsi { base_url, .. } => Ok(jitsi::create(base_url, call)),
        }
    }

    fn join_url(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting, who: &Attendee) -> Result<String, VideoError> {
        match credentials {
            ProviderCredentials::Zoom { .. } => Ok(meeting.join_url.clone()),
            ProviderCredentials::Jitsi { base_url, app_id, app_secret } => {
                jitsi::join_url(base_url, app_id.as_deref().zip(app_secret.as_deref()), meeting, who)
            }
        }
    }

    async fn end(&self, credentials: &ProviderCredentials, meeting: &ExternalMeeting) -> Result<(), VideoError> {
        match credentials {
            ProviderCredentials::Zoom { .. } => self.zoom.end(credentials, meeting).await,
            // A Jitsi room ends when its last attendee leaves.
            ProviderCredentials::Jitsi { .. } => Ok(()),
        }
    }
}
