//! The CV document: a [JSON Resume](https://jsonresume.org/schema) 1.0 document.
//!
//! [`CvDocument::from_json`] reads a `serde_json::Value` in one pass and either returns the
//! typed model or a [`DocumentError`] that lists *every* problem with its JSON path
//! (`work[2].startDate: expected a string, found a number`), so a user can fix a document in
//! one go rather than one error per attempt.
//!
//! The rules, from the contract (`cv-jobs.md`):
//! - every section and field is optional; `null` counts as absent;
//! - a field that is present must have the schema's type (strings are strings, lists are
//!   lists), otherwise the document is invalid;
//! - unknown fields are kept (in each object's `extra` map) and ignored by the renderer;
//! - dates are ISO 8601 prefixes (`2021`, `2021-04`, `2021-04-12`); a missing `endDate`
//!   means "Present". A date string that is not such a prefix is not an error: it is shown
//!   as written (see [`PartialDate`]).

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// One problem in a CV document: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the offending value, e.g. `work[2].startDate` (`$` for the document).
    pub path: String,
    /// What is wrong, e.g. `expected a string, found a number`.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A CV document that does not follow the JSON Resume schema. Lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CV document: {}", join_errors(.errors))]
pub struct DocumentError {
    /// The problems, in document order.
    pub errors: Vec<FieldError>,
}

fn join_errors(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Page size of the rendered PDF (`meta.pageSize`; A4 unless it says `Letter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum PageSize {
    /// 210 × 297 mm.
    #[default]
    A4,
    /// 8.5 × 11 in.
    Letter,
}

/// Unknown fields of a JSON object, kept as they were.
pub type Extra = Map<String, Value>;

/// A JSON Resume document. Build it with [`CvDocument::from_json`] (or serde's `Deserialize`,
/// which runs the same validation).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CvDocument {
    pub basics: Basics,
    pub work: Vec<Work>,
    pub volunteer: Vec<Volunteer>,
    pub education: Vec<Education>,
    pub awards: Vec<Award>,
    pub certificates: Vec<Certificate>,
    pub publications: Vec<Publication>,
    pub skills: Vec<Skill>,
    pub languages: Vec<Language>,
    pub interests: Vec<Interest>,
    pub references: Vec<Reference>,
    pub projects: Vec<Project>,
    pub meta: Meta,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Basics {
    pub name: Option<String>,
    pub label: Option<String>,
    pub image: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
    pub summary: Option<String>,
    pub location: Option<Location>,
    pub profiles: Vec<Profile>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub address: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country_code: Option<String>,
    pub region: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub network: Option<String>,
    pub username: Option<String>,
    pub url: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Work {
    pub name: Option<String>,
    pub location: Option<String>,
    pub description: Option<String>,
    pub position: Option<String>,
    pub url: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub summary: Option<String>,
    pub highlights: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volunteer {
    pub organization: Option<String>,
    pub position: Option<String>,
    pub url: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub summary: Option<String>,
    pub highlights: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Education {
    pub institution: Option<String>,
    pub url: Option<String>,
    pub area: Option<String>,
    pub study_type: Option<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub score: Option<String>,
    pub courses: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Award {
    pub title: Option<String>,
    pub date: Option<String>,
    pub awarder: Option<String>,
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub name: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    pub issuer: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Publication {
    pub name: Option<String>,
    pub publisher: Option<String>,
    pub release_date: Option<String>,
    pub url: Option<String>,
    pub summary: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skill {
    pub name: Option<String>,
    pub level: Option<String>,
    pub keywords: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Language {
    pub language: Option<String>,
    pub fluency: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Interest {
    pub name: Option<String>,
    pub keywords: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reference {
    pub name: Option<String>,
    pub reference: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub name: Option<String>,
    pub description: Option<String>,
    pub highlights: Vec<String>,
    pub keywords: Vec<String>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub url: Option<String>,
    pub roles: Vec<String>,
    pub entity: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `meta`: JSON Resume's `canonical`, `version`, `lastModified`, plus cv-worker's `pageSize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub canonical: Option<String>,
    pub version: Option<String>,
    /// ISO 8601 date-time of the last change. The PDF's creation and modification dates are
    /// taken from here (never from the clock), so the same document renders to the same bytes.
    pub last_modified: Option<String>,
    /// `A4` (default) or `Letter`.
    pub page_size: PageSize,
    #[serde(flatten)]
    pub extra: Extra,
}

impl CvDocument {
    /// Reads and validates a JSON Resume document. Every type error is reported with its
    /// JSON path; the error lists all of them.
    pub fn from_json(value: &Value) -> Result<CvDocument, DocumentError> {
        let mut r = Reader::default();
        let doc = r.document(value);
        if r.errors.is_empty() { Ok(doc) } else { Err(DocumentError { errors: r.errors }) }
    }

    /// Parses JSON text (a syntax error is reported at path `$`) and validates it.
    pub fn from_json_str(text: &str) -> Result<CvDocument, DocumentError> {
        let value: Value = serde_json::from_str(text).map_err(|e| DocumentError {
            errors: vec![FieldError { path: "$".into(), message: format!("not valid JSON: {e}") }],
        })?;
        Self::from_json(&value)
    }

    /// The person's name, trimmed; `None` when missing or blank.
    pub fn name(&self) -> Option<&str> {
        non_blank(self.basics.name.as_deref())
    }
}

impl<'de> serde::Deserialize<'de> for CvDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        CvDocument::from_json(&value).map_err(serde::de::Error::custom)
    }
}

