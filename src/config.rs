//! Layered configuration: built-in defaults < TOML file (`--config`, default
//! `/etc/cv-worker/config.toml` when it exists) < a Laravel `.env` (`--env-file`) <
//! `CV_WORKER_*` environment variables < command-line flags.
//!
//! clap owns the last three layers (each flag has its `CV_WORKER_*` variable and its default).
//! The file and the `.env` fill in exactly the settings clap reports as coming from a
//! *default* ([`ValueSource::DefaultValue`]), so a flag or an environment variable always wins.
//! Unknown keys in the file are errors, not silently ignored. `cv-worker config check` prints
//! the effective settings with the database password masked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use serde::Deserialize;

use crate::cli::{Cli, Command, ConfigError, WorkArgs};

/// The default configuration file, read when it exists.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/cv-worker/config.toml";

/// What the TOML file may contain; every key is optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub database_url: Option<String>,
    pub connection_name: Option<String>,
    pub retry_after: Option<i64>,
    pub cache_prefix: Option<String>,
    pub storage_root: Option<PathBuf>,
    /// Log filter (`info`, `warn`, `info,cv_worker=debug`); `RUST_LOG` wins. Live on SIGHUP.
    pub log_level: Option<String>,
    pub work: Option<WorkSettings>,
    pub admin: Option<AdminSettings>,
}

/// The `[admin]` table: the admin HTTP API of `cv-worker work`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// `--admin-listen`: serve the API on this address (off when unset).
    pub listen: Option<std::net::SocketAddr>,
    /// `--admin-token`: the bearer token (prefer `CV_WORKER_ADMIN_TOKEN` in a 0640 env file).
    pub token: Option<String>,
}

/// The `[work]` table: `cv-worker work`'s flags.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkSettings {
    pub queue: Option<Vec<String>>,
    pub concurrency: Option<usize>,
    pub tries: Option<i64>,
    pub backoff: Option<Vec<i64>>,
    pub timeout: Option<u64>,
    pub sleep: Option<f64>,
    pub shutdown_grace: Option<f64>,
}

/// Parses the command line (exiting on a usage error, as `Cli::parse`) and applies the file
/// and `.env` layers.
pub fn parse() -> Result<Cli, ConfigError> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    layer(cli, &matches)
}

/// Applies the layers below the environment to a parsed command line.
pub fn layer(mut cli: Cli, matches: &ArgMatches) -> Result<Cli, ConfigError> {
    let settings = load(cli.config.as_deref(), cli.env_file.as_deref())?;
    let default = |id: &str| matches.value_source(id).is_none_or(|s| s == ValueSource::DefaultValue);
    if default("database_url") && settings.database_url.is_some() {
        cli.database_url = settings.database_url.clone();
    }
    if default("connection_name")
        && let Some(v) = &settings.connection_name
    {
        cli.connection_name = v.clone();
    }
    if default("retry_after")
        && let Some(v) = settings.retry_after
    {
        cli.retry_after = v;
    }
    if default("cache_prefix")
        && let Some(v) = &settings.cache_prefix
    {
        cli.cache_prefix = v.clone();
    }
    if default("storage_root")
        && let Some(v) = &settings.storage_root
    {
        cli.storage_root = v.clone();
    }
    if default("log_level") && settings.log_level.is_some() {
        cli.log_level = settings.log_level.clone();
    }
    if let (Command::Work(args), Some(("work", sub))) = (&mut cli.command, matches.subcommand()) {
        apply_work(args, sub, settings.work.as_ref());
        apply_admin(args, sub, settings.admin.as_ref());
    }
    Ok(cli)
}

fn apply_admin(args: &mut WorkArgs, matches: &ArgMatches, admin: Option<&AdminSettings>) {
    let Some(a) = admin else { return };
    let default = |id: &str| matches.value_source(id).is_none_or(|s| s == ValueSource::DefaultValue);
    if default("admin_listen") && a.listen.is_some() {
        args.admin_listen = a.listen;
    }
    if default("admin_token") && a.token.is_some() {
        args.admin_token = a.token.clone();
    }
}

