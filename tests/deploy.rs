//! The systemd units in `deploy/` pass `systemd-analyze verify` (systemd-analyze is required:
//! scripts/install-test-deps installs the `systemd` package) and keep the settings the daemon
//! relies on.
//!
//! `verify` insists that `ExecStart=` names an existing executable, so the units are checked
//! from a temporary copy pointing at the binary this build produced.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn staged(dir: &Path, name: &str, as_name: &str) -> PathBuf {
    let text = deploy(name).replace("/usr/bin/cv-worker", env!("CARGO_BIN_EXE_cv-worker"));
    let path = dir.join(as_name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn units_pass_systemd_analyze_verify() {
    assert!(
        Command::new("systemd-analyze").arg("--version").output().is_ok(),
        "systemd-analyze is required for this test: apt-get install systemd (scripts/install-test-deps does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let units = [
        staged(dir.path(), "cv-worker.service", "cv-worker.service"),
        staged(dir.path(), "cv-worker@.service", "cv-worker@default.service"),
    ];
    let out = Command::new("systemd-analyze").arg("verify").args(&units).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.trim().is_empty(), "systemd-analyze verify:\n{text}");
}

#[test]
fn the_example_config_passes_config_check() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/config.example.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_cv-worker"))
        .env_remove("CV_WORKER_DATABASE_URL")
        .env_remove("CV_WORKER_CACHE_PREFIX")
        .env_remove("CV_WORKER_ENV_FILE")
        .arg("--config")
        .arg(&path)
        .args(["config", "check"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("cache_prefix = \"laravel_cache\""), "{text}");
    assert!(text.contains("queue = [\"high\", \"default\"]"), "{text}");
}

#[test]
fn units_keep_what_the_daemon_relies_on() {
    for name in ["cv-worker.service", "cv-worker@.service"] {
        let unit = deploy(name);
        let value = |key: &str| {
            unit.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{name}: no {key}="))
                .to_string()
        };
        assert_eq!(value("Type"), "notify", "{name}: READY=1 is sent");
        assert_eq!(value("Restart"), "always", "{name}: queue:restart exits 0 and expects a restart");
        let watchdog: u64 = value("WatchdogSec").parse().unwrap();
        assert!(watchdog >= 10, "{name}: the loop pings every half WatchdogSec");
        let stop: u64 = value("TimeoutStopSec").parse().unwrap();
        assert!(stop > 30, "{name}: TimeoutStopSec above the default --shutdown-grace (30 s)");
        for setting in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/cv-worker",
            "PrivateTmp=yes",
            "ProtectHome=yes",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "EnvironmentFile=-/etc/cv-worker/env",
        ] {
            assert!(unit.lines().any(|l| l == setting), "{name}: {setting}");
        }
        assert!(unit.lines().any(|l| l.starts_with("MemoryMax=")), "{name}: MemoryMax");
        assert!(unit.lines().any(|l| l == "User=cv-worker" || l == "DynamicUser=yes"), "{name}: own user");
    }
}

/// Every asset of `[package.metadata.deb]` (cargo-deb) exists, so `cargo deb` cannot break
/// silently when a file in deploy/ or migrations/ moves; the units and ExecReload are shipped.
#[test]
fn deb_assets_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let section = manifest.split("[package.metadata.deb]").nth(1).expect("[package.metadata.deb] in Cargo.toml");
    let assets: Vec<(&str, &str)> = section
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("[dependencies]"))
        .filter_map(|l| l.strip_prefix("[\""))
        .map(|l| {
            let mut parts = l.split('"');
            let source = parts.next().unwrap();
            let target = parts.nth(1).unwrap();
            (source, target)
        })
        .collect();
    for (source, target) in &assets {
        if source.starts_with("target/") {
            continue;
        }
        match source.strip_suffix("*.sql") {
            Some(dir) => {
                let sql = std::fs::read_dir(root.join(dir))
                    .unwrap()
                    .filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql")));
                assert!(sql.count() > 0, "{source}");
            }
            None => assert!(root.join(source).is_file(), "{source} (for {target})"),
        }
    }
    let targets: Vec<&str> = assets.iter().map(|(_, t)| *t).collect();
    for wanted in ["usr/bin/", "usr/lib/systemd/system/cv-worker.service", "usr/lib/sysusers.d/cv-worker.conf"] {
        assert!(targets.contains(&wanted), "{wanted} in {targets:?}");
    }
    for script in ["postinst", "prerm", "postrm"] {
        assert!(root.join("deploy/debian").join(script).is_file(), "{script}");
    }
    for name in ["cv-worker.service", "cv-worker@.service"] {
        assert!(deploy(name).lines().any(|l| l == "ExecReload=/bin/kill -HUP $MAINPID"), "{name}: ExecReload");
    }
}
