//! Two-way synchronization: a **forward** task (source → destination) and a **reverse** task
//! (destination → source) over the same shared tables.
//!
//! What each half needs, and where it lives:
//! - **Loop prevention** — a change one task applied must never be captured and sent back by the
//!   other. Each task names its partner (`topology.partner_task_id`); the connector recognises
//!   the partner's applied transactions in the binlog and drops them (for MySQL-family servers,
//!   `dts_mysql::source::binlog::loop_guard` explains the marker it uses).
//! - **Conflicts** — both tasks apply with a [`crate::ConflictPolicy`] (`topology.conflict_policy`,
//!   or a user policy given in code).
//! - **DDL** — only the forward task may synchronize DDL, and only unless
//!   `topology.exclude_ddl` is set; the reverse task always filters it ([`TwoWayFilter`]).
//! - **Tables without a key** — they cannot be made idempotent or checked for conflicts, so a
//!   two-way task refuses them unless `topology.exactly_once_write` is on, which applies each
//!   of their changes exactly once ([`TwoWayFilter::check`]).
//! - **The reverse task's configuration** — derived from the forward one
//!   ([`derive_reverse`]: endpoints swapped, the same objects without mapping, incremental
//!   only) and checked against it ([`check_reverse`]).

use crate::config::{
    ConfigError, ConflictPolicyKind, DestinationConfig, DestinationKind, Endpoint, TaskConfig,
    TopologyMode, TwoWayRole,
};
use crate::conflict::{ConflictPolicy, IgnorePolicy, OverwritePolicy, TaskFailedPolicy};
use crate::filter::{Filter, TableRoute};
use crate::task::TaskOptions;
use crate::Error;
use crate::{Ddl, Row, TableSchema};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The two-way settings of one task, resolved from its configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwoWaySettings {
    /// Forward or reverse.
    pub role: TwoWayRole,
    /// The other task's id: its applied changes are dropped from this task's stream.
    pub partner_task_id: String,
    /// Whether DDL flows (forward task without `exclude_ddl` only).
    pub sync_ddl: bool,
    /// Whether tables without a primary or unique key are allowed (written exactly once).
    pub exactly_once_write: bool,
}

impl TwoWaySettings {
    /// The settings of a two-way configuration; `None` for one-way. The configuration must
    /// have been validated (two-way requires `partner_task_id`).
    pub fn from_config(config: &TaskConfig) -> Option<Self> {
        let t = &config.topology;
        if t.mode != TopologyMode::TwoWay {
            return None;
        }
        let role = t.role();
        Some(Self {
            role,
            partner_task_id: t.partner_task_id.clone().unwrap_or_default(),
            sync_ddl: role == TwoWayRole::Forward && !t.exclude_ddl(),
            exactly_once_write: t.exactly_once_write(),
        })
    }

    /// `inner` with the two-way rules on top (see [`TwoWayFilter`]).
    pub fn filter(&self, inner: Arc<dyn Filter>) -> Arc<dyn Filter> {
        Arc::new(TwoWayFilter {
            inner,
            sync_ddl: self.sync_ddl,
            exactly_once_write: self.exactly_once_write,
        })
    }
}

/// A task's filter with the two-way rules on top: DDL is dropped unless this is a forward
/// task synchronizing DDL, and (without exactly-once write) a selected table without a primary
/// or unique key is a precheck error.
pub struct TwoWayFilter {
    inner: Arc<dyn Filter>,
    sync_ddl: bool,
    exactly_once_write: bool,
}

impl Filter for TwoWayFilter {
    fn route(&self, table: &TableSchema) -> Option<TableRoute> {
        self.inner.route(table)
    }

    fn accept_row(&self, table: &TableSchema, row: &Row) -> bool {
        self.inner.accept_row(table, row)
    }

    fn transform_row(&self, table: &TableSchema, row: &mut Row) {
        self.inner.transform_row(table, row)
    }

