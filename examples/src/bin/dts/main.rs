//! `dts` — runs synchronization tasks described by TOML files: once from the command line with
//! progress output (`dts run`), or many under a management API and web console (`dts serve`).
//!
//! ```sh
//! cargo install --path examples          # puts `dts` on the PATH
//! dts precheck examples/tasks/quickstart.toml
//! dts run examples/tasks/quickstart.toml
//! dts scan examples/tasks/quickstart.toml       # likely personal data
//! dts serve --task examples/tasks/quickstart.toml   # API + console on http://127.0.0.1:7878
//! ```
//!
//! Ctrl-C (or SIGTERM) stops tasks cleanly: checkpoints are saved and the next start resumes.
//!
//! The program allocates through mimalloc: with glibc's malloc, allocator work was about a
//! third of the engine's own CPU in a full sync (many short-lived row buffers). The library
//! leaves that choice to its host; this host makes it.

mod progress;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use dts_core::config::TaskConfig;
use dts_examples::runner::{compose_task, failure_kind, BoxError, FailureKind, RepairReport};
use dts_examples::task_metrics::TaskMetrics;
use std::path::PathBuf;
use std::sync::Arc;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status: success.
const EXIT_OK: i32 = 0;
/// Exit status: the task failed, or a server could not be reached.
const EXIT_FAILED: i32 = 1;
/// Exit status: the command line is wrong (clap's own errors use it too).
const EXIT_USAGE: i32 = 2;
/// Exit status: the task configuration is invalid or uses an option this build refuses.
const EXIT_CONFIG: i32 = 3;
/// Exit status: the precheck found an error or an unacknowledged warning.
const EXIT_PRECHECK: i32 = 4;

const AFTER_HELP: &str = "\
Exit status:
  0  success (precheck passed; task stopped with checkpoints saved; server shut down)
  1  the task failed, or a server could not be reached
  2  the command line is wrong
  3  the task configuration is invalid or uses an option this build refuses
  4  the precheck did not pass (an error, or a warning not acknowledged)

State (checkpoint files, the task list of `dts serve`) is kept in --state-dir, by default
$XDG_STATE_HOME/dts, else ~/.local/state/dts. Logs go to standard error; RUST_LOG sets the
level (default: warn, info for `serve`).";

#[derive(Parser)]
#[command(
    name = "dts",
    version,
    about = "Synchronize a MySQL/MariaDB database into MySQL, Kafka or AnalyticDB",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Log line format on standard error.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the precheck only and print every check.
    Precheck {
        /// Task file.
        task: PathBuf,
        /// Where task state is kept (default: $XDG_STATE_HOME/dts or ~/.local/state/dts).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Scan the selected source tables for likely personal data and print each finding with
    /// the masking rule line that protects it.
    Scan {
        /// Task file.
        task: PathBuf,
        /// Rows sampled per table.
        #[arg(long, default_value_t = dts_mysql::source::scan::DEFAULT_SAMPLE_ROWS)]
        sample_rows: usize,
    },
    /// Print what to run at the destination when the application moves over to it: the
    /// triggers `migration.triggers = "manual"` leaves to you, and the statements that enable
    /// the events the task created disabled (a script for the `mysql` client).
    Cutover {
        /// Task file.
        task: PathBuf,
        /// Where task state is kept (default: $XDG_STATE_HOME/dts or ~/.local/state/dts).
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Write the script to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Run the task until Ctrl-C (or until caught up, with --stop-when-caught-up).
    Run {
        /// Task file.
        task: PathBuf,
        /// Where task state is kept (default: $XDG_STATE_HOME/dts or ~/.local/state/dts).
        #[arg(long)]
        state_dir: Option<PathBuf>,
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
    /// Serve the management API and the web console; tasks are kept in the state directory
    /// and those left running run again when the server starts.
    Serve(serve::ServeArgs),
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_level.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    init_logging(cli.log_format, default_level);
    let code = match run(cli.command).await {
        Ok(()) => EXIT_OK,
        Err(Failure::Precheck) => EXIT_PRECHECK,
        Err(Failure::Error(e)) => {
            eprintln!("error: {e}");
            if e.downcast_ref::<serve::UsageError>().is_some() {
                std::process::exit(EXIT_USAGE);
            }
            match failure_kind(e.as_ref()) {
                FailureKind::Config => EXIT_CONFIG,
                FailureKind::Precheck => EXIT_PRECHECK,
                FailureKind::Other => EXIT_FAILED,
            }
        }
    };
    std::process::exit(code);
}

/// How a command failed.
enum Failure {
    /// The precheck ran and did not pass (its report is printed).
    Precheck,
    /// Anything else.
    Error(BoxError),
}

impl<E: Into<BoxError>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Error(e.into())
    }
}

