//! The task's object filter built from its configuration: [`ConfigFilter`].
//!
//! It implements [`Filter`] for everything the guide's "Configure Objects" page and related
//! options decide:
//! - **selection** of databases, tables and columns (`[objects]`: databases, patterns,
//!   exclusions, column subsets; exclusions win, a database without a table list selects
//!   tables created later too, patterns never select the server's own databases);
//! - **names** at the destination (`rename_to`, `rename_columns`, `[[objects.mapping_rules]]`,
//!   `migration.capitalization`), applied in that order — see
//!   [`ConfigFilter::with_destination_lowercase`] for the capitalization policies;
//! - **operations** synchronized (`dml` / `ddl` per database, table, pattern, and AnalyticDB's
//!   instance level; `topology.exclude_ddl`);
//! - **rows** (`filter`): pushed into full-sync reads as quoted SQL and evaluated on binlog row
//!   images with MySQL semantics — see [`Condition`];
//! - **DDL** routing with names rewritten in the statement text — see
//!   [`ConfigFilter::route_ddl`](crate::Filter::route_ddl) below;
//! - **masking** (`[advanced.masking]`) — see [`masking`];
//! - **Online DDL** temporary tables (`advanced.online_ddl`) — see [`online_ddl`];
//!   pt-online-schema-change is refused (the source precheck finds its `pt_osc_*` triggers, the
//!   task's mapper fails on one created later, see [`online_ddl::pt_osc_trigger`]).
//!
//! `route` cannot fail, so configuration that only the source's tables can prove wrong (a column
//! subset that leaves out the primary key, a filter naming a missing column, two tables that
//! meet in one destination table without merging) is reported by
//! [`ConfigFilter::check_tables`], which the precheck runs. `route` itself never drops a table
//! or column silently: when it meets such a problem at run time (a table created after the
//! precheck) it still routes what the config selects and logs the problem with
//! `tracing::warn!` (once per problem). The exception is a table created or renamed during
//! incremental write into a destination table another selected table already uses: that
//! fails the task ([`Filter::ddl_problem`]) rather than merging the two silently.

mod body;
mod collisions;
pub mod condition;
mod ddl;
pub mod masking;
mod naming;
pub mod online_ddl;
pub mod pattern;
mod rewrite;
mod schema_objects;
mod selection;

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

pub(crate) use body::read_body;
pub use condition::Condition;

use crate::change::{Ddl, Row};
use crate::config::{ConfigError, TaskConfig};
use crate::filter::{Filter, TableRoute};
use crate::schema::{TableId, TableSchema};
use condition::column_position;
use masking::Masking;
use naming::NameMapper;
use selection::{Selected, Selection};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

/// The [`Filter`] a task's configuration describes. Build it with
/// [`ConfigFilter::from_config`]; tell it how the destination stores names with
/// [`ConfigFilter::with_destination_lowercase`]; run [`ConfigFilter::check_tables`] in the
/// precheck.
///
/// ```
/// use dts_core::config::TaskConfig;
/// use dts_core::objects::ConfigFilter;
/// use dts_core::{Column, ColumnType, Filter, TableId, TableSchema};
///
/// let config = TaskConfig::parse_toml_str(r#"
///     [source]
///     host = "127.0.0.1"
///     user = "dts"
///     [destination]
///     type = "mysql"
///     host = "127.0.0.2"
///     user = "dts"
///     [[objects.databases]]
///     name = "shop"
///     rename_to = "shop_copy"
///     [[objects.databases.tables]]
///     name = "orders"
///     filter = "amount >= 100"
/// "#).unwrap();
/// let filter = ConfigFilter::from_config(&config).unwrap();
/// let orders = TableSchema {
///     id: TableId::new("shop", "orders"),
///     columns: vec![
///         Column::new("id", ColumnType::Integer { bytes: 4, unsigned: false }, "int"),
///         Column::new("amount", ColumnType::Decimal { precision: 10, scale: 2 }, "decimal(10,2)"),
///     ],
///     primary_key: vec!["id".into()],
///     unique_keys: vec![],
///     indexes: vec![],
///     create_sql: None,
///     constraints: Default::default(),
/// };
/// let route = filter.route(&orders).unwrap();
/// assert_eq!(route.destination, TableId::new("shop_copy", "orders"));
/// assert_eq!(route.condition.as_deref(), Some("(`amount` >= 100)"));
/// assert!(filter.check_tables(&[orders]).is_empty());
/// ```
#[derive(Debug)]
pub struct ConfigFilter {
    selection: Selection,
    names: NameMapper,
    masking: Masking,
    allow_merge: bool,
    log: Mutex<ProblemLog>,
    destinations: Mutex<collisions::Destinations>,
    /// `migration.triggers`.
    triggers: crate::config::TriggerMethod,
    /// `migration.migrate_events`.
    migrate_events: bool,
}