    fn route_ddl(&self, ddl: &Ddl) -> Option<Ddl> {
        if self.sync_ddl {
            self.inner.route_ddl(ddl)
        } else {
            None
        }
    }

    fn check(&self, tables: &[TableSchema]) -> Vec<String> {
        let mut problems = self.inner.check(tables);
        if !self.exactly_once_write {
            for t in tables {
                if t.identity_columns().is_none() && self.inner.route(t).is_some() {
                    problems.push(format!(
                        "table {}: has no primary key or NOT NULL unique key; two-way \
                         synchronization needs topology.exactly_once_write = true to write it \
                         exactly once",
                        t.id
                    ));
                }
            }
        }
        problems
    }
}

/// The result of [`check_reverse`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReverseCheck {
    /// Problems that make the pair unusable, each as (configuration key, message).
    pub errors: Vec<(String, String)>,
    /// Allowed but discouraged settings (mapping in the reverse task).
    pub warnings: Vec<String>,
}

impl ReverseCheck {
    /// Whether there is no error.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn endpoint_of(config: &TaskConfig, destination: bool) -> Option<(String, u16)> {
    let settings = if destination {
        config.destination_settings().ok()??
    } else {
        config.source_settings().ok()?
    };
    Some((settings.host.to_ascii_lowercase(), settings.port))
}

/// Checks a reverse task against its forward task, as the guide describes:
/// - both are two-way, with roles forward and reverse, naming each other as partners;
/// - the reverse task's source is the forward task's destination and its destination the
///   forward task's source (host and port);
/// - it selects no object the forward task selected, except the shared tables themselves: a
///   database the forward task selected as a whole may only be selected as a whole, a table the
///   forward task selected only under its own name, and no name patterns;
/// - it is incremental only (the forward task created and copied the shared tables);
/// - mapping (renames) is allowed but warned against: it may cause inconsistency.
pub fn check_reverse(forward: &TaskConfig, reverse: &TaskConfig) -> ReverseCheck {
    let mut out = ReverseCheck::default();
    let mut err = |key: &str, msg: String| out.errors.push((key.to_string(), msg));
    let (f, r) = (&forward.topology, &reverse.topology);
    if f.mode != TopologyMode::TwoWay || r.mode != TopologyMode::TwoWay {
        err(
            "topology.mode",
            "both tasks of a pair must have topology.mode = two_way".into(),
        );
    }
    if f.role() != TwoWayRole::Forward {
        err(
            "topology.role",
            "the forward task must have role forward".into(),
        );
    }
    if r.role() != TwoWayRole::Reverse {
        err(
            "topology.role",
            "the reverse task must have role reverse".into(),
        );
    }
    let (fid, rid) = (forward.id.as_deref(), reverse.id.as_deref());
    if fid.is_none() || rid.is_none() || fid == rid {
        err(
            "id",
            "both tasks of a pair need an id, and the ids must differ".into(),
        );
    }
    if r.partner_task_id.as_deref() != fid || f.partner_task_id.as_deref() != rid {
        err(
            "topology.partner_task_id",
            format!(
                "each task must name the other as partner (forward id {fid:?}, reverse id \
                 {rid:?}; forward names {:?}, reverse names {:?})",
                f.partner_task_id, r.partner_task_id
            ),
        );
    }
    if endpoint_of(reverse, false) != endpoint_of(forward, true) {
        err(
            "source",
            "the reverse task's source must be the forward task's destination".into(),
        );
    }
    if endpoint_of(reverse, true) != endpoint_of(forward, false) {
        err(
            "destination",
            "the reverse task's destination must be the forward task's source".into(),
        );
    }
    if reverse.sync_types.schema || reverse.sync_types.full_data {
        err(
            "sync_types",
            "the reverse task synchronizes incremental changes only (the forward task created \
             and copied the shared tables): set sync_types.schema and sync_types.full_data to \
             false"
                .into(),
        );
    }
    if !reverse.objects.patterns.is_empty() {
        err(
            "objects.patterns",
            "the reverse task selects databases and tables by name only, so its selection can \
             be checked against the forward task's"
                .into(),
        );
    }
    let whole: BTreeSet<&str> = forward
        .objects
        .databases
        .iter()
        .filter(|d| d.tables.is_empty())
        .map(|d| d.name.as_str())
        .collect();
    let forward_tables: BTreeSet<(&str, &str)> = forward
        .objects
        .databases
        .iter()
        .flat_map(|d| {
            d.tables
                .iter()
                .map(move |t| (d.name.as_str(), t.name.as_str()))
        })
        .collect();
    for (i, d) in reverse.objects.databases.iter().enumerate() {
        let key = format!("objects.databases[{i}]");
        if whole.contains(d.name.as_str()) && !d.tables.is_empty() {
            err(
                &key,
                format!(
                    "the forward task selected database {} as a whole: the reverse task may \
                     only share it as a whole (no table list)",
                    d.name
                ),
            );
        }
        if !whole.contains(d.name.as_str()) && d.tables.is_empty() {
            let partial = forward_tables.iter().any(|(db, _)| *db == d.name);
            if partial {
                err(
                    &key,
                    format!(
                        "the forward task selected only some tables of database {}: the reverse \
                         task may share those tables, not the whole database",
                        d.name
                    ),
                );
            }
        }
        if d.rename_to.is_some() {
            out.warnings.push(format!(
                "{key}.rename_to: mapping in the reverse task is not recommended; it may cause \
                 data inconsistency"
            ));
        }
        for (j, t) in d.tables.iter().enumerate() {
            if t.rename_to.is_some() || !t.rename_columns.is_empty() {
                out.warnings.push(format!(
                    "{key}.tables[{j}]: mapping in the reverse task is not recommended; it may \
                     cause data inconsistency"
                ));
            }
        }
    }
    if !reverse.objects.mapping_rules.is_empty() {
        out.warnings.push(
            "objects.mapping_rules: mapping in the reverse task is not recommended; it may cause \
             data inconsistency"
                .into(),
        );
    }
    out
}

