//! `[objects]`: what is synchronized (the guide's "Source Objects" / "Selected Objects") at
//! database, table and column level, under which names (single and batch "object name
//! mapping"), with which SQL operations and which rows (WHERE filter).
//!
//! This module is data only: patterns and regular expressions are stored as written and
//! matched by the filter built from the config.

use super::error::Problems;
use super::ops::{DdlOpSet, DmlOpSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// `[objects]`: the selection. At least one database or pattern must be selected.
///
/// "If you select tables or columns, other objects (such as views, triggers, and stored
/// procedures) are not synchronized": only a database selected whole carries its other objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectSelection {
    /// Databases selected by name (`[[objects.databases]]`), each whole or with a table list.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<DatabaseSelection>,
    /// Tables selected by a name pattern over `database.table` (`[[objects.patterns]]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<PatternSelection>,
    /// Tables left out even though selected above (`[[objects.exclude]]`), by pattern over
    /// `database.table`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<NamePattern>,
    /// The guide's "Batch Edit" of object name mapping (`[[objects.mapping_rules]]`), applied
    /// in order to names not renamed one by one with `rename_to`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mapping_rules: Vec<MappingRule>,
}

/// One selected database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSelection {
    /// Source database name.
    pub name: String,
    /// The guide's "Single object name mapping": the database's name at the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename_to: Option<String>,
    /// DML operations synchronized for this database (right-click → SQL operations); unset
    /// means the instance-level choice (all operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dml: Option<DmlOpSet>,
    /// DDL operations synchronized for this database; unset means the instance-level choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddl: Option<DdlOpSet>,
    /// Tables to synchronize (`[[objects.databases.tables]]`); empty means the whole
    /// database, including objects created in it later.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableSelection>,
}

impl DatabaseSelection {
    /// Selects database `name` whole.
    pub fn whole(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Whether the whole database is selected (no table list).
    pub fn is_whole(&self) -> bool {
        self.tables.is_empty()
    }

    /// The database's name at the destination.
    pub fn destination_name(&self) -> &str {
        self.rename_to.as_deref().unwrap_or(&self.name)
    }
}

/// One selected table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSelection {
    /// Source table name.
    pub name: String,
    /// The table's name at the destination (for Kafka: the name written in messages). Several
    /// tables may share one only with an AnalyticDB destination that merges tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename_to: Option<String>,
    /// Column-level selection: only these columns are synchronized; unset means every column,
    /// including columns added later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Column name mapping, `source name = "destination name"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename_columns: BTreeMap<String, String>,
    /// DML operations synchronized for this table; unset means the database's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dml: Option<DmlOpSet>,
    /// DDL operations synchronized for this table; unset means the database's choice.
    /// Database-level operations (`create_database`, `drop_database`) are not allowed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddl: Option<DdlOpSet>,
    /// The guide's "Set filter conditions": a SQL condition (the part after `WHERE`) rows must
    /// satisfy to be synchronized, in the source's SQL dialect, e.g. `id > 1000 AND
    /// region = 'eu'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl TableSelection {
    /// Selects table `name` with all its columns and operations.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// The table's name at the destination.
    pub fn destination_name(&self) -> &str {
        self.rename_to.as_deref().unwrap_or(&self.name)
    }

    /// The DML operations in effect: the table's, else the database's, else `instance`.
    pub fn effective_dml(&self, database: &DatabaseSelection, instance: &DmlOpSet) -> DmlOpSet {
        self.dml
            .clone()
            .or_else(|| database.dml.clone())
            .unwrap_or_else(|| instance.clone())
    }

    /// The DDL operations in effect: the table's, else the database's, else `instance`.
    pub fn effective_ddl(&self, database: &DatabaseSelection, instance: &DdlOpSet) -> DdlOpSet {
        self.ddl
            .clone()
            .or_else(|| database.ddl.clone())
            .unwrap_or_else(|| instance.clone())
    }
}