fn apply_work(args: &mut WorkArgs, matches: &ArgMatches, work: Option<&WorkSettings>) {
    let Some(w) = work else { return };
    let default = |id: &str| matches.value_source(id).is_none_or(|s| s == ValueSource::DefaultValue);
    if default("queue")
        && let Some(v) = &w.queue
    {
        args.queue = v.clone();
    }
    if default("concurrency")
        && let Some(v) = w.concurrency
    {
        args.concurrency = v;
    }
    if default("tries")
        && let Some(v) = w.tries
    {
        args.tries = v;
    }
    if default("backoff")
        && let Some(v) = &w.backoff
    {
        args.backoff = v.clone();
    }
    if default("timeout")
        && let Some(v) = w.timeout
    {
        args.timeout = v;
    }
    if default("sleep")
        && let Some(v) = w.sleep
    {
        args.sleep = v;
    }
    if default("shutdown_grace")
        && let Some(v) = w.shutdown_grace
    {
        args.shutdown_grace = v;
    }
}

/// What SIGHUP can change in a running `cv-worker work`: the command line and environment
/// of the process are parsed again and the file and `.env` re-read, exactly as at start
/// ([`layer`]), so a flag or a `CV_WORKER_*` variable still wins over the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSettings {
    /// Queues in priority order.
    pub queues: Vec<String>,
    /// Jobs run at once.
    pub concurrency: usize,
    /// The log filter (`None`: the default).
    pub log_level: Option<String>,
}

impl LiveSettings {
    pub fn of(cli: &Cli, options: &crate::worker::WorkerOptions) -> Self {
        LiveSettings {
            queues: options.queues.clone(),
            concurrency: options.concurrency,
            log_level: cli.log_level.clone(),
        }
    }
}

/// Re-reads the configuration for SIGHUP; an invalid file is an error and changes nothing.
pub fn reload() -> Result<LiveSettings, ConfigError> {
    let matches = Cli::command().try_get_matches().map_err(|e| ConfigError(e.to_string()))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| ConfigError(e.to_string()))?;
    let cli = layer(cli, &matches)?;
    let Command::Work(args) = &cli.command else {
        return Err(ConfigError("SIGHUP reloads the configuration of `cv-worker work` only".into()));
    };
    let options = crate::cli::worker_options(&cli, args).map_err(|e| ConfigError(format!("{e:#}")))?;
    Ok(LiveSettings::of(&cli, &options))
}

/// On SIGHUP: re-reads the configuration ([`reload`]), applies the log level at once and
/// hands queues and concurrency to the worker loop through `tx`. A bad file is logged and
/// the running settings stay.
pub fn spawn_sighup_reloader(tx: tokio::sync::watch::Sender<LiveSettings>) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match reload() {
                Ok(live) => {
                    let level =
                        crate::logging::set_level(live.log_level.as_deref().unwrap_or(crate::logging::DEFAULT_FILTER));
                    match &level {
                        Ok(level) => tracing::info!(
                            queues = %live.queues.join(","),
                            concurrency = live.concurrency,
                            log_level = %level,
                            "SIGHUP: configuration reloaded"
                        ),
                        Err(e) => tracing::error!(error = %e, "SIGHUP: log level unchanged"),
                    }
                    tx.send_replace(live);
                }
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: configuration not reloaded; keeping the running settings")
                }
            }
        }
    });
    Ok(())
}

/// The file layer with the `.env` layer over it.
pub fn load(config: Option<&Path>, env_file: Option<&Path>) -> Result<FileSettings, ConfigError> {
    let mut settings = match config {
        Some(path) => read_toml(path, true)?,
        None => read_toml(Path::new(DEFAULT_CONFIG_FILE), false)?,
    };
    if let Some(path) = env_file {
        let env = read_dotenv(path)?;
        let laravel = from_laravel_env(&env).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        settings.database_url = laravel.database_url.or(settings.database_url);
        settings.connection_name = laravel.connection_name.or(settings.connection_name);
        settings.cache_prefix = laravel.cache_prefix.or(settings.cache_prefix);
    }
    Ok(settings)
}

fn read_toml(path: &Path, required: bool) -> Result<FileSettings, ConfigError> {
    if !required && !path.exists() {
        return Ok(FileSettings::default());
    }
    config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml).required(required))
        .build()
        .and_then(|c| c.try_deserialize::<FileSettings>())
        .map_err(|e| ConfigError(format!("invalid configuration file {}: {e}", path.display())))
}

fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    let iter =
        dotenvy::from_path_iter(path).map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
    let mut env = HashMap::new();
    for item in iter {
        let (k, v) = item.map_err(|e| ConfigError(format!("invalid .env file {}: {e}", path.display())))?;
        env.insert(k, v);
    }
    Ok(env)
}

