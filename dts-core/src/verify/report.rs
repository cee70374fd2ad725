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
            for d in &t.differences {
                let key: Vec<String> = d.key.iter().map(|v| format!("{v:?}")).collect();
                let _ = writeln!(out, "    {:<9} key ({})", d.kind.as_str(), key.join(", "));
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