/// The reverse task of `forward`, with the settings the guide derives: source and destination
/// swapped (connection profiles and instance class kept), the same databases and tables under
/// their own names (mapping dropped: the shared tables exist under the forward task's
/// destination names), incremental only, the same conflict policy and exactly-once setting,
/// DDL always filtered, and the two tasks naming each other. `forward` must be a two-way
/// forward task with an id and a MySQL destination.
pub fn derive_reverse(forward: &TaskConfig, reverse_id: &str) -> Result<TaskConfig, String> {
    let (DestinationKind::Mysql, Some(dest)) =
        (forward.destination.kind, forward.destination.endpoint())
    else {
        return Err("two-way synchronization needs a MySQL destination".into());
    };
    let Some(forward_id) = forward.id.clone() else {
        return Err("the forward task needs an id".into());
    };
    let mut objects = forward.objects.clone();
    objects.mapping_rules.clear();
    for d in &mut objects.databases {
        if let Some(to) = d.rename_to.take() {
            d.name = to;
        }
        for t in &mut d.tables {
            if let Some(to) = t.rename_to.take() {
                t.name = to;
            }
            t.rename_columns.clear();
        }
    }
    let source: Endpoint = dest.clone();
    let mut reverse = TaskConfig::new(
        source,
        DestinationConfig::mysql(forward.source.clone()),
        objects,
    );
    reverse.id = Some(reverse_id.to_string());
    reverse.name = forward.name.as_ref().map(|n| format!("{n} (reverse)"));
    reverse.instance_class = forward.instance_class;
    reverse.connections = forward.connections.clone();
    reverse.sync_types.schema = false;
    reverse.sync_types.full_data = false;
    reverse.topology = forward.topology.clone();
    reverse.topology.role = Some(TwoWayRole::Reverse);
    reverse.topology.partner_task_id = Some(forward_id);
    reverse.topology.exclude_ddl = None;
    reverse.advanced = forward.advanced.clone();
    Ok(reverse)
}

