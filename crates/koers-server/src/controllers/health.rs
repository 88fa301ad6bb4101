//! The endpoints outside the API document: `GET /healthz`, and the JSON 404 of every `/api/…`
//! path that has no handler.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use koers_database::DatabaseError;

use crate::headers::CACHE_NONE;
use crate::AppState;

/// How long `/healthz` waits for the database.
pub const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// This crate's version, reported by `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /healthz`: 200 `{"status":"ok","version":…,"instance":…}` when the database answers,
/// else 503 (a load balancer then sends requests to the other instances). `instance` tells the
/// instances of one database apart.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let instance = state.instance.as_ref();
    // A database that does not answer within a second counts as down: a load balancer's check
    // should get its 503 before its own timeout (a pool waits longer for a connection).
    let health = tokio::time::timeout(HEALTH_TIMEOUT, state.db.health()).await;
    match health.unwrap_or_else(|_| {
        Err(DatabaseError::Unavailable(
            "no answer within a second".into(),
        ))
    }) {
        Ok(()) => json_response(
            StatusCode::OK,
            json!({ "status": "ok", "version": VERSION, "instance": instance }),
        ),
        Err(err) => {
            tracing::error!(error = %err, "health check: the database is unusable");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unavailable", "version": VERSION, "instance": instance, "error": "the database is unusable" }),
            )
        }
    }
}

/// Any `/api/…` path that has no handler: a JSON 404 (never the SPA's index.html).
pub async fn not_found() -> Response {
    crate::error::error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such endpoint; see /api/openapi.json for the endpoints.",
    )
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (status, [(header::CACHE_CONTROL, CACHE_NONE)], Json(body)).into_response()
}
