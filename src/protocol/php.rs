//! Reader and writer for PHP's `serialize()` format (spec §5.3, §9.1, §10 item 13).
//!
//! Laravel stores `data.command` (the job object), cache values and chain links in this
//! format. [`unserialize`] turns the bytes into a [`PhpValue`] tree; [`serialize`] writes a
//! tree back exactly as PHP 8 would (`serialize_precision = -1`).
//!
//! # Why not a crate (spec §15)
//!
//! `phpserz = "0.3.0"` was tried in a scratch crate against two inputs:
//! * the spec's `O:1:"J":4:{s:1:"s";E:3:"S:A";…}` object: its token parser returned
//!   `Object { class: "J", properties: 4 }` and the name `s`, then failed with
//!   `Unexpected byte 'E' at position: 19`; a bare `E:3:"S:A";` fails at position 0, and
//!   its serde `Deserializer` fails the same way. Enum-typed job properties are therefore
//!   unreadable, confirming the spec.
//! * `O:3:"Foo":2:{s:4:"\0*\0a";i:1;s:8:"\0Foo\0bar";s:1:"x";}`: read fine;
//!   `PhpBstr::to_property()` demangled `a` as `Protected` and `bar` as `Private` (it
//!   does not return the declaring class), and serde into `struct Foo { a, bar }` worked.
//!   Its `r:`/`R:` support is tokens only (no resolution).
//!
//! It has no writer at all (the crate exports a parser and a serde `Deserializer` only),
//! which also confirms the spec. We need `E:`, resolution of back-references and a writer,
//! so this module is our own.
//!
//! # Back-references
//!
//! PHP numbers values 1-based in parse order: every value, including the top-level one,
//! nested arrays/objects and each `r:` token, takes the next number; array keys and
//! property names do not, and an `R:` token does not either (it aliases an existing
//! slot). Each `r:`/`R:` is replaced by a copy of the value it names when that value is
//! complete. A reference to an enclosing array/object that is still being parsed (a
//! cycle) stays as [`PhpValue::Reference`]. PHP itself rejects `r:` (but accepts `R:`) to
//! an enclosing array; so do we.
//!
//! The number inside `Reference(n)` is the slot that [`serialize`] of the *returned* tree
//! gives the referenced ancestor. That equals the input's number unless an earlier
//! back-reference was expanded into a copy (a copy takes more slots than the `r:` token
//! did), so `serialize(&unserialize(x)?)` is always input PHP reads back into the same
//! shape (checked against php 8.2 on 20,000 random object graphs: PHP re-serializes our
//! output byte for byte). The writer emits `R:n;` for a reference to an array (PHP can
//! only build cyclic arrays through `&` references) and `r:n;` otherwise, and, like PHP,
//! writes every repeat of an enum case as `r:` to its first occurrence (cases are
//! singleton objects). A cycle inside a copied value keeps pointing at the original
//! object, as it does in PHP.
//!
//! Legacy `C:` payloads are opaque: if the class's `unserialize()` itself unserializes
//! values, PHP numbers them in the same sequence; we count the whole `C:` value as one
//! slot, so a later `r:` in such a stream may resolve differently (PHP ≥ 7.4 core classes
//! use `O:` with `__serialize`, and Laravel payloads do not contain `C:`).
//!
//! # Robustness
//!
//! Input is untrusted. Parsing never panics, nesting is limited to [`MAX_DEPTH`]
//! arrays/objects, declared counts and lengths never drive an allocation before the bytes
//! exist, and copies made for back-references are capped (a "billion laughs" chain of
//! `r:` fails with [`PhpError::TooLarge`] instead of exhausting memory).
//!
//! Differences from PHP's own `unserialize()`, all deliberate: trailing bytes after the
//! value are an error (PHP ignores them); an `i:` outside the `i64` range is an error (PHP
//! clamps); enum cases and class existence cannot be checked here. Duplicate keys are kept
//! in order ([`PhpValue::property`] returns the last, as PHP's overwrite would).
//! Numeric-string array keys (`s:1:"5"`) stay strings as written. Property names and
//! private-property class names that are not UTF-8 are converted lossily. Integer
//! property keys (`O:11:"ArrayObject":4:{i:0;…}`, from SPL `__serialize`) become names
//! `"0"`, … and are written back as `s:1:"0"`, which PHP reads the same way.

use std::borrow::Cow;

/// Deepest nesting of arrays/objects accepted by [`unserialize`].
pub const MAX_DEPTH: usize = 512;

/// The class Laravel's `SerializesModels` puts in place of an Eloquent model/collection.
pub const MODEL_IDENTIFIER_CLASS: &str = "Illuminate\\Contracts\\Database\\ModelIdentifier";

/// Fixed allowance (bytes, roughly) for copies made when resolving back-references, on top
/// of [`COST_PER_INPUT_BYTE`] per input byte.
const EXPANSION_ALLOWANCE: usize = 16 << 20;
/// Budget per input byte; generous enough that input without back-references never hits it.
const COST_PER_INPUT_BYTE: usize = 64;
/// Accounting cost of one materialised value (about its in-memory size).
const NODE_COST: usize = 64;

/// A PHP value.
#[derive(Debug, Clone, PartialEq)]
pub enum PhpValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// PHP strings are bytes.
    String(Vec<u8>),
    /// Order preserved, duplicates (if the input had any) kept.
    Array(Vec<(ArrayKey, PhpValue)>),
    Object {
        class: String,
        properties: Vec<Property>,
    },
    /// `E:<len>:"Class:Case";`
    Enum {
        class: String,
        case: String,
    },
    /// Legacy `C:` (`Serializable`); `data` is the opaque payload between the braces.
    Custom {
        class: String,
        data: Vec<u8>,
    },
    /// An `r:`/`R:` to an array/object that was still being parsed (a cycle), or a copy of
    /// such a reference; see the module docs for the numbering.
    Reference(usize),
}

/// An array key: PHP keys are integers or byte strings.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayKey {
    Int(i64),
    String(Vec<u8>),
}

/// One object property with its name demangled.
#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub name: String,
    pub visibility: Visibility,
    pub value: PhpValue,
}

/// Property visibility, as encoded by the name mangling.
#[derive(Debug, Clone, PartialEq)]
pub enum Visibility {
    /// `name`
    Public,
    /// `\0*\0name`
    Protected,
    /// `\0Class\0name`, `class` being the declaring class (for a trait's private property,
    /// the class using the trait).
    Private { class: String },
}

/// Why [`unserialize`] rejected its input. `offset` is a 0-based byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhpError {
    /// The input ended before the value was complete.
    #[error("truncated PHP serialization at byte {offset}: expected {expected}")]
    Truncated { offset: usize, expected: String },
    /// Malformed input.
    #[error("invalid PHP serialization at byte {offset}: {message}")]
    Invalid { offset: usize, message: String },
    /// Arrays/objects nested deeper than [`MAX_DEPTH`] (directly, or through a copied
    /// back-reference).
    #[error("invalid PHP serialization at byte {offset}: nested deeper than {limit} levels")]
    TooDeep { offset: usize, limit: usize },
    /// Back-references would expand to more than `limit` bytes of copies.
    #[error("invalid PHP serialization at byte {offset}: back-references expand to more than {limit} bytes")]
    TooLarge { offset: usize, limit: usize },
}

impl PhpError {
    /// The byte offset the error refers to.
    pub fn offset(&self) -> usize {
        match self {
            PhpError::Truncated { offset, .. }
            | PhpError::Invalid { offset, .. }
            | PhpError::TooDeep { offset, .. }
            | PhpError::TooLarge { offset, .. } => *offset,
        }
    }
}

/// A Laravel `ModelIdentifier` (what `SerializesModels` stores instead of a model).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelIdentifier {
    /// Model FQCN or morph alias.
    pub class: String,
    /// The key (`Int` or `String`), or an `Array` list of keys for a collection.
    pub id: PhpValue,
    /// The model's database connection name.
    pub connection: Option<String>,
    /// Names of the relations that were loaded.
    pub relations: Vec<String>,
}

impl ModelIdentifier {
    /// True when this stands for a collection (`id` is a list of keys).
    pub fn is_collection(&self) -> bool {
        matches!(self.id, PhpValue::Array(_))
    }
}

impl Property {
    /// A public property.
    pub fn public(name: impl Into<String>, value: PhpValue) -> Property {
        Property { name: name.into(), visibility: Visibility::Public, value }
    }

    /// The name as PHP writes it (`name`, `\0*\0name`, `\0Class\0name`).
    pub fn mangled_name(&self) -> Vec<u8> {
        match &self.visibility {
            Visibility::Public => self.name.as_bytes().to_vec(),
            Visibility::Protected => {
                let mut v = Vec::with_capacity(self.name.len() + 3);
                v.extend_from_slice(b"\0*\0");
                v.extend_from_slice(self.name.as_bytes());
                v
            }
            Visibility::Private { class } => {
                let mut v = Vec::with_capacity(self.name.len() + class.len() + 2);
                v.push(0);
                v.extend_from_slice(class.as_bytes());
                v.push(0);
                v.extend_from_slice(self.name.as_bytes());
                v
            }
        }
    }
}

