//! What a CV says, independent of how a template arranges it: the document's sections turned
//! into entries (title, subtitle, location, dates, text, bullets), contacts with safe link
//! targets, and the short label/detail lists (skills, languages, interests).

use crate::document::{CvDocument, date_range, display_date, non_blank};

/// One item of a section: a job, a degree, an award…
#[derive(Debug, Clone, Default)]
pub(crate) struct Entry {
    /// Organisation, institution, award or project name.
    pub title: Option<String>,
    /// Link target for the title.
    pub url: Option<String>,
    /// Role, degree, awarder, publisher…
    pub subtitle: Option<String>,
    /// True when the subtitle is the person's role (work, volunteering): templates that lead
    /// with the role put it first.
    pub role_first: bool,
    pub location: Option<String>,
    pub date: Option<String>,
    /// Paragraphs of running text.
    pub summary: Vec<String>,
    pub bullets: Vec<String>,
    /// Keywords, shown as one line.
    pub tags: Vec<String>,
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.subtitle.is_none()
            && self.date.is_none()
            && self.location.is_none()
            && self.summary.is_empty()
            && self.bullets.is_empty()
            && self.tags.is_empty()
    }
}

/// A titled list of entries.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub title: &'static str,
    pub entries: Vec<Entry>,
}

/// A short labelled item: a skill, a language, an interest.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub label: String,
    /// Level or fluency.
    pub level: Option<String>,
    /// Keywords, comma separated.
    pub detail: Option<String>,
}

/// A way to reach the person.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub text: String,
    pub uri: Option<String>,
}

/// Everything a template draws.
#[derive(Debug, Clone, Default)]
pub(crate) struct Content {
    pub name: String,
    pub label: Option<String>,
    pub summary: Vec<String>,
    pub contacts: Vec<Contact>,
    pub sections: Vec<Section>,
    pub skills: Vec<Item>,
    pub languages: Vec<Item>,
    pub interests: Vec<Item>,
    /// `Nov 2026`, from `meta.lastModified`.
    pub last_updated: Option<String>,
}

fn opt(s: &Option<String>) -> Option<String> {
    non_blank(s.as_deref()).map(str::to_string)
}

fn list(items: &[String]) -> Vec<String> {
    items.iter().filter_map(|s| non_blank(Some(s))).map(str::to_string).collect()
}

/// Paragraphs of a free-text field (one per non-blank line).
fn paragraphs(s: &Option<String>) -> Vec<String> {
    s.as_deref().map(|s| s.lines().filter_map(|l| non_blank(Some(l))).map(str::to_string).collect()).unwrap_or_default()
}

fn joined(parts: &[Option<String>], sep: &str) -> Option<String> {
    let parts: Vec<&str> = parts.iter().filter_map(|p| p.as_deref()).collect();
    (!parts.is_empty()).then(|| parts.join(sep))
}

/// A link target that is safe to put in a PDF: `http(s)`, `mailto:` or `tel:`; a bare
/// domain gets `https://`. Anything else (`javascript:`, `file:`…) is not linked.
pub(crate) fn safe_uri(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || lower.starts_with("tel:")
    {
        return Some(raw.to_string());
    }
    if lower.contains(':') {
        return None;
    }
    if raw.contains('.') {
        return Some(format!("https://{raw}"));
    }
    None
}

/// `https://www.example.com/` → `example.com`.
pub(crate) fn display_url(url: &str) -> String {
    let u = url.trim();
    let u = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://")).unwrap_or(u);
    let u = u.strip_prefix("www.").unwrap_or(u);
    u.trim_end_matches('/').to_string()
}

fn phone_uri(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    (digits.chars().filter(char::is_ascii_digit).count() >= 3).then(|| format!("tel:{digits}"))
}

