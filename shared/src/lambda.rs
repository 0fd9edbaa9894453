//! What every Lambda entry point does: set up tracing, build the AWS adapters once during init,
//! warm their connections, then serve events with the shared handler.

use std::sync::Arc;

use aws_lambda_events::apigw::{ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{service_fn, LambdaEvent};

use crate::adapters::aws;
use crate::http::routes::{ws_handler, HttpHandler, ROUTES, WS_ROUTES};
use crate::{http, App};

pub type Error = lambda_runtime::Error;

/// Runs the REST function named `function` in the route table.
pub async fn run_http(function: &'static str) -> Result<(), Error> {
    crate::init_tracing();
    let route = ROUTES.iter().find(|r| r.function == function).ok_or_else(|| format!("no REST route runs {function}"))?;
    let handler = route.handler;
    let app = Arc::new(aws::app_for(route.needs).await?);
    lambda_http::run(lambda_http::service_fn(move |req| {
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(logged(handler, app, req).await) }
    }))
    .await
}

/// Runs a REST handler and logs the request's line (API Gateway answered its own refusals —
/// bad tokens, unknown routes — before the function ran).
async fn logged(handler: HttpHandler, app: Arc<App>, req: lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
    let started = std::time::Instant::now();
    let (request_id, route_key, principal) = (http::request_id(&req), http::route_key(&req), http::principal(&req).ok());
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let response = handler(app, req).await;
    http::log_request(&http::RequestLine {
        request_id: request_id.as_deref(),
        method: &method,
        path: &path,
        route_key: route_key.as_deref(),
        principal: principal.as_ref(),
        status: response.status().as_u16(),
        started,
    });
    response
}

/// Runs the WebSocket route `route_key`.
pub async fn run_ws(route_key: &'static str) -> Result<(), Error> {
    crate::init_tracing();
    let handler = ws_handler(route_key).ok_or_else(|| format!("no WebSocket route {route_key}"))?;
    let needs = WS_ROUTES.iter().find(|(k, _, _)| *k == route_key).map(|(_, _, n)| *n).unwrap_or_default();
    let app = Arc::new(aws::app_for(needs).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| {
        let app = app.clone();
        async move { Ok::<_, Error>(handler(app, event.payload).await) }
    }))
    .await
}

/// Runs the S3-triggered function `function` of the trigger table. S3 invokes it
/// asynchronously: a record that failed for a transient reason fails the invocation, so Lambda
/// retries it (twice) and then hands it to the function's dead-letter queue; records already
/// handled are handled again harmlessly (each handler is idempotent).
pub async fn run_s3(function: &'static str) -> Result<(), Error> {
    crate::init_tracing();
    let trigger = crate::inbound::trigger(function).ok_or_else(|| format!("no trigger runs {function}"))?;
    let app = Arc::new(aws::app_for(trigger.needs).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::s3::S3Event>| {
        let app = app.clone();
        async move {
            let outcome = (trigger.handler)(app, event.payload).await;
            if outcome.failed.is_empty() {
                Ok(())
            } else {
                Err(Error::from(format!("{} of the event's records failed; retrying", outcome.failed.len())))
            }
        }
    }))
    .await
}

/// Runs the SQS consumer `function` of `inbound::CONSUMERS` behind an event source mapping with
/// `ReportBatchItemFailures`: only the messages that failed for a transient reason go back to the
/// queue (and, after the queue's `maxReceiveCount`, to its dead-letter queue).
pub async fn run_sqs(function: &'static str) -> Result<(), Error> {
    crate::init_tracing();
    let consumer = crate::inbound::consumer(function).ok_or_else(|| format!("no queue consumer runs {function}"))?;
    let app = Arc::new(aws::app_for(consumer.needs).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| {
        let app = app.clone();
        async move {
            let ids: Vec<Option<String>> = event.payload.records.iter().map(|r| r.message_id.clone()).collect();
            let outcome = (consumer.handler)(app, event.payload).await;
            Ok::<_, Error>(crate::inbound::batch_response(&ids, &outcome))
        }
    }))
    .await
}

/// Runs a consumer of the table's stream (`inbound::STREAMS`) with `ReportBatchItemFailures`:
/// a failed batch is resent from its first failed record.
pub async fn run_stream(function: &'static str) -> Result<(), Error> {
    crate::init_tracing();
    let consumer = crate::inbound::stream_consumer(function).ok_or_else(|| format!("no stream consumer runs {function}"))?;
    let app = Arc::new(aws::app_for(consumer.needs).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::dynamodb::Event>| {
        let app = app.clone();
        async move {
            let payload = event.payload;
            let outcome = (consumer.handler)(app, payload.clone()).await;
            Ok::<_, Error>(crate::inbound::streams::batch_response(&payload, &outcome))
        }
    }))
    .await
}

/// Runs a function fed by an EventBridge rule (`inbound::RULES`). A retryable failure fails
/// the invocation, so Lambda retries it and then sends it to the function's dead-letter queue.
pub async fn run_eventbridge(function: &'static str) -> Result<(), Error> {
    crate::init_tracing();
    let rule = crate::inbound::rule(function).ok_or_else(|| format!("no EventBridge rule runs {function}"))?;
    let app = Arc::new(aws::app_for(rule.needs).await?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::eventbridge::EventBridgeEvent<serde_json::Value>>| {
        let app = app.clone();
        async move { (rule.handler)(app, event.payload).await.map_err(|e| Error::from(e.to_string())) }
    }))
    .await
}

/// Runs the `$connect` authorizer. Denials surface as `Unauthorized`, which API Gateway turns into 401.
pub async fn run_authorizer() -> Result<(), Error> {
    crate::init_tracing();
    let verifier = Arc::new(aws::verifier_from_env()?);
    if let Err(e) = verifier.warm().await {
        tracing::warn!(error = %e, "JWKS not fetched during init; will fetch on first use");
    }
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| {
        let verifier = verifier.clone();
        async move { crate::ws::authorizer::authorize(&verifier, event.payload).await.map_err(|_| Error::from("Unauthorized")) }
    }))
    .await
}