/// Splits a (possibly mangled) property name the way PHP's `zend_unmangle_property_name`
/// does. Names that start with NUL but are not well-formed stay public and raw.
pub fn demangle_property_name(raw: &[u8]) -> (String, Visibility) {
    if raw.len() >= 3 && raw[0] == 0 && raw[1] != 0 {
        // The class part ends at the next NUL, which must leave a non-empty name after it.
        if let Some(k) = raw[1..raw.len() - 1].iter().position(|&c| c == 0) {
            let class = &raw[1..k + 1];
            let name = lossy(&raw[k + 2..]);
            let visibility =
                if class == b"*" { Visibility::Protected } else { Visibility::Private { class: lossy(class) } };
            return (name, visibility);
        }
    }
    (lossy(raw), Visibility::Public)
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Builds `O:<len>:"Class":<n>:{...}` with public properties — what `cv-worker enqueue`
/// writes as `data.command`.
pub fn object(class: &str, properties: Vec<(String, PhpValue)>) -> PhpValue {
    PhpValue::Object {
        class: class.to_owned(),
        properties: properties.into_iter().map(|(name, value)| Property::public(name, value)).collect(),
    }
}

impl PhpValue {
    /// On an `Object`: the property with this demangled name, whatever its visibility.
    /// On an `Array`: the entry with this string key (or the integer key PHP would turn
    /// this string into, so `"5"` finds key `5`). If several match, the last wins.
    pub fn property(&self, name: &str) -> Option<&PhpValue> {
        match self {
            PhpValue::Object { properties, .. } => properties.iter().rev().find(|p| p.name == name).map(|p| &p.value),
            PhpValue::Array(items) => {
                let int_key = match php_array_key(name) {
                    ArrayKey::Int(i) => Some(i),
                    ArrayKey::String(_) => None,
                };
                items
                    .iter()
                    .rev()
                    .find(|(k, _)| match k {
                        ArrayKey::String(s) => s.as_slice() == name.as_bytes(),
                        ArrayKey::Int(i) => Some(*i) == int_key,
                    })
                    .map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The object's properties.
    pub fn properties(&self) -> Option<&[Property]> {
        match self {
            PhpValue::Object { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The array's entries.
    pub fn as_array(&self) -> Option<&[(ArrayKey, PhpValue)]> {
        match self {
            PhpValue::Array(items) => Some(items),
            _ => None,
        }
    }

    /// `Int`, or a `String` holding a decimal integer (PHP ids are sometimes strings).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PhpValue::Int(i) => Some(*i),
            PhpValue::String(s) => {
                let digits = s.strip_prefix(b"-").unwrap_or(s);
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                std::str::from_utf8(s).ok()?.parse().ok()
            }
            _ => None,
        }
    }

    /// `Float`, or `Int` converted.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PhpValue::Float(f) => Some(*f),
            PhpValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// A `String` that is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::String(s) => std::str::from_utf8(s).ok(),
            _ => None,
        }
    }

    /// A `String`'s bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            PhpValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            PhpValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, PhpValue::Null)
    }

    /// The class of an `Object`, `Enum` or `Custom`.
    pub fn class_name(&self) -> Option<&str> {
        match self {
            PhpValue::Object { class, .. } | PhpValue::Enum { class, .. } | PhpValue::Custom { class, .. } => {
                Some(class)
            }
            _ => None,
        }
    }

    /// The model reference, if this is an `Illuminate\Contracts\Database\ModelIdentifier`.
    pub fn model_identifier(&self) -> Option<ModelIdentifier> {
        if self.class_name() != Some(MODEL_IDENTIFIER_CLASS) || !matches!(self, PhpValue::Object { .. }) {
            return None;
        }
        let class = self.property("class")?.as_str()?.to_owned();
        let id = self.property("id")?.clone();
        let connection = self.property("connection").and_then(PhpValue::as_str).map(str::to_owned);
        let relations = self
            .property("relations")
            .and_then(PhpValue::as_array)
            .map(|items| items.iter().filter_map(|(_, v)| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        Some(ModelIdentifier { class, id, connection, relations })
    }

    /// JSON → PHP the way `json_decode($json, true)` does: objects become associative
    /// arrays (numeric-string keys become integer keys, as PHP does), arrays become lists
    /// with keys 0..n, integer literals in `i64` range become `Int`, other numbers (`2.0`,
    /// `1e2`, larger integers) `Float`. Object key order is whatever `serde_json::Map`
    /// kept (sorted, without serde_json's `preserve_order` feature).
    pub fn from_json(v: &serde_json::Value) -> PhpValue {
        use serde_json::Value;
        match v {
            Value::Null => PhpValue::Null,
            Value::Bool(b) => PhpValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => PhpValue::Int(i),
                None => PhpValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => PhpValue::String(s.as_bytes().to_vec()),
            Value::Array(items) => PhpValue::Array(
                items.iter().enumerate().map(|(i, v)| (ArrayKey::Int(i as i64), PhpValue::from_json(v))).collect(),
            ),
            Value::Object(map) => {
                PhpValue::Array(map.iter().map(|(k, v)| (php_array_key(k), PhpValue::from_json(v))).collect())
            }
        }
    }

    /// For display/logging: `Object` → `{"@class": "...", prop: value, ...}` (demangled
    /// names), `Enum` → `"Class::Case"`, `Custom` → `{"@class", "@data"}`, `Reference(n)`
    /// → `{"@ref": n}`, non-UTF-8 bytes → lossy strings, non-finite floats → `"INF"`,
    /// `"-INF"`, `"NAN"`, an `Array` with keys 0..n in order → JSON array, else object.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        // Containers and the rarer cases live in separate functions to keep this (recursive)
        // frame small.
        match self {
            PhpValue::Null => Value::Null,
            PhpValue::Bool(b) => Value::Bool(*b),
            PhpValue::Int(i) => Value::from(*i),
            PhpValue::String(s) => Value::String(lossy(s)),
            PhpValue::Array(items) => array_to_json(items),
            PhpValue::Object { class, properties } => object_to_json(class, properties),
            _ => other_to_json(self),
        }
    }
}

fn array_to_json(items: &[(ArrayKey, PhpValue)]) -> serde_json::Value {
    let is_list = items.iter().enumerate().all(|(i, (k, _))| *k == ArrayKey::Int(i as i64));
    if is_list {
        let mut list = Vec::with_capacity(items.len());
        for (_, v) in items {
            list.push(v.to_json());
        }
        return serde_json::Value::Array(list);
    }
    let mut map = serde_json::Map::new();
    for (k, v) in items {
        let key = match k {
            ArrayKey::Int(i) => i.to_string(),
            ArrayKey::String(s) => lossy(s),
        };
        map.insert(key, v.to_json());
    }
    serde_json::Value::Object(map)
}

fn object_to_json(class: &str, properties: &[Property]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for p in properties {
        map.insert(p.name.clone(), p.value.to_json());
    }
    map.insert("@class".into(), serde_json::Value::String(class.to_owned()));
    serde_json::Value::Object(map)
}

fn other_to_json(v: &PhpValue) -> serde_json::Value {
    use serde_json::{Map, Value};
    match v {
        PhpValue::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => Value::Number(n),
            None => Value::String(format_float(*f)),
        },
        PhpValue::Enum { class, case } => Value::String(format!("{class}::{case}")),
        PhpValue::Custom { class, data } => {
            let mut map = Map::new();
            map.insert("@class".into(), Value::String(class.clone()));
            map.insert("@data".into(), Value::String(lossy(data)));
            Value::Object(map)
        }
        PhpValue::Reference(n) => {
            let mut map = Map::new();
            map.insert("@ref".into(), Value::from(*n as u64));
            Value::Object(map)
        }
        _ => Value::Null,
    }
}

/// The key PHP uses for string `s` in an array: canonical decimal integers in `i64` range
/// (`"5"`, `"-3"`, not `"05"`, `"-0"`, `"+1"`, `" 1"`) become integer keys.
pub fn php_array_key(s: &str) -> ArrayKey {
    let b = s.as_bytes();
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || (digits.len() == 1 && digits.len() == b.len()));
    if canonical && let Ok(i) = s.parse::<i64>() {
        return ArrayKey::Int(i);
    }
    ArrayKey::String(b.to_vec())
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Serializes `value` exactly as PHP 8's `serialize()` would: floats with
/// `serialize_precision = -1`, string lengths in bytes, property names re-mangled,
/// repeated enum cases as `r:`, [`PhpValue::Reference`] as `R:` (to an array) or `r:`.
///
/// The writer recurses once per nesting level; trees from [`unserialize`] are at most
/// [`MAX_DEPTH`] deep.
pub fn serialize(value: &PhpValue) -> Vec<u8> {
    let mut w = Writer { out: Vec::new(), slot_is_array: Vec::new(), enums: std::collections::HashMap::new() };
    w.value(value);
    w.out
}

struct Writer<'v> {
    out: Vec<u8>,
    /// For each back-reference slot number (index + 1): whether that value is an array.
    slot_is_array: Vec<bool>,
    /// Slot of the first occurrence of each enum case: enum cases are singleton objects,
    /// so PHP writes every later occurrence as `r:<slot>;`.
    enums: std::collections::HashMap<(&'v str, &'v str), usize>,
}

impl<'v> Writer<'v> {
    fn num(&mut self, n: impl std::fmt::Display) {
        use std::io::Write;
        // Writing to a Vec cannot fail.
        let _ = write!(self.out, "{n}");
    }

    fn bytes_with_len(&mut self, prefix: &[u8], b: &[u8]) {
        self.out.extend_from_slice(prefix);
        self.num(b.len());
        self.out.extend_from_slice(b":\"");
        self.out.extend_from_slice(b);
        self.out.push(b'"');
    }

    fn string(&mut self, b: &[u8]) {
        self.bytes_with_len(b"s:", b);
        self.out.push(b';');
    }

    fn int(&mut self, i: i64) {
        self.out.extend_from_slice(b"i:");
        self.num(i);
        self.out.push(b';');
    }

    /// Writes one value; every value takes a back-reference slot except an `R:`.
    fn value(&mut self, v: &'v PhpValue) {
        match v {
            PhpValue::Null => {
                self.slot_is_array.push(false);
                self.out.extend_from_slice(b"N;");
            }
            PhpValue::Bool(b) => {
                self.slot_is_array.push(false);
                self.out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" });
            }
            PhpValue::Int(i) => {
                self.slot_is_array.push(false);
                self.int(*i);
            }
            PhpValue::Float(f) => {
                self.slot_is_array.push(false);
                self.out.extend_from_slice(b"d:");
                self.out.extend_from_slice(format_float(*f).as_bytes());
                self.out.push(b';');
            }
            PhpValue::String(s) => {
                self.slot_is_array.push(false);
                self.string(s);
            }
            PhpValue::Array(items) => self.array(items),
            PhpValue::Object { class, properties } => self.object(class, properties),
            PhpValue::Enum { class, case } => self.enum_case(class, case),
            PhpValue::Custom { class, data } => {
                self.slot_is_array.push(false);
                self.bytes_with_len(b"C:", class.as_bytes());
                self.out.push(b':');
                self.num(data.len());
                self.out.extend_from_slice(b":{");
                self.out.extend_from_slice(data);
                self.out.push(b'}');
            }
            PhpValue::Reference(n) => self.reference(*n),
        }
    }

    fn array(&mut self, items: &'v [(ArrayKey, PhpValue)]) {
        self.slot_is_array.push(true);
        self.out.extend_from_slice(b"a:");
        self.num(items.len());
        self.out.extend_from_slice(b":{");
        for (k, v) in items {
            match k {
                ArrayKey::Int(i) => self.int(*i),
                ArrayKey::String(s) => self.string(s),
            }
            self.value(v);
        }
        self.out.push(b'}');
    }

    fn object(&mut self, class: &str, properties: &'v [Property]) {
        self.slot_is_array.push(false);
        self.bytes_with_len(b"O:", class.as_bytes());
        self.out.push(b':');
        self.num(properties.len());
        self.out.extend_from_slice(b":{");
        for p in properties {
            self.string(&p.mangled_name());
            self.value(&p.value);
        }
        self.out.push(b'}');
    }

    fn enum_case(&mut self, class: &'v str, case: &'v str) {
        let slot = self.slot_is_array.len() + 1;
        self.slot_is_array.push(false);
        if let Some(&first) = self.enums.get(&(class, case)) {
            self.out.extend_from_slice(b"r:");
            self.num(first);
            self.out.push(b';');
            return;
        }
        self.enums.insert((class, case), slot);
        self.bytes_with_len(b"E:", format!("{class}:{case}").as_bytes());
        self.out.push(b';');
    }

    /// `R:` (no slot of its own) to an array, `r:` (a slot) to anything else.
    fn reference(&mut self, n: usize) {
        let to_array = n.checked_sub(1).and_then(|i| self.slot_is_array.get(i)).copied().unwrap_or(false);
        if to_array {
            self.out.extend_from_slice(b"R:");
        } else {
            self.slot_is_array.push(false);
            self.out.extend_from_slice(b"r:");
        }
        self.num(n);
        self.out.push(b';');
    }
}

/// Formats a float as PHP 8 does with `serialize_precision = -1` (`serialize`,
/// `var_export`, `json_encode`): shortest round-trip digits, plain notation while the
/// decimal exponent is in -4..=16 (`0.0001`, `1.0E-5`, `10000000000000000`, `1.0E+17`), no
/// `.0` on integral values (`100`), `-0`, `INF`, `-INF`, `NAN`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NAN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "INF".into() } else { "-INF".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // zend_dtoa mode 0: the fewest digits that round-trip, the closest such string to the
    // exact value, ties broken to an even last digit. Rust's `{:e}` gives the fewest digits
    // but breaks ties upwards (1658206780088562.25 → `…562.3`, PHP prints `…562.2`);
    // re-rounding exactly to that many digits applies round-half-even.
    let shortest = format!("{:e}", f.abs());
    let precision =
        shortest.split('e').next().map_or(0, |m| m.bytes().filter(u8::is_ascii_digit).count()).saturating_sub(1);
    let sci = format!("{:.*e}", precision, f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    let exp: i32 = exp.parse().unwrap_or(0);
    // php_gcvt: value = 0.<digits> * 10^decpt
    let decpt = exp + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    if f < 0.0 {
        out.push('-');
    }
    if !(-3..=17).contains(&decpt) {
        out.push(digits[0] as char);
        out.push('.');
        if digits.len() == 1 {
            out.push('0');
        } else {
            out.extend(digits[1..].iter().map(|&c| c as char));
        }
        out.push('E');
        out.push(if decpt - 1 < 0 { '-' } else { '+' });
        out.push_str(&(decpt - 1).unsigned_abs().to_string());
    } else if decpt < 0 {
        out.push_str("0.");
        for _ in decpt..0 {
            out.push('0');
        }
        out.extend(digits.iter().map(|&c| c as char));
    } else {
        let int_len = decpt as usize;
        for i in 0..int_len {
            out.push(digits.get(i).map_or('0', |&c| c as char));
        }
        if digits.len() > int_len {
            if int_len == 0 {
                out.push('0');
            }
            out.push('.');
            out.extend(digits[int_len..].iter().map(|&c| c as char));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

/// Parses PHP `serialize()` output. The whole input must be one value.
pub fn unserialize(input: &[u8]) -> Result<PhpValue, PhpError> {
    let mut p = Parser { input, pos: 0, nodes: Vec::new(), open: Vec::new(), slots: Vec::new() };
    let root = p.parse()?;
    if p.pos != input.len() {
        return Err(p.invalid(format!("unexpected trailing data {} after the value", show(input[p.pos]))));
    }
    let mut b = Builder {
        nodes: &p.nodes,
        out_slot: vec![0; p.nodes.len()],
        next_slot: 0,
        spent: 0,
        limit: EXPANSION_ALLOWANCE.saturating_add(input.len().saturating_mul(COST_PER_INPUT_BYTE)),
    };
    b.build(root)
}

/// Pass 1 output: a flat arena of parsed values, children referring to node indices.
enum Node<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, [u8]>),
    Array(Vec<(Key<'a>, usize)>),
    Object {
        class: &'a str,
        props: Vec<(Key<'a>, usize)>,
    },
    Enum {
        class: &'a str,
        case: &'a str,
    },
    Custom {
        class: &'a str,
        data: &'a [u8],
    },
    /// `target` is never itself a non-cyclic `Ref` (chains are collapsed when parsed).
    Ref {
        target: usize,
        cyclic: bool,
        pos: usize,
    },
}

enum Key<'a> {
    Int(i64),
    Str(Cow<'a, [u8]>),
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    nodes: Vec<Node<'a>>,
    /// Per node: an array/object whose body is still being parsed.
    open: Vec<bool>,
    /// Back-reference slot (index + 1) → node.
    slots: Vec<usize>,
}

/// An array/object whose entries are being parsed (the parser keeps these on an explicit
/// stack, so deep input cannot overflow the call stack).
struct OpenContainer<'a> {
    id: usize,
    class: Option<&'a str>,
    remaining: usize,
    items: Vec<(Key<'a>, usize)>,
    key: Option<Key<'a>>,
}

enum Parsed<'a> {
    Done(usize),
    Open(OpenContainer<'a>),
}

enum Next {
    /// A key was read; a value follows.
    Value,
    /// The top container was closed; its node index.
    Closed(usize),
}

/// `'x'`, `'"'`, `'\x00'`.
fn show(b: u8) -> String {
    if b == b'"' { "'\"'".into() } else { format!("'{}'", b.escape_ascii()) }
}

fn is_class_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'\\' || c >= 0x80
}

/// PHP's class-name rule (letters, digits, `_`, `\`, bytes ≥ 0x80; no leading `\`), plus
/// UTF-8 (we keep names as `String`).
fn class_name(b: &[u8]) -> Option<&str> {
    if b.is_empty() || b[0] == b'\\' || !b.iter().all(|&c| is_class_byte(c)) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

fn case_name(b: &[u8]) -> Option<&str> {
    if b.is_empty() || !b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80) {
        return None;
    }
    std::str::from_utf8(b).ok()
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    fn invalid(&self, message: impl Into<String>) -> PhpError {
        self.invalid_at(self.pos, message)
    }

    fn invalid_at(&self, offset: usize, message: impl Into<String>) -> PhpError {
        PhpError::Invalid { offset, message: message.into() }
    }

    /// The input ran out (the offset is always the input length).
    fn truncated(&self, expected: impl Into<String>) -> PhpError {
        PhpError::Truncated { offset: self.input.len(), expected: expected.into() }
    }

    fn expect(&mut self, want: u8) -> Result<(), PhpError> {
        match self.peek() {
            Some(c) if c == want => {
                self.pos += 1;
                Ok(())
            }
            Some(c) => Err(self.invalid(format!("expected {}, found {}", show(want), show(c)))),
            None => Err(self.truncated(show(want))),
        }
    }

    /// Unsigned decimal (lengths, counts, reference numbers); leading zeros allowed.
    fn uint(&mut self, what: &str) -> Result<usize, PhpError> {
        let start = self.pos;
        let mut n: usize = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(usize::from(c - b'0')))
                .ok_or_else(|| self.invalid_at(start, format!("{what} is too large")))?;
            self.pos += 1;
        }
        if self.pos == start {
            return Err(match self.peek() {
                None => self.truncated(format!("digits of {what}")),
                Some(c) => self.invalid(format!("expected digits of {what}, found {}", show(c))),
            });
        }
        Ok(n)
    }

    /// `i:` payload: `[+-]?[0-9]+`, within `i64`.
    fn int(&mut self) -> Result<i64, PhpError> {
        let start = self.pos;
        let negative = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let digits_start = self.pos;
        // Accumulate negatively so that i64::MIN fits.
        let mut n: i64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_sub(i64::from(c - b'0')))
                .ok_or_else(|| self.invalid_at(start, "integer out of 64-bit range"))?;
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(match self.peek() {
                None => self.truncated("digits of an integer"),
                Some(c) => self.invalid(format!("expected digits of an integer, found {}", show(c))),
            });
        }
        if negative {
            Ok(n)
        } else {
            n.checked_neg().ok_or_else(|| self.invalid_at(start, "integer out of 64-bit range"))
        }
    }

    /// Error unless `len` more bytes exist.
    fn need(&self, len: usize, what: &str) -> Result<(), PhpError> {
        if self.remaining() < len {
            return Err(PhpError::Truncated {
                offset: self.input.len(),
                expected: format!(
                    "{len}-byte {what} starting at byte {} ({} bytes missing)",
                    self.pos,
                    len - self.remaining()
                ),
            });
        }
        Ok(())
    }

    /// `len` raw bytes.
    fn take(&mut self, len: usize, what: &str) -> Result<&'a [u8], PhpError> {
        self.need(len, what)?;
        let s = &self.input[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }

    /// `:<len>:"<bytes>"` (after the type letter).
    fn quoted(&mut self, what: &str, len_what: &str) -> Result<&'a [u8], PhpError> {
        self.expect(b':')?;
        let len = self.uint(len_what)?;
        self.expect(b':')?;
        self.expect(b'"')?;
        let s = self.take(len, what)?;
        self.expect(b'"')?;
        Ok(s)
    }

    /// `:<len>:"<bytes with \xx escapes>"` (after `S`).
    fn escaped(&mut self) -> Result<Vec<u8>, PhpError> {
        self.expect(b':')?;
        let len = self.uint("string length")?;
        self.expect(b':')?;
        self.expect(b'"')?;
        // Each byte takes at least one input byte.
        self.need(len, "string")?;
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            match self.peek() {
                None => return Err(self.truncated("escaped string data")),
                Some(b'\\') => {
                    let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
                    match (hex(self.input.get(self.pos + 1)), hex(self.input.get(self.pos + 2))) {
                        (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                        _ if self.remaining() < 3 => {
                            return Err(self.truncated("two hex digits after '\\'"));
                        }
                        _ => return Err(self.invalid("expected two hex digits after '\\'")),
                    }
                    self.pos += 3;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        self.expect(b'"')?;
        Ok(out)
    }

    fn key(&mut self, what: &str) -> Result<Key<'a>, PhpError> {
        let key = match self.peek() {
            Some(b'i') => {
                self.pos += 1;
                self.expect(b':')?;
                Key::Int(self.int()?)
            }
            Some(b's') => {
                self.pos += 1;
                Key::Str(Cow::Borrowed(self.quoted("string", "string length")?))
            }
            Some(b'S') => {
                self.pos += 1;
                Key::Str(Cow::Owned(self.escaped()?))
            }
            Some(c) => {
                return Err(self.invalid(format!("{what} must be an integer or a string, found type {}", show(c))));
            }
            None => return Err(self.truncated(what)),
        };
        self.expect(b';')?;
        Ok(key)
    }

    fn push(&mut self, node: Node<'a>, open: bool) {
        self.nodes.push(node);
        self.open.push(open);
    }

    /// Parses the whole value; returns the root node index.
    fn parse(&mut self) -> Result<usize, PhpError> {
        let mut stack: Vec<OpenContainer<'a>> = Vec::new();
        loop {
            let mut finished = match self.value(stack.len())? {
                Parsed::Done(id) => id,
                Parsed::Open(open) => {
                    stack.push(open);
                    match self.advance(&mut stack)? {
                        Next::Value => continue,
                        Next::Closed(id) => id,
                    }
                }
            };
            // Attach the finished value to its container, closing containers that are full.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(finished);
                };
                if let Some(key) = top.key.take() {
                    top.items.push((key, finished));
                }
                top.remaining = top.remaining.saturating_sub(1);
                match self.advance(&mut stack)? {
                    Next::Value => break,
                    Next::Closed(id) => finished = id,
                }
            }
        }
    }

    /// Reads the next key of the innermost container, or its `}` when it is complete.
    fn advance(&mut self, stack: &mut Vec<OpenContainer<'a>>) -> Result<Next, PhpError> {
        let Some(top) = stack.last_mut() else {
            return Err(self.invalid("internal error: no open container"));
        };
        if top.remaining > 0 {
            let what = if top.class.is_some() { "property name" } else { "array key" };
            top.key = Some(self.key(what)?);
            return Ok(Next::Value);
        }
        self.expect(b'}')?;
        let Some(done) = stack.pop() else {
            return Err(self.invalid("internal error: no open container"));
        };
        let node = match done.class {
            Some(class) => Node::Object { class, props: done.items },
            None => Node::Array(done.items),
        };
        if let (Some(slot), Some(open)) = (self.nodes.get_mut(done.id), self.open.get_mut(done.id)) {
            *slot = node;
            *open = false;
        }
        Ok(Next::Closed(done.id))
    }

    /// Parses a scalar/reference completely, or the header of an array/object (`depth` =
    /// number of enclosing containers).
    fn value(&mut self, depth: usize) -> Result<Parsed<'a>, PhpError> {
        let start = self.pos;
        let Some(tag) = self.peek() else {
            return Err(self.truncated("a value"));
        };
        let id = self.nodes.len();
        if tag != b'R' {
            self.slots.push(id);
        }
        self.pos += 1;
        let node = match tag {
            b'N' => {
                self.expect(b';')?;
                Node::Null
            }
            b'b' => {
                self.expect(b':')?;
                let v = match self.peek() {
                    Some(b'0') => false,
                    Some(b'1') => true,
                    Some(c) => {
                        return Err(self.invalid(format!("expected '0' or '1', found {}", show(c))));
                    }
                    None => return Err(self.truncated("'0' or '1'")),
                };
                self.pos += 1;
                self.expect(b';')?;
                Node::Bool(v)
            }
            b'i' => {
                self.expect(b':')?;
                let v = self.int()?;
                self.expect(b';')?;
                Node::Int(v)
            }
            b'd' => {
                self.expect(b':')?;
                Node::Float(self.float()?)
            }
            b's' => {
                let s = self.quoted("string", "string length")?;
                self.expect(b';')?;
                Node::Str(Cow::Borrowed(s))
            }
            b'S' => {
                let s = self.escaped()?;
                self.expect(b';')?;
                Node::Str(Cow::Owned(s))
            }
            b'a' | b'O' => return self.container(tag, start, id, depth).map(Parsed::Open),
            b'E' => {
                let name_at = self.pos;
                let name = self.quoted("enum name", "enum name length")?;
                self.expect(b';')?;
                let enum_name = name
                    .iter()
                    .position(|&c| c == b':')
                    .and_then(|colon| Some((class_name(&name[..colon])?, case_name(&name[colon + 1..])?)));
                let Some((class, case)) = enum_name else {
                    return Err(self.invalid_at(
                        name_at,
                        format!("invalid enum name \"{}\" (expected \"Class:Case\")", name.escape_ascii()),
                    ));
                };
                Node::Enum { class, case }
            }
            b'C' => {
                let class = self.class()?;
                self.expect(b':')?;
                let len = self.uint("custom data length")?;
                self.expect(b':')?;
                self.expect(b'{')?;
                let data = self.take(len, "custom object data")?;
                self.expect(b'}')?;
                Node::Custom { class, data }
            }
            b'r' | b'R' => self.reference(tag, start, id)?,
            _ => {
                return Err(self.invalid_at(start, format!("unknown type {}", show(tag))));
            }
        };
        self.push(node, false);
        Ok(Parsed::Done(id))
    }

    /// `:<len>:"<Class>"` (after `O`/`C`), validated.
    fn class(&mut self) -> Result<&'a str, PhpError> {
        let at = self.pos;
        let raw = self.quoted("class name", "class name length")?;
        class_name(raw).ok_or_else(|| self.invalid_at(at, format!("invalid class name \"{}\"", raw.escape_ascii())))
    }

    /// `d:` payload up to and including `;`.
    fn float(&mut self) -> Result<f64, PhpError> {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E' | b'I' | b'N' | b'F' | b'A') = self.peek() {
            self.pos += 1;
        }
        let text = &self.input[start..self.pos];
        match self.peek() {
            Some(b';') => {}
            Some(c) => return Err(self.invalid(format!("unexpected {} in a float", show(c)))),
            None => return Err(self.truncated("';'")),
        }
        let v = parse_php_float(text)
            .ok_or_else(|| self.invalid_at(start, format!("invalid float \"{}\"", text.escape_ascii())))?;
        self.pos += 1;
        Ok(v)
    }

    fn reference(&mut self, tag: u8, start: usize, id: usize) -> Result<Node<'a>, PhpError> {
        self.expect(b':')?;
        let n = self.uint("back-reference number")?;
        self.expect(b';')?;
        let kind = tag as char;
        let Some(&target) = n.checked_sub(1).and_then(|i| self.slots.get(i)) else {
            return Err(self.invalid_at(
                start,
                format!(
                    "back-reference {kind}:{n} to a value that does not exist (values so far: {})",
                    self.slots.len()
                ),
            ));
        };
        if target == id {
            return Err(self.invalid_at(start, format!("back-reference {kind}:{n} points at itself")));
        }
        let Some(target_node) = self.nodes.get(target) else {
            return Err(self.invalid_at(start, "internal error: dangling back-reference"));
        };
        if self.open.get(target).copied().unwrap_or(false) {
            if tag == b'r' && matches!(target_node, Node::Array(_)) {
                return Err(self.invalid_at(
                    start,
                    format!("back-reference r:{n} to an enclosing array (PHP only allows R: there)"),
                ));
            }
            return Ok(Node::Ref { target, cyclic: true, pos: start });
        }
        Ok(match *target_node {
            // Collapse chains so resolving never recurses through more than one hop.
            Node::Ref { target, cyclic, .. } => Node::Ref { target, cyclic, pos: start },
            _ => Node::Ref { target, cyclic: false, pos: start },
        })
    }

    /// The header `a:<n>:{` or `O:<len>:"Class":<n>:{` (tag already consumed).
    fn container(&mut self, tag: u8, start: usize, id: usize, depth: usize) -> Result<OpenContainer<'a>, PhpError> {
        if depth >= MAX_DEPTH {
            return Err(PhpError::TooDeep { offset: start, limit: MAX_DEPTH });
        }
        let class = if tag == b'O' { Some(self.class()?) } else { None };
        self.expect(b':')?;
        let count = self.uint(if tag == b'O' { "property count" } else { "array length" })?;
        self.expect(b':')?;
        self.expect(b'{')?;
        // Placeholder so that back-references can see this container (and its kind) is open.
        let placeholder = match class {
            Some(class) => Node::Object { class, props: Vec::new() },
            None => Node::Array(Vec::new()),
        };
        self.push(placeholder, true);
        Ok(OpenContainer {
            id,
            class,
            remaining: count,
            // Each entry takes at least 6 bytes (`i:0;N;`), so never reserve beyond that.
            items: Vec::with_capacity(count.min(self.remaining() / 6)),
            key: None,
        })
    }
}

