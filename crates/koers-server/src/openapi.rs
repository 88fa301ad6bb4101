//! The OpenAPI 3 description of the JSON API, generated from the handlers and wire types.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use crate::headers::CACHE_NONE;
use crate::sync;
use crate::sync_all;
use crate::wire::*;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Koers sync API",
        description = "Plan sharing and sync for Koers. Every change is an operation (koers_core::Op); errors are {\"error\": code, \"message\": sentence}."
    ),
    paths(
        sync::create_plan,
        sync::push_ops,
        sync::pull_ops,
        sync::create_invite,
        sync::list_invites,
        sync::revoke_invite,
        sync::accept_invite,
        sync::list_devices,
        sync::revoke_device,
        sync::events,
        sync_all::sync_all,
        sync_all::events_all,
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

/// Declares the `device_token` bearer scheme the paths refer to.
struct DeviceToken;

impl utoipa::Modify for DeviceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Response {
    (
        [(header::CACHE_CONTROL, CACHE_NONE)],
        Json(ApiDoc::openapi()),
    )
        .into_response()
}
