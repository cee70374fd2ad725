//! `dts` — runs a synchronization task described by a TOML file, with progress bars for the
//! full sync and a live latency / rows-per-second line for incremental sync.
//!
//! ```sh
//! cargo run --release --example dts -- precheck examples/tasks/quickstart.toml
//! cargo run --release --example dts -- run examples/tasks/quickstart.toml
//! cargo run --release --example dts -- run examples/tasks/mysql_to_kafka.toml   # into Kafka
//! cargo run --release --example dts -- run examples/tasks/mysql_to_adb.toml     # into ADB
//! cargo run --release --example dts -- scan examples/tasks/quickstart.toml       # personal data
//! ```
//!
//! Ctrl-C stops the task cleanly: checkpoints are saved and the next `run` resumes.
//!
//! The runner allocates through mimalloc: with glibc's malloc, allocator work was about a
//! third of the engine's own CPU in a full sync (many short-lived row buffers). The library
//! leaves that choice to its host; this host makes it.

use clap::{Parser, Subcommand};
use dts_core::config::TaskConfig;
use dts_core::{Alert, AlertHook, Stage, StageStatus, TaskHandle};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "dts",
    about = "Run a dts synchronization task from a TOML file"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the precheck only and print every check.
    Precheck {
        /// Task file.
        task: PathBuf,
        /// Where task state is kept.
        #[arg(long, default_value = "target/dts-state")]
        state_dir: PathBuf,
    },
    /// Scan the selected source tables for likely personal data and print each finding with
    /// the masking rule line that protects it.
    Scan {
        /// Task file.
        task: PathBuf,
        /// Rows sampled per table.
        #[arg(long, default_value_t = dts_mysql::scan::DEFAULT_SAMPLE_ROWS)]
        sample_rows: usize,
    },
    /// Print what to run at the destination when the application moves over to it: the
    /// triggers `migration.triggers = "manual"` leaves to you, and the statements that enable
    /// the events the task created disabled (a script for the `mysql` client).
    Cutover {
        /// Task file.
        task: PathBuf,
        /// Where task state is kept.
        #[arg(long, default_value = "target/dts-state")]
        state_dir: PathBuf,
        /// Write the script to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Run the task until Ctrl-C (or until caught up, with --stop-when-caught-up).
    Run {
        /// Task file.
        task: PathBuf,
        /// Where task state is kept.
        #[arg(long, default_value = "target/dts-state")]
        state_dir: PathBuf,
        /// Stop once incremental latency has stayed under 2 s for this many seconds.
        #[arg(long)]
        stop_when_caught_up: Option<u64>,
        /// Print a JSON progress line every second instead of progress bars.
        #[arg(long)]
        json: bool,
        /// Serve metrics in Prometheus text format on this loopback address (e.g.
        /// 127.0.0.1:9464).
        #[arg(long)]
        metrics_addr: Option<std::net::SocketAddr>,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Precheck { task, state_dir } => {
            let config = TaskConfig::from_toml_file(&task)?;
            let hook = match &config.advanced.monitoring.webhook_url {
                Some(url) => Some(Arc::new(WebhookHook::new(url)?) as Arc<dyn AlertHook>),
                None => None,
            };
            let (task, _) = build_task(&config, &state_dir, hook).await?;
            let report = task.precheck().await?;
            print!("{report}");
            // Migration assessment findings are listed, never blocking.
            let assessment: Vec<String> = report
                .checks
                .iter()
                .filter(|c| dts_core::assessment::is_assessment_check(&c.name))
                .map(|c| c.name.clone())
                .collect();
            if report.passes(&assessment) {
                println!("precheck passed");
                Ok(())
            } else {
                Err("precheck did not pass".into())
            }
        }
        Command::Cutover {
            task,
            state_dir,
            output,
        } => {
            let config = TaskConfig::from_toml_file(&task)?;
            let (task, _) = build_task(&config, &state_dir, None).await?;
            let script = dts_core::schema_object::cutover_script(&task.cutover_steps().await?);
            match output {
                Some(path) => {
                    std::fs::write(&path, script)?;
                    eprintln!("cutover script written to {}", path.display());
                }
                None => print!("{script}"),
            }
            Ok(())
        }
        Command::Scan { task, sample_rows } => {
            let config = TaskConfig::from_toml_file(&task)?;
            let report = dts_mysql::from_config::scan_config(&config, sample_rows).await?;
            if report.findings.is_empty() {
                println!("no likely personal data found in the selected tables");
            } else {
                print!("{report}\n{}", report.masking_section());
            }
            Ok(())
        }
        Command::Run {
            task,
            state_dir,
            stop_when_caught_up,
            json,
            metrics_addr,
        } => {
            if let Some(addr) = metrics_addr {
                if !addr.ip().is_loopback() {
                    return Err("--metrics-addr must be a loopback address".into());
                }
                metrics_exporter_prometheus::PrometheusBuilder::new()
                    .with_http_listener(addr)
                    .install()?;
            }
            let config = TaskConfig::from_toml_file(&task)?;
            let hook = match &config.advanced.monitoring.webhook_url {
                Some(url) => Some(Arc::new(WebhookHook::new(url)?) as Arc<dyn AlertHook>),
                None => None,
            };
            let (task, adb_sink) = build_task(&config, &state_dir, hook).await?;
            eprintln!("task {} (id {})", config.display_name(), config.task_id());
            // The cutover script (manual triggers, events to enable) beside the state.
            match task.cutover_steps().await {
                Ok(steps) if !steps.is_empty() => {
                    let path = state_dir.join("cutover.sql");
                    std::fs::create_dir_all(&state_dir)?;
                    std::fs::write(&path, dts_core::schema_object::cutover_script(&steps))?;
                    eprintln!(
                        "{} step(s) left for the cutover: {} (or `dts cutover`)",
                        steps.len(),
                        path.display()
                    );
                }
                Ok(_) => {}
                Err(e) => eprintln!("the cutover script could not be prepared: {e}"),
            }
            let handle = task.handle();
            let stopper = handle.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                eprintln!("\nstopping: saving checkpoints…");
                stopper.stop();
            });
            let monitor = tokio::spawn(monitor(handle, stop_when_caught_up, json));
            let result = task.run().await;
            monitor.abort();
            if let Some(sink) = adb_sink {
                // Write what the ADB sink still buffers and commit its checkpoint; on failure
                // the next run replays those changes.
                if let Err(e) = sink.flush().await {
                    eprintln!("ADB destination: final flush failed: {e}");
                }
            }
            result?;
            println!(
                "task stopped; checkpoints saved in {} and in the destination",
                state_dir.display()
            );
            Ok(())
        }
    }
}

