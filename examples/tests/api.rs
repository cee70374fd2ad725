//! The management API of `dts serve` against the test environment's servers, through the
//! program itself (a child process on a free loopback port): a MySQL → MySQL task created from
//! posted TOML is prechecked (a warning acknowledged by id), started, shown in incremental
//! write, paused and resumed, throttled at run time, survives a SIGKILL and a SIGTERM of the
//! program, stopped and deleted; secrets never come back; tokens guard the API.

mod serve_support;

use serde_json::json;
use serve_support::*;
use std::time::Duration;

const STAGE_WAIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_through_its_life_and_two_restarts_of_the_program() {
    let db = unique("api");
    prepare(&db, 2_000).await;
    // A key-less table: the precheck warns, and the warning is acknowledged through the API.
    let mut src = connect("DTS_TEST_SOURCE_URL").await;
    exec_all(
        &mut src,
        &[
            format!("CREATE TABLE `{db}`.keyless (a INT, b VARCHAR(10))"),
            format!("INSERT INTO `{db}`.keyless VALUES (1, 'one')"),
        ],
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let mut server = Server::start(state.path(), &[]).await;

    // Create from posted TOML.
    let created = server
        .expect(
            "POST",
            "/api/tasks",
            Some(json!({ "toml": task_toml(&db) })),
            201,
        )
        .await;
    assert_eq!(created["id"], db.as_str());
    assert_eq!(created["state"], "created");
    let base = format!("/api/tasks/{db}");
    // The same id again is refused.
    server
        .expect(
            "POST",
            "/api/tasks",
            Some(json!({ "toml": task_toml(&db) })),
            409,
        )
        .await;

    // Precheck: results with ids; the key-less warning blocks until acknowledged.
    let pre = server
        .expect("POST", &format!("{base}/precheck"), None, 200)
        .await;
    let checks = pre["checks"].as_array().unwrap();
    assert!(checks.iter().all(|c| c["id"].as_str().is_some()));
    let warning = checks
        .iter()
        .find(|c| {
            c["level"] == "warning"
                && c["id"]
                    .as_str()
                    .unwrap()
                    .ends_with("tables_without_primary_key")
        })
        .unwrap_or_else(|| panic!("no key-less warning in {pre}"));
    let warning_id = warning["id"].as_str().unwrap().to_string();
    assert_eq!(pre["passed"], false, "{pre}");
    let passing = checks.iter().find(|c| c["level"] == "pass").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    server
        .expect(
            "POST",
            &format!("{base}/precheck/acknowledge"),
            Some(json!({ "ids": [passing] })),
            400,
        )
        .await;
    let acked = server
        .expect(
            "POST",
            &format!("{base}/precheck/acknowledge"),
            Some(json!({ "ids": [warning_id] })),
            200,
        )
        .await;
    assert_eq!(acked["passed"], true, "{acked}");
    let again = server
        .expect("GET", &format!("{base}/precheck"), None, 200)
        .await;
    assert_eq!(again["passed"], true);

    // Start; the full sync copies the rows and incremental write takes over.
    server
        .expect("POST", &format!("{base}/start"), None, 200)
        .await;
    let detail = server
        .wait_stage(&db, "incremental_write", "running", STAGE_WAIT)
        .await;
    assert_eq!(detail["state"], "running");
    assert_eq!(detail["stage"], "Incremental Write");
    let table = detail["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == format!("{db}.t"))
        .cloned()
        .unwrap_or_else(|| panic!("no per-table progress in {detail}"));
    assert_eq!(table["finished"], true);
    assert_eq!(table["rows_done"], 2_000);
    assert_eq!(dest_rows(&db).await, 2_000);

    // Incremental write shows in the status.
    exec_all(
        &mut src,
        &[format!("INSERT INTO `{db}`.t VALUES (5000, 'live', 'p')")],
    )
    .await;
    wait_row(&db, 5000, STAGE_WAIT).await;
    eventually(STAGE_WAIT, "rows applied in the status", || async {
        let d = server.task(&db).await;
        (d["incremental"]["rows_applied"].as_u64().unwrap_or(0) >= 1).then_some(())
    })
    .await;
    let metrics = eventually(STAGE_WAIT, "chart samples", || async {
        let m = server
            .expect("GET", &format!("{base}/metrics"), None, 200)
            .await;
        (m["samples"].as_array().unwrap().len() >= 2).then_some(m)
    })
    .await;
    assert_eq!(metrics["interval_ms"], 1000);
    assert_eq!(metrics["capacity"], 3600);

    // Pause and resume change the stage.
    server
        .expect("POST", &format!("{base}/pause"), None, 200)
        .await;
    let paused = server
        .wait_stage(&db, "incremental_write", "paused", STAGE_WAIT)
        .await;
    assert_eq!(paused["state"], "paused");
    assert_eq!(paused["desired"], "paused");
    server
        .expect("POST", &format!("{base}/resume"), None, 200)
        .await;
    server
        .wait_stage(&db, "incremental_write", "running", STAGE_WAIT)
        .await;

    // Throttle change at run time: applied, shown, kept in the effective configuration.
    let throttle = server
        .expect(
            "PUT",
            &format!("{base}/throttle"),
            Some(json!({ "incremental": { "rps": 5000 } })),
            200,
        )
        .await;
    assert_eq!(throttle["incremental"]["rps"], 5000);
    assert_eq!(throttle["full"]["rps"], serde_json::Value::Null);
    server
        .expect(
            "PUT",
            &format!("{base}/throttle"),
            Some(json!({ "incremental": { "rps": 0 } })),
            400,
        )
        .await;
    let shown = server
        .expect("GET", &format!("{base}/throttle"), None, 200)
        .await;
    assert_eq!(
        shown["incremental"]["rps"], 5000,
        "a refused change changes nothing"
    );
    let config = server
        .expect("GET", &format!("{base}/config"), None, 200)
        .await;
    assert_eq!(
        config["config"]["advanced"]["incremental_throttle"]["rps"],
        5000
    );
    assert!(config["toml"].as_str().unwrap().contains(&warning_id));
    exec_all(
        &mut src,
        &[format!(
            "INSERT INTO `{db}`.t VALUES (5001, 'throttled', 'p')"
        )],
    )
    .await;
    wait_row(&db, 5001, STAGE_WAIT).await;

    // A running task cannot be deleted or prechecked.
    server.expect("DELETE", &base, None, 409).await;
    server
        .expect("POST", &format!("{base}/precheck"), None, 409)
        .await;

    // SIGKILL of the program while the task runs: the next start runs it again, from its
    // checkpoint, with the throttle and the acknowledgement it had.
    server.kill();
    exec_all(
        &mut src,
        &[format!(
            "INSERT INTO `{db}`.t VALUES (5002, 'while down', 'p')"
        )],
    )
    .await;
    let mut server = Server::start(state.path(), &[]).await;
    let back = server.task(&db).await;
    assert_eq!(back["desired"], "running");
    server
        .wait_stage(&db, "incremental_write", "running", STAGE_WAIT)
        .await;
    wait_row(&db, 5002, STAGE_WAIT).await;
    let shown = server
        .expect("GET", &format!("{base}/throttle"), None, 200)
        .await;
    assert_eq!(shown["incremental"]["rps"], 5000);
    assert_eq!(
        server.task(&db).await["acknowledged"][0],
        warning_id.as_str()
    );

    // Paused, then SIGTERM: a clean exit (status 0); the next start has it paused.
    server
        .expect("POST", &format!("{base}/pause"), None, 200)
        .await;
    server
        .wait_stage(&db, "incremental_write", "paused", STAGE_WAIT)
        .await;
    let status = server.terminate(Duration::from_secs(90)).await;
    assert_eq!(status.code(), Some(0), "{}", server.log_text());
    let server = Server::start(state.path(), &[]).await;
    server.wait_state(&db, "paused", STAGE_WAIT).await;
    server
        .wait_stage(&db, "incremental_write", "paused", STAGE_WAIT)
        .await;
    server
        .expect("POST", &format!("{base}/resume"), None, 200)
        .await;
    exec_all(
        &mut src,
        &[format!(
            "INSERT INTO `{db}`.t VALUES (5003, 'resumed', 'p')"
        )],
    )
    .await;
    wait_row(&db, 5003, STAGE_WAIT).await;

    // Stop, then delete: its record and local checkpoint file go.
    server
        .expect("POST", &format!("{base}/stop"), None, 200)
        .await;
    server.wait_state(&db, "stopped", STAGE_WAIT).await;
    server
        .expect("POST", &format!("{base}/stop"), None, 409)
        .await;
    assert!(state.path().join(format!("{db}.json")).exists());
    server.expect("DELETE", &base, None, 204).await;
    server.expect("GET", &base, None, 404).await;
    assert!(!state.path().join(format!("{db}.json")).exists());
    assert!(!state
        .path()
        .join("serve/tasks")
        .join(format!("{db}.json"))
        .exists());

    // Every mutating call was logged with who and what.
    let log = server.log_text();
    assert!(log.contains("dts::audit"), "{log}");
    assert!(log.contains("task deleted"), "{log}");
    assert!(log.contains("127.0.0.1:"), "the peer is named: {log}");
    cleanup(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_come_back_and_json_tasks_are_accepted() {
    let db = unique("secret");
    let state = tempfile::tempdir().unwrap();
    let server = Server::start(state.path(), &[]).await;
    let password = "Hunter2-serve-Pw#42";
    // A JSON task (never started: the password is not the server's).
    let (sh, sp) = host_port("DTS_TEST_SOURCE_URL");
    let created = server
        .expect(
            "POST",
            "/api/tasks",
            Some(json!({ "config": {
                "id": db,
                "source": { "host": sh, "port": sp, "user": "root", "password": password },
                "destination": { "type": "mysql", "host": sh, "port": sp, "user": "root",
                                 "password": password },
                "objects": { "databases": [ { "name": db } ] },
            }})),
            201,
        )
        .await;
    assert!(!created.to_string().contains(password));
    let config = server
        .expect("GET", &format!("/api/tasks/{db}/config"), None, 200)
        .await;
    let text = config.to_string();
    assert!(!text.contains(password), "{text}");
    assert!(config["toml"]
        .as_str()
        .unwrap()
        .contains("password = \"***\""));
    assert_eq!(config["config"]["source"]["password"], "***");
    for path in [format!("/api/tasks/{db}"), "/api/tasks".to_string()] {
        let (_, v) = server.call("GET", &path, None).await;
        assert!(!v.to_string().contains(password));
    }
    // The precheck fails to log in; its error names the endpoint, not the password.
    let (status, v) = server
        .call("POST", &format!("/api/tasks/{db}/precheck"), None)
        .await;
    assert_eq!(status, 502, "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("access denied") && error.contains(&format!("{sh}:{sp}")),
        "{v}"
    );
    assert!(!v.to_string().contains(password));
    // Invalid configurations are refused naming the key.
    let (status, v) = server
        .call(
            "POST",
            "/api/tasks",
            Some(json!({ "toml": "id = \"x\"\n[source]\nhost = 5\n" })),
        )
        .await;
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("source"), "{v}");
    server.expect("GET", "/api/tasks/nope", None, 404).await;
    server
        .expect("DELETE", &format!("/api/tasks/{db}"), None, 204)
        .await;
    // The saved record is readable by its owner only.
    #[cfg(unix)]
    for entry in std::fs::read_dir(state.path().join("serve/tasks")).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    assert!(!server.log_text().contains(password));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_the_api_and_is_required_off_loopback() {
    let state = tempfile::tempdir().unwrap();
    // Off loopback without a token: refused as a command-line error.
    let out = std::process::Command::new(dts_bin())
        .args(["serve", "--listen", "0.0.0.0:0", "--state-dir"])
        .arg(state.path())
        .env_remove("DTS_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("requires a token"));

    let token_file = state.path().join("token");
    std::fs::write(&token_file, "tok-123-secret\n").unwrap();
    let server = Server::start(
        state.path(),
        &["--token-file", token_file.to_str().unwrap()],
    )
    .await;
    let (status, _) = server.call("GET", "/api/tasks", None).await;
    assert_eq!(status, 401);
    let (status, _) = server.call("POST", "/api/tasks", Some(json!({}))).await;
    assert_eq!(status, 401);
    // The console's pages hold no data and need no token.
    let page = reqwest::get(format!("{}/", server.base)).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let server = server.with_token("tok-123-secret");
    let (status, v) = server.call("GET", "/api/tasks", None).await;
    assert_eq!(status, 200, "{v}");
    let (status, doc) = server.call("GET", "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(!server.log_text().contains("tok-123-secret"));
}