#[derive(Debug, Default)]
struct ProblemLog {
    last_ddl: Option<String>,
    warned: HashSet<String>,
}

impl ConfigFilter {
    /// Builds the filter from a task's configuration (normally already validated with
    /// [`TaskConfig::validate`]). Fails on what the filter must compile, naming the key: an
    /// invalid pattern (`objects.patterns[0].pattern`), regular expression
    /// (`objects.mapping_rules[1].regex`, `advanced.gh_ost_shadow_regex`) or row filter
    /// (`objects.databases[0].tables[1].filter`).
    pub fn from_config(config: &TaskConfig) -> Result<ConfigFilter, ConfigError> {
        Ok(ConfigFilter {
            selection: Selection::new(config)?,
            names: NameMapper::new(&config.objects, config.migration.capitalization)?,
            masking: Masking::new(&config.advanced.masking)?,
            allow_merge: config.destination.merge_tables,
            log: Mutex::new(ProblemLog::default()),
            destinations: Mutex::new(collisions::Destinations::default()),
            triggers: config.migration.trigger_method(),
            migrate_events: config.migration.migrate_events,
        })
    }

    /// Says whether the destination stores database and table names in lower case (MySQL's
    /// `lower_case_table_names` = 1 or 2), which the `dts_default` capitalization policy
    /// follows. The default is `false` (names keep the source's case). The filter cannot ask
    /// the server itself; the host reads the variable when it connects.
    ///
    /// `migration.capitalization`, as the service documents its policies for MySQL-family
    /// destinations (MySQL, MariaDB, PolarDB, AnalyticDB for MySQL 3.0), applied after renames
    /// and mapping rules:
    /// - `dts_default`: with a lower-casing destination, database and table names become
    ///   lower-case and column names keep the source's case; otherwise every name keeps the
    ///   source's case (so MySQL to MySQL with `lower_case_table_names = 0` changes nothing);
    /// - `same_as_source`: every name exactly as in the source;
    /// - `destination_default` (the destination's default policy, lower-case for MySQL-family
    ///   destinations): database, table and column names all lower-case.
    #[must_use]
    pub fn with_destination_lowercase(mut self, lowercase: bool) -> Self {
        self.names.set_destination_lowercase(lowercase);
        self
    }

    /// The destination name of source database `database` (its `rename_to`, else the
    /// database-level mapping rules, then capitalization).
    pub fn destination_database(&self, database: &str) -> String {
        let explicit = self
            .selection
            .database(database)
            .and_then(|d| d.config.rename_to.as_deref());
        self.names.database(database, explicit)
    }

    fn destination_of(&self, id: &TableId, selected: &Selected<'_>) -> TableId {
        let explicit = selected.table.and_then(|t| t.config.rename_to.as_deref());
        let original = selected
            .companion
            .as_ref()
            .and_then(|suffix| Some((self.selection.online_ddl().companion(&id.table)?.0, suffix)));
        let table = match original {
            // An online schema change's copy of a selected table: named after the table's
            // destination, so the tool's cut-over RENAME lands on it.
            Some((original, suffix)) => {
                let original = TableId::new(id.database.clone(), original);
                format!("_{}_{suffix}", self.names.table(&original, explicit))
            }
            None => self.names.table(id, explicit),
        };
        TableId::new(self.destination_database(&id.database), table)
    }