/// PHP's `d:` grammar: `NAN`, `INF`, `-INF`, or `[+-]?` digits with an optional fraction
/// (`1.`, `.5`) and optional exponent `[eE][+-]?[0-9]+`.
fn parse_php_float(s: &[u8]) -> Option<f64> {
    match s {
        b"NAN" => return Some(f64::NAN),
        b"INF" => return Some(f64::INFINITY),
        b"-INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let digits = |s: &[u8], i: usize| s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = 0;
    if matches!(s.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_len = digits(s, i);
    i += int_len;
    let mut frac_len = 0;
    if s.get(i) == Some(&b'.') {
        i += 1;
        frac_len = digits(s, i);
        i += frac_len;
    }
    if int_len + frac_len == 0 {
        return None;
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_len = digits(s, i);
        if exp_len == 0 {
            return None;
        }
        i += exp_len;
    }
    if i != s.len() {
        return None;
    }
    // Only ASCII digits, signs, '.', 'e'/'E' remain; Rust's grammar accepts all of them.
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Pass 2: materialises the tree, copying back-referenced values and numbering slots the
/// way the writer will. Iterative, like the parser.
struct Builder<'p, 'a> {
    nodes: &'p [Node<'a>],
    /// Node → slot number of its most recent materialisation (0 = none yet).
    out_slot: Vec<usize>,
    next_slot: usize,
    spent: usize,
    limit: usize,
}

/// An array/object being materialised.
struct Building<'p, 'a> {
    children: &'p [(Key<'a>, usize)],
    next: usize,
    /// Offset of the back-reference this is a copy for (for errors), else 0.
    at: usize,
    out: Partial,
}

