//! The dashboard in a real browser: headless Chromium, driven through chromedriver's W3C
//! WebDriver HTTP API (a tiny client over `std::net::TcpStream` + serde_json, no Node), loads
//! the page served by a real `cv-worker work --admin-listen 127.0.0.1:…` daemon on SQLite,
//! takes the token, shows a batch's progress bar moving while the daemon works the batch, and
//! re-queues a failed job of the batch when its Retry button is clicked (checked in the
//! database: the failed_jobs row is gone, a jobs row is back).
//!
//! Chromium and chromedriver are required: the test FAILS when they are missing (Debian
//! packages `chromium` and `chromium-driver`, installed by scripts/install-test-deps).
//! `CV_WORKER_CHROMIUM` / `CV_WORKER_CHROMEDRIVER` override where they are looked for.
//! The test saves a screenshot of the dashboard to `$CARGO_TARGET_TMPDIR/dashboard.png`, and
//! to docs/dashboard.png when `CV_WORKER_UPDATE_SCREENSHOT=1`.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::TestDb;
use cv_worker::store::Dialect;
use serde_json::{Value, json};

const TOKEN: &str = "browser-test-token";
const SLEEP: &str = "CvWorker\\Jobs\\Sleep";
/// The W3C WebDriver key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// An executable from `var`, else the first of `names` on PATH (or an absolute name).
fn find_program(var: &str, names: &[&str], package: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "{var}={} does not exist", p.display());
        return p;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        if Path::new(name).is_absolute() && Path::new(name).is_file() {
            return PathBuf::from(name);
        }
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "{} not found (looked for {names:?} on PATH and {var}): this test needs the Debian package \
         `{package}` (run scripts/install-test-deps as root)",
        names[0]
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0").local_addr().expect("addr").port()
}

/// One HTTP/1.1 exchange (`Connection: close`); returns the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {addr} for {method} {path}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(90))).expect("timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if method != "GET" {
        request
            .push_str(&format!("Content-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).expect("write request");
    // chromedriver answers `Connection:close` but keeps the socket open: read by length.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let mut read = |raw: &mut Vec<u8>| {
        let n = stream.read(&mut buf).unwrap_or_else(|e| panic!("read the answer to {method} {path}: {e}"));
        raw.extend_from_slice(&buf[..n]);
        n
    };
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        assert!(read(&mut raw) > 0, "{method} {path}: connection closed before the headers");
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {head}"));
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_ascii_lowercase())
        })
    };
    let body_start = head_end + 4;
    if let Some(len) = header("content-length") {
        let len: usize = len.parse().expect("Content-Length");
        while raw.len() < body_start + len {
            assert!(read(&mut raw) > 0, "{method} {path}: connection closed in the body");
        }
        return (status, String::from_utf8_lossy(&raw[body_start..body_start + len]).into_owned());
    }
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut out = Vec::new();
        let mut pos = body_start;
        loop {
            let line_end = loop {
                if let Some(i) = raw[pos..].windows(2).position(|w| w == b"\r\n") {
                    break pos + i;
                }
                assert!(read(&mut raw) > 0, "{method} {path}: connection closed in a chunk size");
            };
            let size = String::from_utf8_lossy(&raw[pos..line_end]).into_owned();
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16).expect("chunk size");
            if size == 0 {
                return (status, String::from_utf8_lossy(&out).into_owned());
            }
            while raw.len() < line_end + 2 + size + 2 {
                assert!(read(&mut raw) > 0, "{method} {path}: connection closed in a chunk");
            }
            out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
            pos = line_end + 2 + size + 2;
        }
    }
    while read(&mut raw) > 0 {}
    (status, String::from_utf8_lossy(&raw[body_start..]).into_owned())
}

/// A child process that is killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver plus one Chromium session.
struct Browser {
    addr: SocketAddr,
    session: String,
    _driver: Proc,
}

