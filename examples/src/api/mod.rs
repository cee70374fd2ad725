//! The management API of `dts serve`: HTTP + JSON over [axum], as a [`Router`] a host program
//! can mount in its own server.
//!
//! ```no_run
//! # async fn host() -> Result<(), Box<dyn std::error::Error>> {
//! use dts_examples::api::{self, ApiAuth, Manager};
//! let manager = Manager::open("/var/lib/my-host/dts")?;
//! manager.resume_saved(); // tasks left running run again
//! let app = api::router(manager.clone(), ApiAuth::open());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7878").await?;
//! axum::serve(
//!     listener,
//!     app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .await?;
//! # Ok(()) }
//! ```
//!
//! Routes (described in full by the OpenAPI document served at `/api/openapi.json`):
//!
//! | call | what it does |
//! | --- | --- |
//! | `GET /api/tasks` · `POST /api/tasks` | list; create from a task file, TOML or JSON |
//! | `GET /api/tasks/{id}` · `DELETE /api/tasks/{id}` | status (stages, per-table progress, latency, RPS, retry, last error); delete |
//! | `POST /api/tasks/{id}/precheck` · `GET …/precheck` | run the precheck / its last results, with ids |
//! | `POST /api/tasks/{id}/precheck/acknowledge` | acknowledge warnings by id |
//! | `POST /api/tasks/{id}/start` · `…/pause` · `…/resume` · `…/stop` | run control |
//! | `GET` · `PUT /api/tasks/{id}/throttle` | throttles, changed at run time |
//! | `GET /api/tasks/{id}/config` | effective configuration, secrets masked |
//! | `GET /api/tasks/{id}/metrics` | latency / RPS samples of the last hour |
//! | `GET /api/tasks/{id}/verification` | the configured verification's report |
//!
//! The web console ([`crate::console`]) is part of the same router (`/`, `/tasks/{id}`).

mod auth;
mod error;
mod handlers;
mod managed;
mod manager;
pub mod openapi;
mod samples;
mod store;
mod views;

pub use auth::ApiAuth;
pub use error::{ApiError, ApiResult};
pub use managed::{ManagedTask, Phase};
pub use manager::{Manager, TaskSource};
pub use samples::{CAPACITY as SAMPLE_CAPACITY, INTERVAL_MS as SAMPLE_INTERVAL_MS};
pub use store::{Desired, TaskRecord};
pub use views::*;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter};
use axum::Router;
use std::sync::Arc;

/// One route of the router: method and path (axum's `{param}` syntax, as in OpenAPI).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path.
    pub path: &'static str,
}

/// Builds the router and the list of its routes from the same calls, so the list cannot
/// miss a route (the OpenAPI test checks the document against it).
pub(crate) struct Routes {
    router: Router<Arc<Manager>>,
    listed: Vec<Route>,
}

impl Routes {
    fn add<H, T>(mut self, method: &'static str, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Manager>>,
        T: 'static,
    {
        let parsed = Method::from_bytes(method.as_bytes()).expect("a method name");
        let filter = MethodFilter::try_from(parsed).expect("a routable method");
        self.router = self.router.route(path, on(filter, handler));
        self.listed.push(Route { method, path });
        self
    }
}

fn build() -> Routes {
    use handlers::*;
    let routes = Routes {
        router: Router::new(),
        listed: Vec::new(),
    }
    .add("GET", "/api/health", health)
    .add("GET", "/api/openapi.json", openapi)
    .add("GET", "/api/tasks", list_tasks)
    .add("POST", "/api/tasks", create_task)
    .add("GET", "/api/tasks/{id}", get_task)
    .add("DELETE", "/api/tasks/{id}", delete_task)
    .add("POST", "/api/tasks/{id}/precheck", run_precheck)
    .add("GET", "/api/tasks/{id}/precheck", get_precheck)
    .add("POST", "/api/tasks/{id}/precheck/acknowledge", acknowledge)
    .add("POST", "/api/tasks/{id}/start", start)
    .add("POST", "/api/tasks/{id}/pause", pause)
    .add("POST", "/api/tasks/{id}/resume", resume)
    .add("POST", "/api/tasks/{id}/stop", stop)
    .add("GET", "/api/tasks/{id}/throttle", get_throttle)
    .add("PUT", "/api/tasks/{id}/throttle", put_throttle)
    .add("GET", "/api/tasks/{id}/config", get_config)
    .add("GET", "/api/tasks/{id}/metrics", get_metrics)
    .add("GET", "/api/tasks/{id}/verification", get_verification);
    crate::console::add_routes(routes)
}

/// Every route of [`router`], API and console.
pub fn routes() -> Vec<Route> {
    build().listed
}

/// The management API and the web console over `manager`, guarded by `auth`. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` so the audit log names the peer.
pub fn router(manager: Arc<Manager>, auth: ApiAuth) -> Router {
    build()
        .router
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(axum::middleware::from_fn_with_state(auth, auth::guard))
        .with_state(manager)
}

/// Lets [`crate::console`] add its pages through the same route list.
pub(crate) trait AddRoute: Sized {
    /// Adds a GET route.
    fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Manager>>,
        T: 'static;
}

impl AddRoute for Routes {
    fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, Arc<Manager>>,
        T: 'static,
    {
        self.add("GET", path, handler)
    }
}
