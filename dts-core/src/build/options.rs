//! The connector-neutral parts of a task's configuration: the runner options, the databases
//! the source reads, the status labels, and the options no connector can honour.

use crate::config::{AdvancedConfig, ConflictingTablesMode, PatternKind, TaskConfig};
use crate::topology::TwoWaySettings;
use crate::{ConflictingTables, Position, TaskOptions, ThrottleSettings};
use std::collections::BTreeMap;

/// Options of the configuration no connector of this build can honour, by key.
pub fn unsupported_options(config: &TaskConfig) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    if config.advanced.etl != Default::default() {
        out.push((
            "advanced.etl".to_string(),
            "ETL scripts and named transforms; a host program transforms row changes in code \
             with dts_core::Task::with_etl (see examples/etl.rs)",
        ));
    }
    out
}

/// The databases the source reads: the named ones, plus those of patterns with a literal
/// database part. A pattern that can match any database widens the scope to every database
/// (an empty list).
pub fn source_databases(config: &TaskConfig) -> Vec<String> {
    let pattern_databases: Option<Vec<String>> = config
        .objects
        .patterns
        .iter()
        .map(|p| literal_pattern_database(&p.pattern, p.kind))
        .collect();
    let Some(extra) = pattern_databases else {
        return Vec::new();
    };
    let mut all: Vec<String> = config
        .objects
        .databases
        .iter()
        .map(|d| d.name.clone())
        .collect();
    for db in extra {
        if !all.contains(&db) {
            all.push(db);
        }
    }
    all
}

/// The database a `database.table` wildcard pattern is limited to, when its database part is
/// literal (`shop.order_*`); `None` when it may match several databases (a wildcard before the
/// dot, several dots, or a regular expression).
fn literal_pattern_database(pattern: &str, kind: PatternKind) -> Option<String> {
    if kind != PatternKind::Wildcard || pattern.matches('.').count() != 1 {
        return None;
    }
    let (database, _) = pattern.split_once('.')?;
    (!database.is_empty() && !database.contains(['*', '?'])).then(|| database.to_string())
}

fn clamp_u32(v: u64) -> u32 {
    v.min(u64::from(u32::MAX)) as u32
}

/// The runner options the configuration describes, starting incremental sync at
/// `start_position` when given; a two-way task's role adjusts them
/// ([`crate::topology::two_way_task_options`]).
pub fn task_options(
    config: &TaskConfig,
    start_position: Option<Position>,
    two_way: Option<&TwoWaySettings>,
) -> TaskOptions {
    let advanced = &config.advanced;
    let mut options = TaskOptions {
        task_id: config.task_id(),
        schema_sync: config.sync_types.schema,
        full_sync: config.sync_types.full_data,
        conflicting_tables: match config.conflicting_tables {
            ConflictingTablesMode::PrecheckAndReportErrors => {
                ConflictingTables::PrecheckAndReportErrors
            }
            ConflictingTablesMode::IgnoreErrorsAndProceed => {
                ConflictingTables::IgnoreErrorsAndProceed
            }
        },
        connection_retry: advanced.connection_retry(),
        other_retry: advanced.other_retry(),
        write_heartbeat: advanced.write_heartbeat,
        full_throttle: ThrottleSettings {
            queries_per_s: advanced.full_sync_throttle.source_qps.map(clamp_u32),
            rows_per_s: advanced.full_sync_throttle.rps.map(clamp_u32),
            bytes_per_s: advanced
                .full_sync_throttle
                .mbps
                .map(|m| m.saturating_mul(1 << 20)),
        },
        incremental_throttle: ThrottleSettings {
            queries_per_s: None,
            rows_per_s: config.incremental_rps_limit().map(clamp_u32),
            bytes_per_s: advanced
                .incremental_throttle
                .mbps
                .map(|m| m.saturating_mul(1 << 20)),
        },
        start_position,
        labels: task_labels(advanced),
        // `[validation]`: the verification job marks the Verification stage.
        verification: config.validation.is_enabled(),
        // The guide's "Whether to Migrate Accounts".
        accounts: config
            .migration
            .migrate_accounts
            .then(|| config.migration.accounts.clone()),
        ..Default::default()
    };
    options
        .acknowledged_warnings
        .extend(config.acknowledge_warnings.iter().cloned());
    if let Some(parallelism) = config.parallelism() {
        options.table_concurrency = parallelism.min(options.table_concurrency.max(1));
        options.write_concurrency = parallelism;
    }
    if let Some(tw) = two_way {
        crate::topology::two_way_task_options(&mut options, tw);
    }
    options
}

/// The status labels of a task: the guide's environment tag and scene label, when set.
pub fn task_labels(advanced: &AdvancedConfig) -> BTreeMap<String, String> {
    [
        ("environment_tag", &advanced.environment_tag),
        ("scene_label", &advanced.scene_label),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_string(), v.clone()?)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_advanced_settings() {
        let advanced = AdvancedConfig {
            environment_tag: Some("production".into()),
            ..Default::default()
        };
        let labels = task_labels(&advanced);
        assert_eq!(labels.len(), 1);
        assert_eq!(labels["environment_tag"], "production");
    }

    #[test]
    fn patterns_limit_the_scope_only_with_a_literal_database() {
        let wild = PatternKind::Wildcard;
        assert_eq!(
            literal_pattern_database("shop.order_*", wild).as_deref(),
            Some("shop")
        );
        assert_eq!(literal_pattern_database("shop_*.orders", wild), None);
        assert_eq!(literal_pattern_database("*", wild), None);
        assert_eq!(literal_pattern_database("a.b.c", wild), None);
        assert_eq!(literal_pattern_database(".t", wild), None);
        assert_eq!(
            literal_pattern_database("shop\\.orders", PatternKind::Regex),
            None
        );
    }
}