/// How a pattern is matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// Shell-style wildcard (the default): `*` matches any run of characters, `?` one.
    #[default]
    Wildcard,
    /// A regular expression, matched against the whole name.
    Regex,
}

/// A name pattern over `database.table`, e.g. `shop.order_*` or `^shop_\d+\.orders$`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamePattern {
    /// The pattern, matched against `database.table`.
    pub pattern: String,
    /// Wildcard (default) or regex.
    #[serde(default)]
    pub kind: PatternKind,
}

/// Tables selected by pattern, with optional operation sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternSelection {
    /// The pattern, matched against `database.table`.
    pub pattern: String,
    /// Wildcard (default) or regex.
    #[serde(default)]
    pub kind: PatternKind,
    /// DML operations for the matched tables; unset means the instance-level choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dml: Option<DmlOpSet>,
    /// DDL operations for the matched tables; unset means the instance-level choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ddl: Option<DdlOpSet>,
}

/// Which names a batch mapping rule rewrites.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingLevel {
    /// Database names.
    Database,
    /// Table names (the default).
    #[default]
    Table,
    /// Column names.
    Column,
}

/// One batch object name mapping rule (the guide's "Batch object name mapping"): add a
/// prefix and/or suffix, or replace by regular expression.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingRule {
    /// Which names the rule rewrites; default table names.
    #[serde(default)]
    pub level: MappingLevel,
    /// Limits the rule to tables matching this wildcard over `database.table`; unset means
    /// every selected object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Text put before the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_prefix: Option<String>,
    /// Text put after the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_suffix: Option<String>,
    /// A regular expression whose matches in the name are replaced by `replacement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Replacement text for `regex` (`$1` refers to a capture group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// What the object rules need to know about the rest of the task.
pub(crate) struct ObjectRules {
    /// Whether several source tables may map to one destination table (AnalyticDB with
    /// `merge_tables`).
    pub allow_merge: bool,
}

impl ObjectSelection {
    /// Whether nothing at all is selected.
    pub fn is_empty(&self) -> bool {
        self.databases.is_empty() && self.patterns.is_empty()
    }

    pub(crate) fn validate(&self, rules: &ObjectRules, problems: &mut Problems) {
        if self.is_empty() {
            problems.push(
                "objects",
                "at least one object must be selected ([[objects.databases]] or [[objects.patterns]])",
            );
        }
        let mut seen_databases = HashMap::new();
        // Destination (database, table) -> key of the first table mapped there.
        let mut destinations: HashMap<(String, String), String> = HashMap::new();
        for (i, db) in self.databases.iter().enumerate() {
            let prefix = format!("objects.databases[{i}]");
            check_name(&format!("{prefix}.name"), &db.name, problems);
            if let Some(first) = seen_databases.insert(db.name.as_str(), i) {
                problems.push(
                    format!("{prefix}.name"),
                    format!(
                        "database `{}` is already selected at objects.databases[{first}]",
                        db.name
                    ),
                );
            }
            check_rename(
                &format!("{prefix}.rename_to"),
                db.rename_to.as_deref(),
                problems,
            );
            let mut seen_tables = HashMap::new();
            for (j, table) in db.tables.iter().enumerate() {
                let tprefix = format!("{prefix}.tables[{j}]");
                if let Some(first) = seen_tables.insert(table.name.as_str(), j) {
                    problems.push(
                        format!("{tprefix}.name"),
                        format!(
                            "table `{}` is already selected at {prefix}.tables[{first}]",
                            table.name
                        ),
                    );
                }
                table.validate(&tprefix, problems);
                let dest = (
                    db.destination_name().to_owned(),
                    table.destination_name().to_owned(),
                );
                let key = if table.rename_to.is_some() {
                    format!("{tprefix}.rename_to")
                } else {
                    format!("{tprefix}.name")
                };
                match destinations.get(&dest) {
                    Some(first) if !rules.allow_merge && first != &key => problems.push(
                        key,
                        format!(
                            "maps to destination table `{}`.`{}` like {first}; several tables can \
                             share a destination table only with an adb destination and \
                             merge_tables = true",
                            dest.0, dest.1
                        ),
                    ),
                    Some(_) => {}
                    None => {
                        destinations.insert(dest, key);
                    }
                }
            }
        }
        for (i, p) in self.patterns.iter().enumerate() {
            check_pattern(
                &format!("objects.patterns[{i}].pattern"),
                &p.pattern,
                problems,
            );
            if let Some(ddl) = &p.ddl {
                check_table_ddl(&format!("objects.patterns[{i}].ddl"), ddl, problems);
            }
        }
        for (i, p) in self.exclude.iter().enumerate() {
            check_pattern(
                &format!("objects.exclude[{i}].pattern"),
                &p.pattern,
                problems,
            );
        }
        for (i, rule) in self.mapping_rules.iter().enumerate() {
            rule.validate(&format!("objects.mapping_rules[{i}]"), problems);
        }
    }
}

