//! Logging through `tracing`: human output on stderr (colours only on a terminal), JSON lines
//! under systemd's journal (or with `CV_WORKER_LOG_FORMAT=json`); level from `RUST_LOG`
//! (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    if json_wanted() {
        // One JSON object per line; a job's span fields (uuid, class, queue, attempt) ride
        // along in "span", so the journal can be filtered by them.
        let _ = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// JSON when `CV_WORKER_LOG_FORMAT=json`, text when `=text`; otherwise JSON exactly when
/// stderr is the systemd journal (`JOURNAL_STREAM` names stderr's `device:inode`).
fn json_wanted() -> bool {
    match std::env::var("CV_WORKER_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => stderr_is_journal(),
    }
}

fn stderr_is_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = stream.split_once(':') else { return false };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else { return false };
    let Ok(meta) = std::fs::File::from(fd).metadata() else { return false };
    dev.parse::<u64>().is_ok_and(|d| d == meta.dev()) && ino.parse::<u64>().is_ok_and(|i| i == meta.ino())
}
