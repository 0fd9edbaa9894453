//! Handlers of the tenant's video apps: their credentials, and their webhooks (docs/providers.md).

use std::sync::Arc;

use lambda_http::{Body, Request, Response};

use super::{json_body, path_param, principal, respond};
use crate::app::video_apps::{self, meet, teams, zoom};
use crate::app::App;
use crate::domain::provider::{ExternalProvider, ProviderConnection, ProviderCredentials};
use crate::error::ErrorBody;

/// A tenant id as it appears in a webhook's address.
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[a-z0-9][a-z0-9-]{0,62}$")]
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
        (status = 200, body = Object, description = "The URL validation answer (`plainToken`, `encryptedToken`), or `status`: applied, queued (a recording to import), ignored or duplicate"),
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

#[utoipa::path(post, path = "/v1/webhooks/teams/{tenantId}", tag = "settings",
    params(("tenantId" = WebhookTenant, Path),
        ("validationToken" = Option<super::openapi::ValidationToken>, Query, description = "Graph's check of the endpoint before it subscribes: echoed as plain text")),
    request_body(content = Option<Object>, description = "Microsoft Graph change notifications (`value`: each with its `clientState` and `resource`); none with a validation token"),
    responses(
        (status = 200, content_type = "text/plain", body = super::openapi::EchoedToken, description = "The validation token, echoed"),
        (status = 202, body = Object, description = "Received: `queued` recordings to import, `ignored` notifications"),
        (status = 400, body = ErrorBody, description = "A body that is not a JSON object, or an unusable validation token"),
        (status = 401, body = ErrorBody, description = "Every notification had a wrong clientState"),
        (status = 404, body = ErrorBody, description = "No Teams app connected for this tenant")),
    security(()))]
pub async fn teams_webhook(app: Arc<App>, req: Request) -> Response<Body> {
    let rid = super::request_id(&req);
    let token = super::query_param(&req, "validationToken");
    let result = async {
        let tenant = path_param(&req, "tenantId")?;
        teams::webhook(&app, &tenant, token.as_deref(), super::body_bytes(&req)).await
    }
    .await;
    match result {
        Ok(teams::Answer::Validation(token)) => Response::builder()
            .status(200)
            .header("content-type", "text/plain; charset=utf-8")
            .header("x-content-type-options", "nosniff")
            .body(Body::Text(token))
            .expect("valid response parts"),
        Ok(teams::Answer::Accepted(v)) => Response::builder()
            .status(202)
            .header("content-type", "application/json")
            .body(Body::Text(v.to_string()))
            .expect("valid response parts"),
        Err(e) => super::error_response(&e, rid.as_deref()),
    }
}

#[utoipa::path(post, path = "/v1/webhooks/meet/{tenantId}", tag = "settings",
    params(("tenantId" = WebhookTenant, Path),
        ("authorization" = Option<String>, Header, description = "Bearer and the OIDC token Google signs for the push subscription")),
    request_body(content = Object, description = "A Pub/Sub push: `message` (`data`, `attributes` with `ce-type` and `ce-subject`, `messageId`) and `subscription`"),
    responses(
        (status = 200, body = Object, description = "`status`: applied, queued (a recording to import), ignored or duplicate"),
        (status = 400, body = ErrorBody, description = "A body that is not a push of a Meet event"),
        (status = 401, body = ErrorBody, description = "No token, or one that is not Google's for the tenant's push subscription"),
        (status = 404, body = ErrorBody, description = "No Meet app with events connected for this tenant")),
    security(()))]
pub async fn meet_webhook(app: Arc<App>, req: Request) -> Response<Body> {
    respond(req, 200, |req| async move {
        let tenant = path_param(&req, "tenantId")?;
        let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok());
        meet::webhook(&app, &tenant, authorization, super::body_bytes(&req)).await
    })
    .await
}
