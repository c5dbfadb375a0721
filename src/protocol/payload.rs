//! The Laravel job payload (`jobs.payload`, spec §5).
//!
//! A payload is read, never rewritten: the worker keeps the raw string ([`crate::store::ReservedJob::payload`])
//! and writes it back byte for byte on release and fail. This module only extracts the
//! fields the worker needs, tolerating the variations real producers write (Laravel 8–13,
//! other services): numbers as strings, `backoff` as a list, a JSON-object command.

use serde_json::{Map, Value};

/// Why a payload cannot be worked. The message is what lands in `failed_jobs.exception`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("payload is not valid JSON: {0}")]
    Json(String),
    #[error("payload must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    #[error("payload field `{field}` must be {expected}, got {got}")]
    WrongType { field: &'static str, expected: &'static str, got: String },
    #[error("payload has no job class: none of `data.commandName`, `displayName` or `job` is a non-empty string")]
    NoClass,
}

/// `data.command`: PHP `serialize()` output (Laravel's `dispatch()`), or a JSON object with
/// the same property names (other services).
#[derive(Debug, Clone, PartialEq)]
pub enum CommandData {
    Php(String),
    Json(Map<String, Value>),
}

/// The fields of a payload the worker acts on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Payload {
    pub uuid: Option<String>,
    pub display_name: String,
    /// `Illuminate\Queue\CallQueuedHandler@call` for object jobs.
    pub job: Option<String>,
    pub max_tries: Option<i64>,
    pub max_exceptions: Option<i64>,
    pub fail_on_timeout: bool,
    /// Comma-separated seconds, as Laravel stores it (`"10,60"`).
    pub backoff: Option<String>,
    pub timeout: Option<i64>,
    pub retry_until: Option<i64>,
    pub delay: Option<i64>,
    pub delete_when_missing_models: bool,
    /// The routing key: `data.commandName`, else the class in `displayName`/`job`.
    pub class: String,
    pub command: Option<CommandData>,
    /// `data.batchId` (Laravel ≥ 12.51); older payloads carry it only inside the command.
    pub batch_id: Option<String>,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 60 {
        let mut cut = 57;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    format!("{} {}", type_name(v), s)
}

/// An optional integer field: null/absent → None; an integer or a numeric string → Some.
fn opt_int(obj: &Map<String, Value>, field: &'static str) -> Result<Option<i64>, PayloadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64()),
        Some(Value::Number(n)) if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15) => {
            Ok(n.as_f64().map(|f| f as i64))
        }
        Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
        Some(other) => Err(PayloadError::WrongType { field, expected: "an integer or null", got: describe(other) }),
    }
}

fn opt_string(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, PayloadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(PayloadError::WrongType { field, expected: "a string or null", got: describe(other) }),
    }
}

fn opt_bool(obj: &Map<String, Value>, field: &'static str) -> Result<bool, PayloadError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
        Some(other) => Err(PayloadError::WrongType { field, expected: "a boolean", got: describe(other) }),
    }
}

/// `backoff`: Laravel writes `"10,60"`; accept a number or a list of numbers too.
fn backoff(obj: &Map<String, Value>) -> Result<Option<String>, PayloadError> {
    let wrong = |v: &Value| PayloadError::WrongType {
        field: "backoff",
        expected: "a comma-separated string of seconds, a number, a list of numbers or null",
        got: describe(v),
    };
    match obj.get("backoff") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.split(',').all(|p| p.trim().parse::<f64>().is_ok()) {
                Ok(Some(s.clone()))
            } else {
                Err(wrong(&Value::String(s.clone())))
            }
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Array(items)) => {
            let parts: Option<Vec<String>> = items.iter().map(|i| i.as_f64().map(|f| (f as i64).to_string())).collect();
            match parts {
                Some(p) if !p.is_empty() => Ok(Some(p.join(","))),
                _ => Err(wrong(&Value::Array(items.clone()))),
            }
        }
        Some(other) => Err(wrong(other)),
    }
}

/// The class named by `Class@method` job strings.
fn class_of_job_string(job: &str) -> &str {
    job.split('@').next().unwrap_or(job)
}