/// `Some(trimmed)` when the string has visible content.
pub(crate) fn non_blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// A date as JSON Resume writes it: an ISO 8601 prefix (`2021`, `2021-04`, `2021-04-12`,
/// or a full date-time, whose time is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate {
    pub year: u16,
    pub month: Option<u8>,
    pub day: Option<u8>,
}

impl PartialDate {
    /// Parses an ISO 8601 prefix; `None` if `s` is not one.
    pub fn parse(s: &str) -> Option<PartialDate> {
        let s = s.trim();
        let b = s.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = b.get(r)?;
            if part.iter().all(u8::is_ascii_digit) {
                part.iter().try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
            } else {
                None
            }
        };
        let year = u16::try_from(digits(0..4)?).ok()?;
        if b.len() == 4 {
            return Some(PartialDate { year, month: None, day: None });
        }
        if b.get(4) != Some(&b'-') {
            return None;
        }
        let month = u8::try_from(digits(5..7)?).ok()?;
        if !(1..=12).contains(&month) {
            return None;
        }
        if b.len() == 7 {
            return Some(PartialDate { year, month: Some(month), day: None });
        }
        if b.get(7) != Some(&b'-') {
            return None;
        }
        let day = u8::try_from(digits(8..10)?).ok()?;
        if !(1..=31).contains(&day) {
            return None;
        }
        match b.get(10) {
            None | Some(b'T') | Some(b't') | Some(b' ') => {
                Some(PartialDate { year, month: Some(month), day: Some(day) })
            }
            Some(_) => None,
        }
    }

    /// `Apr 2021`, or `2021` when there is no month.
    pub fn display(&self) -> String {
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec"];
        match self.month {
            Some(m) => format!("{} {}", MONTHS[usize::from(m - 1)], self.year),
            None => self.year.to_string(),
        }
    }
}

/// Formats a JSON Resume date for display: `Apr 2021`; unparseable strings are shown as written.
pub fn display_date(s: &str) -> String {
    PartialDate::parse(s).map_or_else(|| s.trim().to_string(), |d| d.display())
}

