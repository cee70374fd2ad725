//! `[migration]`: schema-object options of the guide's "Configure Objects" page — triggers,
//! migration assessment, events, accounts — and the capitalization of destination names.

use super::destination::DestinationKind;
use super::error::Problems;
use serde::{Deserialize, Serialize};

/// The guide's "Method to Migrate Triggers in Source Database".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerMethod {
    /// Triggers are not created by the task; create them at the destination yourself after
    /// cutover (the default: a trigger live at the destination during synchronization would
    /// fire on replicated rows and duplicate its own effects, which also arrive from the
    /// binlog).
    #[default]
    Manual,
    /// The task creates the triggers during schema synchronization, guarded so they do not
    /// fire for rows the task itself writes.
    Auto,
}

/// The guide's "Capitalization of Object Names in Destination Instance".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capitalization {
    /// "DTS default policy" (the default): names are kept as in the source, except where the
    /// destination's case rules force otherwise (for example `lower_case_table_names=1`).
    #[default]
    DtsDefault,
    /// "Consistent with the source database": names exactly as in the source.
    SameAsSource,
    /// "Consistent with the default policy of the destination database": names converted the
    /// way the destination would store them by default.
    DestinationDefault,
}

/// `[migration]`: which schema objects beyond tables are synchronized, and how names are
/// cased. Triggers, assessment, events and accounts are MySQL-destination options that need
/// schema synchronization (`sync_types.schema = true`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MigrationOptions {
    /// The guide's "Method to Migrate Triggers in Source Database". "Available only when
    /// Synchronization Types includes Schema Synchronization." Unset means `manual`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers: Option<TriggerMethod>,
    /// The guide's "Enable Migration Assessment": check during precheck whether source and
    /// destination schemas (index length, stored procedures, dependent tables) fit; results
    /// are informational. Schema synchronization only. Default `false`.
    pub migration_assessment: bool,
    /// The guide's "Whether to migrate Event": synchronize the source's scheduled events.
    /// Default `false`.
    pub migrate_events: bool,
    /// The guide's "Whether to Migrate Accounts": synchronize database accounts and their
    /// grants. Default `false`.
    pub migrate_accounts: bool,
    /// The accounts to migrate (`user@host`), when `migrate_accounts` is on; empty means every
    /// account that has privileges on the selected objects.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// The guide's "Capitalization of Object Names in Destination Instance"; default
    /// `dts_default`.
    pub capitalization: Capitalization,
}

impl MigrationOptions {
    /// The trigger method in effect (`manual` unless set).
    pub fn trigger_method(&self) -> TriggerMethod {
        self.triggers.unwrap_or_default()
    }

    pub(crate) fn validate(
        &self,
        schema_sync: bool,
        destination: DestinationKind,
        problems: &mut Problems,
    ) {
        let schema_only = [
            ("triggers", self.triggers.is_some()),
            ("migration_assessment", self.migration_assessment),
            ("migrate_events", self.migrate_events),
            ("migrate_accounts", self.migrate_accounts),
        ];
        for (key, set) in schema_only {
            if !set {
                continue;
            }
            let assessment = key == "migration_assessment";
            let key = format!("migration.{key}");
            // The assessment also knows AnalyticDB's dialect (type mapping, keys).
            let supported = destination == DestinationKind::Mysql
                || (assessment && destination == DestinationKind::Adb);
            if !supported {
                problems.push(
                    key,
                    format!(
                        "only available for a {} destination; the destination is {destination}",
                        if assessment { "mysql or adb" } else { "mysql" }
                    ),
                );
            } else if !schema_sync {
                problems.push(
                    key,
                    "only available when sync_types.schema is true (schema synchronization)",
                );
            }
        }
        if !self.accounts.is_empty() && !self.migrate_accounts {
            problems.push(
                "migration.accounts",
                "only used when migration.migrate_accounts is true",
            );
        }
        for (i, account) in self.accounts.iter().enumerate() {
            let user = account.split('@').next().unwrap_or_default();
            if user.trim().is_empty() || account.matches('@').count() > 1 {
                problems.push(
                    format!("migration.accounts[{i}]"),
                    format!("`{account}` is not an account; write `user` or `user@host`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(m: &MigrationOptions, schema: bool, dest: DestinationKind) -> Vec<String> {
        let mut p = Problems::default();
        m.validate(schema, dest, &mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    #[test]
    fn defaults_follow_the_guide() {
        let m = MigrationOptions::default();
        assert_eq!(m.trigger_method(), TriggerMethod::Manual);
        assert!(!m.migration_assessment && !m.migrate_events && !m.migrate_accounts);
        assert_eq!(m.capitalization, Capitalization::DtsDefault);
        assert!(keys(&m, false, DestinationKind::Kafka).is_empty());
    }

    #[test]
    fn schema_only_options_need_schema_sync() {
        for (m, key) in [
            (
                MigrationOptions {
                    triggers: Some(TriggerMethod::Auto),
                    ..Default::default()
                },
                "migration.triggers",
            ),
            (
                MigrationOptions {
                    migration_assessment: true,
                    ..Default::default()
                },
                "migration.migration_assessment",
            ),
            (
                MigrationOptions {
                    migrate_events: true,
                    ..Default::default()
                },
                "migration.migrate_events",
            ),
            (
                MigrationOptions {
                    migrate_accounts: true,
                    ..Default::default()
                },
                "migration.migrate_accounts",
            ),
        ] {
            assert_eq!(
                keys(&m, false, DestinationKind::Mysql),
                vec![key.to_owned()]
            );
            assert_eq!(keys(&m, true, DestinationKind::Kafka), vec![key.to_owned()]);
            let adb = keys(&m, true, DestinationKind::Adb);
            if key == "migration.migration_assessment" {
                assert!(adb.is_empty(), "the assessment knows ADB");
            } else {
                assert_eq!(adb, vec![key.to_owned()]);
            }
            assert!(keys(&m, true, DestinationKind::Mysql).is_empty());
        }
    }

    #[test]
    fn accounts_need_migrate_accounts_and_a_user() {
        let m = MigrationOptions {
            accounts: vec!["app@%".into()],
            ..Default::default()
        };
        assert_eq!(
            keys(&m, true, DestinationKind::Mysql),
            vec!["migration.accounts"]
        );
        let m = MigrationOptions {
            migrate_accounts: true,
            accounts: vec!["app@%".into(), "@x".into(), "a@b@c".into()],
            ..Default::default()
        };
        assert_eq!(
            keys(&m, true, DestinationKind::Mysql),
            vec!["migration.accounts[1]", "migration.accounts[2]"]
        );
    }
}
