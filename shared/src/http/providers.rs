//! Handlers of the tenant's video apps: their credentials, and their webhooks (docs/providers.md).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::{json_body, path_param, principal, respond};
use crate::app::video_apps::{self, zoom};
use crate::app::App;
use crate::domain::provider::{ExternalProvider, ProviderConnection, ProviderCredentials};
use crate::error::ErrorBody;

/// A tenant id as it appears in a webhook's address.
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[a-z0-9][a-z0-9-]{1,62}$")]
pub struct WebhookTenant(#[allow(dead_code)] String);

#[utoipa::path(get, path = "/v1/tenant/video-providers", tag = "settings",
    responses(
        (status = 200, body = Vec<ProviderConnection>, description = "Each video app: connected, enabled, when its credentials last changed (never the credentials)"),
        (status = 403, body = ErrorBody, description = "Anyone but an admin")),
    security(("bearer" = [])))]
pub async fn list_video_providers(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { video_apps::list(&app, &principal(&req)?).await }).await
}

#[utoipa::path(put, path = "/v1/tenant/video-providers/{provider}", tag = "settings", request_body = ProviderCredentials,
    params(("provider" = ExternalProvider, Path)),
    responses(
        (status = 200, body = ProviderConnection, description = "Connected (or rotated): calls may start in it once enabled"),
        (status = 400, body = ErrorBody, description = "An unknown provider, a missing or malformed field"),
        (status = 409, body = ErrorBody, description = "The body's credentials are for another provider than the path's"),
        (status = 403, body = ErrorBody, description = "Anyone but an admin")),
    security(("bearer" = [])))]
pub async fn connect_video_provider(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        video_apps::connect(&app, &principal(&req)?, &path_param(&req, "provider")?, json_body::<ProviderCredentials>(&req)?).await
    })
    .await
}

#[utoipa::path(delete, path = "/v1/tenant/video-providers/{provider}", tag = "settings",
    params(("provider" = ExternalProvider, Path)),
    responses(
        (status = 200, body = ProviderConnection, description = "Disconnected: its credentials are gone"),
        (status = 400, body = ErrorBody, description = "An unknown provider"),
        (status = 403, body = ErrorBody, description = "Anyone but an admin")),
    security(("bearer" = [])))]
pub async fn disconnect_video_provider(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move { video_apps::disconnect(&app, &principal(&req)?, &path_param(&req, "provider")?).await }).await
}

#[utoipa::path(post, path = "/v1/webhooks/zoom/{tenantId}", tag = "settings",
    params(("tenantId" = WebhookTenant, Path),
        ("x-zm-request-timestamp" = Option<String>, Header, description = "Epoch seconds Zoom signed the delivery at"),
        ("x-zm-signature" = Option<String>, Header, description = "v0=HMAC-SHA256 of v0:{timestamp}:{body} under the app's secret token, hex")),
    request_body(content = Object, description = "A Zoom event notification"),
    responses(
        (status = 200, body = Object, description = "The URL validation answer (`plainToken`, `encryptedToken`), or `status`: applied, ignored or duplicate"),
        (status = 400, body = ErrorBody, description = "A body that is not a JSON object"),
        (status = 401, body = ErrorBody, description = "No signature, a wrong one, or one older than five minutes"),
        (status = 404, body = ErrorBody, description = "No Zoom app connected for this tenant")),
    security(()))]
pub async fn zoom_webhook(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let tenant = path_param(&req, "tenantId")?;
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let signed = zoom::Signed { timestamp: header("x-zm-request-timestamp"), signature: header("x-zm-signature") };
        zoom::webhook(&app, &tenant, signed, super::body_bytes(&req)).await
    })
    .await
}