/// The precheck warning about key-less tables, acknowledged when exactly-once write is on.
pub const KEYLESS_WARNING: &str = "source.tables_without_primary_key";

/// The built-in policy of a configured kind.
pub fn policy_of(kind: ConflictPolicyKind) -> Arc<dyn ConflictPolicy> {
    match kind {
        ConflictPolicyKind::TaskFailed => Arc::new(TaskFailedPolicy),
        ConflictPolicyKind::Overwrite => Arc::new(OverwritePolicy),
        ConflictPolicyKind::Ignore => Arc::new(IgnorePolicy),
    }
}

/// Runner options of a two-way task: the reverse task is incremental only (and skips the
/// existing-tables check: its tables are the shared ones); exactly-once write
/// acknowledges the key-less-table warning (those tables are then copied from one consistent
/// snapshot and applied exactly once).
pub fn two_way_task_options(options: &mut TaskOptions, settings: &TwoWaySettings) {
    if settings.role == TwoWayRole::Reverse {
        options.schema_sync = false;
        options.full_sync = false;
        // Its tables are the shared ones the forward task created: they exist by design, and
        // the guide says the conflicting-tables mode does not apply to them.
        options.conflicting_tables = crate::ConflictingTables::IgnoreErrorsAndProceed;
    }
    if settings.exactly_once_write
        && !options
            .acknowledged_warnings
            .iter()
            .any(|w| w == KEYLESS_WARNING)
    {
        options.acknowledged_warnings.push(KEYLESS_WARNING.into());
    }
}

