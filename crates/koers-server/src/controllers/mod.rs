//! The HTTP layer, one module per resource of the JSON API:
//!
//! - [`plans`]: founding a plan (`POST /api/plans`);
//! - [`ops`]: pushing and pulling a plan's operations (`/api/plans/{plan}/ops`);
//! - [`invites`]: creating, listing, revoking and accepting invites;
//! - [`devices`]: listing a plan's devices and signing one out;
//! - [`events`]: the event stream of one plan and the one of many plans, both following a plan
//!   with [`follow`];
//! - [`sync_all`]: all the plans on a phone in one request (`POST /api/sync`);
//! - [`enrolments`]: an administrator's one-time links, and enrolling with a passkey;
//! - [`sessions`]: signing in with a passkey, and out;
//! - [`me`]: the signed-in professional's plans, and a device for each on a new phone;
//! - [`organisation`]: the administrator's overview, deactivation, hand-over and access log;
//! - [`health`]: `GET /healthz` and the JSON 404 of unknown `/api/…` paths, outside the document.
//!
//! What they share (the `{plan}` extractor, the batch checks, the limits of one request) is in
//! [`helpers`]. Each handler makes the access checks of [`crate::auth`] first
//! ([`crate::auth::AuthDevice::admit`], [`crate::auth::require_manager`], and for professionals
//! the [`crate::auth::professional::Professional`] and
//! [`crate::auth::professional::Administrator`] extractors), and every write is
//! authorized with [`koers_core::authorize`] against the plan as the server holds it
//! ([`crate::plans`]).
//!
//! Each route is declared once, in its handler's `#[utoipa::path]`: a module's `routes()` hands
//! its handlers to [`utoipa_axum::routes!`], which builds the axum route from that annotation
//! and adds the same operation to the OpenAPI document. [`api_router`] merges the modules, and
//! the document served at `/api/openapi.json` is the one this router produced, so the two
//! cannot drift apart.

pub mod devices;
pub mod enrolments;
pub mod events;
pub mod follow;
pub mod health;
pub mod helpers;
pub mod invites;
pub mod me;
pub mod ops;
pub mod organisation;
pub mod plans;
pub mod sessions;
pub mod sync_all;

use std::sync::Arc;

use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::limits::Limits;
use crate::openapi::ApiDoc;
use crate::AppState;

/// Every documented `/api/…` route, with the OpenAPI document built from the same handlers
/// (on top of [`ApiDoc`]: the title, the schemas and the `device_token` scheme). Split it with
/// [`OpenApiRouter::split_for_parts`].
pub fn api_router(limits: &Arc<Limits>) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(plans::routes())
        .merge(ops::routes())
        .merge(events::routes())
        .merge(sync_all::routes())
        .merge(invites::routes(limits))
        .merge(devices::routes())
        .merge(enrolments::routes())
        .merge(sessions::routes())
        .merge(me::routes())
        .merge(organisation::routes())
}
