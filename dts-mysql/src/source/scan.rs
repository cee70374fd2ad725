//! Sensitive data scanning of MySQL tables: a bounded sample of each candidate column, judged by
//! [`dts_core::scan`].
//!
//! Candidate columns are the character columns (and integer and DECIMAL columns, which may
//! hold phone or card numbers); dates, binary data, JSON and geometry are skipped. Each table is
//! read once, `sample_rows` rows at most, without an `ORDER BY` (the server's cheapest rows).

use crate::wire::conn::MysqlEndpoint;
use crate::wire::ident::{quote_ident, quote_table};
use dts_core::scan::{scan_column, ColumnSample, ScanOptions, ScanReport};
use dts_core::task::mapping::Mapper;
use dts_core::{ColumnType, Error, Filter, SchemaRef, Source};
use mysql_async::prelude::Queryable;
use std::sync::Arc;

/// Rows sampled per table unless told otherwise.
pub const DEFAULT_SAMPLE_ROWS: usize = 1_000;

/// Whether a column's values could be personal data of a kind the scanner knows.
fn candidate(t: &ColumnType) -> bool {
    matches!(
        t,
        ColumnType::Char { .. }
            | ColumnType::VarChar { .. }
            | ColumnType::Text { .. }
            | ColumnType::Decimal { .. }
    ) || matches!(t, ColumnType::Integer { bytes, .. } if *bytes == 8)
}

/// Scans `tables`, reading at most `sample_rows` rows of each from the server at `ep`.
pub async fn scan_tables(
    ep: &MysqlEndpoint,
    tables: &[SchemaRef],
    sample_rows: usize,
    options: &ScanOptions,
) -> Result<ScanReport, Error> {
    let mut conn = ep.connect().await?;
    let mut report = ScanReport::default();
    for table in tables {
        let columns: Vec<&str> = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && candidate(&c.column_type))
            .map(|c| c.name.as_str())
            .collect();
        if columns.is_empty() {
            continue;
        }
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("CAST({} AS CHAR)", quote_ident(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} LIMIT {}",
            select.join(", "),
            quote_table(&table.id),
            sample_rows.max(1)
        );
        let rows: Vec<mysql_async::Row> = conn
            .query(sql)
            .await
            .map_err(|e| ep.map_err(&format!("sample {}", table.id), e))?;
        let mut samples: Vec<ColumnSample> = columns
            .iter()
            .map(|c| ColumnSample {
                table: table.id.clone(),
                column: c.to_string(),
                values: Vec::with_capacity(rows.len()),
            })
            .collect();
        for row in rows {
            for (i, sample) in samples.iter_mut().enumerate() {
                if let Some(Some(v)) = row.get::<Option<String>, _>(i) {
                    sample.values.push(v);
                }
            }
        }
        report
            .findings
            .extend(samples.iter().filter_map(|s| scan_column(s, options)));
    }
    let _ = conn.disconnect().await;
    Ok(report)
}

/// Scans the tables `filter` selects among those `source` discovers (source names, as masking
/// rules use them).
pub async fn scan_selected(
    source: &crate::MysqlSource,
    filter: Arc<dyn Filter>,
    sample_rows: usize,
    options: &ScanOptions,
) -> Result<ScanReport, Error> {
    let all = source.discover().await?;
    let mut mapper = Mapper::new(filter);
    let selected: Vec<SchemaRef> = all
        .into_iter()
        .filter(|s| mapper.route(s).is_some())
        .collect();
    scan_tables(source.endpoint(), &selected, sample_rows, options).await
}
