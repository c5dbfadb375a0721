//! Building Laravel-valid payloads, for `cv-worker enqueue` and for anything else in Rust
//! that dispatches jobs.
//!
//! The payload has every key Laravel 8–12 writes (spec §5.1), in Laravel's order, a fresh
//! UUID v4, and a PHP-serialized `data.command` (`O:…`), so that Laravel's own `queue:work`
//! can run the job (if the class exists in the app) and `queue:retry` / `queue:failed`
//! accept cv-worker's failed rows.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::protocol::php::{self, PhpValue};
use crate::store::NewJob;

/// What to dispatch.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    /// The job class, e.g. `App\Jobs\GenerateCvPdf`.
    pub class: String,
    /// The command's public properties.
    pub properties: Map<String, Value>,
    pub queue: String,
    /// Seconds before the job becomes available.
    pub delay: i64,
    pub max_tries: Option<i64>,
    pub max_exceptions: Option<i64>,
    pub backoff: Option<String>,
    pub timeout: Option<i64>,
    pub retry_until: Option<i64>,
    pub fail_on_timeout: bool,
    pub batch_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PayloadOut<'a> {
    uuid: &'a str,
    display_name: &'a str,
    job: &'static str,
    max_tries: Option<i64>,
    max_exceptions: Option<i64>,
    fail_on_timeout: bool,
    backoff: Option<&'a str>,
    timeout: Option<i64>,
    retry_until: Option<i64>,
    data: DataOut<'a>,
    created_at: i64,
    delay: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DataOut<'a> {
    command_name: &'a str,
    command: &'a str,
    batch_id: Option<&'a str>,
}

/// The PHP-serialized command: an object of `class` with the given public properties (and
/// `batchId` when the job belongs to a batch, as Laravel's Batchable writes it).
pub fn php_command(d: &Dispatch) -> String {
    let mut props: Vec<(String, PhpValue)> =
        d.properties.iter().map(|(k, v)| (k.clone(), PhpValue::from_json(v))).collect();
    if let Some(batch) = &d.batch_id
        && !d.properties.contains_key("batchId")
    {
        props.push(("batchId".to_string(), PhpValue::String(batch.clone().into_bytes())));
    }
    String::from_utf8_lossy(&php::serialize(&php::object(&d.class, props))).into_owned()
}

/// The payload JSON and its uuid.
pub fn payload(d: &Dispatch, now: i64) -> (String, String) {
    let uuid = uuid::Uuid::new_v4().to_string();
    let command = php_command(d);
    let out = PayloadOut {
        uuid: &uuid,
        display_name: &d.class,
        job: "Illuminate\\Queue\\CallQueuedHandler@call",
        max_tries: d.max_tries,
        max_exceptions: d.max_exceptions,
        fail_on_timeout: d.fail_on_timeout,
        backoff: d.backoff.as_deref(),
        timeout: d.timeout,
        retry_until: d.retry_until,
        data: DataOut { command_name: &d.class, command: &command, batch_id: d.batch_id.as_deref() },
        created_at: now,
        delay: (d.delay > 0).then_some(d.delay),
    };
    // Serializing a struct of strings and integers cannot fail.
    let json = serde_json::to_string(&out).unwrap_or_default();
    (json, uuid)
}

/// The row to insert for a dispatch.
pub fn new_job(d: &Dispatch, now: i64) -> (NewJob, String) {
    let (payload, uuid) = payload(d, now);
    (NewJob { queue: d.queue.clone(), payload, available_at: now + d.delay.max(0) }, uuid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::command::Command;
    use crate::protocol::payload::Payload;

    #[test]
    fn payload_round_trips_through_our_reader() {
        let mut properties = Map::new();
        properties.insert("cvId".into(), Value::from(42));
        properties.insert("template".into(), Value::from("modern"));
        let d = Dispatch {
            class: "App\\Jobs\\GenerateCvPdf".into(),
            properties,
            queue: "pdf".into(),
            delay: 30,
            max_tries: Some(3),
            backoff: Some("5,10".into()),
            batch_id: Some("b-1".into()),
            ..Dispatch::default()
        };
        let (job, uuid) = new_job(&d, 1_000);
        assert_eq!(job.available_at, 1_030);
        let p = Payload::parse(&job.payload).unwrap();
        assert_eq!(p.uuid.as_deref(), Some(uuid.as_str()));
        assert_eq!(p.class, "App\\Jobs\\GenerateCvPdf");
        assert_eq!(p.job.as_deref(), Some("Illuminate\\Queue\\CallQueuedHandler@call"));
        assert_eq!(p.max_tries, Some(3));
        assert_eq!(p.delay, Some(30));
        let c = Command::decode(&p).unwrap();
        assert_eq!(c.get_i64("cvId"), Some(42));
        assert_eq!(c.get_str("template"), Some("modern"));
        assert_eq!(c.batch_id(&p).as_deref(), Some("b-1"));
        let v: Value = serde_json::from_str(&job.payload).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(keys.contains(&"retryUntil") && keys.contains(&"failOnTimeout") && keys.contains(&"createdAt"));
        assert!(v["data"]["command"].as_str().unwrap().starts_with("O:22:\"App\\Jobs\\GenerateCvPdf\":3:{"));
    }
}