fn state_dir(explicit: Option<PathBuf>) -> Result<PathBuf, Failure> {
    dts_examples::state_dir::resolve(explicit).map_err(Failure::from)
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Precheck {
            task,
            state_dir: dir,
        } => {
            let state_dir = state_dir(dir)?;
            let config = TaskConfig::from_toml_file(&task)?;
            let composed = compose_task(&config, &state_dir, None).await?;
            let report = composed.task.precheck().await?;
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
                println!("precheck did not pass");
                Err(Failure::Precheck)
            }
        }
        Command::Cutover {
            task,
            state_dir: dir,
            output,
        } => {
            let state_dir = state_dir(dir)?;
            let config = TaskConfig::from_toml_file(&task)?;
            let composed = compose_task(&config, &state_dir, None).await?;
            let steps = composed.task.cutover_steps().await?;
            let script = dts_core::schema_object::cutover_script(&steps);
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
            let report = dts_mysql::factory::scan_config(&config, sample_rows).await?;
            if report.findings.is_empty() {
                println!("no likely personal data found in the selected tables");
            } else {
                print!("{report}\n{}", report.masking_section());
            }
            Ok(())
        }
        Command::Run {
            task,
            state_dir: dir,
            stop_when_caught_up,
            json,
            metrics_addr,
        } => {
            let state_dir = state_dir(dir)?;
            if let Some(addr) = metrics_addr {
                if !addr.ip().is_loopback() {
                    return Err("--metrics-addr must be a loopback address".into());
                }
                metrics_exporter_prometheus::PrometheusBuilder::new()
                    .with_http_listener(addr)
                    .install()?;
            }
            let config = Arc::new(TaskConfig::from_toml_file(&task)?);
            let composed = Arc::new(compose_task(&config, &state_dir, None).await?);
            let task_metrics = TaskMetrics::new(&config.task_id());
            // `[validation]`: verification runs beside the task under the guide's start rules;
            // its report names the differing keys and points to the repair SQL file.
            if let Some(verification) = composed.spawn_verification() {
                let (composed, config, state_dir) =
                    (composed.clone(), config.clone(), state_dir.clone());
                tokio::spawn(async move {
                    let id = config.task_id();
                    match verification.await {
                        Ok(Ok(report)) => {
                            TaskMetrics::verification(&id, Ok(&report));
                            print!(
                                "{}",
                                composed
                                    .report_text(&config, &report, &state_dir)
                                    .await
                                    .text
                            );
                        }
                        Ok(Err(e)) => {
                            TaskMetrics::verification(&id, Err(()));
                            eprintln!("verification did not run: {e}");
                        }
                        Err(e) => eprintln!("verification stopped: {e}"),
                    }
                });
            }
            eprintln!("task {} (id {})", config.display_name(), config.task_id());
            // The cutover script (manual triggers, events to enable) beside the state.
            match composed.task.cutover_steps().await {
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
            let handle = composed.task.handle();
            let stopper = handle.clone();
            tokio::spawn(async move {
                serve::shutdown_signal().await;
                eprintln!("\nstopping: saving checkpoints…");
                stopper.stop();
            });
            let monitor = tokio::spawn(progress::monitor(
                handle,
                task_metrics,
                stop_when_caught_up,
                json,
            ));
            let result = composed.task.run().await;
            monitor.abort();
            if let Err(e) = composed.finish().await {
                eprintln!("destination: final flush failed: {e}");
            }
            result?;
            println!(
                "task stopped; checkpoints saved in {} and in the destination",
                state_dir.display()
            );
            Ok(())
        }
        Command::Serve(args) => serve::serve(args).await.map_err(Failure::from),
    }
}
