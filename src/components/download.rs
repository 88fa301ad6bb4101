//! Offering text as a file to keep: the export on "Meer", the calendar file, and the changes a
//! phone taken out of its plan could not send.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// "koers-daan-2026-11-29": the start of a file name for the plan of the child called `child`.
pub fn file_stem(child: &str) -> String {
    let name: String = child.chars().filter(|c| c.is_alphanumeric()).collect();
    format!(
        "koers-{}-{}",
        name.to_lowercase(),
        chrono::Local::now().date_naive()
    )
}

/// Offers `text` as a file download.
pub fn download(text: &str, mime: &str, name: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(a) = document()
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    // Revoked later: the download reads the blob after this returns.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(30),
    );
}