    /// The name of the table whose rules (filter, column subset, masking) apply to `id`: its
    /// own, or for an online schema change's copy (`_t_gho` with `online_ddl = "yes"`,
    /// however it is selected) the original table's, so the rows that become `t` at the
    /// cut-over were filtered and masked as `t`'s.
    fn rule_table<'a>(&self, id: &'a TableId) -> std::borrow::Cow<'a, str> {
        if let Some((original, _)) = self.selection.online_ddl().companion(&id.table) {
            if self.selection.select(id).is_some() {
                return std::borrow::Cow::Owned(original);
            }
        }
        std::borrow::Cow::Borrowed(&id.table)
    }

    /// The destination table of a source table, or `None` when it is not selected.
    pub fn destination_table(&self, id: &TableId) -> Option<TableId> {
        let selected = self.selection.select(id)?;
        Some(self.destination_of(id, &selected))
    }

    /// The row condition of a source table, if it has one.
    pub fn condition(&self, id: &TableId) -> Option<&Condition> {
        let name = self.rule_table(id);
        self.selection
            .database(&id.database)?
            .table(&name)?
            .condition
            .as_ref()
    }

    /// Why the last DDL statement that touched selected objects was not synchronized, when it
    /// was left out because of a problem (unreadable while names had to be rewritten, touching
    /// selected and unselected tables, …) rather than by choice. Each such statement is also
    /// logged with `tracing::warn!`.
    pub fn last_ddl_problem(&self) -> Option<String> {
        self.log.lock().ok()?.last_ddl.clone()
    }

    fn record_ddl_problem(&self, problem: String) {
        tracing::warn!("{problem}");
        if let Ok(mut log) = self.log.lock() {
            log.last_ddl = Some(problem);
        }
    }

    /// Logs `problem` with `tracing::warn!` the first time it is seen.
    fn warn_once(&self, problem: String) {
        let Ok(mut log) = self.log.lock() else {
            return;
        };
        if log.warned.len() < 10_000 && log.warned.insert(problem.clone()) {
            tracing::warn!("{problem}");
        }
    }

    /// Destination name of a column of a selected table.
    fn destination_column(
        &self,
        id: &TableId,
        renames: Option<&BTreeMap<String, String>>,
        column: &str,
    ) -> String {
        let explicit = renames.and_then(|r| lookup_ci(r, column));
        self.names.column(id, column, explicit)
    }

    /// The source positions of the columns synchronized (in source order), or `None` for all.
    fn selected_indexes(table: &TableSchema, selected: Option<&[String]>) -> Option<Vec<usize>> {
        let list = selected?;
        Some(
            table
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| list.iter().any(|l| l.eq_ignore_ascii_case(&c.name)))
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// Problems with a selected table's column configuration (for `check_tables` and the
    /// warnings of `route`).
    fn column_problems(&self, table: &TableSchema, selected: &Selected<'_>) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(rule) = selected.table else {
            return problems;
        };
        let id = &table.id;
        if let Some(list) = &rule.config.columns {
            for name in list {
                if column_position(table, name).is_none() {
                    problems.push(format!(
                        "{}.columns: table {id} has no column `{name}`; it is not synchronized",
                        rule.key
                    ));
                }
            }
            if let Some(identity) = table.identity_columns() {
                for key in identity {
                    if !list.iter().any(|l| l.eq_ignore_ascii_case(key)) {
                        problems.push(format!(
                            "{}.columns: the column subset of table {id} leaves out key column \
                             `{key}`; a column subset must include the primary key (or the \
                             unique key that identifies rows) so rows can be synchronized \
                             idempotently",
                            rule.key
                        ));
                    }
                }
            }
        }
        for from in rule.config.rename_columns.keys() {
            if column_position(table, from).is_none() {
                problems.push(format!(
                    "{}.rename_columns.{from}: table {id} has no column `{from}`",
                    rule.key
                ));
            }
        }
        problems
    }

    fn column_plan(
        &self,
        table: &TableSchema,
        selected: &Selected<'_>,
    ) -> Option<Vec<(usize, String)>> {
        let subset = Self::selected_indexes(table, selected.columns());
        let renames = selected.table.map(|t| &t.config.rename_columns);
        let may_rename =
            renames.is_some_and(|r| !r.is_empty()) || self.names.may_rename_columns(&table.id);
        if subset.is_none() && !may_rename {
            return None;
        }
        let is_subset = subset.is_some();
        let plan: Vec<(usize, String)> = subset
            .unwrap_or_else(|| (0..table.columns.len()).collect())
            .into_iter()
            .map(|i| {
                let name = &table.columns[i].name;
                (i, self.destination_column(&table.id, renames, name))
            })
            .collect();
        if !is_subset && plan.iter().all(|(i, n)| *n == table.columns[*i].name) {
            return None;
        }
        Some(plan)
    }

    /// Checks the configuration against the source's tables and returns every problem found,
    /// each naming the config key, the table and the column. Pass every source table of the
    /// databases the task touches: an explicitly listed table missing from `tables` is
    /// reported. Checked:
    /// - listed tables exist; their `columns` and `rename_columns` name existing columns;
    /// - a column subset includes the identity columns (primary key, else the NOT NULL unique
    ///   key) — without them rows cannot be written idempotently;
    /// - the `filter` names only columns of its table;
    /// - masked columns exist, have a type their method can mask, and are not identity columns
    ///   masked by `redact` or `partial` (which would make distinct keys collide);
    /// - no two selected tables meet in one destination table (after renames, mapping rules and
    ///   capitalization) unless the destination merges tables (AnalyticDB `merge_tables`), and
    ///   no two columns of a table meet in one destination column.
    pub fn check_tables(&self, tables: &[TableSchema]) -> Vec<String> {
        let mut problems = Vec::new();
        let present: HashSet<&TableId> = tables.iter().map(|t| &t.id).collect();
        for db in self.selection.databases() {
            for rule in &db.tables {
                let id = TableId::new(db.config.name.clone(), rule.config.name.clone());
                if !present.contains(&id) && !self.selection.excluded(&id) {
                    problems.push(format!(
                        "{}: table {id} does not exist in the source",
                        rule.key
                    ));
                }
            }
        }
        problems.extend(self.online_ddl_in_progress(tables));
        let mut destinations: HashMap<TableId, &TableId> = HashMap::new();
        for table in tables {
            let Some(selected) = self.selection.select(&table.id) else {
                continue;
            };
            let id = &table.id;
            problems.extend(self.column_problems(table, &selected));
            if let Some(rule) = selected.table {
                if let Some(condition) = &rule.condition {
                    for p in condition.check(table) {
                        problems.push(format!("{}.filter: {p}", rule.key));
                    }
                }
            }
            problems.extend(self.masking_problems(table));
            let dest = self.destination_of(id, &selected);
            if let Some(first) = destinations.insert(self.fold(&dest), id) {
                if !self.allow_merge {
                    problems.push(format!(
                        "{}: tables {first} and {id} both map to destination table {dest}; \
                         several tables can share a destination table only with an adb \
                         destination and merge_tables = true",
                        self.selection.key_of(&selected)
                    ));
                }
            }
            if let Some(plan) = self.column_plan(table, &selected) {
                let mut seen: HashMap<String, &str> = HashMap::new();
                for (i, name) in &plan {
                    // MySQL column names are case-insensitive.
                    if let Some(other) = seen.insert(name.to_lowercase(), &table.columns[*i].name) {
                        problems.push(format!(
                            "{}: columns `{other}` and `{}` of table {id} both map to \
                             destination column `{name}`",
                            self.selection.key_of(&selected),
                            table.columns[*i].name
                        ));
                    }
                }
            }
        }
        problems
    }

    /// With `online_ddl` = `no_gh_ost` / `no_dms`: shadow tables of selected tables present at
    /// the start. Their tool already altered them, and that ALTER, logged before the task's
    /// start position, can never reach the destination, so after the cut-over the destination
    /// table would miss the change.
    fn online_ddl_in_progress(&self, tables: &[TableSchema]) -> Vec<String> {
        let online = self.selection.online_ddl();
        tables
            .iter()
            .filter_map(|t| match online.classify(&t.id.table) {
                Some(online_ddl::TempTable::Shadow(original)) => {
                    let original = TableId::new(t.id.database.clone(), original);
                    self.selection.select(&original).map(|_| (t, original))
                }
                _ => None,
            })
            .map(|(shadow, original)| {
                format!(
                    "advanced.online_ddl: an online schema change of table {original} is in \
                     progress (shadow table {} exists); its ALTER happened before the task \
                     started and cannot be synchronized: start the task after the change \
                     finishes, or drop {} if it was abandoned",
                    shadow.id, shadow.id
                )
            })
            .collect()
    }

    /// A destination table id as the destination compares names.
    fn fold(&self, t: &TableId) -> TableId {
        if self.names.folds_object_names() {
            TableId::new(t.database.to_lowercase(), t.table.to_lowercase())
        } else {
            t.clone()
        }
    }

    /// Checks a DDL statement seen during incremental write against the destination tables
    /// already taken: a table it creates (or renames into) whose destination table belongs
    /// to another selected source table is an error, unless the destination merges tables.
    fn collision_in(&self, ddl: &Ddl) -> Option<String> {
        if self.allow_merge {
            return None;
        }
        if ddl.kind == crate::change::DdlKind::DropDatabase {
            let database = ddl.database.as_deref()?;
            let named = crate::filter::ddl_database_name(&ddl.statement);
            let mut taken = self.destinations.lock().ok()?;
            taken.release_database(named.as_deref().unwrap_or(database));
            return None;
        }
        let mut taken = self.destinations.lock().ok()?;
        for (created, removed) in collisions::created_and_removed(ddl) {
            if let Some(old) = removed {
                taken.release(old);
            }
            let Some(new) = created else { continue };
            let Some(selected) = self.selection.select(new) else {
                continue;
            };
            let dest = self.destination_of(new, &selected);
            if let Some(owner) = taken.owner_other_than(&self.fold(&dest), new) {
                return Some(format!(
                    "table {new} (created by `{}`, selected by {}) maps to destination table \
                     {dest}, which table {owner} already maps to; several tables can share a \
                     destination table only with an adb destination and merge_tables = true — \
                     change the renames or mapping rules so the names stay apart",
                    ddl.statement,
                    self.selection.key_of(&selected),
                ));
            }
            taken.claim(self.fold(&dest), new);
        }
        None
    }

    fn masking_problems(&self, table: &TableSchema) -> Vec<String> {
        let mut problems = Vec::new();
        let identity = table.identity_columns().unwrap_or_default();
        let name = self.rule_table(&table.id);
        for rule in self.masking.rules(&table.id.database, &name) {
            let Some(i) = column_position(table, &rule.column) else {
                problems.push(format!(
                    "{}.column: table {} has no column `{}`",
                    rule.key, table.id, rule.column
                ));
                continue;
            };
            let column = &table.columns[i];
            if !masking::supported(rule.method, &column.column_type) {
                problems.push(format!(
                    "{}.method: {:?} cannot mask column `{}` of table {} (type {}); rows would \
                     be written with NULL in it",
                    rule.key, rule.method, column.name, table.id, column.type_text
                ));
            } else if column.generated.is_some() {
                problems.push(format!(
                    "{}.method: column `{}` of table {} is generated: the destination computes \
                     it from other columns, so a mask would not hide it; mask the columns it is \
                     computed from instead",
                    rule.key, column.name, table.id
                ));
            } else if column.fixed_syntax_text().is_some() {
                problems.push(format!(
                    "{}.method: {:?} cannot mask column `{}` of table {}: a {} value has a fixed \
                     syntax no mask keeps",
                    rule.key, rule.method, column.name, table.id, column.type_text
                ));
            }
            if let (crate::config::MaskingMethod::Fixed, Some(fixed)) = (rule.method, &rule.fixed) {
                let numeric = matches!(
                    column.column_type,
                    crate::schema::ColumnType::Integer { .. }
                        | crate::schema::ColumnType::Decimal { .. }
                );
                if numeric {
                    if let Err(e) = masking::fixed_number(column, fixed) {
                        problems.push(format!("{}.value: table {}: {e}", rule.key, table.id));
                    }
                }
            }
            if rule.method != crate::config::MaskingMethod::Hash
                && identity
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&column.name))
            {
                problems.push(format!(
                    "{}.method: column `{}` identifies rows of table {}; masking it with {:?} \
                     makes different rows collide at the destination (use hash)",
                    rule.key, column.name, table.id, rule.method
                ));
            }
        }
        problems
    }
}

