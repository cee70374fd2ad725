//! Precheck results: named checks a DBA can act on, before a task starts.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How serious a check's finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckLevel {
    /// Nothing to do.
    Pass,
    /// A risk the user may acknowledge and proceed.
    Warning,
    /// Blocks the task until fixed.
    Error,
}

/// The outcome of one named check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable name of the check, e.g. `source.binlog_format`.
    pub name: String,
    /// Pass, warning or error.
    pub level: CheckLevel,
    /// What was found, naming the object.
    pub message: String,
    /// What to do about it (empty on pass).
    pub fix: String,
}

impl CheckResult {
    /// A passing check.
    pub fn pass(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            level: CheckLevel::Pass,
            message: message.into(),
            fix: String::new(),
        }
    }

    /// A warning with the fix to apply.
    pub fn warning(
        name: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            level: CheckLevel::Warning,
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// An error with the fix to apply.
    pub fn error(
        name: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            level: CheckLevel::Error,
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for CheckResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            CheckLevel::Pass => "PASS",
            CheckLevel::Warning => "WARN",
            CheckLevel::Error => "FAIL",
        };
        write!(f, "[{level}] {}: {}", self.name, self.message)?;
        if !self.fix.is_empty() {
            write!(f, " — fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// Every check of a precheck run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecheckReport {
    /// The checks, in the order they ran.
    pub checks: Vec<CheckResult>,
}

impl PrecheckReport {
    /// Whether the task may start: no errors, and every warning's name is in `acknowledged`.
    pub fn passes(&self, acknowledged: &[String]) -> bool {
        self.checks.iter().all(|c| match c.level {
            CheckLevel::Pass => true,
            CheckLevel::Warning => acknowledged.iter().any(|a| a == &c.name),
            CheckLevel::Error => false,
        })
    }

    /// The check with this name, if it ran.
    pub fn get(&self, name: &str) -> Option<&CheckResult> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Add the checks of another report.
    pub fn extend(&mut self, other: PrecheckReport) {
        self.checks.extend(other.checks);
    }

    /// Re-judges a source's key-less-table warning (a check named `…`
    /// [`KEYLESS_CHECK_SUFFIX`]) against the tables the task actually selected: a source only
    /// knows the databases in its scope, which a pattern like `shop_*.orders` widens, and a
    /// key-less table the task never copies must not hold it up. The check keeps its name (so
    /// an acknowledgement still applies) and its fix.
    pub fn rejudge_keyless(&mut self, selected: &[crate::schema::SchemaRef]) {
        let keyless: Vec<String> = selected
            .iter()
            .filter(|s| s.identity_columns().is_none())
            .map(|s| s.id.to_string())
            .collect();
        for c in &mut self.checks {
            if !c.name.ends_with(KEYLESS_CHECK_SUFFIX) || c.level != CheckLevel::Warning {
                continue;
            }
            if keyless.is_empty() {
                c.level = CheckLevel::Pass;
                c.message =
                    "every selected table has a primary key or a NOT NULL unique key".into();
                c.fix = String::new();
            } else {
                let mut listed = keyless
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if keyless.len() > 20 {
                    listed.push_str(&format!(" and {} more", keyless.len() - 20));
                }
                c.message = format!(
                    "{} selected table(s) without a primary key or NOT NULL unique key: {listed}; \
                     without a key their changes cannot be matched to destination rows, so a \
                     retried or repeated write can duplicate rows",
                    keyless.len()
                );
            }
        }
    }
}

/// Name suffix of the check in which a source reports tables without a primary or NOT NULL
/// unique key (see [`PrecheckReport::rejudge_keyless`]).
pub const KEYLESS_CHECK_SUFFIX: &str = ".tables_without_primary_key";

impl fmt::Display for PrecheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyless_warning_is_judged_on_the_selected_tables_only() {
        use crate::schema::{Column, ColumnType, TableId, TableSchema};
        use std::sync::Arc;
        let table = |name: &str, pk: bool| {
            Arc::new(TableSchema {
                id: TableId::new("shop_1", name),
                columns: vec![Column::new("id", ColumnType::Double, "double")],
                primary_key: if pk { vec!["id".into()] } else { vec![] },
                unique_keys: vec![],
                indexes: vec![],
                create_sql: None,
                constraints: Default::default(),
            })
        };
        let source_report = || {
            let mut r = PrecheckReport::default();
            r.checks.push(CheckResult::warning(
                "source.tables_without_primary_key",
                "1 table(s) without a primary key: other_db.log",
                "add a key",
            ));
            r
        };
        let mut r = source_report();
        r.rejudge_keyless(&[table("orders", true)]);
        assert!(r.passes(&[]));
        let mut r = source_report();
        r.rejudge_keyless(&[table("orders", true), table("audit", false)]);
        let c = r.get("source.tables_without_primary_key").unwrap();
        assert_eq!(c.level, CheckLevel::Warning);
        assert!(c.message.contains("shop_1.audit") && !c.message.contains("other_db"));
        assert_eq!(c.fix, "add a key");
        assert!(r.passes(&["source.tables_without_primary_key".into()]));
    }

    #[test]
    fn warnings_need_acknowledgement_errors_block() {
        let mut r = PrecheckReport::default();
        r.checks.push(CheckResult::pass("a", "ok"));
        assert!(r.passes(&[]));
        r.checks
            .push(CheckResult::warning("b", "short retention", "raise it"));
        assert!(!r.passes(&[]));
        assert!(r.passes(&["b".into()]));
        r.checks
            .push(CheckResult::error("c", "no binlog", "enable it"));
        assert!(!r.passes(&["b".into(), "c".into()]));
        assert!(r
            .to_string()
            .contains("[FAIL] c: no binlog — fix: enable it"));
    }
}