/// Maps a Laravel `.env` to cv-worker settings: the database (DB_URL, or DB_CONNECTION with
/// DB_HOST / DB_PORT / DB_DATABASE / DB_USERNAME / DB_PASSWORD / DB_SOCKET), QUEUE_CONNECTION
/// and CACHE_PREFIX (else derived from APP_NAME as Laravel 12 does: `<slug>-cache-`).
pub fn from_laravel_env(env: &HashMap<String, String>) -> Result<FileSettings, String> {
    let get = |k: &str| env.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let database_url = match get("DB_URL").or_else(|| get("DATABASE_URL")) {
        Some(url) => Some(normalise_scheme(&url)),
        None => match get("DB_CONNECTION").as_deref() {
            None => None,
            Some("sqlite") => {
                let path = get("DB_DATABASE").ok_or("DB_CONNECTION=sqlite needs DB_DATABASE (the file)")?;
                Some(format!("sqlite://{path}"))
            }
            Some(conn @ ("pgsql" | "mysql" | "mariadb")) => {
                let scheme = if conn == "pgsql" { "postgres" } else { "mysql" };
                let user = encode(&get("DB_USERNAME").unwrap_or_else(|| "root".into()));
                let password = get("DB_PASSWORD").map(|p| format!(":{}", encode(&p))).unwrap_or_default();
                let database = encode(&get("DB_DATABASE").unwrap_or_else(|| "laravel".into()));
                match get("DB_SOCKET").filter(|_| scheme == "mysql") {
                    Some(socket) => Some(format!("mysql://{user}{password}@localhost/{database}?socket={socket}")),
                    None => {
                        let host = get("DB_HOST").unwrap_or_else(|| "127.0.0.1".into());
                        let port =
                            get("DB_PORT").unwrap_or_else(|| (if conn == "pgsql" { "5432" } else { "3306" }).into());
                        Some(format!("{scheme}://{user}{password}@{host}:{port}/{database}"))
                    }
                }
            }
            Some(other) => {
                return Err(format!("DB_CONNECTION={other} is not supported (pgsql, mysql, mariadb, sqlite)"));
            }
        },
    };
    let cache_prefix = get("CACHE_PREFIX").or_else(|| get("APP_NAME").map(|name| format!("{}-cache-", slug(&name))));
    Ok(FileSettings { database_url, connection_name: get("QUEUE_CONNECTION"), cache_prefix, ..FileSettings::default() })
}

fn normalise_scheme(url: &str) -> String {
    match url.split_once("://") {
        Some(("pgsql", rest)) => format!("postgres://{rest}"),
        Some(("mariadb", rest)) => format!("mysql://{rest}"),
        _ => url.to_string(),
    }
}

/// Percent-encodes what may not appear raw in a URL's userinfo or path.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Laravel's `Str::slug($name)`, for ASCII names.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// `cv-worker work`'s flags alone, to show their effective values in `config check`.
#[derive(Debug, Parser)]
struct WorkOnly {
    #[command(flatten)]
    work: WorkArgs,
}

