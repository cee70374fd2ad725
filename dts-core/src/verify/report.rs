//! Verification results: per table counts of checked, missing, extra and different rows with a
//! bounded list of the differing keys, schema differences, and whether the run was complete.
//! Rendered as human text ([`VerificationReport::to_text`]) or JSON (serde).

use crate::config::{FullVerificationMode, VerificationBaseline};
use crate::schema::TableId;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How a row differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffKind {
    /// In the source, not at the destination.
    Missing,
    /// At the destination, not in the source.
    Extra,
    /// On both sides with different values.
    Different,
}

impl DiffKind {
    /// Lower-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DiffKind::Missing => "missing",
            DiffKind::Extra => "extra",
            DiffKind::Different => "different",
        }
    }
}

/// One differing row, by key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// How it differs.
    pub kind: DiffKind,
    /// Its key values, in key order.
    pub key: Vec<Value>,
}

/// One table's result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TableReport {
    /// Source table.
    pub source: Option<TableId>,
    /// Destination table.
    pub destination: Option<TableId>,
    /// Source rows (row-count mode), passing the row filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_rows: Option<u64>,
    /// Destination rows (row-count mode), passing the row filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_rows: Option<u64>,
    /// Key-range chunks of the table.
    pub chunks: u64,
    /// Chunks compared (all of them at 100 % sampling).
    pub chunks_checked: u64,
    /// Rows checked (under the baseline).
    pub checked: u64,
    /// Rows missing at the destination.
    pub missing: u64,
    /// Rows at the destination that the source lacks.
    pub extra: u64,
    /// Rows present on both sides with different values.
    pub different: u64,
    /// The names of the key columns at the source, in key order (what [`Difference::key`]
    /// holds the values of).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_columns: Vec<String>,
    /// The differing rows, by key, up to the run's limit.
    pub differences: Vec<Difference>,
    /// True when more rows differ than are listed.
    pub differences_truncated: bool,
    /// False when the table was not fully verified (timeout, error).
    pub complete: bool,
    /// What the compare left out, and errors.
    pub notes: Vec<String>,
}

impl TableReport {
    /// Missing + extra + different.
    pub fn inconsistent(&self) -> u64 {
        self.missing + self.extra + self.different
    }

    /// The listed keys of one kind.
    pub fn keys(&self, kind: DiffKind) -> Vec<Vec<Value>> {
        self.differences
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.key.clone())
            .collect()
    }

    /// A key as a user writes it: `id=208`, `(order_id=7, line=2)` for a composite key, with
    /// strings quoted as SQL literals (`code='A-1'`).
    pub fn key_text(&self, key: &[Value]) -> String {
        let parts: Vec<String> = key
            .iter()
            .enumerate()
            .map(|(i, v)| match self.key_columns.get(i) {
                Some(c) => format!("{c}={}", literal(v)),
                None => literal(v),
            })
            .collect();
        if parts.len() == 1 {
            parts.into_iter().next().unwrap_or_default()
        } else {
            format!("({})", parts.join(", "))
        }
    }
}

/// A key value as a SQL literal.
fn literal(v: &Value) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"));
    match v {
        Value::Null => "NULL".into(),
        Value::Int(n) => n.to_string(),
        Value::UInt(n) | Value::Bit(n) => n.to_string(),
        Value::Year(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(f) => f.to_string(),
        Value::Decimal(s) => s.clone(),
        Value::Text(s) | Value::Enum(s) | Value::Json(s) => quote(s),
        Value::Set(items) => quote(&items.join(",")),
        Value::Bytes(b) | Value::Geometry(b) => {
            let mut out = String::from("0x");
            for byte in b.iter() {
                let _ = write!(out, "{byte:02X}");
            }
            out
        }
        Value::Date(d) => quote(&d.to_string()),
        Value::Time(t) => quote(&t.to_string()),
        Value::DateTime(d) => quote(&d.to_string()),
        Value::Timestamp(t) => quote(&t.to_utc_datetime().to_string()),
    }
}

/// One difference between the expected and the actual destination schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaDifference {
    /// The destination table.
    pub table: TableId,
    /// What differs (`table`, ``column `x` type``, `primary key`, ``index `i` ``…).
    pub object: String,
    /// What the source and the task's mapping imply.
    pub expected: String,
    /// What the destination has.
    pub actual: String,
}

/// The result of one verification run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// Full verification mode (`none` for a schema-only run).
    pub mode: FullVerificationMode,
    /// Which side's rows were checked.
    pub baseline: VerificationBaseline,
    /// Percentage of chunks compared (full-field mode).
    pub sampling_percent: u32,
    /// Per table results.
    pub tables: Vec<TableReport>,
    /// Schema differences (schema verification).
    pub schema: Vec<SchemaDifference>,
    /// What schema verification did not compare under the destination's dialect, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_notes: Vec<String>,
    /// True when the run ended before every table was verified (timeout or error).
    pub partial: bool,
    /// True when the timeout ended the run.
    pub timed_out: bool,
    /// Errors that stopped a table or the run, naming the object.
    pub errors: Vec<String>,
    /// Bytes sent and received by verification on both sides.
    pub bytes_transferred: u64,
    /// Wall-clock duration in milliseconds.
    pub elapsed_ms: u64,
}