impl TableSelection {
    fn validate(&self, prefix: &str, problems: &mut Problems) {
        check_name(&format!("{prefix}.name"), &self.name, problems);
        check_rename(
            &format!("{prefix}.rename_to"),
            self.rename_to.as_deref(),
            problems,
        );
        if let Some(columns) = &self.columns {
            let key = format!("{prefix}.columns");
            if columns.is_empty() {
                problems.push(
                    key.clone(),
                    "must list at least one column; omit it to synchronize every column",
                );
            }
            let mut seen = BTreeSet::new();
            for (k, column) in columns.iter().enumerate() {
                check_name(&format!("{key}[{k}]"), column, problems);
                if !seen.insert(column.as_str()) {
                    problems.push(
                        format!("{key}[{k}]"),
                        format!("column `{column}` is listed twice"),
                    );
                }
            }
        }
        let mut targets: HashMap<&str, &str> = HashMap::new();
        if let Some(columns) = &self.columns {
            for c in columns {
                if !self.rename_columns.contains_key(c) {
                    targets.insert(c.as_str(), c.as_str());
                }
            }
        }
        for (from, to) in &self.rename_columns {
            let key = format!("{prefix}.rename_columns.{from}");
            if from.trim().is_empty() || to.trim().is_empty() {
                problems.push(key.clone(), "column names must not be empty");
            }
            if let Some(columns) = &self.columns {
                if !columns.contains(from) {
                    problems.push(
                        key.clone(),
                        format!("column `{from}` is not in {prefix}.columns"),
                    );
                }
            }
            if let Some(other) = targets.insert(to.as_str(), from.as_str()) {
                problems.push(
                    key,
                    format!("destination column `{to}` is also the name of column `{other}`"),
                );
            }
        }
        if let Some(ddl) = &self.ddl {
            check_table_ddl(&format!("{prefix}.ddl"), ddl, problems);
        }
        if let Some(filter) = &self.filter {
            let key = format!("{prefix}.filter");
            let trimmed = filter.trim();
            if trimmed.is_empty() {
                problems.push(key, "must not be empty; omit it to synchronize every row");
            } else if trimmed
                .get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("where "))
            {
                problems.push(
                    key,
                    "write only the condition, without the WHERE keyword (e.g. `id > 100`)",
                );
            } else if trimmed.contains(';') && !quoted_semicolon_only(trimmed) {
                problems.push(key, "must be a single condition; `;` is not allowed");
            }
        }
    }
}

/// Whether every `;` in `text` sits inside a quoted string (`'…'`, `"…"` or `` `…` ``).
fn quoted_semicolon_only(text: &str) -> bool {
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"' | '`') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, ';') => return false,
            _ => {}
        }
    }
    true
}

