//! The job's command: the properties a handler reads, from `data.command`.
//!
//! Both producer forms end up as one [`PhpValue`] tree: Laravel's PHP-serialized object is
//! parsed as is; a JSON object from another service becomes an associative array with the
//! same property names. Handlers ask for properties by name and never see the difference.

use super::payload::{CommandData, Payload};
use super::php::{self, ModelIdentifier, PhpValue};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CommandError {
    #[error("data.command is not valid PHP serialization: {0}")]
    Php(String),
    #[error("data.command is encrypted (ShouldBeEncrypted); cv-worker cannot decrypt job commands")]
    Encrypted,
    #[error("data.command must serialize an object, got {0}")]
    NotAnObject(&'static str),
}

/// A decoded command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    value: PhpValue,
}

impl Command {
    /// Decodes `payload.command`; a payload without a command has no properties.
    pub fn decode(payload: &Payload) -> Result<Command, CommandError> {
        let value = match &payload.command {
            None => PhpValue::Array(Vec::new()),
            Some(CommandData::Json(map)) => PhpValue::from_json(&serde_json::Value::Object(map.clone())),
            Some(CommandData::Php(s)) => {
                if !s.starts_with("O:") {
                    return Err(CommandError::Encrypted);
                }
                let value = php::unserialize(s.as_bytes()).map_err(|e| CommandError::Php(e.to_string()))?;
                if !matches!(value, PhpValue::Object { .. }) {
                    return Err(CommandError::NotAnObject(kind(&value)));
                }
                value
            }
        };
        Ok(Command { value })
    }

    /// A property by its (demangled) name.
    pub fn get(&self, name: &str) -> Option<&PhpValue> {
        self.value.property(name).filter(|v| !v.is_null())
    }

    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(PhpValue::as_i64)
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(PhpValue::as_str)
    }

    /// A `SerializesModels` model property.
    pub fn model(&self, name: &str) -> Option<ModelIdentifier> {
        self.get(name).and_then(PhpValue::model_identifier)
    }

    /// The batch id: `data.batchId` when the payload has it, else the command's `batchId` property.
    pub fn batch_id(&self, payload: &Payload) -> Option<String> {
        payload.batch_id.clone().or_else(|| self.get_str("batchId").filter(|s| !s.is_empty()).map(str::to_string))
    }

    pub fn value(&self) -> &PhpValue {
        &self.value
    }
}

fn kind(v: &PhpValue) -> &'static str {
    match v {
        PhpValue::Null => "null",
        PhpValue::Bool(_) => "a boolean",
        PhpValue::Int(_) => "an integer",
        PhpValue::Float(_) => "a float",
        PhpValue::String(_) => "a string",
        PhpValue::Array(_) => "an array",
        PhpValue::Object { .. } => "an object",
        PhpValue::Enum { .. } => "an enum",
        PhpValue::Custom { .. } => "a custom-serialized object",
        PhpValue::Reference(_) => "a reference",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload_with(command: CommandData) -> Payload {
        Payload {
            class: "App\\Jobs\\X".into(),
            display_name: "App\\Jobs\\X".into(),
            command: Some(command),
            ..Payload::default()
        }
    }

    #[test]
    fn reads_serializes_models_properties() {
        let cmd = r#"O:22:"App\Jobs\GenerateCvPdf":3:{s:2:"cv";O:45:"Illuminate\Contracts\Database\ModelIdentifier":5:{s:5:"class";s:13:"App\Models\Cv";s:2:"id";i:42;s:9:"relations";a:0:{}s:10:"connection";s:5:"pgsql";s:15:"collectionClass";N;}s:8:"template";s:6:"modern";s:7:"batchId";s:36:"9a1f7e2c-0000-4000-8000-000000000001";}"#;
        let p = payload_with(CommandData::Php(cmd.into()));
        let c = Command::decode(&p).unwrap();
        let model = c.model("cv").unwrap();
        assert_eq!(model.class, "App\\Models\\Cv");
        assert_eq!(model.id.as_i64(), Some(42));
        assert_eq!(c.get_str("template"), Some("modern"));
        assert_eq!(c.get_i64("versionId"), None);
        assert_eq!(c.batch_id(&p).as_deref(), Some("9a1f7e2c-0000-4000-8000-000000000001"));
    }

    #[test]
    fn reads_json_commands() {
        let serde_json::Value::Object(map) = serde_json::json!({"cvId": 7, "template": "classic"}) else {
            unreachable!()
        };
        let c = Command::decode(&payload_with(CommandData::Json(map))).unwrap();
        assert_eq!(c.get_i64("cvId"), Some(7));
        assert_eq!(c.get_str("template"), Some("classic"));
    }

    #[test]
    fn rejects_encrypted_and_broken_commands() {
        let enc = payload_with(CommandData::Php("eyJpdiI6IjEyMyJ9".into()));
        assert_eq!(Command::decode(&enc).unwrap_err(), CommandError::Encrypted);
        let broken = payload_with(CommandData::Php(r#"O:8:"App\Jobs":1:{s:2:"cv";i:4"#.into()));
        let e = Command::decode(&broken).unwrap_err().to_string();
        assert!(e.starts_with("data.command is not valid PHP serialization:"), "{e}");
    }
}
