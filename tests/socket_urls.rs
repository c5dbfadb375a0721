//! The CLI contract for unix-socket database URLs: `postgres://…?host=/var/run/postgresql`
//! and `mysql://…?socket=/run/mysqld/mysqld.sock` (socket directories from
//! `CV_WORKER_TEST_PG_SOCKET` / `CV_WORKER_TEST_MYSQL_SOCKET`, defaults as on Debian).

mod common;

use std::process::Command;

use common::TestDb;
use cv_worker::store::Dialect;

fn database_name(url: &str) -> String {
    url.split('?').next().unwrap_or(url).rsplit('/').next().unwrap_or_default().to_string()
}

fn migrate_and_enqueue(url: &str) {
    for args in [vec!["migrate"], vec!["enqueue", "CvWorker\\Jobs\\Ping"]] {
        let out =
            Command::new(env!("CARGO_BIN_EXE_cv-worker")).arg("--database-url").arg(url).args(&args).output().unwrap();
        assert!(out.status.success(), "{url} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_its_unix_socket() {
    let db = TestDb::empty(Dialect::Postgres).await;
    let dir = std::env::var("CV_WORKER_TEST_PG_SOCKET").unwrap_or_else(|_| "/var/run/postgresql".into());
    migrate_and_enqueue(&format!("postgres://root@localhost/{}?host={dir}", database_name(&db.url)));
    assert_eq!(db.count("jobs").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_over_its_unix_socket() {
    let db = TestDb::empty(Dialect::Mysql).await;
    let socket = std::env::var("CV_WORKER_TEST_MYSQL_SOCKET").unwrap_or_else(|_| "/run/mysqld/mysqld.sock".into());
    migrate_and_enqueue(&format!("mysql://root@localhost/{}?socket={socket}", database_name(&db.url)));
    assert_eq!(db.count("jobs").await, 1);
}