impl Content {
    pub(crate) fn from_document(doc: &CvDocument) -> Content {
        let b = &doc.basics;
        let mut contacts = Vec::new();
        if let Some(loc) = &b.location {
            // "Stockholm, SE": the city (or, without one, the region) and the country.
            let place = joined(&[opt(&loc.city).or_else(|| opt(&loc.region)), opt(&loc.country_code)], ", ");
            if let Some(text) = place {
                contacts.push(Contact { text, uri: None });
            }
        }
        if let Some(email) = opt(&b.email) {
            contacts.push(Contact { uri: safe_uri(&format!("mailto:{email}")), text: email });
        }
        if let Some(phone) = opt(&b.phone) {
            contacts.push(Contact { uri: phone_uri(&phone), text: phone });
        }
        if let Some(url) = opt(&b.url) {
            contacts.push(Contact { uri: safe_uri(&url), text: display_url(&url) });
        }
        for p in &b.profiles {
            let network = opt(&p.network);
            let username = opt(&p.username);
            let url = opt(&p.url).and_then(|u| safe_uri(&u));
            let text = match (&url, &username, &network) {
                (Some(u), _, _) => display_url(u),
                (None, Some(user), Some(net)) => format!("{net}: {user}"),
                (None, Some(user), None) => user.clone(),
                (None, None, Some(net)) => net.clone(),
                (None, None, None) => continue,
            };
            contacts.push(Contact { text, uri: url });
        }

        let mut sections = Vec::new();
        let mut push = |title: &'static str, entries: Vec<Entry>| {
            let entries: Vec<Entry> = entries.into_iter().filter(|e| !e.is_empty()).collect();
            if !entries.is_empty() {
                sections.push(Section { title, entries });
            }
        };
        push(
            "Experience",
            doc.work
                .iter()
                .map(|w| Entry {
                    title: opt(&w.name),
                    url: opt(&w.url).and_then(|u| safe_uri(&u)),
                    subtitle: opt(&w.position),
                    role_first: true,
                    location: opt(&w.location),
                    date: date_range(w.start_date.as_deref(), w.end_date.as_deref()),
                    summary: if non_blank(w.summary.as_deref()).is_some() {
                        paragraphs(&w.summary)
                    } else {
                        paragraphs(&w.description)
                    },
                    bullets: list(&w.highlights),
                    tags: Vec::new(),
                })
                .collect(),
        );
        push(
            "Projects",
            doc.projects
                .iter()
                .map(|p| Entry {
                    title: opt(&p.name),
                    url: opt(&p.url).and_then(|u| safe_uri(&u)),
                    subtitle: joined(
                        &[
                            (!p.roles.is_empty()).then(|| list(&p.roles).join(", ")).filter(|s| !s.is_empty()),
                            opt(&p.entity),
                        ],
                        ", ",
                    ),
                    role_first: false,
                    location: None,
                    date: date_range(p.start_date.as_deref(), p.end_date.as_deref()),
                    summary: paragraphs(&p.description),
                    bullets: list(&p.highlights),
                    tags: list(&p.keywords),
                })
                .collect(),
        );
        push(
            "Education",
            doc.education
                .iter()
                .map(|e| {
                    let mut bullets = Vec::new();
                    if let Some(score) = opt(&e.score) {
                        bullets.push(format!("Score: {score}"));
                    }
                    let courses = list(&e.courses);
                    if !courses.is_empty() {
                        bullets.push(format!("Courses: {}", courses.join(", ")));
                    }
                    Entry {
                        title: opt(&e.institution),
                        url: opt(&e.url).and_then(|u| safe_uri(&u)),
                        subtitle: match (opt(&e.study_type), opt(&e.area)) {
                            (Some(t), Some(a)) => Some(format!("{t} in {a}")),
                            (t, a) => t.or(a),
                        },
                        role_first: false,
                        location: None,
                        date: date_range(e.start_date.as_deref(), e.end_date.as_deref()),
                        summary: Vec::new(),
                        bullets,
                        tags: Vec::new(),
                    }
                })
                .collect(),
        );
        push(
            "Volunteering",
            doc.volunteer
                .iter()
                .map(|v| Entry {
                    title: opt(&v.organization),
                    url: opt(&v.url).and_then(|u| safe_uri(&u)),
                    subtitle: opt(&v.position),
                    role_first: true,
                    location: None,
                    date: date_range(v.start_date.as_deref(), v.end_date.as_deref()),
                    summary: paragraphs(&v.summary),
                    bullets: list(&v.highlights),
                    tags: Vec::new(),
                })
                .collect(),
        );
        push(
            "Awards",
            doc.awards
                .iter()
                .map(|a| Entry {
                    title: opt(&a.title),
                    subtitle: opt(&a.awarder),
                    date: opt(&a.date).map(|d| display_date(&d)),
                    summary: paragraphs(&a.summary),
                    ..Entry::default()
                })
                .collect(),
        );
        push(
            "Certificates",
            doc.certificates
                .iter()
                .map(|c| Entry {
                    title: opt(&c.name),
                    url: opt(&c.url).and_then(|u| safe_uri(&u)),
                    subtitle: opt(&c.issuer),
                    date: opt(&c.date).map(|d| display_date(&d)),
                    ..Entry::default()
                })
                .collect(),
        );
        push(
            "Publications",
            doc.publications
                .iter()
                .map(|p| Entry {
                    title: opt(&p.name),
                    url: opt(&p.url).and_then(|u| safe_uri(&u)),
                    subtitle: opt(&p.publisher),
                    date: opt(&p.release_date).map(|d| display_date(&d)),
                    summary: paragraphs(&p.summary),
                    ..Entry::default()
                })
                .collect(),
        );
        push(
            "References",
            doc.references
                .iter()
                .map(|r| Entry { title: opt(&r.name), summary: paragraphs(&r.reference), ..Entry::default() })
                .collect(),
        );