enum Partial {
    Array(Vec<(ArrayKey, PhpValue)>, Option<ArrayKey>),
    Object { class: String, properties: Vec<Property>, name: Option<(String, Visibility)> },
}

enum Started<'p, 'a> {
    Value(PhpValue),
    Open(Building<'p, 'a>),
}

enum Step {
    Child(usize, usize),
    Closed(PhpValue),
}

impl<'p, 'a> Builder<'p, 'a> {
    fn charge(&mut self, cost: usize, at: usize) -> Result<(), PhpError> {
        self.spent = self.spent.saturating_add(cost);
        if self.spent > self.limit {
            return Err(PhpError::TooLarge { offset: at, limit: self.limit });
        }
        Ok(())
    }

    fn internal(at: usize) -> PhpError {
        PhpError::Invalid { offset: at, message: "internal error: dangling node".into() }
    }

    fn build(&mut self, root: usize) -> Result<PhpValue, PhpError> {
        let mut stack: Vec<Building<'p, 'a>> = Vec::new();
        let (mut id, mut at) = (root, 0);
        loop {
            let mut finished = match self.start(id, at, stack.len())? {
                Started::Value(v) => v,
                Started::Open(b) => {
                    stack.push(b);
                    match self.advance(&mut stack)? {
                        Step::Child(i, a) => {
                            (id, at) = (i, a);
                            continue;
                        }
                        Step::Closed(v) => v,
                    }
                }
            };
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(finished);
                };
                match &mut top.out {
                    Partial::Array(items, key) => {
                        if let Some(key) = key.take() {
                            items.push((key, finished));
                        }
                    }
                    Partial::Object { properties, name, .. } => {
                        if let Some((name, visibility)) = name.take() {
                            properties.push(Property { name, visibility, value: finished });
                        }
                    }
                }
                match self.advance(&mut stack)? {
                    Step::Child(i, a) => {
                        (id, at) = (i, a);
                        break;
                    }
                    Step::Closed(v) => finished = v,
                }
            }
        }
    }

    /// Sets up the next child of the innermost container, or closes it.
    fn advance(&mut self, stack: &mut Vec<Building<'p, 'a>>) -> Result<Step, PhpError> {
        let Some(top) = stack.last_mut() else {
            return Err(Self::internal(0));
        };
        if let Some((key, child)) = top.children.get(top.next) {
            top.next += 1;
            let at = top.at;
            match &mut top.out {
                Partial::Array(_, pending) => {
                    *pending = Some(match key {
                        Key::Int(i) => ArrayKey::Int(*i),
                        Key::Str(s) => {
                            self.charge(s.len(), at)?;
                            ArrayKey::String(s.to_vec())
                        }
                    });
                }
                Partial::Object { name, .. } => {
                    *name = Some(match key {
                        Key::Int(i) => (i.to_string(), Visibility::Public),
                        Key::Str(s) => {
                            self.charge(s.len(), at)?;
                            demangle_property_name(s)
                        }
                    });
                }
            }
            return Ok(Step::Child(*child, at));
        }
        let Some(done) = stack.pop() else {
            return Err(Self::internal(0));
        };
        Ok(Step::Closed(match done.out {
            Partial::Array(items, _) => PhpValue::Array(items),
            Partial::Object { class, properties, .. } => PhpValue::Object { class, properties },
        }))
    }

    /// Materialises a leaf, or opens a container (`depth` = enclosing containers). `at` is
    /// the offset of the back-reference being copied (for errors), else 0.
    fn start(&mut self, id: usize, at: usize, depth: usize) -> Result<Started<'p, 'a>, PhpError> {
        let nodes = self.nodes;
        let mut id = id;
        let mut at = at;
        let mut node = nodes.get(id).ok_or_else(|| Self::internal(at))?;
        if let Node::Ref { target, cyclic: false, pos } = node {
            // Chains were collapsed when parsing, so the target is not a copy again.
            (id, at) = (*target, *pos);
            node = nodes.get(id).ok_or_else(|| Self::internal(at))?;
        }
        if let Node::Ref { target, cyclic, pos } = node {
            if !*cyclic {
                return Err(Self::internal(*pos));
            }
            self.charge(NODE_COST, *pos)?;
            // Written as R: (no slot) for an array, r: (a slot) otherwise.
            if !matches!(nodes.get(*target), Some(Node::Array(_))) {
                self.next_slot += 1;
            }
            return match self.out_slot.get(*target) {
                Some(&n) if n > 0 => Ok(Started::Value(PhpValue::Reference(n))),
                _ => Err(Self::internal(*pos)),
            };
        }
        self.charge(NODE_COST, at)?;
        self.next_slot += 1;
        if let Some(slot) = self.out_slot.get_mut(id) {
            *slot = self.next_slot;
        }
        let value = match node {
            Node::Null => PhpValue::Null,
            Node::Bool(b) => PhpValue::Bool(*b),
            Node::Int(i) => PhpValue::Int(*i),
            Node::Float(f) => PhpValue::Float(*f),
            Node::Str(s) => {
                self.charge(s.len(), at)?;
                PhpValue::String(s.to_vec())
            }
            Node::Enum { class, case } => {
                self.charge(class.len() + case.len(), at)?;
                PhpValue::Enum { class: (*class).to_owned(), case: (*case).to_owned() }
            }
            Node::Custom { class, data } => {
                self.charge(class.len() + data.len(), at)?;
                PhpValue::Custom { class: (*class).to_owned(), data: data.to_vec() }
            }
            Node::Array(items) | Node::Object { props: items, .. } => {
                if depth >= MAX_DEPTH {
                    return Err(PhpError::TooDeep { offset: at, limit: MAX_DEPTH });
                }
                let out = match node {
                    Node::Object { class, .. } => {
                        self.charge(class.len(), at)?;
                        Partial::Object {
                            class: (*class).to_owned(),
                            properties: Vec::with_capacity(items.len()),
                            name: None,
                        }
                    }
                    _ => Partial::Array(Vec::with_capacity(items.len()), None),
                };
                return Ok(Started::Open(Building { children: items, next: 0, at, out }));
            }
            Node::Ref { .. } => return Err(Self::internal(at)),
        };
        Ok(Started::Value(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ---- real payloads (spec §5.2 / §5.3, regenerated or checked with php-cli 8.2) ----

    /// Spec §5.2: the full jobs.payload JSON.
    const PODCAST_PAYLOAD: &str = r#"{"uuid":"e35b3334-9dee-4e44-a8fb-4dab4f73d7f0","displayName":"App\\Jobs\\ProcessPodcast","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":3,"maxExceptions":2,"failOnTimeout":false,"backoff":"10,60","timeout":120,"retryUntil":null,"data":{"commandName":"App\\Jobs\\ProcessPodcast","command":"O:23:\"App\\Jobs\\ProcessPodcast\":4:{s:4:\"user\";O:45:\"Illuminate\\Contracts\\Database\\ModelIdentifier\":5:{s:5:\"class\";s:15:\"App\\Models\\User\";s:2:\"id\";i:1;s:9:\"relations\";a:0:{}s:10:\"connection\";s:7:\"default\";s:15:\"collectionClass\";N;}s:5:\"title\";s:21:\"Épisode 1 \/ \"quoted\"\";s:7:\"\u0000*\u0000opts\";a:1:{s:1:\"a\";i:1;}s:26:\"\u0000App\\Jobs\\ProcessPodcast\u0000n\";i:0;}","batchId":null},"createdAt":1795755992,"delay":null}"#;

    /// Spec §5.2: the same command, decoded (NUL written as \0).
    const PODCAST_COMMAND: &[u8] = b"O:23:\"App\\Jobs\\ProcessPodcast\":4:{s:4:\"user\";O:45:\"Illuminate\\Contracts\\Database\\ModelIdentifier\":5:{s:5:\"class\";s:15:\"App\\Models\\User\";s:2:\"id\";i:1;s:9:\"relations\";a:0:{}s:10:\"connection\";s:7:\"default\";s:15:\"collectionClass\";N;}s:5:\"title\";s:21:\"\xc3\x89pisode 1 / \"quoted\"\";s:7:\"\0*\0opts\";a:1:{s:1:\"a\";i:1;}s:26:\"\0App\\Jobs\\ProcessPodcast\0n\";i:0;}";

    /// Spec §5.3: NoSM (no SerializesModels), private trait property `fakeBatch`.
    const NOSM: &[u8] = b"O:13:\"App\\Jobs\\NoSM\":16:{s:5:\"tries\";i:5;s:1:\"x\";i:7;s:10:\"connection\";N;s:5:\"queue\";s:2:\"q1\";s:12:\"messageGroup\";N;s:12:\"deduplicator\";N;s:5:\"delay\";N;s:11:\"afterCommit\";N;s:10:\"middleware\";a:0:{}s:7:\"chained\";a:0:{}s:15:\"chainConnection\";N;s:10:\"chainQueue\";N;s:19:\"chainCatchCallbacks\";N;s:3:\"job\";N;s:7:\"batchId\";N;s:24:\"\0App\\Jobs\\NoSM\0fakeBatch\";N;}";

    /// Spec §5.3 chain head in a batch, regenerated with php 8.2 and a full UUID (the spec
    /// elides it as `7d6c…`; the nested length 107 matches the spec).
    const CHAIN_HEAD: &str = r#"O:16:"App\Jobs\Batched":5:{s:5:"title";s:2:"c1";s:5:"queue";s:7:"imports";s:7:"chained";a:1:{i:0;s:107:"O:16:"App\Jobs\Batched":2:{s:5:"title";s:2:"c2";s:7:"batchId";s:36:"7d6c9a51-1f0e-4a43-9c83-9d5f3a7f0b21";}";}s:10:"chainQueue";s:7:"imports";s:7:"batchId";s:36:"7d6c9a51-1f0e-4a43-9c83-9d5f3a7f0b21";}"#;

    /// Spec §5.3 / php 8.2: enum, DateTimeImmutable, float, self-reference.
    const J: &str = r#"O:1:"J":4:{s:1:"s";E:3:"S:A";s:1:"d";O:17:"DateTimeImmutable":3:{s:4:"date";s:26:"2026-01-01 00:00:00.000000";s:13:"timezone_type";i:3;s:8:"timezone";s:3:"UTC";}s:1:"f";d:1.5;s:1:"o";r:1;}"#;

    /// Spec §5.3 collection ModelIdentifier, wrapped in an array.
    const USERS: &str = r#"a:1:{s:5:"users";O:45:"Illuminate\Contracts\Database\ModelIdentifier":5:{s:5:"class";s:15:"App\Models\User";s:2:"id";a:2:{i:0;i:1;i:1;i:2;}s:9:"relations";a:0:{}s:10:"connection";s:7:"default";s:15:"collectionClass";N;}}"#;

    /// php 8.2: `class Bar extends Foo` where both declare `private $priv`.
    const BAR: &[u8] = b"O:3:\"Bar\":5:{s:3:\"pub\";i:1;s:7:\"\0*\0prot\";i:2;s:9:\"\0Foo\0priv\";i:3;s:9:\"\0Bar\0priv\";s:3:\"bar\";s:1:\"z\";N;}";

    fn un(input: impl AsRef<[u8]>) -> PhpValue {
        let input = input.as_ref();
        unserialize(input).unwrap_or_else(|e| panic!("{e} in {:?}", input.escape_ascii().to_string()))
    }

    fn err(input: impl AsRef<[u8]>) -> PhpError {
        let input = input.as_ref();
        match unserialize(input) {
            Ok(v) => panic!("expected an error for {:?}, got {v:?}", input.escape_ascii().to_string()),
            Err(e) => e,
        }
    }

    /// Parses and checks that writing gives back exactly the same bytes.
    fn round_trip(input: impl AsRef<[u8]>) -> PhpValue {
        let input = input.as_ref();
        let v = un(input);
        assert_eq!(serialize(&v).escape_ascii().to_string(), input.escape_ascii().to_string());
        v
    }

    fn s(x: &str) -> PhpValue {
        PhpValue::String(x.as_bytes().to_vec())
    }

    fn skey(x: &str) -> ArrayKey {
        ArrayKey::String(x.as_bytes().to_vec())
    }

    fn list(items: Vec<PhpValue>) -> PhpValue {
        PhpValue::Array(items.into_iter().enumerate().map(|(i, v)| (ArrayKey::Int(i as i64), v)).collect())
    }

    #[test]
    fn process_podcast_from_the_payload_json() {
        let payload: serde_json::Value = serde_json::from_str(PODCAST_PAYLOAD).unwrap();
        let command = payload["data"]["command"].as_str().unwrap();
        assert_eq!(command.as_bytes(), PODCAST_COMMAND);
        let job = round_trip(command);

        assert_eq!(job.class_name(), Some("App\\Jobs\\ProcessPodcast"));
        let props = job.properties().unwrap();
        assert_eq!(props.len(), 4);
        assert_eq!(props[0].name, "user");
        assert_eq!(props[0].visibility, Visibility::Public);
        assert_eq!(props[2].name, "opts");
        assert_eq!(props[2].visibility, Visibility::Protected);
        assert_eq!(props[3].name, "n");
        assert_eq!(props[3].visibility, Visibility::Private { class: "App\\Jobs\\ProcessPodcast".into() });

        // 20 characters, 21 bytes.
        let title = job.property("title").unwrap().as_str().unwrap();
        assert_eq!(title, "Épisode 1 / \"quoted\"");
        assert_eq!(title.chars().count(), 20);
        assert_eq!(title.len(), 21);
        assert_eq!(job.property("opts").unwrap().property("a").unwrap().as_i64(), Some(1));
        assert_eq!(job.property("n").unwrap().as_i64(), Some(0));
        assert!(job.property("missing").is_none());

        let user = job.property("user").unwrap();
        assert_eq!(user.class_name(), Some(MODEL_IDENTIFIER_CLASS));
        let mi = user.model_identifier().unwrap();
        assert_eq!(
            mi,
            ModelIdentifier {
                class: "App\\Models\\User".into(),
                id: PhpValue::Int(1),
                connection: Some("default".into()),
                relations: vec![],
            }
        );
        assert!(!mi.is_collection());
        assert_eq!(mi.id.as_i64(), Some(1));
        assert!(user.property("collectionClass").unwrap().is_null());
        assert!(job.model_identifier().is_none());

        assert_eq!(
            job.to_json(),
            serde_json::json!({
                "@class": "App\\Jobs\\ProcessPodcast",
                "user": {
                    "@class": MODEL_IDENTIFIER_CLASS,
                    "class": "App\\Models\\User", "id": 1, "relations": [],
                    "connection": "default", "collectionClass": null
                },
                "title": "Épisode 1 / \"quoted\"",
                "opts": {"a": 1},
                "n": 0
            })
        );
    }

    #[test]
    fn nosm_private_trait_property() {
        let job = round_trip(NOSM);
        assert_eq!(job.class_name(), Some("App\\Jobs\\NoSM"));
        let props = job.properties().unwrap();
        assert_eq!(props.len(), 16);
        let last = props.last().unwrap();
        assert_eq!(last.name, "fakeBatch");
        assert_eq!(last.visibility, Visibility::Private { class: "App\\Jobs\\NoSM".into() });
        assert_eq!(last.mangled_name(), b"\0App\\Jobs\\NoSM\0fakeBatch");
        assert_eq!(job.property("tries").unwrap().as_i64(), Some(5));
        assert_eq!(job.property("queue").unwrap().as_str(), Some("q1"));
        assert_eq!(job.property("middleware"), Some(&PhpValue::Array(vec![])));
        assert!(job.property("batchId").unwrap().is_null());
        assert!(job.property("fakeBatch").unwrap().is_null());
    }

    #[test]
    fn chain_head_with_nested_serialized_job() {
        let head = round_trip(CHAIN_HEAD);
        let uuid = "7d6c9a51-1f0e-4a43-9c83-9d5f3a7f0b21";
        assert_eq!(head.property("batchId").unwrap().as_str(), Some(uuid));
        assert_eq!(head.property("chainQueue").unwrap().as_str(), Some("imports"));
        let chained = head.property("chained").unwrap().as_array().unwrap();
        assert_eq!(chained.len(), 1);
        assert_eq!(chained[0].0, ArrayKey::Int(0));
        let link_bytes = chained[0].1.as_bytes().unwrap();
        assert_eq!(link_bytes.len(), 107);
        let link = round_trip(link_bytes);
        assert_eq!(link.class_name(), Some("App\\Jobs\\Batched"));
        assert_eq!(link.property("title").unwrap().as_str(), Some("c2"));
        assert_eq!(link.property("batchId").unwrap().as_str(), Some(uuid));
        // Rebuilding the link with the helper gives PHP's bytes.
        let rebuilt = object("App\\Jobs\\Batched", vec![("title".into(), s("c2")), ("batchId".into(), s(uuid))]);
        assert_eq!(serialize(&rebuilt), link_bytes);
    }

    #[test]
    fn enum_datetime_float_and_self_reference() {
        let j = round_trip(J);
        assert_eq!(j.class_name(), Some("J"));
        assert_eq!(j.property("s"), Some(&PhpValue::Enum { class: "S".into(), case: "A".into() }));
        assert_eq!(j.property("s").unwrap().class_name(), Some("S"));
        let d = j.property("d").unwrap();
        assert_eq!(d.class_name(), Some("DateTimeImmutable"));
        assert_eq!(d.property("date").unwrap().as_str(), Some("2026-01-01 00:00:00.000000"));
        assert_eq!(d.property("timezone_type").unwrap().as_i64(), Some(3));
        assert_eq!(j.property("f"), Some(&PhpValue::Float(1.5)));
        // `$j->o = $j`: a cycle, kept as a reference to slot 1.
        assert_eq!(j.property("o"), Some(&PhpValue::Reference(1)));
        assert_eq!(j.to_json()["s"], "S::A");
        assert_eq!(j.to_json()["o"], serde_json::json!({"@ref": 1}));
        // Backed enums serialize by case name too.
        assert_eq!(
            round_trip(r#"E:11:"Suit:Hearts";"#),
            PhpValue::Enum { class: "Suit".into(), case: "Hearts".into() }
        );
    }

    #[test]
    fn model_identifier_collection() {
        let v = round_trip(USERS);
        let mi = v.property("users").unwrap().model_identifier().unwrap();
        assert_eq!(mi.class, "App\\Models\\User");
        assert!(mi.is_collection());
        assert_eq!(mi.id, list(vec![PhpValue::Int(1), PhpValue::Int(2)]));
        let ids: Vec<i64> = mi.id.as_array().unwrap().iter().filter_map(|(_, v)| v.as_i64()).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(mi.connection.as_deref(), Some("default"));

        // String keys, loaded relations, null connection.
        let with_rel = object(
            MODEL_IDENTIFIER_CLASS,
            vec![
                ("class".into(), s("App\\Models\\Cv")),
                ("id".into(), s("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d")),
                ("relations".into(), list(vec![s("user"), s("sections.items")])),
                ("connection".into(), PhpValue::Null),
                ("collectionClass".into(), PhpValue::Null),
            ],
        );
        let mi = un(serialize(&with_rel)).model_identifier().unwrap();
        assert_eq!(mi.id.as_str(), Some("9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"));
        assert_eq!(mi.id.as_i64(), None);
        assert_eq!(mi.relations, ["user", "sections.items"]);
        assert_eq!(mi.connection, None);
        // A ModelIdentifier without the fields is not one.
        assert!(object(MODEL_IDENTIFIER_CLASS, vec![]).model_identifier().is_none());
    }

    #[test]
    fn private_properties_of_parent_and_child() {
        let bar = round_trip(BAR);
        let props = bar.properties().unwrap();
        assert_eq!(props[2].visibility, Visibility::Private { class: "Foo".into() });
        assert_eq!(props[3].visibility, Visibility::Private { class: "Bar".into() });
        // Both are called `priv`; the lookup returns the last.
        assert_eq!(bar.property("priv").unwrap().as_str(), Some("bar"));
        assert_eq!(bar.property("prot").unwrap().as_i64(), Some(2));
    }

    #[test]
    fn scalars() {
        assert_eq!(round_trip("N;"), PhpValue::Null);
        assert_eq!(round_trip("b:0;"), PhpValue::Bool(false));
        assert_eq!(round_trip("b:1;").as_bool(), Some(true));
        assert_eq!(round_trip("i:0;"), PhpValue::Int(0));
        assert_eq!(round_trip("i:-42;"), PhpValue::Int(-42));
        assert_eq!(round_trip("i:9223372036854775807;"), PhpValue::Int(i64::MAX));
        assert_eq!(round_trip("i:-9223372036854775808;"), PhpValue::Int(i64::MIN));
        assert_eq!(un("i:+5;"), PhpValue::Int(5));
        assert_eq!(un("i:-0;"), PhpValue::Int(0));
        assert_eq!(un("i:007;"), PhpValue::Int(7));
        assert_eq!(round_trip("s:0:\"\";"), s(""));
        assert_eq!(un("s:03:\"abc\";"), s("abc"));
        // Legacy escaped strings are read.
        assert_eq!(un(r#"S:3:"a\41b";"#), s("aAb"));
        assert_eq!(un(r#"S:2:"\ff\0A";"#), PhpValue::String(vec![0xff, 0x0a]));
    }

    #[test]
    fn strings_are_bytes() {
        // Quotes, semicolons and braces inside are literal; NUL and non-UTF-8 are fine.
        let v = round_trip(b"a:6:{i:0;s:3:\"a\"b\";i:1;s:3:\";}{\";i:2;s:8:\"nul\0byte\";i:3;s:2:\"\xff\xfe\";i:4;s:5:\"s:1:\"\";i:5;s:0:\"\";}");
        let items = v.as_array().unwrap();
        assert_eq!(items[0].1.as_str(), Some("a\"b"));
        assert_eq!(items[1].1.as_str(), Some(";}{"));
        assert_eq!(items[2].1.as_bytes(), Some(&b"nul\0byte"[..]));
        assert_eq!(items[3].1.as_bytes(), Some(&[0xff, 0xfe][..]));
        assert_eq!(items[3].1.as_str(), None);
        assert_eq!(items[3].1.to_json(), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn utf8_lengths_are_bytes() {
        // From php 8.2: serialize(["Épisode", "日本語", "😀"]) and a UTF-8 key.
        let php = "a:4:{i:0;s:8:\"Épisode\";i:1;s:9:\"日本語\";i:2;s:4:\"😀\";s:3:\"ké\";s:2:\"é\";}";
        let v = round_trip(php);
        assert_eq!(v.as_array().unwrap()[1].1.as_str(), Some("日本語"));
        assert_eq!(v.property("ké").unwrap().as_str(), Some("é"));
        let built = PhpValue::Array(vec![
            (ArrayKey::Int(0), s("Épisode")),
            (ArrayKey::Int(1), s("日本語")),
            (ArrayKey::Int(2), s("😀")),
            (skey("ké"), s("é")),
        ]);
        assert_eq!(serialize(&built), php.as_bytes());
        // A character count instead of a byte count is an error, not a silent misread.
        let e = err("s:7:\"Épisode\";");
        assert_eq!(e.to_string(), "invalid PHP serialization at byte 12: expected '\"', found 'e'");
    }

    #[test]
    fn arrays() {
        let v = round_trip(r#"a:4:{i:1;s:1:"a";i:-5;s:1:"b";s:1:"x";s:1:"c";s:0:"";s:1:"d";}"#);
        assert_eq!(
            v,
            PhpValue::Array(vec![
                (ArrayKey::Int(1), s("a")),
                (ArrayKey::Int(-5), s("b")),
                (skey("x"), s("c")),
                (skey(""), s("d")),
            ])
        );
        assert_eq!(v.property("1").unwrap().as_str(), Some("a"));
        assert_eq!(v.property("-5").unwrap().as_str(), Some("b"));
        assert_eq!(v.property("x").unwrap().as_str(), Some("c"));
        assert_eq!(v.property("01"), None);
        assert_eq!(round_trip("a:0:{}"), PhpValue::Array(vec![]));
        // Nested, and a numeric-string key stays as written.
        let v = round_trip(r#"a:2:{s:1:"5";a:1:{i:0;a:0:{}}i:6;b:1;}"#);
        assert_eq!(v.as_array().unwrap()[0].0, skey("5"));
        assert_eq!(v.property("5").unwrap(), &list(vec![PhpValue::Array(vec![])]));
        // Duplicate keys are kept; lookup returns the last (PHP overwrites).
        let v = round_trip(r#"a:2:{s:1:"a";i:1;s:1:"a";i:2;}"#);
        assert_eq!(v.property("a"), Some(&PhpValue::Int(2)));
    }

    #[test]
    fn object_property_keys() {
        // Integer keys (ArrayObject's __serialize data) become public numeric names;
        // PHP reads `s:1:"0"` the same way.
        let v = un(r#"O:11:"ArrayObject":4:{i:0;i:0;i:1;a:2:{i:0;i:1;i:1;i:2;}i:2;a:0:{}i:3;N;}"#);
        assert_eq!(v.property("1"), Some(&list(vec![PhpValue::Int(1), PhpValue::Int(2)])));
        assert_eq!(
            serialize(&v),
            br#"O:11:"ArrayObject":4:{s:1:"0";i:0;s:1:"1";a:2:{i:0;i:1;i:1;i:2;}s:1:"2";a:0:{}s:1:"3";N;}"#
        );
        // Malformed manglings stay raw public names (PHP: "Corrupt member variable name").
        for raw in [&b"\0*\0"[..], b"\0", b"\0A\0", b"\0Ab", b"\0\0x"] {
            let (name, vis) = demangle_property_name(raw);
            assert_eq!((name.as_bytes(), vis), (raw, Visibility::Public));
        }
        assert_eq!(demangle_property_name(b"\0*\0x"), ("x".into(), Visibility::Protected));
        assert_eq!(demangle_property_name(b"\0A\0b\0c"), ("b\0c".into(), Visibility::Private { class: "A".into() }));
        let v = round_trip(b"O:8:\"stdClass\":1:{s:3:\"\0*\0\";i:1;}");
        assert_eq!(v.property("\0*\0"), Some(&PhpValue::Int(1)));
        // Custom (C:) payloads are opaque.
        let c = round_trip(r#"a:2:{i:0;C:3:"Ser":5:{a;b}}}i:1;C:11:"ArrayObject":0:{}}"#);
        assert_eq!(c.as_array().unwrap()[0].1, PhpValue::Custom { class: "Ser".into(), data: b"a;b}}".to_vec() });
        assert_eq!(c.as_array().unwrap()[1].1.class_name(), Some("ArrayObject"));
    }

    /// `d:` values exactly as php 8.2 prints them (serialize_precision = -1).
    const PHP_FLOATS: &[(f64, &str)] = &[
        (0.1, "0.1"),
        (1e25, "1.0E+25"),
        (-0.0, "-0"),
        (0.0, "0"),
        (1.5, "1.5"),
        (100.0, "100"),
        (-2.5, "-2.5"),
        (1e15, "1000000000000000"),
        (1e16, "10000000000000000"),
        (1e17, "1.0E+17"),
        (123456789012345678.0, "1.2345678901234568E+17"),
        (1.5e-7, "1.5E-7"),
        (-1.5e-7, "-1.5E-7"),
        (0.0001, "0.0001"),
        (0.00001, "1.0E-5"),
        (1e100, "1.0E+100"),
        (5e-324, "5.0E-324"),
        (f64::MAX, "1.7976931348623157E+308"),
        (0.30000000000000004, "0.30000000000000004"),
        (1.0 / 3.0, "0.3333333333333333"),
        (12345.678, "12345.678"),
        (9.223372036854776e18, "9.223372036854776E+18"),
        // Ties between two shortest candidates go to the even digit, like zend_dtoa.
        // (exactly 1658206780088562.25 and 233115890514796.125; Rust's `{:e}` and clippy
        // round these up)
        (f64::from_bits(0x4317_9085_685d_83c9), "1658206780088562.2"),
        (f64::from_bits(0x42ea_8090_bb0f_6d84), "233115890514796.12"),
        (f64::INFINITY, "INF"),
        (f64::NEG_INFINITY, "-INF"),
    ];

    #[test]
    fn floats_match_php() {
        for &(f, text) in PHP_FLOATS {
            assert_eq!(format_float(f), text, "{f:e}");
            let token = format!("d:{text};");
            assert_eq!(serialize(&PhpValue::Float(f)), token.as_bytes());
            let back = un(&token);
            let PhpValue::Float(g) = back else { panic!("{back:?}") };
            assert_eq!(g.to_bits(), f.to_bits(), "{token}");
        }
        assert_eq!(serialize(&PhpValue::Float(f64::NAN)), b"d:NAN;");
        assert!(matches!(un("d:NAN;"), PhpValue::Float(f) if f.is_nan()));
        // Other spellings PHP accepts.
        for (text, want) in [
            ("1.", 1.0),
            (".5", 0.5),
            ("+1.5", 1.5),
            ("1e5", 1e5),
            ("1.e5", 1e5),
            ("1E+5", 1e5),
            ("-.5e-3", -0.0005),
            ("007", 7.0),
            ("5", 5.0),
            ("1e999", f64::INFINITY),
        ] {
            assert_eq!(un(format!("d:{text};")), PhpValue::Float(want), "{text}");
        }
        for bad in ["+INF", "-NAN", "inf", "1e", ".", "1e+", "--1", "1.2.3", "1e5e5", "INFNAN", "NA", "-NAN", ""] {
            let e = err(format!("d:{bad};"));
            assert!(matches!(e, PhpError::Invalid { offset: 2, .. }), "{bad}: {e}");
        }
        assert_eq!(err("d:0x1A;").to_string(), "invalid PHP serialization at byte 3: unexpected 'x' in a float");
    }

    // ---- back-references (vectors from php 8.2) ----

    #[test]
    fn shared_objects_are_copied() {
        // $x = new stdClass; serialize([$x, $x, 1, $x])
        let v = un(r#"a:4:{i:0;O:8:"stdClass":0:{}i:1;r:2;i:2;i:1;i:3;r:2;}"#);
        let empty = object("stdClass", vec![]);
        assert_eq!(v, list(vec![empty.clone(), empty.clone(), PhpValue::Int(1), empty]));
        // The same enum case twice is also written as r: by PHP.
        let v = un(r#"a:3:{i:0;E:3:"S:A";i:1;r:2;i:2;r:2;}"#);
        let a = PhpValue::Enum { class: "S".into(), case: "A".into() };
        assert_eq!(v, list(vec![a.clone(), a.clone(), a]));
    }

    #[test]
    fn reference_numbering_counts_every_value_but_not_keys_or_capital_r() {
        // $s = "str"; serialize([1, [2, 3], &$s, &$s, $x, $x]): slots 1 root, 2 i:1,
        // 3 inner array, 4 i:2, 5 i:3, 6 "str"; R:6 takes no slot; 7 the object; r:7.
        let v = un(r#"a:6:{i:0;i:1;i:1;a:2:{i:0;i:2;i:1;i:3;}i:2;s:3:"str";i:3;R:6;i:4;O:8:"stdClass":0:{}i:5;r:7;}"#);
        let items = v.as_array().unwrap();
        assert_eq!(items[3].1, s("str"));
        assert_eq!(items[5].1, object("stdClass", vec![]));
        // r: tokens do take a slot: [$o, $o, $p, $p] → r:2, then $p is slot 4, not 3.
        let v = un(r#"a:4:{i:0;O:1:"A":0:{}i:1;r:2;i:2;O:1:"B":0:{}i:3;r:4;}"#);
        assert_eq!(v.as_array().unwrap()[3].1.class_name(), Some("B"));
        // ... and R: tokens do not: slot 3 is the r: itself, which PHP rejects.
        let e = err(r#"a:3:{i:0;i:7;i:1;R:2;i:2;r:3;}"#);
        assert_eq!(e.to_string(), "invalid PHP serialization at byte 25: back-reference r:3 points at itself");
        let e = err(r#"a:3:{i:0;i:7;i:1;R:2;i:2;r:4;}"#);
        assert_eq!(
            e.to_string(),
            "invalid PHP serialization at byte 25: back-reference r:4 to a value that does not exist (values so far: 3)"
        );
        // Keys never count: a key's value is the next slot.
        assert_eq!(
            un(r#"a:2:{s:1:"k";i:5;s:1:"l";R:2;}"#),
            PhpValue::Array(vec![(skey("k"), PhpValue::Int(5)), (skey("l"), PhpValue::Int(5))])
        );
    }

    #[test]
    fn cycles_stay_references() {
        // $o->self = $o
        let v = round_trip(r#"O:8:"stdClass":1:{s:4:"self";r:1;}"#);
        assert_eq!(v.property("self"), Some(&PhpValue::Reference(1)));
        // $a = []; $a[0] = &$a; serialize($a)
        let v = round_trip(r#"a:1:{i:0;a:1:{i:0;R:2;}}"#);
        assert_eq!(v, list(vec![list(vec![PhpValue::Reference(2)])]));
        // R: to the enclosing object is accepted too (written back as r:).
        let v = un(r#"O:8:"stdClass":1:{s:1:"a";R:1;}"#);
        assert_eq!(v.property("a"), Some(&PhpValue::Reference(1)));
        // PHP rejects r: (not R:) to an array that is still open.
        let e = err(r#"a:1:{i:0;r:1;}"#);
        assert_eq!(
            e.to_string(),
            "invalid PHP serialization at byte 9: back-reference r:1 to an enclosing array (PHP only allows R: there)"
        );
        assert!(matches!(err("r:1;"), PhpError::Invalid { offset: 0, .. }));
        assert!(matches!(err("a:1:{i:0;r:0;}"), PhpError::Invalid { offset: 9, .. }));
        // Copying an `r:` that was itself a cycle keeps the cycle.
        let v = un(r#"O:8:"stdClass":2:{s:1:"a";r:1;s:1:"b";r:2;}"#);
        assert_eq!(v.property("b"), Some(&PhpValue::Reference(1)));
    }

    #[test]
    fn cycle_numbers_follow_the_output_after_copies() {
        // php: $x->v = [1,2,3]; $o->self = $o; serialize(['x'=>$x, 'y'=>$x, 'z'=>$o]).
        // `y` becomes a full copy (5 slots instead of 1), so `z` moves from slot 8 to 12.
        let v = un(
            r#"a:3:{s:1:"x";O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}s:1:"y";r:2;s:1:"z";O:8:"stdClass":1:{s:4:"self";r:8;}}"#,
        );
        assert_eq!(v.property("x"), v.property("y"));
        assert_eq!(v.property("z").unwrap().property("self"), Some(&PhpValue::Reference(12)));
        // What php 8.2 writes for the same shape with two distinct objects:
        assert_eq!(
            serialize(&v),
            br#"a:3:{s:1:"x";O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}s:1:"y";O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}s:1:"z";O:8:"stdClass":1:{s:4:"self";r:12;}}"#
        );
        // Same with an array cycle: $a['me'] = &$a; serialize([$x, $x, &$a]).
        let v = un(
            r#"a:3:{i:0;O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}i:1;r:2;i:2;a:2:{s:1:"k";i:1;s:2:"me";R:8;}}"#,
        );
        assert_eq!(
            serialize(&v),
            br#"a:3:{i:0;O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}i:1;O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}i:2;a:2:{s:1:"k";i:1;s:2:"me";R:12;}}"#
        );
        // Our own output parses back to the same tree.
        assert_eq!(un(serialize(&v)), v);
    }

    #[test]
    fn writer_numbers_references_like_php() {
        // A cycle to an array is written R: (no slot), to an object r: (takes a slot).
        let v = list(vec![
            list(vec![PhpValue::Reference(2)]),
            object("O", vec![("me".into(), PhpValue::Reference(3))]),
            object("P", vec![("x".into(), PhpValue::Reference(5))]),
        ]);
        assert_eq!(
            serialize(&v),
            br#"a:3:{i:0;a:1:{i:0;R:2;}i:1;O:1:"O":1:{s:2:"me";r:3;}i:2;O:1:"P":1:{s:1:"x";r:5;}}"#
        );
        assert_eq!(un(serialize(&v)), v);
    }

    // ---- errors ----

    #[test]
    fn error_messages_name_the_byte_offset() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "truncated PHP serialization at byte 0: expected a value"),
            (b"x", "invalid PHP serialization at byte 0: unknown type 'x'"),
            (b"a:1:{i:0;x", "invalid PHP serialization at byte 9: unknown type 'x'"),
            (b"a:1:{i:0;\0", "invalid PHP serialization at byte 9: unknown type '\\x00'"),
            (b"i:12", "truncated PHP serialization at byte 4: expected ';'"),
            (b"i:12x", "invalid PHP serialization at byte 4: expected ';', found 'x'"),
            (b"i:", "truncated PHP serialization at byte 2: expected digits of an integer"),
            (b"i:99999999999999999999;", "invalid PHP serialization at byte 2: integer out of 64-bit range"),
            (b"i:9223372036854775808;", "invalid PHP serialization at byte 2: integer out of 64-bit range"),
            (b"b:2;", "invalid PHP serialization at byte 2: expected '0' or '1', found '2'"),
            (b"N;;", "invalid PHP serialization at byte 2: unexpected trailing data ';' after the value"),
            (
                b"s:9:\"abc\";",
                "truncated PHP serialization at byte 10: expected 9-byte string starting at byte 5 (4 bytes missing)",
            ),
            (b"s:5:\"abc\";", "truncated PHP serialization at byte 10: expected '\"'"),
            (b"s:5:\"abc\";xx", "invalid PHP serialization at byte 10: expected '\"', found 'x'"),
            (b"s:-1:\"\";", "invalid PHP serialization at byte 2: expected digits of string length, found '-'"),
            (b"s:99999999999999999999999:\"", "invalid PHP serialization at byte 2: string length is too large"),
            (
                b"a:2:{i:0;N;}",
                "invalid PHP serialization at byte 11: array key must be an integer or a string, found type '}'",
            ),
            (
                b"a:1:{N;i:1;}",
                "invalid PHP serialization at byte 5: array key must be an integer or a string, found type 'N'",
            ),
            (b"a:1:{i:0;N;", "truncated PHP serialization at byte 11: expected '}'"),
            (b"a:0:{}}", "invalid PHP serialization at byte 6: unexpected trailing data '}' after the value"),
            (b"O:3:\"a-b\":0:{}", "invalid PHP serialization at byte 1: invalid class name \"a-b\""),
            (b"O:4:\"\\Foo\":0:{}", "invalid PHP serialization at byte 1: invalid class name \"\\\\Foo\""),
            (b"O:0:\"\":0:{}", "invalid PHP serialization at byte 1: invalid class name \"\""),
            (
                b"O:1:\"A\":1:{d:1;N;}",
                "invalid PHP serialization at byte 11: property name must be an integer or a string, found type 'd'",
            ),
            (b"E:2:\"SA\";", "invalid PHP serialization at byte 1: invalid enum name \"SA\" (expected \"Class:Case\")"),
            (
                b"E:4:\"S::A\";",
                "invalid PHP serialization at byte 1: invalid enum name \"S::A\" (expected \"Class:Case\")",
            ),
            (
                b"C:1:\"A\":5:{ab}",
                "truncated PHP serialization at byte 14: expected 5-byte custom object data starting at byte 11 (2 bytes missing)",
            ),
            (b"o:8:\"stdClass\":0:{}", "invalid PHP serialization at byte 0: unknown type 'o'"),
            (b"S:1:\"\\4x\";", "invalid PHP serialization at byte 5: expected two hex digits after '\\'"),
        ];
        for (input, want) in cases {
            assert_eq!(err(input).to_string(), *want, "{}", input.escape_ascii());
        }
        let e = err(&PODCAST_COMMAND[..57]);
        assert_eq!(e.offset(), 57);
        assert!(matches!(e, PhpError::Truncated { .. }), "{e}");
    }

    #[test]
    fn declared_counts_do_not_allocate() {
        // Fails at once at the end of the input, without reserving 10^9 entries.
        for input in ["a:999999999:{", "O:1:\"A\":999999999:{", "a:18446744073709551615:{i:0;N;"] {
            assert!(matches!(err(input), PhpError::Truncated { .. }), "{input}");
        }
        assert!(matches!(err("s:18446744073709551615:\"x\";"), PhpError::Truncated { .. }));
        assert!(matches!(err("C:1:\"A\":18446744073709551615:{}"), PhpError::Truncated { .. }));
        assert!(matches!(err("a:18446744073709551616:{"), PhpError::Invalid { .. }));
    }

    fn nested(levels: usize) -> String {
        format!("{}N;{}", "a:1:{i:0;".repeat(levels), "}".repeat(levels))
    }

    #[test]
    fn nesting_depth_is_limited() {
        let ok = un(nested(MAX_DEPTH));
        assert_eq!(serialize(&ok), nested(MAX_DEPTH).as_bytes());
        let e = err(nested(MAX_DEPTH + 1));
        assert_eq!(e, PhpError::TooDeep { offset: 9 * MAX_DEPTH, limit: MAX_DEPTH });
        // Far deeper input: an error, not a stack overflow.
        assert!(matches!(err(nested(200_000)), PhpError::TooDeep { .. }));
        assert!(matches!(err("O:1:\"A\":1:{s:1:\"a\";".repeat(100_000)), PhpError::TooDeep { .. }));
        // Copies cannot exceed the limit either: a 400-deep array referenced 400 levels down.
        let deep = nested(400);
        let input = format!("a:2:{{i:0;{deep}i:1;{}r:2;{}}}", "a:1:{i:0;".repeat(400), "}".repeat(400));
        assert!(matches!(err(input), PhpError::TooDeep { .. }));
    }

    #[test]
    fn reference_bombs_are_capped() {
        // Level k is an array of two r: to level k-1: 2^60 copies of a 1000-byte string.
        let mut input = format!("a:61:{{i:0;s:1000:\"{}\";", "x".repeat(1000));
        for k in 1..=60 {
            let target = if k == 1 { 2 } else { 3 * (k - 1) };
            input.push_str(&format!("i:{k};a:2:{{i:0;r:{target};i:1;r:{target};}}"));
        }
        input.push('}');
        let started = std::time::Instant::now();
        let e = err(&input);
        assert!(matches!(e, PhpError::TooLarge { .. }), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // A handful of ordinary copies is fine.
        let ok = un(format!("a:3:{{i:0;s:1000:\"{}\";i:1;r:2;i:2;r:2;}}", "x".repeat(1000)));
        assert_eq!(ok.as_array().unwrap().len(), 3);
        // A long chain of r: to r: does not recurse.
        let mut chain = String::from("a:100001:{i:0;O:1:\"A\":0:{}");
        for i in 1..=100_000 {
            chain.push_str(&format!("i:{i};r:{};", i + 1));
        }
        chain.push('}');
        let v = un(&chain);
        assert_eq!(v.as_array().unwrap()[100_000].1, object("A", vec![]));
    }

    // ---- never panic ----

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn corpus() -> Vec<Vec<u8>> {
        vec![
            PODCAST_COMMAND.to_vec(),
            NOSM.to_vec(),
            CHAIN_HEAD.as_bytes().to_vec(),
            J.as_bytes().to_vec(),
            USERS.as_bytes().to_vec(),
            BAR.to_vec(),
            br#"a:6:{i:0;i:1;i:1;a:2:{i:0;i:2;i:1;i:3;}i:2;s:3:"str";i:3;R:6;i:4;O:8:"stdClass":0:{}i:5;r:7;}"#.to_vec(),
            br#"a:3:{s:1:"x";O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}s:1:"y";r:2;s:1:"z";O:8:"stdClass":1:{s:4:"self";r:8;}}"#.to_vec(),
            br#"a:5:{i:0;d:1.0E+25;i:1;d:-INF;i:2;S:3:"a\41b";i:3;C:3:"Ser":3:{abc}i:4;b:1;}"#.to_vec(),
        ]
    }

    /// Parses; if that succeeds, writing and re-reading must not panic either.
    fn exercise(input: &[u8]) -> Result<PhpValue, PhpError> {
        let r = unserialize(input);
        if let Ok(v) = &r {
            let out = serialize(v);
            let _ = v.to_json();
            let _ = unserialize(&out);
        }
        r
    }

    #[test]
    fn every_prefix_of_real_payloads_is_truncated() {
        for payload in corpus() {
            round_trip_or_expanded(&payload);
            for n in 0..payload.len() {
                match exercise(&payload[..n]) {
                    Err(PhpError::Truncated { offset, .. }) => assert_eq!(offset, n),
                    other => panic!("prefix {n} of {}: {other:?}", payload.escape_ascii()),
                }
            }
        }
    }

    fn round_trip_or_expanded(payload: &[u8]) {
        let v = un(payload);
        let out = serialize(&v);
        if !payload.windows(2).any(|w| w == b"r:" || w == b"R:" || w == b"S:") {
            assert_eq!(out, payload);
        }
        assert_eq!(serialize(&un(&out)), out);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let alphabet = b"aOsSiIdbNrRECo:;{}\"\\0123456789-+.eEINFAxyz\0\xff";
        for i in 0..100_000 {
            let len = rng.below(if i % 10 == 0 { 200 } else { 40 });
            let bytes: Vec<u8> = (0..len)
                .map(|_| if rng.below(8) == 0 { rng.next() as u8 } else { alphabet[rng.below(alphabet.len())] })
                .collect();
            let _ = exercise(&bytes);
        }
    }

    #[test]
    fn mutated_payloads_never_panic() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let corpus = corpus();
        let splice = [&b"r:1;"[..], b"R:2;", b"a:1:{", b"}", b"s:", b";", b"i:-", b"E:3:\"S:A\";", b"9999", b"\0"];
        let mut parsed = 0;
        for _ in 0..30_000 {
            let mut input = corpus[rng.below(corpus.len())].clone();
            for _ in 0..=rng.below(3) {
                let at = rng.below(input.len() + 1);
                match rng.below(4) {
                    0 if at < input.len() => input[at] = rng.next() as u8,
                    1 if at < input.len() => {
                        input.remove(at);
                    }
                    2 => {
                        let piece = splice[rng.below(splice.len())];
                        input.splice(at..at, piece.iter().copied());
                    }
                    _ => {
                        if at < input.len() {
                            input[at] = input[at].wrapping_add(1);
                        }
                    }
                }
            }
            if exercise(&input).is_ok() {
                parsed += 1;
            }
        }
        // Most mutations of a string's content still parse; make sure we exercised both paths.
        assert!(parsed > 100, "{parsed}");
    }

    // ---- helpers ----

    #[test]
    fn accessors() {
        assert_eq!(s("42").as_i64(), Some(42));
        assert_eq!(s("-7").as_i64(), Some(-7));
        for bad in ["", "-", "4 2", " 42", "4.2", "+4", "99999999999999999999", "abc"] {
            assert_eq!(s(bad).as_i64(), None, "{bad}");
        }
        assert_eq!(PhpValue::Float(1.0).as_i64(), None);
        assert_eq!(PhpValue::Int(3).as_f64(), Some(3.0));
        assert_eq!(PhpValue::Int(1).as_bool(), None);
        assert_eq!(PhpValue::Int(1).as_str(), None);
        assert!(PhpValue::Null.is_null());
        assert!(!PhpValue::Bool(false).is_null());
        assert_eq!(PhpValue::Int(1).class_name(), None);
        assert_eq!(PhpValue::Int(1).property("x"), None);
        assert_eq!(PhpValue::Custom { class: "C".into(), data: vec![] }.class_name(), Some("C"));
        let p = Property { name: "opts".into(), visibility: Visibility::Protected, value: PhpValue::Null };
        assert_eq!(p.mangled_name(), b"\0*\0opts");
    }

    #[test]
    fn object_helper_writes_what_enqueue_needs() {
        let cmd = object(
            "App\\Jobs\\RenderCv",
            vec![
                ("cvId".into(), PhpValue::Int(42)),
                ("locale".into(), s("fr")),
                ("options".into(), PhpValue::from_json(&serde_json::json!({"dpi": 300, "color": true}))),
            ],
        );
        assert_eq!(
            serialize(&cmd),
            br#"O:17:"App\Jobs\RenderCv":3:{s:4:"cvId";i:42;s:6:"locale";s:2:"fr";s:7:"options";a:2:{s:5:"color";b:1;s:3:"dpi";i:300;}}"#
        );
    }

    #[test]
    fn json_conversions() {
        let j = serde_json::json!({
            "5": "int key", "-3": 1, "05": 2, "-0": 3, "x": [1, 2.5, null, true, "s"],
            "big": 12345678901234567890u64, "f": 2.0,
            "9223372036854775807": 1, "9223372036854775808": 2, "": {}
        });
        let v = PhpValue::from_json(&j);
        let items = v.as_array().unwrap();
        let key = |k: &str| {
            items
                .iter()
                .find(|(key, _)| match key {
                    ArrayKey::String(s) => s == k.as_bytes(),
                    ArrayKey::Int(i) => i.to_string() == k,
                })
                .unwrap()
                .0
                .clone()
        };
        assert_eq!(key("5"), ArrayKey::Int(5));
        assert_eq!(key("-3"), ArrayKey::Int(-3));
        assert_eq!(key("05"), skey("05"));
        assert_eq!(key("-0"), skey("-0"));
        assert_eq!(key("9223372036854775807"), ArrayKey::Int(i64::MAX));
        assert_eq!(key("9223372036854775808"), skey("9223372036854775808"));
        assert_eq!(v.property("5").unwrap().as_str(), Some("int key"));
        assert_eq!(
            v.property("x").unwrap(),
            &list(vec![PhpValue::Int(1), PhpValue::Float(2.5), PhpValue::Null, PhpValue::Bool(true), s("s")])
        );
        assert_eq!(v.property("big"), Some(&PhpValue::Float(12345678901234567890.0)));
        assert_eq!(v.property("f"), Some(&PhpValue::Float(2.0)));
        assert_eq!(v.property(""), Some(&PhpValue::Array(vec![])));
        // What PHP writes for json_decode('[1, 2.0, 1e2, 12345678901234567890, -0.0, "x", null, true, {"a":{}}]', true):
        let j: serde_json::Value =
            serde_json::from_str(r#"[1, 2.0, 1e2, 12345678901234567890, -0.0, "x", null, true, {"a":{}}]"#).unwrap();
        assert_eq!(
            serialize(&PhpValue::from_json(&j)),
            br#"a:9:{i:0;i:1;i:1;d:2;i:2;d:100;i:3;d:1.2345678901234567E+19;i:4;d:-0;i:5;s:1:"x";i:6;N;i:7;b:1;i:8;a:1:{s:1:"a";a:0:{}}}"#
        );

        // to_json
        let v = un(r#"a:3:{i:0;d:INF;i:1;d:NAN;i:2;d:0.5;}"#);
        assert_eq!(v.to_json(), serde_json::json!(["INF", "NAN", 0.5]));
        let v = un(r#"a:2:{i:1;s:1:"a";i:0;s:1:"b";}"#);
        assert_eq!(v.to_json(), serde_json::json!({"1": "a", "0": "b"}));
        assert_eq!(un("a:0:{}").to_json(), serde_json::json!([]));
        assert_eq!(un(r#"C:3:"Ser":3:{abc}"#).to_json(), serde_json::json!({"@class": "Ser", "@data": "abc"}));
        // Round trip JSON → PHP → JSON for list/int-keyed data.
        let j = serde_json::json!({"a": [1, {"b": null}], "c": "d"});
        assert_eq!(PhpValue::from_json(&j).to_json(), j);
    }

    // ---- against the real php binary (skipped when php-cli is not installed) ----

    fn php_available() -> bool {
        std::process::Command::new("php").arg("-v").output().is_ok_and(|o| o.status.success())
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|c| format!("{c:02x}")).collect()
    }

    /// For each (PHP expression, our value): PHP must serialize the expression to exactly
    /// our bytes, and `var_export(unserialize(ours))` must equal `var_export(expression)`.
    #[test]
    fn php_cli_agrees() {
        if !php_available() {
            eprintln!("php not installed; skipping");
            return;
        }
        let foo = PhpValue::Object {
            class: "Foo".into(),
            properties: vec![
                Property::public("pub", s("a\"b;}")),
                Property {
                    name: "prot".into(),
                    visibility: Visibility::Protected,
                    value: list(vec![PhpValue::Float(0.1), PhpValue::Float(-0.0)]),
                },
                Property {
                    name: "priv".into(),
                    visibility: Visibility::Private { class: "Foo".into() },
                    value: PhpValue::Enum { class: "S".into(), case: "B".into() },
                },
            ],
        };
        let mut cases: Vec<(&str, PhpValue)> = vec![
            ("null", PhpValue::Null),
            (
                "[true, false, 0, -1, PHP_INT_MAX, PHP_INT_MIN]",
                list(vec![
                    PhpValue::Bool(true),
                    PhpValue::Bool(false),
                    PhpValue::Int(0),
                    PhpValue::Int(-1),
                    PhpValue::Int(i64::MAX),
                    PhpValue::Int(i64::MIN),
                ]),
            ),
            (
                "[INF, -INF, 1e25, 1.5e-7, 100.0, 1e16, 1e17, 0.00001, 0.0001, 5e-324]",
                list(
                    [f64::INFINITY, f64::NEG_INFINITY, 1e25, 1.5e-7, 100.0, 1e16, 1e17, 0.00001, 0.0001, 5e-324]
                        .into_iter()
                        .map(PhpValue::Float)
                        .collect(),
                ),
            ),
            (
                "[\"Épisode\", \"日本語\", \"😀\", \"nul\\0byte\", \"\\xff\\xfe\", 'ké' => 'é', 5 => 'x', -3 => 'y']",
                PhpValue::Array(vec![
                    (ArrayKey::Int(0), s("Épisode")),
                    (ArrayKey::Int(1), s("日本語")),
                    (ArrayKey::Int(2), s("😀")),
                    (ArrayKey::Int(3), s("nul\0byte")),
                    (ArrayKey::Int(4), PhpValue::String(vec![0xff, 0xfe])),
                    (skey("ké"), s("é")),
                    (ArrayKey::Int(5), s("x")),
                    (ArrayKey::Int(-3), s("y")),
                ]),
            ),
            ("Foo::make('a\"b;}', [0.1, -0.0], S::B)", foo),
            (
                "(object)['a' => (object)[], 'b' => [[[]]]]",
                object(
                    "stdClass",
                    vec![
                        ("a".into(), object("stdClass", vec![])),
                        ("b".into(), list(vec![list(vec![PhpValue::Array(vec![])])])),
                    ],
                ),
            ),
            (
                "(function () { $o = new stdClass; $o->self = $o; return ['x' => (object)['v' => [1, 2, 3]], 'y' => (object)['v' => [1, 2, 3]], 'z' => $o]; })()",
                un(
                    r#"a:3:{s:1:"x";O:8:"stdClass":1:{s:1:"v";a:3:{i:0;i:1;i:1;i:2;i:2;i:3;}}s:1:"y";r:2;s:1:"z";O:8:"stdClass":1:{s:4:"self";r:8;}}"#,
                ),
            ),
        ];
        // Random floats.
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let floats: Vec<f64> = (0..300)
            .map(|i| match i % 3 {
                0 => f64::from_bits(rng.next()),
                1 => (rng.next() % 100_000) as f64 * 10f64.powi(rng.below(40) as i32 - 20),
                _ => (rng.next() % 1_000_000) as f64 / 1000.0,
            })
            .filter(|f| f.is_finite())
            .collect();
        let float_expr = format!(
            "[{}]",
            floats
                .iter()
                .map(|f| format!("unpack('E', hex2bin('{}'))[1]", hex(&f.to_be_bytes())))
                .collect::<Vec<_>>()
                .join(", ")
        );
        cases.push((&float_expr, list(floats.into_iter().map(PhpValue::Float).collect())));

        let script = r#"<?php
enum S { case A; case B; }
class Foo { public $pub; protected $prot; private $priv;
  static function make($a, $b, $c) { $o = new self; $o->pub = $a; $o->prot = $b; $o->priv = $c; return $o; } }
$failed = 0;
while (($line = fgets(STDIN)) !== false) {
  [$expr, $ours] = explode("\t", rtrim($line, "\n"));
  $expr = hex2bin($expr); $ours = hex2bin($ours);
  $want = eval("return $expr;");
  $php = serialize($want);
  $back = unserialize($ours);
  if ($php !== $ours) { $failed++; echo "serialize differs for $expr\n php:  ", json_encode($php), "\n ours: ", json_encode($ours), "\n"; }
  elseif (@var_export($back, true) !== @var_export($want, true) || serialize($back) !== $ours) { $failed++; echo "unserialize differs for $expr\n"; }
}
echo $failed ? "FAILED\n" : "OK\n";
"#;
        let dir = std::env::temp_dir().join(format!("php-serialize-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script_path = dir.join("check.php");
        std::fs::write(&script_path, script).unwrap();
        let input: String =
            cases.iter().map(|(expr, v)| format!("{}\t{}\n", hex(expr.as_bytes()), hex(&serialize(v)))).collect();
        let mut child = std::process::Command::new("php")
            .arg(&script_path)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.ends_with("OK\n"), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }
}
