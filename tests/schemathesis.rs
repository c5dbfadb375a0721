//! schemathesis (PyPI) against docs/openapi.json and a real `cv-worker work --admin-listen`
//! daemon on 127.0.0.1 (SQLite, seeded with a batch and failed jobs): every documented
//! operation is fuzzed (coverage, fuzzing and stateful phases) with the bearer token, and no
//! request may get a server error (`--checks not_a_server_error`).
//!
//! schemathesis is required: the test FAILS when it is missing. It is looked for in
//! `CV_WORKER_SCHEMATHESIS` (the executable), then /opt/cv-worker-test-venv/bin/schemathesis
//! (the venv scripts/install-test-deps creates), then PATH. The run is bounded
//! (`--max-examples`, default 50 per operation, `CV_WORKER_SCHEMATHESIS_EXAMPLES` to change)
//! with a fixed seed (`CV_WORKER_SCHEMATHESIS_SEED`, default 1) so that a failure reproduces.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestDb;
use cv_worker::store::Dialect;
use serde_json::Value;

const TOKEN: &str = "schemathesis-admin-token";
const VENV_SCHEMATHESIS: &str = "/opt/cv-worker-test-venv/bin/schemathesis";
/// The whole schemathesis run must end within this.
const RUN_LIMIT: Duration = Duration::from_secs(240);

fn schemathesis() -> PathBuf {
    if let Some(p) = std::env::var_os("CV_WORKER_SCHEMATHESIS") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "CV_WORKER_SCHEMATHESIS={} does not exist", p.display());
        return p;
    }
    if Path::new(VENV_SCHEMATHESIS).is_file() {
        return VENV_SCHEMATHESIS.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|d| d.join("schemathesis")).find(|p| p.is_file()).unwrap_or_else(|| {
        panic!(
            "schemathesis not found ({VENV_SCHEMATHESIS}, PATH, CV_WORKER_SCHEMATHESIS): run \
             scripts/install-test-deps as root, which installs it in /opt/cv-worker-test-venv"
        )
    })
}

/// A child process that is killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
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

/// GET `path` (axum closes the connection after `Connection: close`); the status, if any.
fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    out.split(' ').nth(1)?.parse().ok()
}

fn env_or(var: &str, default: u32) -> String {
    std::env::var(var).ok().filter(|v| v.parse::<u32>().is_ok()).unwrap_or_else(|| default.to_string())
}

