//! The progress display of `dts run`: one bar per table for the full sync and a live latency /
//! rows-per-second line for incremental sync, or one JSON line a second with `--json`.

use dts_core::{Stage, StageStatus, TaskHandle};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Draws progress; stops the task once caught up long enough, when asked to.
pub async fn monitor(handle: TaskHandle, stop_when_caught_up: Option<u64>, json: bool) {
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
