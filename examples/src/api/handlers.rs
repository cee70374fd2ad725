//! The handlers of the management API's routes, thin over [`Manager`] and [`ManagedTask`].
//!
//! [`ManagedTask`]: super::managed::ManagedTask

use super::error::{ApiError, ApiResult};
use super::manager::{Manager, TaskSource};
use super::views::{
    Acknowledge, ConfigView, CreateTask, MetricsView, PrecheckView, TaskDetail, TaskSummary,
    ThrottleView, VerificationView,
};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

type Shared = State<Arc<Manager>>;

/// `GET /api/health`.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /api/openapi.json`.
pub async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::DOCUMENT,
    )
}

/// `GET /api/tasks`.
pub async fn list_tasks(State(m): Shared) -> Json<Vec<TaskSummary>> {
    Json(m.list().iter().map(|t| t.summary()).collect())
}

/// `POST /api/tasks`: a JSON [`CreateTask`], or the TOML task itself
/// (`Content-Type: application/toml` or `text/plain`).
pub async fn create_task(
    State(m): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<TaskDetail>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let source = match content_type.as_str() {
        "application/toml" | "text/plain" | "text/x-toml" => TaskSource::Toml(
            String::from_utf8(body.to_vec())
                .map_err(|_| ApiError::bad_request("the TOML task is not UTF-8"))?,
        ),
        "application/json" => {
            let create: CreateTask = serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("body: {e}")))?;
            match (create.file, create.toml, create.config) {
                (Some(file), None, None) => TaskSource::File(file.into()),
                (None, Some(toml), None) => TaskSource::Toml(toml),
                (None, None, Some(config)) => TaskSource::Json(config),
                _ => {
                    return Err(ApiError::bad_request(
                        "body: give exactly one of `file`, `toml` and `config`",
                    ))
                }
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Content-Type {other}: send application/json or application/toml"
            )))
        }
    };
    let task = m.create(source)?;
    Ok((StatusCode::CREATED, Json(task.detail())))
}

/// `GET /api/tasks/{id}`.
pub async fn get_task(State(m): Shared, Path(id): Path<String>) -> ApiResult<Json<TaskDetail>> {
    Ok(Json(m.get(&id)?.detail()))
}

/// `DELETE /api/tasks/{id}`.
pub async fn delete_task(State(m): Shared, Path(id): Path<String>) -> ApiResult<StatusCode> {
    m.delete(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/tasks/{id}/precheck`: runs the precheck now.
pub async fn run_precheck(
    State(m): Shared,
    Path(id): Path<String>,
) -> ApiResult<Json<PrecheckView>> {
    let task = m.get(&id)?;
    Ok(Json(task.precheck().await?))
}

/// `GET /api/tasks/{id}/precheck`: the last precheck.
pub async fn get_precheck(
    State(m): Shared,
    Path(id): Path<String>,
) -> ApiResult<Json<PrecheckView>> {
    Ok(Json(m.get(&id)?.precheck_view()?))
}

/// `POST /api/tasks/{id}/precheck/acknowledge`.
pub async fn acknowledge(
    State(m): Shared,
    Path(id): Path<String>,
    Json(body): Json<Acknowledge>,
) -> ApiResult<Json<PrecheckView>> {
    Ok(Json(m.get(&id)?.acknowledge(&body.ids)?))
}

/// Query of `POST /api/tasks/{id}/start`.
#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    /// Start held paused.
    #[serde(default)]
    pub paused: bool,
}

/// `POST /api/tasks/{id}/start`.
pub async fn start(
    State(m): Shared,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> ApiResult<Json<TaskDetail>> {
    let task = m.get(&id)?;
    task.start(q.paused)?;
    tracing::info!(target: "dts::audit", task = %id, paused = q.paused, "task start requested");
    Ok(Json(task.detail()))
}

/// `POST /api/tasks/{id}/pause`.
pub async fn pause(State(m): Shared, Path(id): Path<String>) -> ApiResult<Json<TaskDetail>> {
    let task = m.get(&id)?;
    task.pause()?;
    tracing::info!(target: "dts::audit", task = %id, "task pause requested");
    Ok(Json(task.detail()))
}

/// `POST /api/tasks/{id}/resume`.
pub async fn resume(State(m): Shared, Path(id): Path<String>) -> ApiResult<Json<TaskDetail>> {
    let task = m.get(&id)?;
    task.resume()?;
    tracing::info!(target: "dts::audit", task = %id, "task resume requested");
    Ok(Json(task.detail()))
}

/// `POST /api/tasks/{id}/stop`.
pub async fn stop(State(m): Shared, Path(id): Path<String>) -> ApiResult<Json<TaskDetail>> {
    let task = m.get(&id)?;
    task.stop()?;
    tracing::info!(target: "dts::audit", task = %id, "task stop requested");
    Ok(Json(task.detail()))
}

/// `GET /api/tasks/{id}/throttle`.
pub async fn get_throttle(
    State(m): Shared,
    Path(id): Path<String>,
) -> ApiResult<Json<ThrottleView>> {
    Ok(Json(m.get(&id)?.detail().throttle))
}

/// `PUT /api/tasks/{id}/throttle`.
pub async fn put_throttle(
    State(m): Shared,
    Path(id): Path<String>,
    Json(body): Json<ThrottleView>,
) -> ApiResult<Json<ThrottleView>> {
    Ok(Json(m.get(&id)?.set_throttle(&body)?))
}

/// `GET /api/tasks/{id}/config`: the effective configuration, secrets masked.
pub async fn get_config(State(m): Shared, Path(id): Path<String>) -> ApiResult<Json<ConfigView>> {
    Ok(Json(m.get(&id)?.config_view()?))
}

/// Query of `GET /api/tasks/{id}/metrics`.
#[derive(Debug, Default, Deserialize)]
pub struct MetricsQuery {
    /// Only samples taken after this time (ms since the epoch).
    #[serde(default)]
    pub since_ms: u64,
}

/// `GET /api/tasks/{id}/metrics`: latency and RPS samples of the last hour.
pub async fn get_metrics(
    State(m): Shared,
    Path(id): Path<String>,
    Query(q): Query<MetricsQuery>,
) -> ApiResult<Json<MetricsView>> {
    Ok(Json(m.get(&id)?.metrics(q.since_ms)))
}

/// `GET /api/tasks/{id}/verification`: the configured verification's state and report.
pub async fn get_verification(
    State(m): Shared,
    Path(id): Path<String>,
) -> ApiResult<Json<VerificationView>> {
    m.get(&id)?.detail().verification.map(Json).ok_or_else(|| {
        ApiError::not_found(format!(
            "task {id} has no verification in its current run (configure [validation])"
        ))
    })
}
