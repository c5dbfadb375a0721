//! Test harness: a fresh, migrated database per test on each dialect.
//!
//! PostgreSQL and MariaDB come from `CV_WORKER_TEST_PG` / `CV_WORKER_TEST_MYSQL` (defaults:
//! the local servers this project's `scripts/test` starts). A database that cannot be reached
//! FAILS the test: nothing is ever skipped.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;

use cv_worker::store::{self, DatabaseUrl, Dialect, Store};

pub const PG_DEFAULT: &str = "postgres://root@127.0.0.1:5432/test";
pub const MYSQL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/test";

pub struct TestDb {
    pub dialect: Dialect,
    /// URL of the fresh database.
    pub url: String,
    pub store: Arc<dyn Store>,
    admin_url: String,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

fn base_url(dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => std::env::var("CV_WORKER_TEST_PG").unwrap_or_else(|_| PG_DEFAULT.into()),
        Dialect::Mysql => std::env::var("CV_WORKER_TEST_MYSQL").unwrap_or_else(|_| MYSQL_DEFAULT.into()),
        Dialect::Sqlite => String::new(),
    }
}

/// Replaces the database name (the URL path) of a server URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let scheme_end = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

async fn admin_exec(dialect: Dialect, admin_url: &str, sql: String) {
    use sqlx::Connection;
    match dialect {
        Dialect::Postgres => {
            let mut c = sqlx::PgConnection::connect(admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} is required for this test and cannot be reached: {e}")
            });
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.expect("admin statement");
        }
        Dialect::Mysql => {
            let mut c = sqlx::MySqlConnection::connect(admin_url).await.unwrap_or_else(|e| {
                panic!("MySQL/MariaDB at {admin_url} is required for this test and cannot be reached: {e}")
            });
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut c).await.expect("admin statement");
        }
        Dialect::Sqlite => {}
    }
}

impl TestDb {
    /// A new empty database (not migrated).
    pub async fn empty(dialect: Dialect) -> TestDb {
        let name = format!("cvw_{}", uuid::Uuid::new_v4().simple());
        let (url, admin_url, dir) = match dialect {
            Dialect::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.sqlite").display());
                (url, String::new(), Some(dir))
            }
            _ => {
                let admin = base_url(dialect);
                admin_exec(dialect, &admin, format!("CREATE DATABASE {name}")).await;
                (with_database(&admin, &name), admin, None)
            }
        };
        let parsed = DatabaseUrl::from_str(&url).expect("url");
        let store = store::connect(&parsed, 8).await.expect("connect to the fresh database");
        TestDb { dialect, url, store, admin_url, name, _dir: dir }
    }

    /// A new database with cv-worker's migrations applied.
    pub async fn migrated(dialect: Dialect) -> TestDb {
        let db = TestDb::empty(dialect).await;
        db.store.migrate().await.expect("migrate");
        db
    }

    /// A second, independent store (own pool) on the same database: "another worker".
    pub async fn another_store(&self) -> Arc<dyn Store> {
        store::connect(&DatabaseUrl::from_str(&self.url).expect("url"), 8).await.expect("connect")
    }

    /// Runs SQL and returns all rows as JSON-ish strings, for assertions.
    pub async fn query_i64(&self, sql: &str) -> Vec<i64> {
        use sqlx::Row;
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.dialect {
            Dialect::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("connect");
                let rows = sqlx::query(sql).fetch_all(&pool).await.expect("query");
                rows.iter()
                    .map(|r| {
                        r.try_get::<i64, _>(0)
                            .or_else(|_| r.try_get::<i32, _>(0).map(i64::from))
                            .or_else(|_| r.try_get::<i16, _>(0).map(i64::from))
                            .expect("int")
                    })
                    .collect()
            }
            Dialect::Mysql => {
                let pool = sqlx::MySqlPool::connect(&self.url).await.expect("connect");
                let rows = sqlx::query(sql).fetch_all(&pool).await.expect("query");
                rows.iter()
                    .map(|r| {
                        r.try_get::<i64, _>(0)
                            .or_else(|_| r.try_get::<u64, _>(0).map(|v| v as i64))
                            .or_else(|_| r.try_get::<u32, _>(0).map(i64::from))
                            .or_else(|_| r.try_get::<i32, _>(0).map(i64::from))
                            .or_else(|_| r.try_get::<u8, _>(0).map(i64::from))
                            .expect("int")
                    })
                    .collect()
            }
            Dialect::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("connect");
                let rows = sqlx::query(sql).fetch_all(&pool).await.expect("query");
                rows.iter().map(|r| r.try_get::<i64, _>(0).expect("int")).collect()
            }
        }
    }

    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        use sqlx::Row;
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.dialect {
            Dialect::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("connect");
                sqlx::query(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("query")
                    .iter()
                    .map(|r| r.try_get::<String, _>(0).expect("text"))
                    .collect()
            }
            Dialect::Mysql => {
                let pool = sqlx::MySqlPool::connect(&self.url).await.expect("connect");
                sqlx::query(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("query")
                    .iter()
                    .map(|r| {
                        r.try_get::<String, _>(0)
                            .or_else(|_| r.try_get::<Vec<u8>, _>(0).map(|b| String::from_utf8_lossy(&b).into_owned()))
                            .expect("text")
                    })
                    .collect()
            }
            Dialect::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("connect");
                sqlx::query(sql)
                    .fetch_all(&pool)
                    .await
                    .expect("query")
                    .iter()
                    .map(|r| r.try_get::<String, _>(0).expect("text"))
                    .collect()
            }
        }
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.query_i64(&format!("SELECT COUNT(*) FROM {table}")).await[0]
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.dialect == Dialect::Sqlite || self.admin_url.is_empty() {
            return;
        }
        // Best effort, on a separate thread with its own runtime (Drop may run inside one).
        let (dialect, admin, name) = (self.dialect, self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                rt.block_on(async move {
                    use sqlx::Connection;
                    let sql = match dialect {
                        Dialect::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                        _ => format!("DROP DATABASE IF EXISTS {name}"),
                    };
                    let sql = sqlx::AssertSqlSafe(sql);
                    match dialect {
                        Dialect::Postgres => {
                            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                                let _ = sqlx::raw_sql(sql).execute(&mut c).await;
                            }
                        }
                        _ => {
                            if let Ok(mut c) = sqlx::MySqlConnection::connect(&admin).await {
                                let _ = sqlx::raw_sql(sql).execute(&mut c).await;
                            }
                        }
                    }
                });
            }
        })
        .join();
    }
}

/// A minimal Laravel-shaped payload for class `class` with extra top-level fields.
pub fn payload(class: &str, extra: serde_json::Value) -> String {
    let mut p = serde_json::json!({
        "uuid": uuid::Uuid::new_v4().to_string(),
        "displayName": class,
        "job": "Illuminate\\Queue\\CallQueuedHandler@call",
        "maxTries": null, "maxExceptions": null, "failOnTimeout": false,
        "backoff": null, "timeout": null, "retryUntil": null,
        "data": {"commandName": class, "command": format!("O:{}:\"{}\":0:{{}}", class.len(), class)},
    });
    if let (Some(obj), serde_json::Value::Object(extra)) = (p.as_object_mut(), extra) {
        for (k, v) in extra {
            obj.insert(k, v);
        }
    }
    p.to_string()
}