impl Browser {
    fn start(dir: &Path) -> Browser {
        let chromium = find_program("CV_WORKER_CHROMIUM", &["chromium", "/usr/bin/chromium"], "chromium");
        let chromedriver = find_program("CV_WORKER_CHROMEDRIVER", &["chromedriver"], "chromium-driver");
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::File::create(dir.join("chromedriver.log")).expect("log file");
        let driver = Proc(
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display())),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                let (status, body) = http(addr, "GET", "/status", &[], None);
                let v: Value = serde_json::from_str(&body).unwrap_or_default();
                if status == 200 && v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready on {addr}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = dir.join("chromium-profile");
        std::fs::create_dir_all(&profile).expect("profile dir");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1200,860".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
        }}});
        let (status, body) = http(addr, "POST", "/session", &[], Some(&capabilities));
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("new session ({e}): {body}"));
        assert_eq!(status, 200, "chromedriver could not start {}: {body}", chromium.display());
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no sessionId: {v}")).to_string();
        Browser { addr, session, _driver: driver }
    }

    /// A WebDriver command on the session; `Err` carries the WebDriver error code and message.
    fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let body = body.or_else(|| (method == "POST").then(|| json!({})));
        let (status, text) = http(self.addr, method, &path, &[], body.as_ref());
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{method} {path}: not JSON ({e}): {text}"))?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!("{method} {path}: {} {}", v["value"]["error"], v["value"]["message"]))
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body).unwrap_or_else(|e| panic!("{e}"))
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    fn try_find(&self, css: &str) -> Result<String, String> {
        let v = self.try_cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})))?;
        v[ELEMENT].as_str().map(str::to_string).ok_or_else(|| format!("no element reference: {v}"))
    }

    fn find(&self, css: &str) -> String {
        self.try_find(css).unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/value"), Some(json!({"text": text})));
    }

    /// Clicks the element matching `css`; retries while the page re-renders it (the dashboard
    /// rebuilds its tables on every refresh, so a reference may go stale between the two calls).
    fn click(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let result = self.try_find(css).and_then(|id| self.try_cmd("POST", &format!("/element/{id}/click"), None));
            match result {
                Ok(_) => return,
                Err(e) => assert!(Instant::now() < deadline, "clicking {css}: {e}"),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn eval(&self, script: &str, args: Value) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Polls `script` until it returns something other than null/false.
    fn wait_for(&self, what: &str, within: Duration, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let v = self.eval(script, args.clone());
            if !v.is_null() && v != false {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; page: {}", self.page_text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn page_text(&self) -> String {
        self.eval("return document.body ? document.body.innerText : '';", json!([])).as_str().unwrap_or("").to_string()
    }

    fn screenshot(&self) -> Vec<u8> {
        let b64 = self.cmd("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD.decode(b64.as_str().expect("base64")).expect("PNG")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Quits Chromium; chromedriver itself is killed by `Proc`.
        let _ = self.try_cmd("DELETE", "", None);
    }
}

fn cv_worker(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cv-worker"));
    c.arg("--database-url").arg(url).env("RUST_LOG", "info");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("CV_WORKER_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(mut c: Command) -> String {
    let out = c.output().expect("run cv-worker");
    assert!(out.status.success(), "cv-worker failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Progress of the batch's bar as shown: (aria-valuenow, width of the filled part in px,
/// the status cell), or null while the row is not on the page.
const BAR: &str = r#"
const row = document.querySelector('tr.batch[data-id="' + arguments[0] + '"]');
if (!row) return null;
const bar = row.querySelector('[role=progressbar]');
const fill = bar.firstElementChild;
return [Number(bar.getAttribute('aria-valuenow')), fill.getBoundingClientRect().width,
        row.cells[4].textContent, fill.style.width];
"#;

#[test]
fn dashboard_shows_a_moving_bar_and_retries_a_failed_job() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let db = rt.block_on(TestDb::migrated(Dialect::Sqlite));
    let dir = tempfile::tempdir().expect("temp dir");

    // The browser first: a missing Chromium fails the test before anything else.
    let browser = Browser::start(dir.path());

    // The daemon: works `default` one job at a time, serves the dashboard on 127.0.0.1.
    let port = free_port();
    let admin: SocketAddr = ([127, 0, 0, 1], port).into();
    let daemon_log = dir.path().join("daemon.log");
    let _daemon = Proc(
        cv_worker(&db.url)
            .args(["work", "--queue", "default", "--concurrency", "1", "--sleep", "0.1"])
            .args(["--admin-listen", &admin.to_string(), "--admin-token", TOKEN])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&daemon_log).expect("log"))
            .spawn()
            .expect("start cv-worker work"),
    );
    let log = || std::fs::read_to_string(&daemon_log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(TcpStream::connect_timeout(&admin, Duration::from_millis(200)).is_ok()
        && http(admin, "GET", "/healthz", &[], None).0 == 200)
    {
        assert!(Instant::now() < deadline, "the admin API never came up on {admin}: {}", log());
        std::thread::sleep(Duration::from_millis(100));
    }

    // The token, entered once in the page.
    browser.goto(&format!("http://{admin}/"));
    browser.type_into("#token", TOKEN);
    browser.click("#token-form button[type=submit]");
    browser.wait_for(
        "the dashboard to load with the token",
        Duration::from_secs(30),
        "return document.getElementById('status').textContent.startsWith('updated') \
         && document.querySelector('#queues tbody tr') !== null;",
        json!([]),
    );

    // A small batch that the daemon finishes at once (a green bar in the screenshot).
    let mut quick = cv_worker(&db.url);
    quick.args(["enqueue", "CvWorker\\Jobs\\Ping", "--count", "4", "--batch", "Nightly CV export"]);
    run(quick);

    // A batch (failures allowed): one job that fails, on a queue the daemon does not work, so
    // that it stays put once retried; twelve 1 s sleepers the daemon works one by one.
    let mut jobs = vec![json!({"class": SLEEP, "data": {"seconds": -1}, "queue": "failing"})];
    jobs.extend((0..12).map(|_| json!({"class": SLEEP, "data": {"seconds": 1.0}})));
    let batch_file = dir.path().join("batch.json");
    std::fs::write(&batch_file, Value::from(jobs).to_string()).expect("batch file");
    let mut enqueue = cv_worker(&db.url);
    enqueue.args(["enqueue", "--batch", "Export CVs", "--allow-failures", "--batch-file"]).arg(&batch_file);
    let batch: Value = serde_json::from_str(&run(enqueue)).expect("batch JSON");
    let batch_id = batch["id"].as_str().expect("batch id").to_string();
    let mut fail = cv_worker(&db.url);
    fail.args(["work", "--queue", "failing", "--stop-when-empty", "--sleep", "0.1"]);
    run(fail);
    let failed = rt.block_on(db.query_strings("SELECT uuid FROM failed_jobs"));
    assert_eq!(failed.len(), 1, "one job failed");
    let failed_uuid = failed[0].clone();

    // The bar moves: watch it while the daemon works the batch.
    let mut seen: Vec<(f64, f64)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = browser.eval(BAR, json!([batch_id]));
        if let Some(a) = v.as_array() {
            let (progress, px) = (a[0].as_f64().expect("progress"), a[1].as_f64().expect("width"));
            assert_eq!(a[3], format!("{progress}%"), "the fill's width is the progress");
            if seen.last().map(|&(p, _)| p) != Some(progress) {
                assert_eq!(a[2], "pending", "the batch is in progress: {v}");
                seen.push((progress, px));
            }
        }
        let done = rt.block_on(db.query_i64("SELECT COUNT(*) FROM jobs WHERE queue = 'default'"))[0] == 0;
        if (seen.len() >= 3 && seen[0].0 < seen[seen.len() - 1].0) || (done && seen.len() >= 2) {
            break;
        }
        assert!(Instant::now() < deadline, "the bar did not move: {seen:?}; daemon: {}", log());
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(seen.len() >= 2, "{seen:?}");
    for pair in seen.windows(2) {
        assert!(pair[0].0 < pair[1].0, "the progress only grows: {seen:?}");
        assert!(pair[0].1 < pair[1].1, "and the filled part of the bar with it: {seen:?}");
    }
    assert!(seen[seen.len() - 1].0 < 100.0, "observed while in progress: {seen:?}");
    eprintln!("progress observed in the page (%, px): {seen:?}");

    // The batch's failed job, with its exception and a Retry button.
    browser.click(&format!("tr.batch[data-id=\"{batch_id}\"] td"));
    let shown = browser.wait_for(
        "the batch's failed job and its Retry button",
        Duration::from_secs(30),
        "const b = document.querySelector('#batch-failed li button.retry'); \
         return b ? b.closest('li').querySelector('code').textContent : null;",
        json!([]),
    );
    assert_eq!(shown, failed_uuid.as_str());
    assert!(browser.page_text().contains("seconds must be a number"), "the exception is shown");

    // Let the worker finish the sleepers so that the screenshot shows the finished counts.
    let deadline = Instant::now() + Duration::from_secs(30);
    while rt.block_on(db.query_i64("SELECT COUNT(*) FROM jobs WHERE queue = 'default'"))[0] > 0 {
        assert!(Instant::now() < deadline, "the daemon did not finish the batch: {}", log());
        std::thread::sleep(Duration::from_millis(200));
    }
    // The summary of the selected batch follows too (12 of 13: the failed one stays pending).
    browser.wait_for(
        "the batch summary to show the finished sleepers",
        Duration::from_secs(30),
        "return document.getElementById('batch-summary').textContent.startsWith('12 of 13 processed');",
        json!([]),
    );
    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    std::fs::write(Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png"), &png).expect("save screenshot");
    if std::env::var_os("CV_WORKER_UPDATE_SCREENSHOT").is_some_and(|v| v == "1") {
        std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard.png"), &png).expect("docs/");
    }

    // Retry: the job is back on its queue, its failed_jobs row gone.
    browser.click("#batch-failed li button.retry");
    browser.wait_for(
        "the Retry button to say Queued",
        Duration::from_secs(30),
        "return document.querySelector('#batch-failed li button.retry').textContent === 'Queued';",
        json!([]),
    );
    let in_failed =
        rt.block_on(db.query_i64(&format!("SELECT COUNT(*) FROM failed_jobs WHERE uuid = '{failed_uuid}'")));
    assert_eq!(in_failed, vec![0], "the failed_jobs row is gone");
    let back = rt.block_on(db.query_strings("SELECT payload FROM jobs WHERE queue = 'failing'"));
    assert_eq!(back.len(), 1, "a jobs row is back: {back:?}");
    let payload: Value = serde_json::from_str(&back[0]).expect("payload");
    assert_eq!(payload["uuid"], failed_uuid.as_str());
    assert_eq!(payload["data"]["commandName"], SLEEP);
}