/// `Apr 2021 – Present`, `2019 – 2021`, `Apr 2021` (no start: the end date only); `None` when
/// both dates are missing. A missing end date means "Present".
pub fn date_range(start: Option<&str>, end: Option<&str>) -> Option<String> {
    let start = non_blank(start);
    let end = non_blank(end);
    match (start, end) {
        (Some(s), Some(e)) => {
            let (s, e) = (display_date(s), display_date(e));
            if s == e { Some(s) } else { Some(format!("{s} – {e}")) }
        }
        (Some(s), None) => Some(format!("{} – Present", display_date(s))),
        (None, Some(e)) => Some(display_date(e)),
        (None, None) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The reader: walks a Value with its path, collects errors, builds the model.
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Reader {
    errors: Vec<FieldError>,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// An object being read: remembers which keys the schema knows, the rest goes to `extra`.
struct Obj<'a> {
    map: Option<&'a Map<String, Value>>,
    path: String,
    known: Vec<&'static str>,
}

impl Reader {
    fn err(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            path: if path.is_empty() { "$".into() } else { path.to_string() },
            message: message.into(),
        });
    }

    fn expected(&mut self, path: &str, what: &str, found: &Value) {
        let found = kind_of(found);
        self.err(path, format!("expected {what}, found {found}"));
    }

    /// Opens `value` as an object; `None`/null gives an empty object, anything else an error.
    fn object<'a>(&mut self, value: Option<&'a Value>, path: String) -> Obj<'a> {
        let map = match value {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                self.expected(&path, "an object", other);
                None
            }
        };
        Obj { map, path, known: Vec::new() }
    }

    fn string(&mut self, o: &mut Obj<'_>, key: &'static str) -> Option<String> {
        o.known.push(key);
        match o.map?.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => {
                self.expected(&join(&o.path, key), "a string", other);
                None
            }
        }
    }

    fn strings(&mut self, o: &mut Obj<'_>, key: &'static str) -> Vec<String> {
        o.known.push(key);
        let path = join(&o.path, key);
        match o.map.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => {
                        self.expected(&format!("{path}[{i}]"), "a string", other);
                        None
                    }
                })
                .collect(),
            Some(other) => {
                self.expected(&path, "an array of strings", other);
                Vec::new()
            }
        }
    }

    /// Reads an array of objects with `item` (given the item's value and path).
    fn list<T>(
        &mut self,
        o: &mut Obj<'_>,
        key: &'static str,
        mut item: impl FnMut(&mut Self, &Value, String) -> T,
    ) -> Vec<T> {
        o.known.push(key);
        let path = join(&o.path, key);
        match o.map.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_null())
                .map(|(i, v)| item(self, v, format!("{path}[{i}]")))
                .collect(),
            Some(other) => {
                self.expected(&path, "an array", other);
                Vec::new()
            }
        }
    }

    fn child<'a>(&mut self, o: &mut Obj<'a>, key: &'static str) -> Obj<'a> {
        o.known.push(key);
        let value = o.map.and_then(|m| m.get(key));
        self.object(value, join(&o.path, key))
    }

    fn extra(o: Obj<'_>) -> Extra {
        match o.map {
            Some(m) => {
                m.iter().filter(|(k, _)| !o.known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
            }
            None => Extra::new(),
        }
    }

    fn document(&mut self, value: &Value) -> CvDocument {
        let mut o = self.object(Some(value), String::new());
        if value.is_null() {
            self.err("", "expected an object, found null");
        }
        let basics = {
            let c = self.child(&mut o, "basics");
            self.basics(c)
        };
        let work = self.list(&mut o, "work", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Work {
                name: r.string(&mut o, "name"),
                location: r.string(&mut o, "location"),
                description: r.string(&mut o, "description"),
                position: r.string(&mut o, "position"),
                url: r.string(&mut o, "url"),
                start_date: r.string(&mut o, "startDate"),
                end_date: r.string(&mut o, "endDate"),
                summary: r.string(&mut o, "summary"),
                highlights: r.strings(&mut o, "highlights"),
                extra: Self::extra(o),
            }
        });
        let volunteer = self.list(&mut o, "volunteer", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Volunteer {
                organization: r.string(&mut o, "organization"),
                position: r.string(&mut o, "position"),
                url: r.string(&mut o, "url"),
                start_date: r.string(&mut o, "startDate"),
                end_date: r.string(&mut o, "endDate"),
                summary: r.string(&mut o, "summary"),
                highlights: r.strings(&mut o, "highlights"),
                extra: Self::extra(o),
            }
        });
        let education = self.list(&mut o, "education", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Education {
                institution: r.string(&mut o, "institution"),
                url: r.string(&mut o, "url"),
                area: r.string(&mut o, "area"),
                study_type: r.string(&mut o, "studyType"),
                start_date: r.string(&mut o, "startDate"),
                end_date: r.string(&mut o, "endDate"),
                score: r.string(&mut o, "score"),
                courses: r.strings(&mut o, "courses"),
                extra: Self::extra(o),
            }
        });
        let awards = self.list(&mut o, "awards", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Award {
                title: r.string(&mut o, "title"),
                date: r.string(&mut o, "date"),
                awarder: r.string(&mut o, "awarder"),
                summary: r.string(&mut o, "summary"),
                extra: Self::extra(o),
            }
        });
        let certificates = self.list(&mut o, "certificates", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Certificate {
                name: r.string(&mut o, "name"),
                date: r.string(&mut o, "date"),
                url: r.string(&mut o, "url"),
                issuer: r.string(&mut o, "issuer"),
                extra: Self::extra(o),
            }
        });
        let publications = self.list(&mut o, "publications", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Publication {
                name: r.string(&mut o, "name"),
                publisher: r.string(&mut o, "publisher"),
                release_date: r.string(&mut o, "releaseDate"),
                url: r.string(&mut o, "url"),
                summary: r.string(&mut o, "summary"),
                extra: Self::extra(o),
            }
        });
        let skills = self.list(&mut o, "skills", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Skill {
                name: r.string(&mut o, "name"),
                level: r.string(&mut o, "level"),
                keywords: r.strings(&mut o, "keywords"),
                extra: Self::extra(o),
            }
        });
        let languages = self.list(&mut o, "languages", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Language {
                language: r.string(&mut o, "language"),
                fluency: r.string(&mut o, "fluency"),
                extra: Self::extra(o),
            }
        });
        let interests = self.list(&mut o, "interests", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Interest { name: r.string(&mut o, "name"), keywords: r.strings(&mut o, "keywords"), extra: Self::extra(o) }
        });
        let references = self.list(&mut o, "references", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Reference {
                name: r.string(&mut o, "name"),
                reference: r.string(&mut o, "reference"),
                extra: Self::extra(o),
            }
        });
        let projects = self.list(&mut o, "projects", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Project {
                name: r.string(&mut o, "name"),
                description: r.string(&mut o, "description"),
                highlights: r.strings(&mut o, "highlights"),
                keywords: r.strings(&mut o, "keywords"),
                start_date: r.string(&mut o, "startDate"),
                end_date: r.string(&mut o, "endDate"),
                url: r.string(&mut o, "url"),
                roles: r.strings(&mut o, "roles"),
                entity: r.string(&mut o, "entity"),
                kind: r.string(&mut o, "type"),
                extra: Self::extra(o),
            }
        });
        let meta = {
            let c = self.child(&mut o, "meta");
            self.meta(c)
        };
        CvDocument {
            basics,
            work,
            volunteer,
            education,
            awards,
            certificates,
            publications,
            skills,
            languages,
            interests,
            references,
            projects,
            meta,
            extra: Self::extra(o),
        }
    }

    fn basics(&mut self, mut o: Obj<'_>) -> Basics {
        let name = self.string(&mut o, "name");
        let label = self.string(&mut o, "label");
        let image = self.string(&mut o, "image");
        let email = self.string(&mut o, "email");
        let phone = self.string(&mut o, "phone");
        let url = self.string(&mut o, "url");
        let summary = self.string(&mut o, "summary");
        o.known.push("location");
        let location = match o.map.and_then(|m| m.get("location")) {
            None | Some(Value::Null) => None,
            Some(v) => {
                let mut l = self.object(Some(v), join(&o.path, "location"));
                Some(Location {
                    address: self.string(&mut l, "address"),
                    postal_code: self.string(&mut l, "postalCode"),
                    city: self.string(&mut l, "city"),
                    country_code: self.string(&mut l, "countryCode"),
                    region: self.string(&mut l, "region"),
                    extra: Self::extra(l),
                })
            }
        };
        let profiles = self.list(&mut o, "profiles", |r, v, p| {
            let mut o = r.object(Some(v), p);
            Profile {
                network: r.string(&mut o, "network"),
                username: r.string(&mut o, "username"),
                url: r.string(&mut o, "url"),
                extra: Self::extra(o),
            }
        });
        Basics { name, label, image, email, phone, url, summary, location, profiles, extra: Self::extra(o) }
    }

    fn meta(&mut self, mut o: Obj<'_>) -> Meta {
        let canonical = self.string(&mut o, "canonical");
        let version = self.string(&mut o, "version");
        let last_modified = self.string(&mut o, "lastModified");
        let page_size = match self.string(&mut o, "pageSize") {
            None => PageSize::A4,
            Some(s) if s.trim().eq_ignore_ascii_case("a4") => PageSize::A4,
            Some(s) if s.trim().eq_ignore_ascii_case("letter") => PageSize::Letter,
            Some(s) => {
                let path = join(&o.path, "pageSize");
                self.err(&path, format!("expected \"A4\" or \"Letter\", found {s:?}"));
                PageSize::A4
            }
        };
        Meta { canonical, version, last_modified, page_size, extra: Self::extra(o) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_object_is_a_valid_document() {
        let doc = CvDocument::from_json(&json!({})).expect("valid");
        assert_eq!(doc, CvDocument::default());
    }

    #[test]
    fn reads_every_section() {
        let doc = CvDocument::from_json(&json!({
            "basics": {"name": "Ada", "location": {"city": "London", "postalCode": "N1"},
                       "profiles": [{"network": "GitHub", "username": "ada", "url": "https://github.com/ada"}]},
            "work": [{"name": "Engines Ltd", "startDate": "1842-01", "highlights": ["Notes"]}],
            "volunteer": [{"organization": "RS"}],
            "education": [{"institution": "Home", "courses": ["Maths"]}],
            "awards": [{"title": "A"}], "certificates": [{"name": "C"}],
            "publications": [{"name": "Sketch", "releaseDate": "1843"}],
            "skills": [{"name": "Maths", "keywords": ["Bernoulli"]}],
            "languages": [{"language": "English", "fluency": "Native"}],
            "interests": [{"name": "Poetry"}], "references": [{"name": "Babbage", "reference": "Good"}],
            "projects": [{"name": "Note G", "type": "paper", "roles": ["Author"]}],
            "meta": {"lastModified": "2026-11-27T10:00:00Z", "pageSize": "Letter"}
        }))
        .expect("valid");
        assert_eq!(doc.name(), Some("Ada"));
        assert_eq!(doc.basics.location.as_ref().and_then(|l| l.postal_code.as_deref()), Some("N1"));
        assert_eq!(doc.work[0].start_date.as_deref(), Some("1842-01"));
        assert_eq!(doc.work[0].highlights, vec!["Notes"]);
        assert_eq!(doc.education[0].courses, vec!["Maths"]);
        assert_eq!(doc.publications[0].release_date.as_deref(), Some("1843"));
        assert_eq!(doc.projects[0].kind.as_deref(), Some("paper"));
        assert_eq!(doc.meta.page_size, PageSize::Letter);
    }

    #[test]
    fn errors_name_the_json_path() {
        let err = CvDocument::from_json(&json!({
            "work": [{}, {}, {"startDate": 2021}]
        }))
        .expect_err("invalid");
        assert_eq!(err.errors.len(), 1);
        assert_eq!(err.errors[0].path, "work[2].startDate");
        assert!(err.to_string().contains("work[2].startDate: expected a string"), "{err}");
    }

    #[test]
    fn all_errors_are_listed_in_document_order() {
        let err = CvDocument::from_json(&json!({
            "basics": {"name": ["Ada"], "location": "London",
                       "profiles": [{"url": 42}]},
            "work": {"name": "x"},
            "education": [{"courses": ["ok", 3]}],
            "skills": ["Rust"],
            "meta": {"pageSize": "A5"}
        }))
        .expect_err("invalid");
        let paths: Vec<&str> = err.errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "basics.name",
                "basics.location",
                "basics.profiles[0].url",
                "work",
                "education[0].courses[1]",
                "skills[0]",
                "meta.pageSize"
            ]
        );
        let msg = err.to_string();
        assert!(msg.contains("basics.name: expected a string, found an array"), "{msg}");
        assert!(msg.contains("work: expected an array, found an object"), "{msg}");
        assert!(msg.contains("skills[0]: expected an object, found a string"), "{msg}");
    }

    #[test]
    fn root_must_be_an_object() {
        let err = CvDocument::from_json(&json!([1, 2])).expect_err("invalid");
        assert_eq!(err.to_string(), "invalid CV document: $: expected an object, found an array");
        let err = CvDocument::from_json_str("{not json").expect_err("invalid");
        assert_eq!(err.errors[0].path, "$");
    }

    #[test]
    fn nulls_are_absent_and_unknown_fields_are_kept() {
        let doc = CvDocument::from_json(&json!({
            "basics": {"name": null, "x-color": "red"},
            "work": [null, {"name": "A", "highlights": null, "team": 5}],
            "custom": {"a": 1}
        }))
        .expect("valid");
        assert_eq!(doc.basics.name, None);
        assert_eq!(doc.basics.extra.get("x-color"), Some(&json!("red")));
        assert_eq!(doc.work.len(), 1);
        assert_eq!(doc.work[0].extra.get("team"), Some(&json!(5)));
        assert_eq!(doc.extra.get("custom"), Some(&json!({"a": 1})));
    }

    #[test]
    fn serde_deserialize_validates_too() {
        let err = serde_json::from_str::<CvDocument>(r#"{"work":[{"endDate":true}]}"#).expect_err("invalid");
        assert!(err.to_string().contains("work[0].endDate: expected a string"), "{err}");
    }

    #[test]
    fn dates() {
        assert_eq!(PartialDate::parse("2021-04-12"), Some(PartialDate { year: 2021, month: Some(4), day: Some(12) }));
        assert_eq!(PartialDate::parse("2021").map(|d| d.display()), Some("2021".into()));
        assert_eq!(PartialDate::parse("2021-13"), None);
        assert_eq!(PartialDate::parse("April 2021"), None);
        assert_eq!(display_date("2021-04"), "Apr 2021");
        assert_eq!(display_date("2026-11-27T10:00:00Z"), "Nov 2026");
        assert_eq!(display_date("Summer 2020"), "Summer 2020");
        assert_eq!(date_range(Some("2020-01"), None).as_deref(), Some("Jan 2020 – Present"));
        assert_eq!(date_range(Some("2018-09"), Some("2023-05")).as_deref(), Some("Sept 2018 – May 2023"));
        assert_eq!(date_range(None, Some("2019")).as_deref(), Some("2019"));
        assert_eq!(date_range(Some(" "), None), None);
    }
}