impl Payload {
    /// Parses a raw payload string.
    pub fn parse(raw: &str) -> Result<Payload, PayloadError> {
        let value: Value = serde_json::from_str(raw).map_err(|e| PayloadError::Json(e.to_string()))?;
        let Value::Object(obj) = value else {
            return Err(PayloadError::NotAnObject(type_name(&value)));
        };
        let data = match obj.get("data") {
            None | Some(Value::Null) => None,
            Some(Value::Object(d)) => Some(d),
            Some(Value::Array(a)) if a.is_empty() => None, // PHP's empty array
            Some(other) => {
                return Err(PayloadError::WrongType { field: "data", expected: "an object", got: describe(other) });
            }
        };
        let (command_name, command, batch_id) = match data {
            None => (None, None, None),
            Some(d) => {
                let command = match d.get("command") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(CommandData::Php(s.clone())),
                    Some(Value::Object(o)) => Some(CommandData::Json(o.clone())),
                    Some(other) => {
                        return Err(PayloadError::WrongType {
                            field: "data.command",
                            expected: "a PHP-serialized string or a JSON object",
                            got: describe(other),
                        });
                    }
                };
                (opt_string(d, "commandName")?, command, opt_string(d, "batchId")?)
            }
        };
        let display_name = opt_string(&obj, "displayName")?;
        let job = opt_string(&obj, "job")?;
        let class = [command_name.as_deref(), display_name.as_deref(), job.as_deref().map(class_of_job_string)]
            .into_iter()
            .flatten()
            .find(|s| !s.is_empty())
            .ok_or(PayloadError::NoClass)?
            .to_string();
        Ok(Payload {
            uuid: opt_string(&obj, "uuid")?.filter(|u| !u.is_empty()),
            display_name: display_name.filter(|d| !d.is_empty()).unwrap_or_else(|| class.clone()),
            job,
            max_tries: opt_int(&obj, "maxTries")?,
            max_exceptions: opt_int(&obj, "maxExceptions")?,
            fail_on_timeout: opt_bool(&obj, "failOnTimeout")?,
            backoff: backoff(&obj)?,
            timeout: opt_int(&obj, "timeout")?,
            retry_until: opt_int(&obj, "retryUntil")?,
            delay: opt_int(&obj, "delay")?,
            delete_when_missing_models: opt_bool(&obj, "deleteWhenMissingModels")?,
            class,
            command,
            batch_id: batch_id.filter(|b| !b.is_empty()),
        })
    }

    /// The best name we can give a payload that failed to parse, for logs.
    pub fn sniff_name(raw: &str) -> String {
        serde_json::from_str::<Value>(raw)
            .ok()
            .and_then(|v| v.get("displayName").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| "unknown job".to_string())
    }

    /// The uuid of a payload that may not parse, for failed_jobs.
    pub fn sniff_uuid(raw: &str) -> Option<String> {
        serde_json::from_str::<Value>(raw)
            .ok()
            .and_then(|v| v.get("uuid").and_then(Value::as_str).map(str::to_string))
            .filter(|u| !u.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verified Laravel 12 payload from spec §5.2.
    const PODCAST: &str = r#"{"uuid":"e35b3334-9dee-4e44-a8fb-4dab4f73d7f0","displayName":"App\\Jobs\\ProcessPodcast","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":3,"maxExceptions":2,"failOnTimeout":false,"backoff":"10,60","timeout":120,"retryUntil":null,"data":{"commandName":"App\\Jobs\\ProcessPodcast","command":"O:23:\"App\\Jobs\\ProcessPodcast\":4:{s:4:\"user\";O:45:\"Illuminate\\Contracts\\Database\\ModelIdentifier\":5:{s:5:\"class\";s:15:\"App\\Models\\User\";s:2:\"id\";i:1;s:9:\"relations\";a:0:{}s:10:\"connection\";s:7:\"default\";s:15:\"collectionClass\";N;}s:5:\"title\";s:21:\"\u00c9pisode 1 \/ \"quoted\"\";s:7:\"\u0000*\u0000opts\";a:1:{s:1:\"a\";i:1;}s:26:\"\u0000App\\Jobs\\ProcessPodcast\u0000n\";i:0;}","batchId":null},"createdAt":1795755992,"delay":null}"#;

    #[test]
    fn reads_a_laravel_12_payload() {
        let p = Payload::parse(PODCAST).unwrap();
        assert_eq!(p.uuid.as_deref(), Some("e35b3334-9dee-4e44-a8fb-4dab4f73d7f0"));
        assert_eq!(p.class, "App\\Jobs\\ProcessPodcast");
        assert_eq!(p.display_name, "App\\Jobs\\ProcessPodcast");
        assert_eq!(p.max_tries, Some(3));
        assert_eq!(p.max_exceptions, Some(2));
        assert_eq!(p.backoff.as_deref(), Some("10,60"));
        assert_eq!(p.timeout, Some(120));
        assert_eq!(p.retry_until, None);
        assert!(!p.fail_on_timeout);
        assert_eq!(p.batch_id, None);
        match p.command {
            Some(CommandData::Php(s)) => assert!(s.starts_with("O:23:\"App\\Jobs\\ProcessPodcast\"")),
            other => panic!("expected a PHP command, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_json_command_from_another_service() {
        let p = Payload::parse(
            r#"{"uuid":"u1","displayName":"App\\Jobs\\GenerateCvPdf","job":"Illuminate\\Queue\\CallQueuedHandler@call",
               "maxTries":"5","backoff":[1,5,30],"data":{"commandName":"App\\Jobs\\GenerateCvPdf","command":{"cvId":7}}}"#,
        )
        .unwrap();
        assert_eq!(p.max_tries, Some(5));
        assert_eq!(p.backoff.as_deref(), Some("1,5,30"));
        assert!(matches!(p.command, Some(CommandData::Json(ref m)) if m["cvId"] == 7));
    }

    #[test]
    fn string_jobs_route_by_their_class() {
        let p = Payload::parse(r#"{"job":"App\\Legacy@fire","data":{"x":1}}"#).unwrap();
        assert_eq!(p.class, "App\\Legacy");
        assert_eq!(p.uuid, None);
    }

    #[test]
    fn errors_are_readable() {
        assert!(Payload::parse("{nope").unwrap_err().to_string().starts_with("payload is not valid JSON"));
        assert_eq!(Payload::parse("[1]").unwrap_err().to_string(), "payload must be a JSON object, got an array");
        let e = Payload::parse(r#"{"displayName":"X","maxTries":"many"}"#).unwrap_err().to_string();
        assert_eq!(e, "payload field `maxTries` must be an integer or null, got a string \"many\"");
        let e = Payload::parse(r#"{"displayName":"X","data":{"command":42}}"#).unwrap_err().to_string();
        assert!(e.contains("`data.command` must be a PHP-serialized string or a JSON object"), "{e}");
        assert_eq!(Payload::parse(r#"{"uuid":"x"}"#).unwrap_err(), PayloadError::NoClass);
        let e = Payload::parse(r#"{"displayName":"X","backoff":"soon"}"#).unwrap_err().to_string();
        assert!(e.contains("`backoff`"), "{e}");
    }
}
