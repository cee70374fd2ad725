//! The web console of `dts serve`: plain HTML, CSS and JavaScript built into the binary with
//! `include_str!` (no node toolchain, nothing fetched at run time). The pages call the API of
//! the same origin; with a bearer token configured they ask for it once and keep it for the
//! browser tab (`sessionStorage`).
//!
//! - `/` — the task list, and a form to create a task from a task file or TOML text.
//! - `/tasks/{id}` — one task: stage timeline, per-table progress with ETA, latency and RPS
//!   charts over the last hour, precheck results with acknowledge buttons, start / pause /
//!   resume / stop, throttles, the verification report and the effective configuration.
//!
//! To change the console, edit the files beside this module and rebuild.

use crate::api::AddRoute;
use axum::http::header;
use axum::response::IntoResponse;

/// The task list page.
pub const INDEX_HTML: &str = include_str!("index.html");
/// The task page.
pub const TASK_HTML: &str = include_str!("task.html");
/// The pages' script.
pub const CONSOLE_JS: &str = include_str!("console.js");
/// The pages' style sheet.
pub const CONSOLE_CSS: &str = include_str!("console.css");

fn page(body: &'static str, content_type: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

async fn index() -> impl IntoResponse {
    page(INDEX_HTML, "text/html; charset=utf-8")
}

async fn task_page() -> impl IntoResponse {
    page(TASK_HTML, "text/html; charset=utf-8")
}

async fn script() -> impl IntoResponse {
    page(CONSOLE_JS, "text/javascript; charset=utf-8")
}

async fn style() -> impl IntoResponse {
    page(CONSOLE_CSS, "text/css; charset=utf-8")
}

/// Adds the console's pages to the router's routes.
pub(crate) fn add_routes<R: AddRoute>(routes: R) -> R {
    routes
        .get("/", index)
        .get("/tasks/{id}", task_page)
        .get("/assets/console.js", script)
        .get("/assets/console.css", style)
}
