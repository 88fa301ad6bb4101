//! The PWA's files: precompressed variants, SPA fallback, Cache-Control and Content-Type.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::headers::{content_type_for, has_extension, static_cache_control};
use crate::AppState;

/// The file service for a dist directory: serves `X.br` / `X.gz` when the client accepts them.
pub fn serve_dir(dist_dir: &std::path::Path) -> ServeDir {
    ServeDir::new(dist_dir)
        .precompressed_br()
        .precompressed_gzip()
}

/// Fallback handler: a file from dist; for an app route (no extension, not under `/api/`) that is
/// no file, `index.html`; for a missing file with an extension, 404.
pub async fn handler(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/api" || path.starts_with("/api/") {
        return crate::controllers::health::not_found().await;
    }
    let method = request.method().clone();
    let headers = request.headers().clone();

    let mut response = serve(&state.files, request).await;
    let mut spa_fallback = false;
    if response.status() == StatusCode::NOT_FOUND
        && !has_extension(&path)
        && (method == Method::GET || method == Method::HEAD)
    {
        let mut index_request = Request::new(Body::empty());
        *index_request.method_mut() = method;
        *index_request.uri_mut() = Uri::from_static("/index.html");
        *index_request.headers_mut() = headers;
        response = serve(&state.files, index_request).await;
        spa_fallback = true;
    }

    let status = response.status();
    if status == StatusCode::NOT_FOUND {
        response = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Not found\n",
        )
            .into_response();
    }
    if status.is_success() {
        let served = if spa_fallback {
            "/index.html"
        } else {
            path.as_str()
        };
        if let Some(content_type) = content_type_for(served) {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(static_cache_control(&path, status.as_u16(), spa_fallback)),
    );
    response
}

async fn serve(files: &ServeDir, request: Request) -> Response {
    let result: Result<_, Infallible> = files.clone().oneshot(request).await;
    match result {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}
