//! Errors of the JSON API, always `{"error": "<code>", "message": "<what to do>"}`, and the
//! extractors that turn axum's plain-text rejections into that shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::headers::CACHE_NONE;
use crate::wire::ErrorBody;
use koers_database::DatabaseError;

/// A failed API request: a status, a stable code and one sentence saying what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait before trying again (`Retry-After`), for a 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A fault of the server (the database), never of the client: 503 `database_unavailable`
    /// while the database cannot be reached (restarting, fail-over), else 500 `server_error`.
    /// Either way nothing of the request was stored, and the same request may be sent again.
    pub fn internal(err: &DatabaseError) -> Self {
        if let DatabaseError::Unavailable(_) = err {
            tracing::warn!(error = %err, "request failed: the database cannot be reached");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The server cannot reach its database right now; nothing was stored. Your changes stay on this phone; try again in a minute.",
            );
        }
        tracing::error!(error = %err, "request failed in the database");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "The server could not store or read the plan right now; try again in a minute.",
        )
    }
}

impl From<DatabaseError> for ApiError {
    fn from(err: DatabaseError) -> Self {
        ApiError::internal(&err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = error_response(self.status, self.code, &self.message);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// The JSON error response for a status, code and message.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, CACHE_NONE)],
        Json(ErrorBody {
            error: code.to_owned(),
            message: message.to_owned(),
        }),
    )
        .into_response()
}

fn body_too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!(
            "The request body is larger than {} MiB; send the operations in smaller batches.",
            crate::MAX_REQUEST_BODY / (1024 * 1024)
        ),
    )
}

/// `Json<T>` whose rejections are [`ApiError`]s: 415 without a JSON content type, 400 for
/// malformed JSON or a body of the wrong shape (unknown fields included), 413 when too large.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong_content_type",
            "Send the body as JSON with the header Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "malformed_json",
            format!("The body is not valid JSON ({}); send well-formed JSON.", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => ApiError::bad_request(
            "invalid_body",
            format!(
                "The body does not have the fields this endpoint expects ({}); fix the body and send it again.",
                e.body_text()
            ),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        other => ApiError::bad_request(
            "unreadable_body",
            format!("The body could not be read ({}); send it again.", other.body_text()),
        ),
    }
}

/// `Query<T>` whose rejection is a 400 [`ApiError`].
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "The query string is not valid ({}); fix it and try again.",
                    e.body_text()
                ),
            )),
            Err(other) => Err(ApiError::bad_request(
                "invalid_query",
                format!(
                    "The query string is not valid ({}); fix it and try again.",
                    other.body_text()
                ),
            )),
        }
    }
}

/// For `/api/…` responses that some layer produced without a JSON body (the body limit's 413,
/// the router's 405): replaces the body with the JSON error shape.
pub async fn json_errors_for_api(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    if !is_api || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let mut replaced = match status {
        StatusCode::PAYLOAD_TOO_LARGE => body_too_large().into_response(),
        StatusCode::METHOD_NOT_ALLOWED => error_response(
            status,
            "method_not_allowed",
            "This endpoint does not take that method; see /api/openapi.json for what it takes.",
        ),
        StatusCode::NOT_FOUND => error_response(
            status,
            "not_found",
            "There is no such endpoint; see /api/openapi.json for the endpoints.",
        ),
        _ if status.is_server_error() => error_response(
            status,
            "server_error",
            "The server could not handle the request right now; try again in a minute.",
        ),
        _ => error_response(
            status,
            "bad_request",
            "The request could not be handled; check the method, headers and body.",
        ),
    };
    if let Some(allow) = response.headers().get(header::ALLOW) {
        replaced.headers_mut().insert(header::ALLOW, allow.clone());
    }
    replaced
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_NONE));
    replaced
}
