//! Which views, routines, triggers, events and grants reach the destination, under which
//! names — the [`ConfigFilter`] side of [`crate::schema_object`].
//!
//! The guide: "If you select tables or columns, other objects (such as views, triggers, and
//! stored procedures) are not synchronized." So an object is synchronized only when its
//! database is selected whole (and, for a view, its own name is not excluded; for a trigger,
//! its table is selected). Then:
//! - `objects.exclude` patterns match objects by `database.name`, as they match tables;
//! - a **view** is created only when every table or view it reads is selected and copied with
//!   every column; otherwise it is refused with the table it misses (never half-created);
//! - a **trigger** follows `migration.triggers`: `auto` creates it, `manual` leaves it for the
//!   cutover script;
//! - an **event** is synchronized only with `migration.migrate_events`;
//! - names inside the definition are mapped as [`super::body`] reads them; a body it cannot map
//!   is refused with the reason.

use super::body::read_body;
use super::ddl::FilterNames;
use super::ConfigFilter;
use crate::config::TriggerMethod;
use crate::schema::TableId;
use crate::schema_object::{GrantScope, ObjectKind, ObjectRoute, SchemaObject};

impl ConfigFilter {
    pub(super) fn object_route(&self, object: &SchemaObject) -> ObjectRoute {
        // `objects.exclude` patterns leave out objects by `database.name` as they do tables.
        if self.selection.whole_database(&object.database).is_none()
            || self.selection.select(&object.id()).is_none()
        {
            return ObjectRoute::Skip;
        }
        match object.kind {
            ObjectKind::Event if !self.migrate_events => return ObjectRoute::Skip,
            ObjectKind::Trigger => {
                let on = TableId::new(
                    object.database.clone(),
                    object.table.clone().unwrap_or_default(),
                );
                if self.selection.select(&on).is_none() {
                    return ObjectRoute::Skip;
                }
            }
            _ => {}
        }
        let names = FilterNames(self);
        let (found, mapped) = match read_body(
            &object.definition,
            &object.database,
            object.table.as_deref(),
            Some(&names),
        ) {
            Ok(r) => r,
            Err(e) => {
                return ObjectRoute::Refused(format!(
                    "{} cannot be created with destination names: {e}",
                    object.label()
                ))
            }
        };
        let own = object.id();
        let reads: Vec<TableId> = if object.kind == ObjectKind::View {
            let reads: Vec<TableId> = found.tables.into_iter().filter(|t| t != &own).collect();
            for table in &reads {
                match self.selection.select(table) {
                    None => {
                        return ObjectRoute::Refused(format!(
                            "{} reads {table}, which is not selected; select it (or the view \
                             cannot work at the destination)",
                            object.label()
                        ))
                    }
                    Some(s) if s.columns().is_some() => {
                        return ObjectRoute::Refused(format!(
                            "{} reads {table}, which is synchronized with a column subset",
                            object.label()
                        ))
                    }
                    Some(_) => {}
                }
            }
            reads
                .iter()
                .map(|t| crate::objects::rewrite::Names::table(&names, t))
                .collect()
        } else {
            Vec::new()
        };
        let mut out = object.clone();
        out.database = self.destination_database(&object.database);
        if object.kind == ObjectKind::View {
            out.name = crate::objects::rewrite::Names::table(&names, &own).table;
        }
        if let Some(t) = &object.table {
            out.table = Some(
                crate::objects::rewrite::Names::table(
                    &names,
                    &TableId::new(object.database.clone(), t.clone()),
                )
                .table,
            );
        }
        if let Some(text) = mapped {
            out.definition = text;
        }
        out.reads = reads;
        if object.kind == ObjectKind::Trigger && self.triggers == TriggerMethod::Manual {
            return ObjectRoute::Cutover(out);
        }
        ObjectRoute::Create(out)
    }

