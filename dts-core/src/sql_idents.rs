//! Backquoted identifiers inside SQL text a MySQL-family server reported (a CHECK clause, a
//! generation expression): renaming the columns they name when a task maps column names.
//! String literals are skipped; the server backquotes every identifier in such text.

/// What to do with one identifier.
pub enum Rename {
    /// Keep it as it is (not a column of the table).
    Keep,
    /// Write this name instead.
    To(String),
    /// The text cannot be kept (it names a column that is not synchronized).
    Refuse,
}

/// `text` with each backquoted identifier passed through `rename`; `None` when `rename`
/// refuses one, or the text is not well formed (an unterminated quote).
pub fn rename_identifiers(text: &str, mut rename: impl FnMut(&str) -> Rename) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                loop {
                    let d = chars.next()?;
                    out.push(d);
                    if d == '\\' {
                        out.push(chars.next()?);
                    } else if d == c {
                        if chars.peek() == Some(&c) {
                            out.push(chars.next()?);
                        } else {
                            break;
                        }
                    }
                }
            }
            '`' => {
                let mut name = String::new();
                loop {
                    let d = chars.next()?;
                    if d == '`' {
                        if chars.peek() == Some(&'`') {
                            chars.next();
                            name.push('`');
                        } else {
                            break;
                        }
                    } else {
                        name.push(d);
                    }
                }
                let name = match rename(&name) {
                    Rename::Keep => name,
                    Rename::To(n) => n,
                    Rename::Refuse => return None,
                };
                out.push('`');
                out.push_str(&name.replace('`', "``"));
                out.push('`');
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(name: &str) -> Rename {
        match name {
            "price" => Rename::To("cost".into()),
            "odd`name" => Rename::To("even`name".into()),
            "secret" => Rename::Refuse,
            _ => Rename::Keep,
        }
    }

    #[test]
    fn renames_columns_outside_literals() {
        assert_eq!(
            rename_identifiers("`price` > 0 and `qty` < 10", map).unwrap(),
            "`cost` > 0 and `qty` < 10"
        );
        assert_eq!(
            rename_identifiers("`note` <> '`price`' and `odd``name` = \"x\\\"\"", map).unwrap(),
            "`note` <> '`price`' and `even``name` = \"x\\\"\""
        );
        assert!(rename_identifiers("`secret` is not null", map).is_none());
        assert!(rename_identifiers("`open", map).is_none());
    }
}