/// A map entry by exact key, else by case-insensitive key (MySQL column names).
fn lookup_ci<'a>(map: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    map.get(key)
        .or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .map(String::as_str)
}

impl Filter for ConfigFilter {
    fn check(&self, tables: &[TableSchema]) -> Vec<String> {
        self.check_tables(tables)
    }

    fn route_object(&self, object: &crate::SchemaObject) -> crate::ObjectRoute {
        self.object_route(object)
    }

    fn route_grant(&self, scope: &crate::GrantScope) -> Option<crate::GrantScope> {
        self.grant_route(scope)
    }

    fn selects_table(&self, table: &TableId) -> bool {
        self.selection.select(table).is_some()
    }

    /// A table created or renamed during incremental write whose destination table belongs
    /// to another selected table (see [`Filter::ddl_problem`]).
    fn ddl_problem(&self, ddl: &Ddl) -> Option<String> {
        self.collision_in(ddl)
    }

    /// The route of a selected table: destination names, column subset (source order) and
    /// column names, DML and DDL choices, and the row condition as quoted SQL. Problems only
    /// the table can reveal are logged (see [`ConfigFilter::check_tables`]).
    fn route(&self, table: &TableSchema) -> Option<TableRoute> {
        let selected = self.selection.select(&table.id)?;
        for problem in self.column_problems(table, &selected) {
            self.warn_once(problem);
        }
        let destination = self.destination_of(&table.id, &selected);
        if !self.allow_merge {
            if let Ok(mut taken) = self.destinations.lock() {
                taken.claim(self.fold(&destination), &table.id);
            }
        }
        Some(TableRoute {
            destination,
            columns: self.column_plan(table, &selected),
            dml: selected.dml(),
            ddl: selected.ddl_kinds(),
            condition: selected
                .table
                .and_then(|t| t.condition.as_ref())
                .map(|c| c.to_sql().to_owned()),
        })
    }

