use std::process::ExitCode;

fn main() -> ExitCode {
    // Flags, CV_WORKER_* variables, then the config file and a Laravel .env below them.
    let cli = match cv_worker::config::parse() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("cv-worker: error: {e}");
            return ExitCode::from(2);
        }
    };
    // Benchmarks log warnings only: a line per job would measure the terminal.
    let quiet = matches!(cli.command, cv_worker::cli::Command::Bench(_));
    let default_filter = if quiet { "warn" } else { cv_worker::logging::DEFAULT_FILTER };
    cv_worker::logging::init(cli.log_level.as_deref().unwrap_or(default_filter));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cv-worker: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cv_worker::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes.
            eprintln!("cv-worker: error: {e:#}");
            if e.downcast_ref::<cv_worker::cli::ConfigError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
