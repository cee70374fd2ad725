//! Reading TOML into a [`TaskConfig`], with toml's errors turned into [`ConfigError`]s that
//! name the offending key as a dotted path.

use super::error::{ConfigError, ConfigErrorKind};
use super::TaskConfig;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Parses `text` (without validating). `origin` names the file in error messages.
pub(crate) fn parse(text: &str, origin: Option<&Path>) -> Result<TaskConfig, ConfigError> {
    toml::from_str(text).map_err(|e| from_toml_error(text, &e, origin))
}

/// Maps a toml error to a [`ConfigError`] whose key is the dotted path of the key or value the
/// error points at (`objects.databases[0].tables[1].filter`), and whose message is toml's own
/// message plus the position.
pub(crate) fn from_toml_error(
    text: &str,
    error: &toml::de::Error,
    origin: Option<&Path>,
) -> ConfigError {
    let message = error.message().trim_end().to_owned();
    let mut key = match error.span() {
        // toml reports problems of the document itself (a missing top-level key) at 0..0.
        Some(std::ops::Range { start: 0, end: 0 }) => String::new(),
        Some(span) => key_at(text, &span),
        None => keys_from_display(error),
    };
    // serde reports unknown and missing fields at the enclosing table; name the field.
    for marker in ["unknown field `", "missing field `"] {
        if let Some(rest) = message.strip_prefix(marker) {
            if let Some(field) = rest.split('`').next() {
                let already = key == field || key.ends_with(&format!(".{field}"));
                if !already {
                    key = if key.is_empty() {
                        field.to_owned()
                    } else {
                        format!("{key}.{field}")
                    };
                }
            }
        }
    }
    let position = error.span().map(|span| line_column(text, span.start));
    let message = match (position, origin) {
        (Some((line, column)), Some(path)) => {
            format!("{message} ({}:{line}:{column})", path.display())
        }
        (Some((line, column)), None) => format!("{message} (line {line}, column {column})"),
        (None, Some(path)) => format!("{message} ({})", path.display()),
        (None, None) => message,
    };
    ConfigError::new(ConfigErrorKind::Parse, key, message)
}

/// 1-based line and column of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// toml only prints the key path when it has no position; recover it from there.
fn keys_from_display(error: &toml::de::Error) -> String {
    let mut bare = error.clone();
    bare.set_input(None);
    bare.to_string()
        .lines()
        .find_map(|l| l.strip_prefix("in `")?.strip_suffix('`').map(str::to_owned))
        .unwrap_or_default()
}

/// The dotted path of the smallest key or value whose span contains `span` (deepest on ties).
fn key_at(text: &str, span: &Range<usize>) -> String {
    let (root, _) = DeTable::parse_recoverable(text);
    let mut best: Option<(usize, usize, String)> = None;
    walk_table(root.get_ref(), "", 0, span, &mut best);
    best.map(|(_, _, path)| path).unwrap_or_default()
}

type Best = Option<(usize, usize, String)>;

fn consider(
    candidate: &Range<usize>,
    path: &str,
    depth: usize,
    span: &Range<usize>,
    best: &mut Best,
) {
    let contains = candidate.start <= span.start && span.end <= candidate.end;
    if !contains {
        return;
    }
    let len = candidate.end - candidate.start;
    let better = match best {
        None => true,
        Some((best_len, best_depth, _)) => {
            len < *best_len || (len == *best_len && depth > *best_depth)
        }
    };
    if better {
        *best = Some((len, depth, path.to_owned()));
    }
}

fn walk_table(
    table: &DeTable<'_>,
    prefix: &str,
    depth: usize,
    span: &Range<usize>,
    best: &mut Best,
) {
    for (key, value) in table.iter() {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        consider(&key.span(), &path, depth + 1, span, best);
        walk_value(value, &path, depth + 1, span, best);
    }
}

fn walk_value(
    value: &Spanned<DeValue<'_>>,
    path: &str,
    depth: usize,
    span: &Range<usize>,
    best: &mut Best,
) {
    consider(&value.span(), path, depth, span, best);
    match value.get_ref() {
        DeValue::Table(table) => walk_table(table, path, depth, span, best),
        DeValue::Array(array) => {
            for (i, item) in array.iter().enumerate() {
                walk_value(item, &format!("{path}[{i}]"), depth + 1, span, best);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        assert_eq!(line_column("a\nbc", 3), (2, 2));
        assert_eq!(line_column("", 0), (1, 1));
    }

    #[test]
    fn key_at_finds_nested_values_and_array_items() {
        let text = "[a]\nb = 1\n[[c.d]]\ne = \"x\"\n[[c.d]]\ne = [1, 2]\n";
        let at = |needle: &str, nth: usize| {
            let start = text.match_indices(needle).nth(nth).unwrap().0;
            key_at(text, &(start..start + needle.len()))
        };
        assert_eq!(at("1", 0), "a.b");
        assert_eq!(at("\"x\"", 0), "c.d[0].e");
        assert_eq!(at("2", 0), "c.d[1].e[1]");
        assert_eq!(at("[a]", 0), "a");
    }
}