    /// Evaluates the table's `filter` on a source row image; rows of tables without one pass.
    /// A row the condition cannot be evaluated on (a column it names is missing) is rejected
    /// and the problem logged.
    fn accept_row(&self, table: &TableSchema, row: &Row) -> bool {
        let Some(condition) = self.condition(&table.id) else {
            return true;
        };
        match condition.accepts(table, row) {
            Ok(accept) => accept,
            Err(e) => {
                self.warn_once(format!(
                    "row filter `{}` of table {} cannot be evaluated, rows are not synchronized: \
                     {e}",
                    condition.text(),
                    table.id
                ));
                false
            }
        }
    }

    /// Masks the configured columns of a projected row (the route's selected columns, in
    /// source order).
    fn transform_row(&self, table: &TableSchema, row: &mut Row) {
        if self.masking.is_empty() {
            return;
        }
        let name = self.rule_table(&table.id);
        let rules = self.masking.rules(&table.id.database, &name);
        if rules.is_empty() {
            return;
        }
        let subset = self
            .selection
            .database(&table.id.database)
            .and_then(|d| d.table(&name))
            .and_then(|t| t.config.columns.as_deref());
        let indexes = Self::selected_indexes(table, subset);
        for rule in rules {
            let Some(source) = column_position(table, &rule.column) else {
                continue;
            };
            let at = match &indexes {
                None => Some(source),
                Some(list) => list.iter().position(|i| *i == source),
            };
            let Some(value) = at.and_then(|at| row.get_mut(at)) else {
                continue;
            };
            match masking::mask(rule, &table.columns[source], value) {
                Ok(masked) => *value = masked,
                Err(e) => {
                    self.warn_once(format!("{e}; the column is written as NULL"));
                    *value = crate::value::Value::Null;
                }
            }
        }
    }