        let skills = doc
            .skills
            .iter()
            .filter_map(|s| {
                let keywords = list(&s.keywords).join(", ");
                let label = opt(&s.name).or_else(|| non_blank(Some(&keywords)).map(|_| String::new()))?;
                Some(Item { label, level: opt(&s.level), detail: non_blank(Some(&keywords)).map(str::to_string) })
            })
            .collect();
        let languages = doc
            .languages
            .iter()
            .filter_map(|l| Some(Item { label: opt(&l.language)?, level: opt(&l.fluency), detail: None }))
            .collect();
        let interests = doc
            .interests
            .iter()
            .filter_map(|i| {
                Some(Item {
                    label: opt(&i.name)?,
                    level: None,
                    detail: non_blank(Some(&list(&i.keywords).join(", "))).map(str::to_string),
                })
            })
            .collect();

        Content {
            name: doc.name().unwrap_or("Curriculum Vitae").to_string(),
            label: opt(&b.label),
            summary: paragraphs(&b.summary),
            contacts,
            sections,
            skills,
            languages,
            interests,
            last_updated: opt(&doc.meta.last_modified)
                .and_then(|d| crate::document::PartialDate::parse(&d))
                .map(|d| d.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_sanitised() {
        assert_eq!(safe_uri("example.com").as_deref(), Some("https://example.com"));
        assert_eq!(safe_uri("https://x.dev/a").as_deref(), Some("https://x.dev/a"));
        assert_eq!(safe_uri("mailto:a@b.c").as_deref(), Some("mailto:a@b.c"));
        assert_eq!(safe_uri("javascript:alert(1)"), None);
        assert_eq!(safe_uri("file:///etc/passwd"), None);
        assert_eq!(safe_uri("a b.com"), None);
        assert_eq!(display_url("https://www.zoe.dev/"), "zoe.dev");
        assert_eq!(phone_uri("+47 (22) 33 44 55").as_deref(), Some("tel:+4722334455"));
    }
}
