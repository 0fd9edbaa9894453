//! Calls in the customer's own video app: the tenant's credentials for it bound to the meeting
//! apps port, seen by the call use cases as one more video provider.

use std::sync::Arc;

use async_trait::async_trait;

use super::*;
use crate::domain::call::{CallProvider, JoinInfo, Quality};
use crate::domain::provider::{ExternalProvider, ProviderCredentials};
use crate::ports::meetings::{Attendee, ExternalMeeting, MeetingApps};
use crate::ports::secrets::SecretsError;
use crate::ports::video::{Created, VideoProvider};

/// A video app with one tenant's credentials.
pub struct ExternalVideo {
    provider: ExternalProvider,
    credentials: ProviderCredentials,
    apps: Arc<dyn MeetingApps>,
}

fn join_info(provider: ExternalProvider, join_url: String) -> JoinInfo {
    match provider {
        ExternalProvider::Zoom => JoinInfo::Zoom { join_url },
        ExternalProvider::Jitsi => JoinInfo::Jitsi { join_url },
        ExternalProvider::Teams => JoinInfo::Teams { join_url },
        ExternalProvider::Meet => JoinInfo::Meet { join_url },
    }
}

fn attendee(who: &ParticipantRef) -> Attendee {
    let (name, host) = match who {
        ParticipantRef::Agent(id) => (id.clone(), true),
        ParticipantRef::Customer(_) => ("Customer".to_string(), false),
    };
    Attendee { id: who.key_segment(), name, host }
}

fn meeting_of(meeting: Option<&Value>) -> Result<ExternalMeeting, VideoError> {
    meeting.and_then(|m| serde_json::from_value(m.clone()).ok()).ok_or_else(|| VideoError::Rejected("the call has no meeting".into()))
}

#[async_trait]
impl VideoProvider for ExternalVideo {
    fn provider(&self) -> CallProvider {
        self.provider.into()
    }

    /// The app chooses its own quality.
    fn max_quality(&self, start: Quality) -> Quality {
        start
    }

    async fn create(&self, call: &CallRef, _: Quality, starter: &ParticipantRef) -> Result<Created, VideoError> {
        let meeting = self.apps.create(&self.credentials, call, "Confer call").await?;
        let join = join_info(self.provider, self.apps.join_url(&self.credentials, &meeting, &attendee(starter))?);
        Ok(Created {
            external_id: Some(meeting.external_id.clone()),
            meeting: Some(serde_json::to_value(&meeting).map_err(|e| VideoError::Rejected(e.to_string()))?),
            join,
        })
    }

    async fn join(&self, meeting: Option<&Value>, who: &ParticipantRef, _: Vec<ParticipantRef>) -> Result<JoinInfo, VideoError> {
        let meeting = meeting_of(meeting)?;
        Ok(join_info(self.provider, self.apps.join_url(&self.credentials, &meeting, &attendee(who))?))
    }

    async fn end(&self, meeting: Option<&Value>) -> Result<(), VideoError> {
        self.apps.end(&self.credentials, &meeting_of(meeting)?).await
    }
}

/// The tenant's credentials for `provider`, or an error naming what is missing.
pub async fn credentials(app: &App, tenant: &TenantId, provider: ExternalProvider) -> AppResult<ProviderCredentials> {
    match app.secrets.get(tenant.as_str(), provider).await {
        Ok(Some(stored)) => Ok(stored.credentials),
        Ok(None) => Err(AppError::ProviderNotConnected(format!(
            "{} is not connected for this tenant: an admin adds its credentials (PUT /v1/tenant/video-providers/{})",
            provider.title(),
            provider.as_str()
        ))),
        Err(SecretsError::NotAvailable) => Err(AppError::NotAvailable("video app credentials")),
        Err(SecretsError::Backend(e)) => Err(AppError::internal(e)),
    }
}

/// The video provider of calls that run on `provider`: Confer's own, or the tenant's app.
pub async fn video_of(app: &App, tenant: &TenantId, provider: CallProvider) -> AppResult<Arc<dyn VideoProvider>> {
    match provider.external() {
        None => Ok(app.video.clone()),
        Some(external) => Ok(Arc::new(ExternalVideo {
            provider: external,
            credentials: credentials(app, tenant, external).await?,
            apps: app.meeting_apps.clone(),
        })),
    }
}

/// What a provider error means to the caller, naming the app.
pub fn app_error(provider: CallProvider, e: VideoError) -> AppError {
    match (provider.external(), e) {
        (Some(_), VideoError::Rejected(why)) => AppError::ProviderRefused(why),
        (Some(_), VideoError::Unavailable(why)) => AppError::ProviderUnavailable(why),
        (_, e) => video_error(e),
    }
}