impl VerificationReport {
    /// Inconsistent rows over every table.
    pub fn inconsistent(&self) -> u64 {
        self.tables.iter().map(TableReport::inconsistent).sum()
    }

    /// True when nothing differs, no schema differs, and the run was complete.
    pub fn is_clean(&self) -> bool {
        self.inconsistent() == 0 && self.schema.is_empty() && !self.partial
    }

    /// The table report of a source table.
    pub fn table(&self, source: &TableId) -> Option<&TableReport> {
        self.tables
            .iter()
            .find(|t| t.source.as_ref() == Some(source))
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as human-readable text.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mode = match self.mode {
            FullVerificationMode::None => "none".to_string(),
            FullVerificationMode::RowCount => "row count".to_string(),
            FullVerificationMode::Sampled => {
                format!("full field, {} % sampled", self.sampling_percent)
            }
        };
        let _ = writeln!(
            out,
            "verification: {mode}, baseline {:?}, {} inconsistent row(s), {} schema difference(s){}",
            self.baseline,
            self.inconsistent(),
            self.schema.len(),
            if self.timed_out {
                " — TIMED OUT, partial"
            } else if self.partial {
                " — partial"
            } else {
                ""
            }
        );
        for t in &self.tables {
            let name =
                |id: &Option<TableId>| id.as_ref().map(|i| i.to_string()).unwrap_or_default();
            let _ = write!(
                out,
                "  {} -> {}: checked {}, missing {}, extra {}, different {}",
                name(&t.source),
                name(&t.destination),
                t.checked,
                t.missing,
                t.extra,
                t.different
            );
            if let (Some(s), Some(d)) = (t.source_rows, t.destination_rows) {
                let _ = write!(out, " (rows: source {s}, destination {d})");
            }
            if t.chunks > 0 {
                let _ = write!(out, " [chunks {}/{}]", t.chunks_checked, t.chunks);
            }
            if !t.complete {
                out.push_str(" INCOMPLETE");
            }
            out.push('\n');
            for kind in [DiffKind::Missing, DiffKind::Extra, DiffKind::Different] {
                let keys = t.keys(kind);
                if keys.is_empty() {
                    continue;
                }
                let listed: Vec<String> = keys.iter().map(|k| t.key_text(k)).collect();
                let _ = writeln!(
                    out,
                    "    {:<9} {:>5}: {}",
                    kind.as_str(),
                    listed.len(),
                    listed.join(", ")
                );
            }
            if t.differences_truncated {
                let _ = writeln!(out, "    … more differing rows not listed");
            }
            for n in &t.notes {
                let _ = writeln!(out, "    note: {n}");
            }
        }
        for s in &self.schema {
            let _ = writeln!(
                out,
                "  schema {}: {} expected {}, found {}",
                s.table, s.object, s.expected, s.actual
            );
        }
        for n in &self.schema_notes {
            let _ = writeln!(out, "  schema note: {n}");
        }
        for e in &self.errors {
            let _ = writeln!(out, "  error: {e}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_and_grouped_per_kind() {
        let diff = |kind, key: Vec<Value>| Difference { kind, key };
        let t = TableReport {
            source: Some(TableId::new("shop", "orders")),
            destination: Some(TableId::new("shop", "orders")),
            key_columns: vec!["id".into()],
            checked: 10,
            missing: 2,
            different: 1,
            differences: vec![
                diff(DiffKind::Missing, vec![Value::Int(208)]),
                diff(DiffKind::Different, vec![Value::UInt(3)]),
                diff(DiffKind::Missing, vec![Value::Int(209)]),
            ],
            complete: true,
            ..Default::default()
        };
        let report = VerificationReport {
            tables: vec![t.clone()],
            ..Default::default()
        };
        let text = report.to_text();
        assert!(text.contains("missing       2: id=208, id=209\n"), "{text}");
        assert!(text.contains("different     1: id=3\n"), "{text}");
        assert!(!text.contains("Int("), "{text}");
        let composite = TableReport {
            key_columns: vec!["code".into(), "line".into()],
            ..t
        };
        assert_eq!(
            composite.key_text(&[Value::Text("it's".into()), Value::Int(2)]),
            "(code='it''s', line=2)"
        );
        assert_eq!(
            composite.key_text(&[Value::Bytes(vec![0xab, 1].into())]),
            "code=0xAB01"
        );
    }
}
