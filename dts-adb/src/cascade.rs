//! Foreign-key cascades ([`dts_core::DerivedChange`]) at an AnalyticDB destination: the same
//! predicate statements as a MySQL destination (`dts_mysql::wire::predicate`), on the destination
//! tables this sink writes (merged tables included), restricted to the source table's own rows
//! of a merged table by its [`crate::DATA_SOURCE_COLUMN`] at every level.
//!
//! The buffers are flushed before a derived change runs, so it sees every earlier change of
//! the stream, and changes after it are buffered anew: log order holds. Like every write of
//! this sink, a derived change is replayed after a crash from the stored checkpoint; replaying
//! a predicate change is idempotent (the rows it would change again are already changed, and
//! later changes replayed after it converge as for row changes).

use crate::ident::quote_table;
use crate::AdbSink;
use dts_core::{DerivedChange, TableId, Value};
use dts_mysql::wire::predicate::{derived_statement, Naming, Statement};

/// How an ADB sink names tables in a derived change's statement.
pub(crate) struct AdbNaming<'a>(pub &'a AdbSink);

impl Naming for AdbNaming<'_> {
    fn table(&self, table: &TableId) -> String {
        quote_table(&self.0.destination_of(table))
    }

    fn scope(&self, table: &TableId) -> Option<(String, Value)> {
        self.0
            .tag(table)
            .map(|tag| (crate::DATA_SOURCE_COLUMN.to_string(), Value::Text(tag)))
    }
}

/// The statement applying `change` at this destination.
pub(crate) fn statement(sink: &AdbSink, change: &DerivedChange) -> Statement {
    derived_statement(change, &AdbNaming(sink))
}