/// Checks a two-way task configuration beyond what [`TaskConfig::validate`](crate::config::TaskConfig::validate) covers: a task
/// id (the partner names it), and an incremental-only reverse task. The pairing with the
/// forward task is checked by [`crate::topology::check_reverse`] when both are at hand.
pub fn check_config(config: &TaskConfig, settings: &TwoWaySettings) -> Result<(), Error> {
    let invalid = |key: &str, msg: &str| Err(Error::Config(ConfigError::invalid(key, msg)));
    if config.id.as_deref().is_none_or(str::is_empty) {
        return invalid(
            "id",
            "a two-way task needs an id: its partner names it to recognise its applied changes",
        );
    }
    if config.id == Some(settings.partner_task_id.clone()) {
        return invalid(
            "topology.partner_task_id",
            "names this task itself; it must be the other task of the pair",
        );
    }
    if settings.role == TwoWayRole::Reverse
        && (config.sync_types.schema || config.sync_types.full_data)
    {
        return invalid(
            "sync_types",
            "the reverse task synchronizes incremental changes only (the forward task created \
             and copied the shared tables): set sync_types.schema and sync_types.full_data to \
             false",
        );
    }
    let o = &config.objects;
    let mapped = !o.mapping_rules.is_empty()
        || o.databases.iter().any(|d| {
            d.rename_to.is_some()
                || d.tables
                    .iter()
                    .any(|t| t.rename_to.is_some() || !t.rename_columns.is_empty())
        });
    if settings.role == TwoWayRole::Reverse && mapped {
        tracing::warn!(
            task = config.id.as_deref().unwrap_or(""),
            "the reverse task maps object names: not recommended, it may cause data inconsistency"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConnectionSettings, DatabaseSelection, ObjectSelection};

    fn forward() -> TaskConfig {
        let mut c = TaskConfig::new(
            Endpoint::inline(ConnectionSettings::new("a.example", 3306, "u")),
            DestinationConfig::mysql(Endpoint::inline(ConnectionSettings::new(
                "b.example",
                3307,
                "u",
            ))),
            ObjectSelection {
                databases: vec![DatabaseSelection::whole("shop")],
                ..Default::default()
            },
        );
        c.id = Some("fwd".into());
        c.topology.mode = TopologyMode::TwoWay;
        c.topology.partner_task_id = Some("rev".into());
        c
    }

    #[test]
    fn derived_reverse_passes_the_check() {
        let f = forward();
        let r = derive_reverse(&f, "rev").unwrap();
        assert_eq!(r.topology.role(), TwoWayRole::Reverse);
        assert_eq!(r.topology.partner_task_id.as_deref(), Some("fwd"));
        let check = check_reverse(&f, &r);
        assert!(check.is_ok(), "{check:?}");
        assert!(check.warnings.is_empty());
        assert!(r.validate().is_ok(), "{:?}", r.validate());
    }

    #[test]
    fn reverse_rules() {
        let f = forward();
        let mut r = derive_reverse(&f, "rev").unwrap();
        r.objects.databases[0]
            .tables
            .push(crate::config::TableSelection {
                name: "orders".into(),
                rename_to: Some("o2".into()),
                ..Default::default()
            });
        r.sync_types.full_data = true;
        r.source = f.source.clone();
        let check = check_reverse(&f, &r);
        let keys: Vec<&str> = check.errors.iter().map(|e| e.0.as_str()).collect();
        assert!(keys.contains(&"objects.databases[0]"), "{keys:?}");
        assert!(keys.contains(&"sync_types"), "{keys:?}");
        assert!(keys.contains(&"source"), "{keys:?}");
        assert_eq!(check.warnings.len(), 1, "{:?}", check.warnings);
        let mut r2 = derive_reverse(&f, "fwd").unwrap();
        r2.topology.partner_task_id = Some("x".into());
        let keys: Vec<String> = check_reverse(&f, &r2)
            .errors
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert!(
            keys.contains(&"id".to_string())
                && keys.contains(&"topology.partner_task_id".to_string())
        );
    }

    #[test]
    fn settings_and_filter() {
        let f = forward();
        let s = TwoWaySettings::from_config(&f).unwrap();
        assert!(s.sync_ddl && !s.exactly_once_write);
        let mut excluded = f.clone();
        excluded.topology.exclude_ddl = Some(true);
        assert!(!TwoWaySettings::from_config(&excluded).unwrap().sync_ddl);
        let mut reverse_ddl = derive_reverse(&f, "rev").unwrap();
        reverse_ddl.topology.exclude_ddl = Some(false);
        let e = reverse_ddl.validate().unwrap_err().to_string();
        assert!(e.contains("topology.exclude_ddl"), "{e}");
        let r = derive_reverse(&f, "rev").unwrap();
        let s = TwoWaySettings::from_config(&r).unwrap();
        assert!(!s.sync_ddl, "the reverse task always filters DDL");
        let filter = s.filter(Arc::new(crate::DatabaseFilter::new(["shop"])));
        let ddl = Ddl {
            database: Some("shop".into()),
            statement: "ALTER TABLE t ADD c INT".into(),
            kind: crate::DdlKind::AlterTable,
            tables: vec![crate::TableId::new("shop", "t")],
            sql_mode: None,
        };
        assert!(filter.route_ddl(&ddl).is_none());
        let keyless = TableSchema {
            id: crate::TableId::new("shop", "log"),
            columns: vec![crate::Column::new(
                "x",
                crate::ColumnType::Integer {
                    bytes: 4,
                    unsigned: false,
                },
                "int",
            )],
            primary_key: vec![],
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        };
        let problems = filter.check(std::slice::from_ref(&keyless));
        assert!(problems[0].contains("exactly_once_write"), "{problems:?}");
        assert!(TwoWaySettings::from_config(&TaskConfig {
            topology: Default::default(),
            ..f
        })
        .is_none());
    }
}
