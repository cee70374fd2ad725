//! The checked-in dashboard and alert rules (`examples/monitoring/`) against a live scrape: a
//! real task (MySQL → MySQL on the test servers, with full verification) runs under
//! `dts serve --metrics-addr`; once it is in incremental write and its verification finished,
//! the metrics endpoint is scraped, and every metric name the Grafana dashboard's queries and
//! the Prometheus rules use must be in the scrape. The JSON and the YAML must parse, and the
//! live values must say what the task did (stages, per-table rows, verification).

mod serve_support;

use serde_json::json;
use serve_support::*;
use std::collections::BTreeSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(180);

fn monitoring_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("monitoring")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `dts_…` metric names a PromQL expression uses.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("dts_") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary {
            out.insert(expr[start..end].to_string());
        }
        i = end;
    }
    out
}

/// Every `expr` string anywhere in a JSON document.
fn json_exprs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("expr", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => json_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| json_exprs(v, out)),
        _ => {}
    }
}

/// Metric name → samples (`{labels} value` text) of a Prometheus text scrape.
fn parse_scrape(text: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        out.entry(line[..end].to_string())
            .or_default()
            .push(line[end..].to_string());
    }
    out
}

/// The value of the sample of `name` whose labels contain every `label="value"` of `labels`.
fn value_of(
    scrape: &std::collections::BTreeMap<String, Vec<String>>,
    name: &str,
    labels: &[&str],
) -> Option<f64> {
    scrape.get(name)?.iter().find_map(|s| {
        labels
            .iter()
            .all(|l| s.contains(l))
            .then(|| s.rsplit(' ').next()?.parse().ok())?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alert_rules_use_only_metrics_a_live_task_exposes() {
    // The files parse, and say what they are for.
    let dashboard: serde_json::Value =
        serde_json::from_str(&monitoring_file("grafana-dashboard.json")).expect("dashboard JSON");
    let mut dashboard_exprs = Vec::new();
    json_exprs(&dashboard, &mut dashboard_exprs);
    let rules: serde_norway::Value =
        serde_norway::from_str(&monitoring_file("dts-alerts.yml")).expect("alert rules YAML");
    let mut rule_exprs = Vec::new();
    for group in rules["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            assert!(
                rule["alert"].as_str().is_some(),
                "a rule without a name: {rule:?}"
            );
            if let Some(f) = rule.get("for") {
                let f = f.as_str().expect("for: a duration");
                assert!(f.ends_with('m') || f.ends_with('s'), "for: {f}");
            }
            let expr = rule["expr"].as_str().expect("expr");
            assert!(
                expr.contains("group_left (environment_tag, scene_label) dts_task_info"),
                "{expr}: every alert carries the task's labels"
            );
            rule_exprs.push(expr.to_string());
        }
    }
    let alerts: Vec<&str> = rules["groups"][0]["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|r| r["alert"].as_str())
        .collect();
    for mirrored in [
        "DtsTaskFailed",
        "DtsLatencyHigh",
        "DtsRetrying",
        "DtsVerificationFailed",
        "DtsVerificationInconsistent",
    ] {
        assert!(
            alerts.contains(&mirrored),
            "no {mirrored} rule in {alerts:?}"
        );
    }
    let used_by_dashboard: BTreeSet<String> = dashboard_exprs
        .iter()
        .flat_map(|e| metric_names(e))
        .collect();
    let used_by_rules: BTreeSet<String> = rule_exprs.iter().flat_map(|e| metric_names(e)).collect();
    // The dashboard charts stage, latency, RPS, per-table progress, retries and errors.
    for needed in [
        "dts_stage_status",
        "dts_incremental_latency_ms",
        "dts_incremental_rows_applied_total",
        "dts_table_rows_done",
        "dts_retries_total",
        "dts_retrying",
        "dts_errors_total",
    ] {
        assert!(
            used_by_dashboard.contains(needed),
            "the dashboard does not chart {needed}: {used_by_dashboard:?}"
        );
    }

    // A real task under `dts serve --metrics-addr`.
    let db = format!("ops_{}", unique("mon"));
    prepare(&db, 3_000).await;
    let metrics_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let state = tempfile::tempdir().unwrap();
    let server = Server::start(state.path(), &["--metrics-addr", &metrics_addr]).await;
    // task_toml ends in [advanced]: the labels go there.
    let toml = format!(
        "{}environment_tag = \"production\"\nscene_label = \"migration\"\n\
         [validation]\nfull_mode = \"sampled\"\nsampling_percent = 100\n",
        task_toml(&db)
    );
    server
        .expect("POST", "/api/tasks", Some(json!({ "toml": toml })), 201)
        .await;
    server
        .expect("POST", &format!("/api/tasks/{db}/start"), None, 200)
        .await;
    server
        .wait_stage(&db, "incremental_write", "running", WAIT)
        .await;
    let detail = eventually(WAIT, "the verification to finish", || async {
        let d = server.task(&db).await;
        (d["verification"]["state"] == "finished").then_some(d)
    })
    .await;
    assert_eq!(
        detail["labels"]["environment_tag"], "production",
        "{detail}"
    );
    assert_eq!(detail["labels"]["scene_label"], "migration", "{detail}");
    let text = detail["verification"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("0 inconsistent row(s)"), "{text}");

    let client = reqwest::Client::new();
    let url = format!("http://{metrics_addr}/metrics");
    let table = format!("table=\"{db}.t\"");
    let task = format!("task=\"{db}\"");
    // Scraped until the sampler (once a second) has published the finished copy.
    let scrape = eventually(WAIT, "a scrape with the task's figures", || async {
        let text = client.get(&url).send().await.ok()?.text().await.ok()?;
        let scrape = parse_scrape(&text);
        let done = value_of(&scrape, "dts_table_finished", &[&task, &table]) == Some(1.0);
        let writing = value_of(
            &scrape,
            "dts_stage_status",
            &[&task, "stage=\"incremental_write\""],
        ) == Some(1.0);
        let verified = value_of(&scrape, "dts_verification_failed", &[&task]) == Some(0.0);
        (done && writing && verified).then_some(scrape)
    })
    .await;
    let names: BTreeSet<String> = scrape.keys().cloned().collect();
    let missing: Vec<&String> = used_by_dashboard
        .iter()
        .chain(&used_by_rules)
        .filter(|n| !names.contains(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "used by the dashboard or the rules but not in the scrape: {missing:?}\nscrape: {names:?}"
    );
    // The live values say what the task did.
    assert_eq!(
        value_of(&scrape, "dts_table_rows_done", &[&task, &table]),
        Some(3_000.0)
    );
    assert_eq!(
        value_of(
            &scrape,
            "dts_stage_status",
            &[&task, "stage=\"full_data_sync\""]
        ),
        Some(3.0)
    );
    assert_eq!(value_of(&scrape, "dts_task_failed", &[&task]), Some(0.0));
    // The task's labels, for the rules to join onto every series.
    assert_eq!(
        value_of(
            &scrape,
            "dts_task_info",
            &[
                &task,
                "environment_tag=\"production\"",
                "scene_label=\"migration\""
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value_of(&scrape, "dts_verification_inconsistent_rows", &[&task]),
        Some(0.0)
    );
    assert!(value_of(&scrape, "dts_full_rows_copied_total", &[&task]).unwrap_or(0.0) >= 3_000.0);
    drop(server);
    cleanup(&db).await;
}

/// An alert reaches the configured webhook with the task's labels: `dts run` on a task whose
/// precheck fails (its selected database does not exist) posts `task_failed` to a local
/// receiver, with `labels` naming the environment tag and the scene label.
#[tokio::test]
async fn alerts_reach_the_webhook_with_the_task_labels() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = receiver.local_addr().unwrap().port();
    let received = tokio::spawn(async move {
        let (mut stream, _) = receiver.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        // Read until the whole body announced by Content-Length is in.
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    stream
                        .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                        .await
                        .unwrap();
                    return (head.to_string(), body.to_string());
                }
            }
            assert!(n > 0, "the connection closed before the body: {text}");
        }
    });
    let db = format!("ops_{}", unique("missing"));
    let toml = format!(
        "{}environment_tag = \"staging\"\nscene_label = \"dr_drill\"\n\
         [advanced.monitoring]\nalert_on_failure = true\n\
         webhook_url = \"http://127.0.0.1:{port}/hooks/dts\"\n",
        task_toml(&db)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("task.toml");
    std::fs::write(&file, toml).unwrap();
    let state = dir.path().join("state");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(dts_bin())
            .arg("run")
            .arg(&file)
            .arg("--state-dir")
            .arg(state)
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(!output.status.success(), "the precheck should fail");
    let (head, body) = tokio::time::timeout(WAIT, received)
        .await
        .expect("no alert reached the webhook")
        .unwrap();
    assert!(head.starts_with("POST /hooks/dts HTTP/1.1"), "{head}");
    let alert: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(alert["kind"], "task_failed", "{alert}");
    assert_eq!(alert["task_id"], db.as_str(), "{alert}");
    assert!(
        alert["reason"].as_str().unwrap_or_default().contains(&db),
        "{alert}"
    );
    assert_eq!(
        alert["labels"],
        json!({ "environment_tag": "staging", "scene_label": "dr_drill" })
    );
}

#[test]
fn metric_names_are_read_from_promql() {
    let names = metric_names(
        "topk(20, 100 * dts_table_rows_done{task=~\"$task\"} / clamp_min(dts_table_rows_estimated, 1)) and x_dts_not",
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["dts_table_rows_done", "dts_table_rows_estimated"]
    );
}