#[test]
fn schemathesis_finds_no_server_error() {
    let schemathesis = schemathesis();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let db = rt.block_on(TestDb::migrated(Dialect::Sqlite));
    let dir = tempfile::tempdir().expect("temp dir");

    // Data for the fuzzer to find: failed jobs (two in a batch), a pending batch.
    let mut failing = cv_worker(&db.url);
    failing.args(["enqueue", "CvWorker\\Jobs\\Sleep", "--queue", "failing", "--count", "3"]);
    failing.args(["--data", r#"{"seconds": -1}"#]);
    run(failing);
    let mut batch = cv_worker(&db.url);
    batch.args(["enqueue", "CvWorker\\Jobs\\Sleep", "--queue", "failing", "--count", "2", "--batch", "fuzzed"]);
    batch.args(["--allow-failures", "--data", r#"{"seconds": -1}"#]);
    run(batch);
    let mut work = cv_worker(&db.url);
    work.args(["work", "--queue", "failing", "--stop-when-empty", "--sleep", "0.1"]);
    run(work);
    let mut pending = cv_worker(&db.url);
    pending.args(["enqueue", "CvWorker\\Jobs\\Ping", "--queue", "later", "--count", "2", "--batch", "waiting"]);
    run(pending);
    assert_eq!(rt.block_on(db.count("failed_jobs")), 5);
    // Nothing in the document links to a failed job's uuid: hand schemathesis real ones, a
    // different one to each operation on /api/failed-jobs/{uuid} (retry and delete remove it;
    // so may a bulk retry that schemathesis sends first).
    let uuids = rt.block_on(db.query_strings("SELECT uuid FROM failed_jobs ORDER BY id"));
    let mut config = String::new();
    for (operation, uuid) in [
        ("GET /api/failed-jobs/{uuid}", &uuids[0]),
        ("POST /api/failed-jobs/{uuid}/retry", &uuids[1]),
        ("DELETE /api/failed-jobs/{uuid}", &uuids[2]),
    ] {
        config.push_str(&format!(
            "[[operations]]\ninclude-name = \"{operation}\"\nparameters = {{ \"path.uuid\" = \"{uuid}\" }}\n\n"
        ));
    }
    let config_file = dir.path().join("schemathesis.toml");
    std::fs::write(&config_file, config).expect("schemathesis.toml");

    // The daemon, on a free loopback port.
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let daemon_log = dir.path().join("daemon.log");
    let mut daemon = Proc(
        cv_worker(&db.url)
            .args(["work", "--queue", "default", "--sleep", "0.5", "--admin-listen", &addr.to_string()])
            .args(["--admin-token", TOKEN])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&daemon_log).expect("log"))
            .spawn()
            .expect("start cv-worker work"),
    );
    let log = || String::from_utf8_lossy(&std::fs::read(&daemon_log).unwrap_or_default()).into_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_status(addr, "/readyz") != Some(200) {
        assert!(Instant::now() < deadline, "the admin API never became ready on {addr}: {}", log());
        std::thread::sleep(Duration::from_millis(100));
    }

    // schemathesis, in the temp dir (it keeps .hypothesis/ and .schemathesis/ in its cwd).
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let har = dir.path().join("run.har");
    let output = dir.path().join("schemathesis.out");
    let started = Instant::now();
    let mut st = Proc(
        Command::new(&schemathesis)
            .arg("--config-file")
            .arg(&config_file)
            .arg("run")
            .arg(&spec)
            .args(["--url", &format!("http://{addr}")])
            .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
            .args(["--checks", "not_a_server_error"])
            .args(["--max-examples", &env_or("CV_WORKER_SCHEMATHESIS_EXAMPLES", 50)])
            .args(["--seed", &env_or("CV_WORKER_SCHEMATHESIS_SEED", 1)])
            .args(["--request-timeout", "10", "--report", "har", "--report-har-path"])
            .arg(&har)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&output).expect("output"))
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", schemathesis.display())),
    );
    let status = loop {
        if let Some(status) = st.0.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            panic!(
                "schemathesis ran longer than {RUN_LIMIT:?}: {}",
                std::fs::read_to_string(&output).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = std::fs::read_to_string(&output).unwrap_or_default();
    eprintln!("schemathesis took {:.1} s:\n{out}", started.elapsed().as_secs_f64());
    assert!(status.success(), "schemathesis found problems ({status}):\n{out}\ndaemon log:\n{}", log());

    // Every documented operation was tested...
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&spec).expect("openapi.json")).expect("JSON");
    let methods = ["get", "post", "put", "patch", "delete"];
    let operations: usize = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .map(|item| methods.iter().filter(|m| item.get(**m).is_some()).count())
        .sum();
    assert!(out.contains(&format!("Tested: {operations}")), "all {operations} operations tested:\n{out}");

    // ... and with the token: the authorized /api routes answered 2xx (not only 401s).
    let har: Value = serde_json::from_str(&std::fs::read_to_string(&har).expect("HAR report")).expect("HAR JSON");
    let entries = har["log"]["entries"].as_array().expect("HAR entries");
    let ok = |method: &str, path: &str| {
        entries.iter().any(|e| {
            let url = e["request"]["url"].as_str().unwrap_or_default();
            let url_path = url.strip_prefix(&format!("http://{addr}")).unwrap_or(url);
            e["request"]["method"] == method
                && url_path.split('?').next() == Some(path)
                && e["response"]["status"].as_u64().is_some_and(|s| (200..300).contains(&s))
        })
    };
    for (method, path) in [("GET", "/api/batches"), ("GET", "/api/failed-jobs"), ("GET", "/api/queues")] {
        assert!(ok(method, path), "no 2xx answer to {method} {path} among {} requests", entries.len());
    }
    assert!(
        entries.iter().all(|e| e["response"]["status"].as_u64().is_some_and(|s| s < 500)),
        "no server error in the HAR either"
    );

    // The daemon is still up, and never panicked.
    assert!(daemon.0.try_wait().expect("wait").is_none(), "the daemon is still running: {}", log());
    assert_eq!(get_status(addr, "/healthz"), Some(200));
    assert!(!log().contains("panicked"), "{}", log());
}