    /// A DDL statement is synchronized when every table it touches is selected (a CREATE
    /// TABLE in a database selected whole selects the new table) and allows its kind; database
    /// statements need the database selected whole; views need whole databases and no
    /// renaming; triggers, routines and other statements are not replayed; nothing passes
    /// with `topology.exclude_ddl`.
    ///
    /// Without renaming the original text is passed on untouched. With renaming the statement
    /// is parsed (MySQL dialect) and only the table, database and column identifiers are
    /// replaced in the original text (ALTER TABLE ADD/DROP/CHANGE/MODIFY/RENAME/ALTER COLUMN,
    /// `AFTER`, key columns, CREATE TABLE columns, CREATE INDEX).
    ///
    /// Left out and reported (`tracing::warn!` and [`ConfigFilter::last_ddl_problem`]), never
    /// failing the task: statements that must be renamed but cannot be read, statements
    /// touching selected and unselected tables (`RENAME TABLE a TO other_db.b`), statements on
    /// tables with a column subset that mix selected and unselected columns (parts touching
    /// only unselected columns are skipped quietly).
    ///
    /// Online DDL (`no_gh_ost`/`no_dms`): statements on temporary tables are dropped, except
    /// that `ALTER TABLE _t_gho …` becomes the same ALTER on `t` when `t` is selected; the
    /// cut-over RENAME is dropped since the destination's `t` already has the new structure.
    fn route_ddl(&self, statement: &Ddl) -> Option<Ddl> {
        match self.route_ddl_checked(statement) {
            Ok(routed) => routed,
            Err(problem) => {
                self.record_ddl_problem(problem);
                None
            }
        }
    }
}
