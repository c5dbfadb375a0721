//! Attempt policy: Laravel's rules for tries, retryUntil, backoff, maxExceptions and
//! timeouts (spec §6.2–§6.3), as pure functions of the payload, the attempt count and the
//! clock, so they can be tested exhaustively without a database.

use std::time::Duration;

use super::payload::Payload;

/// The worker's defaults, from `queue:work`'s flags.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerDefaults {
    /// `--tries` (Laravel's default 1; 0 = unlimited), used when the payload's `maxTries` is null.
    pub tries: i64,
    /// `--backoff` seconds list, used when neither `backoff` nor `delay` is in the payload.
    pub backoff: Vec<i64>,
    /// `--timeout` seconds (0 disables), used when the payload's `timeout` is null.
    pub timeout: u64,
}

impl Default for WorkerDefaults {
    fn default() -> Self {
        WorkerDefaults { tries: 1, backoff: vec![0], timeout: 60 }
    }
}

/// Decision after an exception (or a timeout) when the tries rule alone is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterException {
    Fail,
    /// Release, unless `maxExceptions` says otherwise, after `delay` seconds.
    Release {
        delay: i64,
    },
}

/// `maxTries` in force: the payload's, else `--tries`.
pub fn max_tries(payload: &Payload, defaults: &WorkerDefaults) -> i64 {
    payload.max_tries.unwrap_or(defaults.tries)
}

/// Laravel's `markJobAsFailedIfAlreadyExceedsMaxAttempts`: may the job run at this attempt?
/// `attempts` is the post-increment count (1 on the first run). `attempts_cap` is the largest
/// value the dialect's `attempts` column can hold: a job that reaches it is not run again,
/// whatever its policy, so it cannot wedge the queue (spec §13.5).
pub fn may_run(payload: &Payload, attempts: i64, now: i64, defaults: &WorkerDefaults, attempts_cap: i64) -> bool {
    if attempts >= attempts_cap {
        return false;
    }
    match payload.retry_until {
        Some(until) => now <= until,
        None => {
            let tries = max_tries(payload, defaults);
            tries == 0 || attempts <= tries
        }
    }
}

/// Laravel's `markJobAsFailedIfWillExceedMaxAttempts` and the release that follows it.
pub fn after_exception(payload: &Payload, attempts: i64, now: i64, defaults: &WorkerDefaults) -> AfterException {
    let exhausted = match payload.retry_until {
        Some(until) => until <= now,
        None => {
            let tries = max_tries(payload, defaults);
            tries > 0 && attempts >= tries
        }
    };
    if exhausted {
        AfterException::Fail
    } else {
        AfterException::Release { delay: backoff_delay(payload, attempts, defaults) }
    }
}

/// Seconds to wait before the next attempt: the payload's `backoff` list, else its `delay`
/// (a Laravel quirk: a job dispatched with `->delay(60)` and no backoff retries after 60 s),
/// else `--backoff`; element `attempts − 1`, the last element repeating.
pub fn backoff_delay(payload: &Payload, attempts: i64, defaults: &WorkerDefaults) -> i64 {
    let list: Vec<i64> = match (&payload.backoff, payload.delay) {
        (Some(b), _) => b.split(',').map(|p| p.trim().parse::<f64>().map(|f| f as i64).unwrap_or(0)).collect(),
        (None, Some(d)) => vec![d],
        (None, None) => defaults.backoff.clone(),
    };
    let index = (attempts - 1).max(0) as usize;
    list.get(index).or(list.last()).copied().unwrap_or(0).max(0)
}

/// The timeout in force (`None` when disabled).
pub fn timeout(payload: &Payload, defaults: &WorkerDefaults) -> Option<Duration> {
    let seconds = payload.timeout.unwrap_or(defaults.timeout as i64);
    (seconds > 0).then(|| Duration::from_secs(seconds as u64))
}

/// The cache key of the max-exceptions counter (without the cache prefix).
pub fn exceptions_key(uuid: &str) -> String {
    format!("job-exceptions:{uuid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Payload {
        Payload { class: "J".into(), display_name: "J".into(), ..Payload::default() }
    }

    const CAP: i64 = 255;

    #[test]
    fn tries_default_to_the_worker_flag() {
        let d = WorkerDefaults::default();
        let p = payload();
        assert!(may_run(&p, 1, 0, &d, CAP));
        assert!(!may_run(&p, 2, 0, &d, CAP));
        assert_eq!(after_exception(&p, 1, 0, &d), AfterException::Fail);
    }

    #[test]
    fn payload_max_tries_wins_and_zero_is_unlimited() {
        let d = WorkerDefaults::default();
        let p = Payload { max_tries: Some(3), ..payload() };
        assert!(may_run(&p, 3, 0, &d, CAP));
        assert!(!may_run(&p, 4, 0, &d, CAP));
        assert_eq!(after_exception(&p, 2, 0, &d), AfterException::Release { delay: 0 });
        assert_eq!(after_exception(&p, 3, 0, &d), AfterException::Fail);
        let unlimited = Payload { max_tries: Some(0), ..payload() };
        assert!(may_run(&unlimited, 200, 0, &d, CAP));
        assert!(!may_run(&unlimited, 255, 0, &d, CAP), "the column cap still ends it");
        assert_eq!(after_exception(&unlimited, 200, 0, &d), AfterException::Release { delay: 0 });
    }

    #[test]
    fn retry_until_replaces_tries() {
        let d = WorkerDefaults::default();
        let p = Payload { max_tries: Some(1), retry_until: Some(100), ..payload() };
        assert!(may_run(&p, 7, 100, &d, CAP));
        assert!(!may_run(&p, 1, 101, &d, CAP));
        assert_eq!(after_exception(&p, 7, 99, &d), AfterException::Release { delay: 0 });
        assert_eq!(after_exception(&p, 1, 100, &d), AfterException::Fail);
    }

    #[test]
    fn backoff_list_is_indexed_by_attempt_and_the_last_repeats() {
        let d = WorkerDefaults { backoff: vec![7], ..WorkerDefaults::default() };
        let p = Payload { backoff: Some("10,60".into()), ..payload() };
        assert_eq!(backoff_delay(&p, 1, &d), 10);
        assert_eq!(backoff_delay(&p, 2, &d), 60);
        assert_eq!(backoff_delay(&p, 9, &d), 60);
        let delayed = Payload { delay: Some(45), ..payload() };
        assert_eq!(backoff_delay(&delayed, 3, &d), 45, "payload delay is the fallback");
        assert_eq!(backoff_delay(&payload(), 1, &d), 7, "then --backoff");
        let flags = WorkerDefaults { backoff: vec![1, 2, 3], ..WorkerDefaults::default() };
        assert_eq!(backoff_delay(&payload(), 2, &flags), 2);
        assert_eq!(backoff_delay(&payload(), 5, &flags), 3);
    }

    #[test]
    fn timeout_from_payload_or_flag_and_zero_disables() {
        let d = WorkerDefaults::default();
        assert_eq!(timeout(&payload(), &d), Some(Duration::from_secs(60)));
        assert_eq!(timeout(&Payload { timeout: Some(5), ..payload() }, &d), Some(Duration::from_secs(5)));
        assert_eq!(timeout(&Payload { timeout: Some(0), ..payload() }, &d), None);
    }
}