/// Composes the task of a configuration: the MySQL source and filter from `dts-mysql`, and the
/// sink of the configured destination kind.
async fn build_task(
    config: &TaskConfig,
    state_dir: &std::path::Path,
    hook: Option<Arc<dyn AlertHook>>,
) -> Result<(dts_core::Task, Option<Arc<dts_adb::AdbSink>>), Box<dyn std::error::Error>> {
    use dts_core::config::DestinationConfig;
    // The ADB sink buffers changes across rounds: the runner flushes it when the task ends.
    let mut adb_sink = None;
    let task = match &config.destination {
        DestinationConfig::Mysql(_) => {
            let built = dts_mysql::from_config::build_mysql_task(config, state_dir, hook).await?;
            // `[validation]`: verification runs beside the task under the guide's start rules.
            if let Some(verification) = built.spawn_verification() {
                tokio::spawn(async move {
                    match verification.await {
                        Ok(Ok(report)) => print!("{}", report.to_text()),
                        Ok(Err(e)) => eprintln!("verification did not run: {e}"),
                        Err(e) => eprintln!("verification stopped: {e}"),
                    }
                });
            }
            built.task
        }
        DestinationConfig::Kafka(kafka) => {
            let parts = dts_mysql::from_config::build_parts(config, state_dir, false).await?;
            let options = dts_kafka::KafkaSinkOptions::from_config(kafka, parts.task_id.clone());
            let sink = Arc::new(dts_kafka::KafkaSink::connect(options).await?);
            parts.into_task(config, sink, hook)?
        }
        DestinationConfig::Adb(_) => {
            let built = dts_adb::from_config::build_adb_task(config, state_dir, hook).await?;
            // `[validation]` with an ADB destination: read back through dts_adb::verify.
            if let Some(verification) = built.spawn_verification() {
                tokio::spawn(async move {
                    match verification.await {
                        Ok(Ok(report)) => print!("{}", report.to_text()),
                        Ok(Err(e)) => eprintln!("verification did not run: {e}"),
                        Err(e) => eprintln!("verification stopped: {e}"),
                    }
                });
            }
            adb_sink = Some(built.sink);
            built.task
        }
    };
    Ok((task, adb_sink))
}