    pub(super) fn grant_route(&self, scope: &GrantScope) -> Option<GrantScope> {
        match scope {
            GrantScope::Global | GrantScope::Other(_) => None,
            GrantScope::Database(d) => self
                .selection
                .whole_database(d)
                .map(|_| GrantScope::Database(self.destination_database(d))),
            GrantScope::Table(t) => {
                let s = self.selection.select(t)?;
                if s.columns().is_some() {
                    return None;
                }
                Some(GrantScope::Table(self.destination_of(t, &s)))
            }
            GrantScope::Routine(kind, id) => {
                self.selection.whole_database(&id.database)?;
                Some(GrantScope::Routine(
                    *kind,
                    TableId::new(self.destination_database(&id.database), id.table.clone()),
                ))
            }
        }
    }
}

impl ConfigFilter {
    /// A CREATE / ALTER / DROP of a view, routine, trigger or event met in the source's log:
    /// synchronized under the same rules as at schema sync (database selected whole, the kind's
    /// option) when the database's DDL selection is complete, with names mapped inside the
    /// statement. `Err` when it touches selected objects but cannot be followed.
    pub(super) fn object_ddl(
        &self,
        ddl: &crate::change::Ddl,
        kind: ObjectKind,
    ) -> Result<Option<crate::change::Ddl>, String> {
        let Some(object) = ddl.tables.first() else {
            return Ok(None);
        };
        let Some(db) = self.selection.whole_database(&object.database) else {
            return Ok(None);
        };
        if !self.selection.database_ddl(db).is_all() {
            return Ok(None);
        }
        let creates = first_word_is(&ddl.statement, "CREATE");
        let trigger_table = match kind {
            ObjectKind::Event if !self.migrate_events => return Ok(None),
            ObjectKind::Trigger if self.triggers == TriggerMethod::Manual => {
                tracing::info!(
                    "trigger {object} changed at the source; migration.triggers = \"manual\" \
                     leaves triggers to the cutover (`dts cutover` prints their SQL)"
                );
                return Ok(None);
            }
            ObjectKind::Trigger => {
                if let Some(on) = ddl.tables.get(1) {
                    if self.selection.select(on).is_none() {
                        return Ok(None);
                    }
                }
                ddl.tables.get(1).map(|t| t.table.clone())
            }
            ObjectKind::View
                if ddl
                    .tables
                    .iter()
                    .any(|t| self.selection.select(t).is_none()) =>
            {
                return Ok(None)
            }
            _ => None,
        };
        let session = match kind {
            ObjectKind::View => ddl.database.clone().unwrap_or(object.database.clone()),
            _ => object.database.clone(),
        };
        let names = FilterNames(self);
        let (found, mapped) = read_body(
            &ddl.statement,
            &session,
            trigger_table.as_deref(),
            Some(&names),
        )
        .map_err(|e| {
            format!(
                "{kind} {object} cannot be created with destination names: {e}; it is not \
                     synchronized: `{}`",
                super::ddl::short(&ddl.statement)
            )
        })?;
        if kind == ObjectKind::View && creates {
            for table in found.tables.iter().filter(|t| !ddl.tables.contains(t)) {
                let problem = match self.selection.select(table) {
                    None => "which is not selected",
                    Some(s) if s.columns().is_some() => {
                        "which is synchronized with a column subset"
                    }
                    Some(_) => continue,
                };
                return Err(format!(
                    "view {object} reads {table}, {problem}; it is not synchronized: `{}`",
                    super::ddl::short(&ddl.statement)
                ));
            }
        }
        let tables = ddl
            .tables
            .iter()
            .map(|t| match kind {
                ObjectKind::View => crate::objects::rewrite::Names::table(&names, t),
                _ if Some(t) == ddl.tables.get(1) && kind == ObjectKind::Trigger => {
                    crate::objects::rewrite::Names::table(&names, t)
                }
                _ => TableId::new(self.destination_database(&t.database), t.table.clone()),
            })
            .collect();
        Ok(Some(crate::change::Ddl {
            database: Some(self.destination_database(&session)),
            statement: mapped.unwrap_or_else(|| ddl.statement.clone()),
            kind: ddl.kind,
            tables,
            sql_mode: ddl.sql_mode.clone(),
        }))
    }
}

/// Whether the statement's first word is `word` (any case).
fn first_word_is(statement: &str, word: &str) -> bool {
    statement
        .split_whitespace()
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(word))
}
