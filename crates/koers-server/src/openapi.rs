//! The OpenAPI 3 description of the JSON API. [`ApiDoc`] holds what is not a route (the title,
//! the schemas of the wire types, the `device_token` scheme); the paths come from the handlers'
//! `#[utoipa::path]` as [`crate::controllers::api_router`] registers them, and that router's
//! document is the one [`openapi_json`] serves.

use std::sync::Arc;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::headers::CACHE_NONE;
use crate::wire::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Koers sync API",
        description = "Plan sharing and sync for Koers. Every change is an operation (koers_core::Op); errors are {\"error\": code, \"message\": sentence}."
    ),
    components(schemas(
        ErrorBody,
        OpSchema,
        CreatePlanRequest,
        CreatePlanResponse,
        PushRequest,
        PushResponse,
        AcceptedOp,
        RefusedOp,
        PullResponse,
        SeqOp,
        CreateInviteRequest,
        CreateInviteResponse,
        InviteInfo,
        InviteList,
        AcceptInviteRequest,
        AcceptInviteResponse,
        DeviceInfo,
        DeviceList,
        OpsEvent,
        OpsEventMessage,
        SyncRequest,
        SyncEntry,
        SyncResponse,
        SyncResult,
        EntryError,
        PlanOpsEvent,
        PlanClosedEvent,
        PlansEventMessage,
    )),
    modifiers(&DeviceToken)
)]
pub struct ApiDoc;

/// Declares the `device_token` and `session_token` bearer schemes the paths refer to.
struct DeviceToken;

impl utoipa::Modify for DeviceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // A professional's session (`ks.…`), from a passkey sign-in.
        components.add_security_scheme(
            "session_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`: `doc`, the document of the router that serves the API.
pub async fn openapi_json(doc: Arc<utoipa::openapi::OpenApi>) -> Response {
    ([(header::CACHE_CONTROL, CACHE_NONE)], Json(doc.as_ref())).into_response()
}