/// Draws progress; stops the task once caught up long enough, when asked to.
async fn monitor(handle: TaskHandle, stop_when_caught_up: Option<u64>, json: bool) {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template(
        "{prefix:>32} [{bar:30}] {pos:>10}/{len:<10} {per_sec:>12} {eta:>5}",
    )
    .expect("template")
    .progress_chars("=> ");
    let mut table_bars: HashMap<String, ProgressBar> = HashMap::new();
    let incremental = bars.add(ProgressBar::new_spinner());
    let mut caught_up_since: Option<Instant> = None;
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticker.tick().await;
        let status = handle.status();
        let p = handle.progress();
        if json {
            let line = serde_json::json!({
                "stage": status.current().map(|s| s.to_string()),
                "tables": p.tables,
                "full_rows_per_s": p.full_rows_per_s,
                "incremental": p.incremental,
                "full_eta_s": p.full_eta_s,
                "retry": p.retry,
                "retry_time_ms": p.retry_time_ms,
                "labels": p.labels,
                "last_error": p.last_error,
            });
            println!("{line}");
        } else {
            for (name, t) in &p.tables {
                let bar = table_bars.entry(name.clone()).or_insert_with(|| {
                    let b = bars.insert_before(&incremental, ProgressBar::new(t.rows_estimated));
                    b.set_style(style.clone());
                    b.set_prefix(name.clone());
                    b
                });
                bar.set_length(t.rows_estimated.max(t.rows_done));
                bar.set_position(t.rows_done);
                if t.finished && !bar.is_finished() {
                    bar.finish();
                }
            }
            let stage = status
                .current()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "starting".into());
            incremental.set_message(format!(
                "{stage} | latency {} ms | {:.0} rows/s | {} rows applied | {}{}",
                p.incremental.latency_ms,
                p.incremental.rows_per_s,
                p.incremental.rows_applied,
                p.incremental.position,
                p.retrying
                    .as_deref()
                    .map(|r| format!(" | retrying: {r}"))
                    .unwrap_or_default()
            ));
            incremental.tick();
        }
        let writing = status.stage(Stage::IncrementalWrite).status == StageStatus::Running;
        if let Some(secs) = stop_when_caught_up {
            if writing && p.incremental.caught_up && p.incremental.latency_ms < 2_000 {
                let since = *caught_up_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_secs(secs) {
                    handle.stop();
                }
            } else {
                caught_up_since = None;
            }
        }
    }
}

/// Delivers alerts as an HTTP POST of JSON to a plain-HTTP webhook.
struct WebhookHook {
    host_port: String,
    path: String,
}

impl WebhookHook {
    fn new(url: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let rest = url
            .strip_prefix("http://")
            .ok_or("advanced.monitoring.webhook_url: only http:// webhooks can be delivered by this runner")?;
        let (host_port, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        Ok(Self {
            host_port: host_port.to_string(),
            path: path.to_string(),
        })
    }

    async fn post(&self, body: &str) -> std::io::Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(&self.host_port).await?;
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.path,
            self.host_port,
            body.len()
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl AlertHook for WebhookHook {
    async fn fire(&self, alert: &Alert) {
        let body = serde_json::to_string(alert).unwrap_or_default();
        let sent = tokio::time::timeout(Duration::from_secs(10), self.post(&body)).await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "webhook delivery failed"),
            Err(_) => tracing::error!("webhook delivery timed out"),
        }
    }
}
