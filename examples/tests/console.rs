//! The web console in a real browser: headless Chromium from Debian's packages (`chromium`,
//! `chromium-driver`), driven over WebDriver's JSON protocol, against `dts serve` running a
//! MySQL → MySQL task on the test servers. The task appears in the list; on its page the
//! precheck's warning is acknowledged with its button, the task is started with its button,
//! per-table progress moves (the copy is throttled so it lasts a few seconds), the latency and
//! RPS charts draw, and pause and resume change the stage. Screenshots are saved as PNG under
//! `target/console-screenshots/`.

mod serve_support;

use base64::Engine;
use serde_json::{json, Value};
use serve_support::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(120);
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one headless Chromium session.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

impl Browser {
    async fn start() -> Self {
        let driver_bin = which("chromedriver").unwrap_or_else(|| {
            panic!("chromedriver is not installed: apt-get install -y chromium chromium-driver")
        });
        let chromium = which("chromium").unwrap_or_else(|| {
            panic!("chromium is not installed: apt-get install -y chromium chromium-driver")
        });
        let port = free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        eventually(Duration::from_secs(30), "chromedriver to be ready", || {
            let http = http.clone();
            let url = format!("{base}/status");
            async move {
                let r = http.get(url).send().await.ok()?;
                let v: Value = r.json().await.ok()?;
                (v["value"]["ready"] == true).then_some(())
            }
        })
        .await;
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1600",
                         "--hide-scrollbars"],
            },
        }}});
        let v: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Self {
            driver,
            base,
            session,
            http,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut r = self.http.request(method, url);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let v: Value = r.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {path}: {v}");
        }
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Clicks the element `css` selects, as a user would.
    async fn click(&self, css: &str) {
        let e = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        let id = e[ELEMENT_KEY].as_str().unwrap().to_string();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Waits until `script` returns something other than `null` / `false`.
    async fn wait_for(&self, what: &str, script: &str) -> Value {
        eventually(WAIT, what, || async {
            let v = self.js(script).await;
            (!v.is_null() && v != Value::Bool(false)).then_some(v)
        })
        .await
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/console-screenshots` of the workspace (or of `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("console-screenshots")
}

/// Non-blank pixels of a canvas, as the page draws it.
fn canvas_ink(id: &str) -> String {
    format!(
        "const c = document.getElementById('{id}'); \
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
         let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; \
         return {{ points: Number(c.dataset.points || 0), ink: n }};"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_a_live_task_and_controls_it() {
    let browser = Browser::start().await;
    let db = unique("console");
    prepare(&db, 40_000).await;
    let mut src = connect("DTS_TEST_SOURCE_URL").await;
    exec_all(
        &mut src,
        &[format!(
            "CREATE TABLE `{db}`.keyless (a INT, b VARCHAR(10))"
        )],
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let server = Server::start(state.path(), &[]).await;
    // The copy is throttled to 8,000 rows/s (chunks of 5,000 rows), so it lasts about five
    // seconds and its progress can be watched.
    let toml = format!(
        "{}\n[advanced.full_sync_throttle]\nrps = 8000\n",
        task_toml(&db)
    );
    server
        .expect("POST", "/api/tasks", Some(json!({ "toml": toml })), 201)
        .await;

    // The list shows the task; its link opens the task page.
    browser.goto(&format!("{}/", server.base)).await;
    browser
        .wait_for(
            "the task in the list",
            &format!("return document.querySelector('tr[data-task=\"{db}\"] a') !== null;"),
        )
        .await;
    browser.screenshot("01-task-list").await;
    browser.click(&format!("tr[data-task=\"{db}\"] a")).await;
    browser
        .wait_for(
            "the task page",
            &format!("return document.getElementById('task-id').textContent === '{db}';"),
        )
        .await;

    // Precheck from the page; the key-less warning's button acknowledges it.
    browser.click("#btn-precheck").await;
    browser
        .wait_for(
            "an acknowledge button",
            "return document.querySelector('#precheck button.ack') !== null;",
        )
        .await;
    browser.screenshot("02-precheck").await;
    browser.click("#precheck button.ack").await;
    browser
        .wait_for(
            "the precheck to pass",
            "return document.getElementById('precheck-summary').textContent.startsWith('passed');",
        )
        .await;

    // Start from the page; the table's progress moves while it is copied.
    browser.click("#btn-start").await;
    let table_pct = format!(
        "const r = document.querySelector('#tables tr[data-table=\"{db}.t\"] .pct'); \
         return r ? parseFloat(r.textContent) : null;"
    );
    let first = browser
        .wait_for(
            "copy progress between 0 and 100 %",
            &format!(
                "const p = (function() {{ {table_pct} }})(); return p !== null && p > 0 && p < 90 ? p : null;"
            ),
        )
        .await
        .as_f64()
        .unwrap();
    browser.screenshot("03-full-sync").await;
    browser
        .wait_for(
            "copy progress to move",
            &format!(
                "const p = (function() {{ {table_pct} }})(); return p !== null && p > {first};"
            ),
        )
        .await;

    // Incremental write, with changes arriving; the charts draw.
    browser
        .wait_for(
            "the Incremental Write stage",
            "return document.getElementById('task-stage').textContent === 'Incremental Write' \
             && document.querySelector('li[data-stage=\"incremental_write\"]').classList.contains('status-running');",
        )
        .await;
    let writer_db = db.clone();
    let writer = tokio::spawn(async move {
        let mut c = connect("DTS_TEST_SOURCE_URL").await;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        for i in 0..100_000u32 {
            tick.tick().await;
            exec_all(
                &mut c,
                &[format!(
                    "INSERT INTO `{writer_db}`.t VALUES ({}, 'live', 'p')",
                    100_000 + i
                )],
            )
            .await;
        }
    });
    for chart in ["latency-chart", "rps-chart"] {
        let drawn = browser
            .wait_for(
                &format!("{chart} to draw a line"),
                &format!(
                    "const r = (function() {{ {} }})(); return r.points >= 3 && r.ink > 500 ? r : null;",
                    canvas_ink(chart)
                ),
            )
            .await;
        assert!(drawn["ink"].as_u64().unwrap() > 500, "{chart}: {drawn}");
    }
    browser
        .wait_for(
            "rows applied on the page",
            "const dd = [...document.querySelectorAll('#incremental dt')].find(d => d.textContent === 'rows applied'); \
             return dd && parseInt(dd.nextElementSibling.textContent.replace(/,/g, '')) > 0;",
        )
        .await;
    let running = browser.screenshot("04-incremental").await;

    // Pause and resume from the page change the stage.
    browser.click("#btn-pause").await;
    browser
        .wait_for(
            "the stage to be paused",
            "return document.getElementById('task-state').textContent === 'paused' \
             && document.querySelector('li[data-stage=\"incremental_write\"]').classList.contains('status-paused');",
        )
        .await;
    browser.screenshot("05-paused").await;
    browser.click("#btn-resume").await;
    browser
        .wait_for(
            "the stage to run again",
            "return document.getElementById('task-state').textContent === 'running' \
             && document.querySelector('li[data-stage=\"incremental_write\"]').classList.contains('status-running');",
        )
        .await;
    writer.abort();
    // The throttle form applies a new limit. The value is entered as typing does (an `input`
    // event), so the page's refreshes keep it once the focus moves to the button.
    browser
        .js(
            "const i = document.getElementById('thr-inc-rps'); i.value = '2500'; \
             i.dispatchEvent(new Event('input', { bubbles: true })); return true;",
        )
        .await;
    browser.click("#btn-throttle").await;
    browser
        .wait_for(
            "the throttle to be applied",
            "return document.getElementById('throttle-result').textContent === 'applied';",
        )
        .await;
    let throttle = server
        .expect("GET", &format!("/api/tasks/{db}/throttle"), None, 200)
        .await;
    assert_eq!(throttle["incremental"]["rps"], 2500);
    browser.screenshot("06-resumed").await;
    eprintln!("screenshots: {}", running.parent().unwrap().display());

    server
        .expect("POST", &format!("/api/tasks/{db}/stop"), None, 200)
        .await;
    server.wait_state(&db, "stopped", WAIT).await;
    let _ = browser.cmd(reqwest::Method::DELETE, "", None).await;
    cleanup(&db).await;
}
