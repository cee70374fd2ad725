//! The progress display of `dts run`: bars for the full sync (every table when there are few,
//! only those being copied when there are many, and one line about the whole copy) and a live
//! latency / rows-per-second line for incremental sync, or one JSON line a second with
//! `--json`. What is shown is decided by [`dts_examples::progress_view`]; this module draws it.

use dts_core::{Stage, StageStatus, TaskHandle};
use dts_examples::progress_view::{self, frame, group_digits, Tracker};
use dts_examples::task_metrics::TaskMetrics;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Draws progress and publishes the task's metrics ([`TaskMetrics`]); stops the task once caught up long enough, when asked to.
pub async fn monitor(
    handle: TaskHandle,
    mut metrics: TaskMetrics,
    stop_when_caught_up: Option<u64>,
    json: bool,
) {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>32} [{bar:30}] {msg}")
        .expect("template")
        .progress_chars("=> ");
    let mut table_bars: HashMap<String, ProgressBar> = HashMap::new();
    let summary = bars.add(ProgressBar::new_spinner());
    summary.set_style(ProgressStyle::with_template("{msg}").expect("template"));
    let incremental = bars.add(ProgressBar::new_spinner());
    let mut tracker = Tracker::default();
    let started = Instant::now();
    let mut caught_up_since: Option<Instant> = None;
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticker.tick().await;
        let status = handle.status();
        let p = handle.progress();
        metrics.publish(&status, &p);
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
            let now_ms = started.elapsed().as_millis() as u64;
            tracker.observe(now_ms, &p.tables);
            let view = frame(
                tracker.rows(&p.tables, now_ms),
                p.full_rows_per_s,
                p.full_eta_s,
            );
            // Bars of tables no longer shown (copied, with many tables) go away.
            table_bars.retain(|name, bar| {
                let keep = view.bars.iter().any(|r| &r.name == name);
                if !keep {
                    bar.finish_and_clear();
                    bars.remove(bar);
                }
                keep
            });
            for row in &view.bars {
                let bar = table_bars.entry(row.name.clone()).or_insert_with(|| {
                    let b = bars.insert_before(&summary, ProgressBar::new(row.rows_total));
                    b.set_style(style.clone());
                    b.set_prefix(row.name.clone());
                    b
                });
                if bar.is_finished() {
                    continue; // frozen at its final rate and time
                }
                bar.set_length(row.rows_total);
                bar.set_position(row.rows_done);
                bar.set_message(row.message());
                if row.is_done() {
                    bar.finish();
                }
            }
            match &view.summary {
                Some(line) => summary.set_message(line.clone()),
                None => summary.set_message(""),
            }
            let stage = status
                .current()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "starting".into());
            incremental.set_message(format!(
                "{stage} | latency {} ms | {} | {} rows applied | {}{}",
                group_digits(p.incremental.latency_ms),
                progress_view::rate(p.incremental.rows_per_s, "rows"),
                group_digits(p.incremental.rows_applied),
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
