//! The wasm chunks fetched after the first paint (see `scripts/build-wasm.mjs`).

/// A chunk could not be fetched: offline before the service worker cached it, or the server is
/// down. The loader keeps no failure, so calling again retries.
#[derive(Debug, Clone, Copy)]
pub struct ChunkUnavailable;

impl From<leptos::wasm_split::SplitLoaderError> for ChunkUnavailable {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        ChunkUnavailable
    }
}
