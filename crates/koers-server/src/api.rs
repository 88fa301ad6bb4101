//! Small JSON endpoints. The sync endpoints are in [`crate::sync`].

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::headers::CACHE_NONE;
use crate::AppState;

/// This crate's version, reported by `/healthz`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /healthz`: 200 `{"status":"ok","version":…}` when the database answers, else 503.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.health().await {
        Ok(()) => json_response(
            StatusCode::OK,
            json!({ "status": "ok", "version": VERSION }),
        ),
        Err(err) => {
            tracing::error!(error = %err, "health check: the database is unusable");
            json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "unavailable", "version": VERSION, "error": "the database is unusable" }),
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
