//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::handlers;

#[derive(OpenApi)]
#[openapi(
    info(title = "Confer API", description = "Customer communication: customers, chat sessions and message history. Real-time chat runs over the WebSocket API (docs/asyncapi.yaml)."),
    paths(
        handlers::create_customer, handlers::list_customers, handlers::get_customer, handlers::update_customer,
        handlers::list_customer_sessions, handlers::create_session, handlers::get_session, handlers::close_session,
        handlers::list_messages, handlers::create_attachment, handlers::get_attachment, handlers::list_customer_files,
        handlers::read_events
    ),
    modifiers(&BearerAuth),
    tags((name = "customers"), (name = "sessions"), (name = "messages"), (name = "attachments", description = "Images, voice messages and files: request an upload, PUT the bytes to the signed URL, the verified upload arrives as a message (docs/media.md)"), (name = "events", description = "Local runtime only"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
