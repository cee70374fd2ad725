//! `dts serve`: the management API and the web console on one address.

use dts_core::config::Secret;
use dts_examples::api::{self, ApiAuth, ApiError, Manager, TaskSource};
use dts_examples::runner::BoxError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How long a shutdown waits for each task to save its checkpoints.
const STOP_WAIT: Duration = Duration::from_secs(60);

/// Options of `dts serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but a loopback address requires a token. Port 0 picks a
    /// free port; the address is printed on standard output as `listening on http://ADDR`.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Bearer token every API call must carry (prefer DTS_API_TOKEN or --token-file: a
    /// command line is visible to other users of the machine).
    #[arg(long, env = "DTS_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// File holding the bearer token (one trailing newline is dropped).
    #[arg(long, conflicts_with = "token")]
    token_file: Option<PathBuf>,
    /// Where task state is kept (default: $XDG_STATE_HOME/dts or ~/.local/state/dts).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Task file to add at start (repeatable); a task whose id is already known is kept as
    /// saved.
    #[arg(long = "task")]
    tasks: Vec<PathBuf>,
    /// Serve metrics in Prometheus text format on this loopback address (e.g. 127.0.0.1:9464).
    #[arg(long)]
    metrics_addr: Option<SocketAddr>,
}

fn token_of(args: &ServeArgs) -> Result<Option<Secret>, BoxError> {
    if let Some(t) = &args.token {
        return Ok(Some(Secret::new(t.trim())));
    }
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--token-file {}: {e}", path.display()))?;
        let token = text.strip_suffix('\n').unwrap_or(&text);
        let token = token.strip_suffix('\r').unwrap_or(token);
        if token.is_empty() {
            return Err(format!("--token-file {}: the file is empty", path.display()).into());
        }
        return Ok(Some(Secret::new(token)));
    }
    Ok(None)
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the server until Ctrl-C or SIGTERM, then stops every task with checkpoints saved
/// (tasks left running run again at the next start).
pub async fn serve(args: ServeArgs) -> Result<(), BoxError> {
    let token = token_of(&args)?;
    if !args.listen.ip().is_loopback() && token.is_none() {
        return Err(Box::new(UsageError(format!(
            "--listen {}: a non-loopback address requires a token (--token-file, DTS_API_TOKEN or --token)",
            args.listen
        ))));
    }
    if let Some(addr) = args.metrics_addr {
        if !addr.ip().is_loopback() {
            return Err("--metrics-addr must be a loopback address".into());
        }
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()?;
    }
    let state_dir = dts_examples::state_dir::resolve(args.state_dir.clone())?;
    let manager = Manager::open(&state_dir)
        .map_err(|e| format!("state directory {}: {e}", state_dir.display()))?;
    for file in &args.tasks {
        // A bad file is a configuration error (exit status 3), named with its key and line.
        dts_core::config::TaskConfig::from_toml_file(file)?;
        match manager.create(TaskSource::File(file.clone())) {
            Ok(task) => tracing::info!(task = %task.id(), file = %file.display(), "task added"),
            Err(e) if e.status() == axum::http::StatusCode::CONFLICT => {
                tracing::info!(file = %file.display(), "task already known: kept as saved")
            }
            Err(e) => return Err(task_file_error(file, e)),
        }
    }
    manager.resume_saved();
    let auth = match token {
        Some(t) => ApiAuth::bearer(t),
        None => ApiAuth::open(),
    };
    let app = api::router(manager.clone(), auth);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let local = listener.local_addr()?;
    println!("listening on http://{local}");
    tracing::info!(address = %local, state_dir = %state_dir.display(), "dts serve listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("shutting down: stopping tasks, saving checkpoints");
    manager.shutdown(STOP_WAIT).await;
    Ok(())
}

/// A command line the program refuses (exit status 2, as clap's own errors).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn task_file_error(file: &std::path::Path, e: ApiError) -> BoxError {
    format!("--task {}: {e}", file.display()).into()
}