fn check_table_ddl(key: &str, ddl: &DdlOpSet, problems: &mut Problems) {
    if let Some(op) = ddl.iter().find(|op| op.is_database_level()) {
        problems.push(
            key,
            format!(
                "{} is a database-level operation and cannot be chosen for tables",
                serde_json::to_value(op)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
        );
    }
}

/// MySQL identifiers: 1-64 characters, no trailing space, no NUL.
fn check_name(key: &str, name: &str, problems: &mut Problems) {
    if name.is_empty() {
        problems.push(key, "must not be empty");
    } else if name.chars().count() > 64 {
        problems.push(
            key,
            format!("`{name}` is longer than MySQL's 64-character limit"),
        );
    } else if name.ends_with(' ') || name.contains('\0') {
        problems.push(
            key,
            format!("`{name}` is not a valid MySQL name (trailing space or NUL)"),
        );
    }
}

fn check_rename(key: &str, rename: Option<&str>, problems: &mut Problems) {
    if let Some(rename) = rename {
        check_name(key, rename, problems);
    }
}

fn check_pattern(key: &str, pattern: &str, problems: &mut Problems) {
    if pattern.trim().is_empty() {
        problems.push(key, "must not be empty");
    }
}

impl MappingRule {
    fn validate(&self, prefix: &str, problems: &mut Problems) {
        if self.add_prefix.is_none() && self.add_suffix.is_none() && self.regex.is_none() {
            problems.push(
                prefix,
                "a mapping rule needs add_prefix, add_suffix or regex (with replacement)",
            );
        }
        for (field, value) in [
            ("add_prefix", &self.add_prefix),
            ("add_suffix", &self.add_suffix),
            ("regex", &self.regex),
            ("scope", &self.scope),
        ] {
            if value.as_ref().is_some_and(|v| v.is_empty()) {
                problems.push(format!("{prefix}.{field}"), "must not be empty");
            }
        }
        match (&self.regex, &self.replacement) {
            (Some(_), None) => {
                problems.push(format!("{prefix}.replacement"), "is required with regex")
            }
            (None, Some(_)) => {
                problems.push(format!("{prefix}.replacement"), "only used with regex")
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ops::DdlOp;

    fn selection() -> ObjectSelection {
        ObjectSelection {
            databases: vec![DatabaseSelection {
                name: "shop".into(),
                tables: vec![TableSelection::new("orders"), TableSelection::new("users")],
                ..DatabaseSelection::default()
            }],
            ..ObjectSelection::default()
        }
    }

    fn keys_with(s: &ObjectSelection, allow_merge: bool) -> Vec<String> {
        let mut p = Problems::default();
        s.validate(&ObjectRules { allow_merge }, &mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key), "{e}"))
            .map(|e| e.key)
            .collect()
    }

    fn keys(s: &ObjectSelection) -> Vec<String> {
        keys_with(s, false)
    }

    fn with_table(edit: impl FnOnce(&mut TableSelection)) -> ObjectSelection {
        let mut s = selection();
        edit(&mut s.databases[0].tables[0]);
        s
    }

    const T0: &str = "objects.databases[0].tables[0]";

    #[test]
    fn valid_selection_passes() {
        assert!(keys(&selection()).is_empty());
        let s = ObjectSelection {
            patterns: vec![PatternSelection {
                pattern: "shop.*".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(keys(&s).is_empty());
    }

    #[test]
    fn empty_selection_rejected() {
        let mut p = Problems::default();
        ObjectSelection::default().validate(&ObjectRules { allow_merge: false }, &mut p);
        let e = p.into_vec();
        assert_eq!(e[0].key, "objects");
        assert!(e[0]
            .to_string()
            .starts_with("objects: at least one object must be selected"));
    }

    #[test]
    fn duplicate_and_empty_names() {
        let mut s = selection();
        s.databases.push(DatabaseSelection::whole("shop"));
        assert_eq!(keys(&s), vec!["objects.databases[1].name"]);
        let mut s = selection();
        s.databases[0].name = String::new();
        assert_eq!(keys(&s), vec!["objects.databases[0].name"]);
        let mut s = selection();
        s.databases[0].tables[1].name = "orders".into();
        assert!(keys(&s).contains(&"objects.databases[0].tables[1].name".to_owned()));
        let s = with_table(|t| t.name = "x".repeat(65));
        assert_eq!(keys(&s), vec![format!("{T0}.name")]);
        let mut s = selection();
        s.databases[0].rename_to = Some(String::new());
        assert_eq!(keys(&s), vec!["objects.databases[0].rename_to"]);
    }

    #[test]
    fn two_tables_to_one_destination_needs_merge() {
        let s = with_table(|t| t.rename_to = Some("users".into()));
        assert_eq!(keys(&s), vec!["objects.databases[0].tables[1].name"]);
        assert!(keys_with(&s, true).is_empty());
    }

    #[test]
    fn column_rules() {
        assert_eq!(
            keys(&with_table(|t| t.columns = Some(vec![]))),
            vec![format!("{T0}.columns")]
        );
        assert_eq!(
            keys(&with_table(
                |t| t.columns = Some(vec!["id".into(), "id".into()])
            )),
            vec![format!("{T0}.columns[1]")]
        );
        assert_eq!(
            keys(&with_table(|t| {
                t.columns = Some(vec!["id".into()]);
                t.rename_columns.insert("amount".into(), "total".into());
            })),
            vec![format!("{T0}.rename_columns.amount")]
        );
        assert_eq!(
            keys(&with_table(|t| {
                t.columns = Some(vec!["id".into(), "amount".into()]);
                t.rename_columns.insert("amount".into(), "id".into());
            })),
            vec![format!("{T0}.rename_columns.amount")]
        );
        assert_eq!(
            keys(&with_table(|t| {
                t.rename_columns.insert("amount".into(), String::new());
            })),
            vec![format!("{T0}.rename_columns.amount")]
        );
    }

    #[test]
    fn table_ddl_cannot_hold_database_operations() {
        let s = with_table(|t| t.ddl = Some([DdlOp::DropDatabase].into_iter().collect()));
        assert_eq!(keys(&s), vec![format!("{T0}.ddl")]);
    }

    #[test]
    fn filter_rules() {
        for bad in ["  ", "WHERE id > 1", "id > 1; DROP TABLE x"] {
            let s = with_table(|t| t.filter = Some(bad.into()));
            assert_eq!(keys(&s), vec![format!("{T0}.filter")], "{bad}");
        }
        let s = with_table(|t| t.filter = Some("note = 'a;b' AND id > 1".into()));
        assert!(keys(&s).is_empty());
    }

    #[test]
    fn pattern_and_mapping_rules() {
        let mut s = selection();
        s.patterns.push(PatternSelection::default());
        s.exclude.push(NamePattern::default());
        s.mapping_rules.push(MappingRule::default());
        s.mapping_rules.push(MappingRule {
            regex: Some("^(.*)$".into()),
            ..Default::default()
        });
        s.mapping_rules.push(MappingRule {
            add_prefix: Some("x_".into()),
            replacement: Some("y".into()),
            ..Default::default()
        });
        assert_eq!(
            keys(&s),
            vec![
                "objects.patterns[0].pattern",
                "objects.exclude[0].pattern",
                "objects.mapping_rules[0]",
                "objects.mapping_rules[1].replacement",
                "objects.mapping_rules[2].replacement",
            ]
        );
    }

    #[test]
    fn effective_operations_inherit() {
        let mut db = DatabaseSelection::whole("shop");
        let t = TableSelection::new("t");
        assert!(t.effective_dml(&db, &DmlOpSet::all()).is_all());
        db.ddl = Some(DdlOpSet::none());
        assert!(t.effective_ddl(&db, &DdlOpSet::all()).is_empty());
        assert_eq!(db.destination_name(), "shop");
        assert!(db.is_whole());
    }
}