/// `cv-worker config check`: validates and prints the effective settings (password masked).
pub fn check(cli: &Cli) -> Result<String, ConfigError> {
    let settings = load(cli.config.as_deref(), cli.env_file.as_deref())?;
    let matches = WorkOnly::command().try_get_matches_from(["cv-worker"]).map_err(|e| ConfigError(e.to_string()))?;
    let mut work = WorkOnly::from_arg_matches(&matches).map_err(|e| ConfigError(e.to_string()))?.work;
    apply_work(&mut work, &matches, settings.work.as_ref());
    apply_admin(&mut work, &matches, settings.admin.as_ref());
    if let Some(addr) = work.admin_listen {
        crate::admin::check_listen(addr, work.admin_token.as_deref()).map_err(|e| ConfigError(e.to_string()))?;
    }
    if cli.retry_after < 1 {
        return Err(ConfigError("retry_after must be at least 1 second".into()));
    }
    let raw = cli.database_url.as_deref().unwrap_or(crate::cli::DEFAULT_DATABASE_URL);
    <crate::store::DatabaseUrl as std::str::FromStr>::from_str(raw).map_err(|e| ConfigError(e.to_string()))?;
    let options = crate::cli::worker_options(cli, &work).map_err(|e| ConfigError(format!("{e:#}")))?;
    let file = match &cli.config {
        Some(p) => p.display().to_string(),
        None if Path::new(DEFAULT_CONFIG_FILE).exists() => DEFAULT_CONFIG_FILE.to_string(),
        None => "(none)".to_string(),
    };
    let env_file = cli.env_file.as_ref().map_or("(none)".to_string(), |p| p.display().to_string());
    let q = |s: &str| format!("{s:?}");
    Ok(format!(
        "# config file: {file}\n# env file: {env_file}\n\
         database_url = {}\nconnection_name = {}\nretry_after = {}\ncache_prefix = {}\nstorage_root = {}\nlog_level = {}\n\n\
         [work]\nqueue = {:?}\nconcurrency = {}\ntries = {}\nbackoff = {:?}\ntimeout = {}\nsleep = {}\nshutdown_grace = {}\n\n\
         [admin]\nlisten = {}\ntoken = {}\n",
        q(&crate::store::redact_url(raw)),
        q(&cli.connection_name),
        cli.retry_after,
        q(&cli.cache_prefix),
        q(&cli.storage_root.display().to_string()),
        q(cli.log_level.as_deref().unwrap_or(crate::logging::DEFAULT_FILTER)),
        options.queues,
        options.concurrency,
        work.tries,
        work.backoff,
        work.timeout,
        work.sleep,
        work.shutdown_grace,
        work.admin_listen.map_or("(off)".to_string(), |a| q(&a.to_string())),
        if work.admin_token.as_deref().is_some_and(|t| !t.is_empty()) { "\"***\"" } else { "(none)" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn laravel_env_maps_to_a_database_url() {
        let s = from_laravel_env(&env(&[
            ("DB_CONNECTION", "pgsql"),
            ("DB_HOST", "db"),
            ("DB_DATABASE", "app"),
            ("DB_USERNAME", "u"),
            ("DB_PASSWORD", "p@ss"),
            ("CACHE_PREFIX", "laravel_cache"),
            ("QUEUE_CONNECTION", "database"),
        ]))
        .unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://u:p%40ss@db:5432/app"));
        assert_eq!(s.cache_prefix.as_deref(), Some("laravel_cache"));
        assert_eq!(s.connection_name.as_deref(), Some("database"));
        let s =
            from_laravel_env(&env(&[("DB_CONNECTION", "mysql"), ("DB_SOCKET", "/run/mysqld/mysqld.sock")])).unwrap();
        assert_eq!(s.database_url.as_deref(), Some("mysql://root@localhost/laravel?socket=/run/mysqld/mysqld.sock"));
        let s = from_laravel_env(&env(&[("DB_URL", "pgsql://a@b/c"), ("APP_NAME", "CV Builder")])).unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://a@b/c"));
        assert_eq!(s.cache_prefix.as_deref(), Some("cv-builder-cache-"));
        assert!(from_laravel_env(&env(&[("DB_CONNECTION", "sqlsrv")])).is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "database_url = \"sqlite://x\"\nconcurency = 3\n").unwrap();
        let err = load(Some(&path), None).unwrap_err().to_string();
        assert!(err.contains("concurency"), "{err}");
        std::fs::write(&path, "[work]\nqueue = [\"high\", \"default\"]\nconcurrency = 3\n").unwrap();
        let s = load(Some(&path), None).unwrap();
        assert_eq!(s.work.unwrap().concurrency, Some(3));
    }

    #[test]
    fn the_admin_table_configures_the_api_and_masks_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[admin]\nlisten = \"0.0.0.0:9090\"\ntoken = \"s3cret-token\"\n").unwrap();
        let file = path.display().to_string();
        let matches = Cli::command()
            .try_get_matches_from(["cv-worker", "--config", &file, "--database-url", "sqlite://x.sqlite", "work"])
            .unwrap();
        let cli = layer(Cli::from_arg_matches(&matches).unwrap(), &matches).unwrap();
        let Command::Work(args) = &cli.command else { panic!("work") };
        assert_eq!(args.admin_listen, Some("0.0.0.0:9090".parse().unwrap()));
        assert_eq!(args.admin_token.as_deref(), Some("s3cret-token"));
        let shown = check(&cli).unwrap();
        assert!(shown.contains("listen = \"0.0.0.0:9090\""), "{shown}");
        assert!(shown.contains("token = \"***\"") && !shown.contains("s3cret"), "{shown}");
        // A public address without a token is refused by config check.
        std::fs::write(&path, "[admin]\nlisten = \"0.0.0.0:9090\"\n").unwrap();
        assert!(check(&cli).unwrap_err().to_string().contains("0.0.0.0:9090"));
        std::fs::write(&path, "[admin]\nlisten = \"127.0.0.1:9090\"\nport = 1\n").unwrap();
        assert!(load(Some(&path), None).unwrap_err().to_string().contains("port"));
    }
}
