//! `[validation]`: the guide's "Step 4: (Optional) Configure Data Validation" — full,
//! incremental and schema verification of the destination against the source, with rate
//! limits and alerts.

use super::alerts::ThresholdAlert;
use super::destination::DestinationKind;
use super::error::Problems;
use super::objects::ObjectSelection;
use super::ops::DmlOpSet;
use serde::{Deserialize, Serialize};

/// Allowed `sampling_percent` ("Configure a sampling percentage (10–100)").
pub const SAMPLING_PERCENT_RANGE: std::ops::RangeInclusive<u32> = 10..=100;
/// Allowed `timeout_hours` ("Set a delay time (1–72 hours)").
pub const TIMEOUT_HOURS_RANGE: std::ops::RangeInclusive<u32> = 1..=72;

/// The guide's "Full Data Verification" choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FullVerificationMode {
    /// No full data verification (the default).
    #[default]
    None,
    /// "Verify based on the number of table rows": compare row counts only.
    RowCount,
    /// "Full field validation by row sampling": compare every field of a sample of rows
    /// (`sampling_percent`).
    Sampled,
}

/// The guide's "Full calibration reference": which side's rows are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationBaseline {
    /// "Default": the union of source and destination rows.
    #[default]
    Union,
    /// "Source Database": check the source's rows at the destination; extra destination rows
    /// are ignored.
    Source,
    /// "Destination Database": check the destination's rows at the source; extra source rows
    /// are ignored.
    Destination,
}

/// The guide's "Full Data Verification Alert".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FullValidationAlert {
    /// "Trigger alert when full validation task fails." Default `false`.
    pub on_failure: bool,
    /// "Trigger alert when inconsistent data in full validation meets or exceeds the
    /// threshold" (number of inconsistent rows, > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconsistency_threshold: Option<u64>,
}

impl FullValidationAlert {
    /// Whether any alert is set.
    pub fn is_enabled(&self) -> bool {
        self.on_failure || self.inconsistency_threshold.is_some()
    }
}

/// The guide's "Incremental Data Verification Alert".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncrementalValidationAlert {
    /// "Trigger alert when incremental validation task fails." Default `false`.
    pub on_failure: bool,
    /// Inconsistent record count threshold (rows), statistical period and number of periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconsistent_count: Option<ThresholdAlert>,
    /// Data latency threshold (seconds), statistical period and number of periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<ThresholdAlert>,
}

impl IncrementalValidationAlert {
    /// Whether any alert is set.
    pub fn is_enabled(&self) -> bool {
        self.on_failure || self.inconsistent_count.is_some() || self.latency.is_some()
    }
}

/// `[validation]`: data verification. Everything is off by default. Not available for Kafka
/// destinations ("If the destination database type supports data validation").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidationConfig {
    /// The guide's "Full Data Verification"; default `none`. Starts once the full data write
    /// is complete and the first incremental write reached zero latency.
    pub full_mode: FullVerificationMode,
    /// With `full_mode = "sampled"`: percentage of rows sampled, 10–100 (required).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampling_percent: Option<u32>,
    /// The guide's "Timeout Settings for Full Data Verification": end full verification
    /// forcibly after this many hours (1–72); unset means no timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_hours: Option<u32>,
    /// The guide's "Full calibration reference"; default `union`.
    pub baseline: VerificationBaseline,
    /// "Maximum number of rows of data read per second by full verification (RPS)"; 0 (the
    /// default) means no limit.
    pub max_rps: u64,
    /// "Maximum amount of data read per second by full verification (MBps)"; 0 (the default)
    /// means no limit.
    pub max_mbps: u64,
    /// The guide's "Incremental Data Verification". Default `false`.
    pub incremental: bool,
    /// The guide's "Incremental Verification Benchmark": source DML operations verified.
    /// Default all.
    pub incremental_ops: DmlOpSet,
    /// The guide's "Schema Verification": verify object schemas. Default `false`.
    pub schema: bool,
    /// The guide's "Set Verification Objects": `database` or `database.table` names to verify;
    /// unset means every synchronized object ("All objects are selected by default").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<String>>,
    /// The guide's "Full Data Verification Alert".
    pub full_alert: FullValidationAlert,
    /// The guide's "Incremental Data Verification Alert".
    pub incremental_alert: IncrementalValidationAlert,
}

/// What the validation rules need to know about the rest of the task.
pub(crate) struct ValidationContext<'a> {
    pub destination: DestinationKind,
    pub schema_sync: bool,
    pub full_data_sync: bool,
    pub objects: &'a ObjectSelection,
}

impl ValidationConfig {
    /// Whether any verification is enabled.
    pub fn is_enabled(&self) -> bool {
        self.full_mode != FullVerificationMode::None || self.incremental || self.schema
    }

    pub(crate) fn validate(&self, ctx: &ValidationContext<'_>, problems: &mut Problems) {
        let full = self.full_mode != FullVerificationMode::None;
        if ctx.destination == DestinationKind::Kafka {
            for (key, on) in [
                ("full_mode", full),
                ("incremental", self.incremental),
                ("schema", self.schema),
            ] {
                if on {
                    problems.push(
                        format!("validation.{key}"),
                        "data verification is not available for a kafka destination",
                    );
                }
            }
        }
        if full && !ctx.full_data_sync {
            problems.push(
                "validation.full_mode",
                "full data verification checks the full synchronization; it needs sync_types.full_data = true",
            );
        }
        if self.schema && !ctx.schema_sync {
            problems.push(
                "validation.schema",
                "schema verification needs sync_types.schema = true",
            );
        }
        match (self.full_mode, self.sampling_percent) {
            (FullVerificationMode::Sampled, None) => problems.push(
                "validation.sampling_percent",
                format!(
                    "is required when validation.full_mode is sampled ({}-{})",
                    SAMPLING_PERCENT_RANGE.start(),
                    SAMPLING_PERCENT_RANGE.end()
                ),
            ),
            (FullVerificationMode::Sampled, Some(p)) if !SAMPLING_PERCENT_RANGE.contains(&p) => {
                problems.push(
                    "validation.sampling_percent",
                    format!(
                        "must be between {} and {}, got {p}",
                        SAMPLING_PERCENT_RANGE.start(),
                        SAMPLING_PERCENT_RANGE.end()
                    ),
                )
            }
            (FullVerificationMode::Sampled, Some(_)) | (_, None) => {}
            (_, Some(_)) => problems.push(
                "validation.sampling_percent",
                "only used when validation.full_mode is sampled",
            ),
        }
        if let Some(hours) = self.timeout_hours {
            if !TIMEOUT_HOURS_RANGE.contains(&hours) {
                problems.push(
                    "validation.timeout_hours",
                    format!(
                        "must be between {} and {} hours, got {hours}",
                        TIMEOUT_HOURS_RANGE.start(),
                        TIMEOUT_HOURS_RANGE.end()
                    ),
                );
            } else if !full {
                problems.push(
                    "validation.timeout_hours",
                    "only used with full data verification (validation.full_mode)",
                );
            }
        }
        if self.incremental && self.incremental_ops.is_empty() {
            problems.push(
                "validation.incremental_ops",
                "must select at least one of insert, update, delete",
            );
        }
        if self.full_alert.is_enabled() && !full {
            problems.push(
                "validation.full_alert",
                "full verification alerts need validation.full_mode other than none",
            );
        }
        if self.full_alert.inconsistency_threshold == Some(0) {
            problems.push(
                "validation.full_alert.inconsistency_threshold",
                "must be greater than 0, got 0",
            );
        }
        if self.incremental_alert.is_enabled() && !self.incremental {
            problems.push(
                "validation.incremental_alert",
                "incremental verification alerts need validation.incremental = true",
            );
        }
        if let Some(a) = &self.incremental_alert.inconsistent_count {
            a.validate("validation.incremental_alert.inconsistent_count", problems);
        }
        if let Some(a) = &self.incremental_alert.latency {
            a.validate("validation.incremental_alert.latency", problems);
        }
        if let Some(objects) = &self.objects {
            self.validate_objects(objects, ctx.objects, problems);
        }
    }

    fn validate_objects(
        &self,
        objects: &[String],
        selection: &ObjectSelection,
        problems: &mut Problems,
    ) {
        if objects.is_empty() {
            problems.push(
                "validation.objects",
                "must list at least one object; omit it to verify every synchronized object",
            );
        }
        for (i, object) in objects.iter().enumerate() {
            let key = format!("validation.objects[{i}]");
            let mut parts = object.splitn(2, '.');
            let db = parts.next().unwrap_or_default();
            let table = parts.next();
            if db.is_empty() || table.is_some_and(|t| t.is_empty() || t.contains('.')) {
                problems.push(
                    key,
                    format!("`{object}` is not `database` or `database.table`"),
                );
                continue;
            }
            // Objects selected by pattern cannot be checked without matching; only check
            // against explicit selections.
            if !selection.patterns.is_empty() {
                continue;
            }
            match selection.databases.iter().find(|d| d.name == db) {
                None => problems.push(
                    key,
                    format!("database `{db}` is not among the synchronized objects"),
                ),
                Some(d) => {
                    if let Some(table) = table {
                        if !d.is_whole() && !d.tables.iter().any(|t| t.name == table) {
                            problems.push(
                                key,
                                format!(
                                    "table `{db}`.`{table}` is not among the synchronized objects"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::objects::{DatabaseSelection, TableSelection};

    fn selection() -> ObjectSelection {
        ObjectSelection {
            databases: vec![
                DatabaseSelection::whole("crm"),
                DatabaseSelection {
                    name: "shop".into(),
                    tables: vec![TableSelection::new("orders")],
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn keys_in(
        v: &ValidationConfig,
        destination: DestinationKind,
        full: bool,
        schema: bool,
    ) -> Vec<String> {
        let objects = selection();
        let ctx = ValidationContext {
            destination,
            schema_sync: schema,
            full_data_sync: full,
            objects: &objects,
        };
        let mut p = Problems::default();
        v.validate(&ctx, &mut p);
        p.into_vec()
            .into_iter()
            .inspect(|e| assert!(e.to_string().starts_with(&e.key)))
            .map(|e| e.key)
            .collect()
    }

    fn keys(v: &ValidationConfig) -> Vec<String> {
        keys_in(v, DestinationKind::Mysql, true, true)
    }

    fn sampled(percent: u32) -> ValidationConfig {
        ValidationConfig {
            full_mode: FullVerificationMode::Sampled,
            sampling_percent: Some(percent),
            ..Default::default()
        }
    }

    #[test]
    fn defaults_follow_the_guide() {
        let v = ValidationConfig::default();
        assert_eq!(v.full_mode, FullVerificationMode::None);
        assert_eq!(v.baseline, VerificationBaseline::Union);
        assert_eq!((v.max_rps, v.max_mbps), (0, 0));
        assert!(!v.incremental && !v.schema && !v.is_enabled());
        assert!(v.incremental_ops.is_all());
        assert!(v.objects.is_none());
        assert!(keys_in(&v, DestinationKind::Kafka, false, false).is_empty());
    }

    #[test]
    fn sampling_percent_range() {
        assert!(keys(&sampled(10)).is_empty());
        assert!(keys(&sampled(100)).is_empty());
        assert_eq!(keys(&sampled(9)), vec!["validation.sampling_percent"]);
        assert_eq!(keys(&sampled(101)), vec!["validation.sampling_percent"]);
        let mut v = sampled(50);
        v.sampling_percent = None;
        assert_eq!(keys(&v), vec!["validation.sampling_percent"]);
        let v = ValidationConfig {
            full_mode: FullVerificationMode::RowCount,
            sampling_percent: Some(50),
            ..Default::default()
        };
        assert_eq!(keys(&v), vec!["validation.sampling_percent"]);
    }

    #[test]
    fn timeout_range() {
        for ok in [1, 72] {
            let v = ValidationConfig {
                timeout_hours: Some(ok),
                ..sampled(50)
            };
            assert!(keys(&v).is_empty());
        }
        for bad in [0, 73] {
            let v = ValidationConfig {
                timeout_hours: Some(bad),
                ..sampled(50)
            };
            assert_eq!(keys(&v), vec!["validation.timeout_hours"]);
        }
        let v = ValidationConfig {
            timeout_hours: Some(5),
            ..Default::default()
        };
        assert_eq!(keys(&v), vec!["validation.timeout_hours"]);
    }

    #[test]
    fn needs_matching_sync_types_and_destination() {
        let v = ValidationConfig {
            full_mode: FullVerificationMode::RowCount,
            ..Default::default()
        };
        assert_eq!(
            keys_in(&v, DestinationKind::Mysql, false, true),
            vec!["validation.full_mode"]
        );
        assert_eq!(
            keys_in(&v, DestinationKind::Kafka, true, true),
            vec!["validation.full_mode"]
        );
        assert!(keys_in(&v, DestinationKind::Adb, true, true).is_empty());
        let v = ValidationConfig {
            schema: true,
            ..Default::default()
        };
        assert_eq!(
            keys_in(&v, DestinationKind::Mysql, true, false),
            vec!["validation.schema"]
        );
        let v = ValidationConfig {
            incremental: true,
            ..Default::default()
        };
        assert_eq!(
            keys_in(&v, DestinationKind::Kafka, true, true),
            vec!["validation.incremental"]
        );
        let v = ValidationConfig {
            incremental: true,
            incremental_ops: DmlOpSet::none(),
            ..Default::default()
        };
        assert_eq!(keys(&v), vec!["validation.incremental_ops"]);
    }

    #[test]
    fn alerts_need_their_verification() {
        let v = ValidationConfig {
            full_alert: FullValidationAlert {
                on_failure: true,
                inconsistency_threshold: None,
            },
            ..Default::default()
        };
        assert_eq!(keys(&v), vec!["validation.full_alert"]);
        let v = ValidationConfig {
            full_alert: FullValidationAlert {
                on_failure: false,
                inconsistency_threshold: Some(0),
            },
            ..sampled(20)
        };
        assert_eq!(
            keys(&v),
            vec!["validation.full_alert.inconsistency_threshold"]
        );
        let zero = ThresholdAlert {
            threshold: 0,
            period_minutes: 5,
            periods: 1,
        };
        let v = ValidationConfig {
            incremental_alert: IncrementalValidationAlert {
                on_failure: false,
                inconsistent_count: Some(zero.clone()),
                latency: None,
            },
            ..Default::default()
        };
        assert_eq!(
            keys(&v),
            vec![
                "validation.incremental_alert",
                "validation.incremental_alert.inconsistent_count.threshold"
            ]
        );
        let v = ValidationConfig {
            incremental: true,
            incremental_alert: IncrementalValidationAlert {
                on_failure: true,
                inconsistent_count: None,
                latency: Some(ThresholdAlert { periods: 0, ..zero }),
            },
            ..Default::default()
        };
        assert_eq!(
            keys(&v),
            vec![
                "validation.incremental_alert.latency.threshold",
                "validation.incremental_alert.latency.periods"
            ]
        );
    }

    #[test]
    fn verification_objects() {
        let with = |objects: Vec<&str>| ValidationConfig {
            objects: Some(objects.into_iter().map(Into::into).collect()),
            ..sampled(10)
        };
        assert!(keys(&with(vec!["crm", "crm.contacts", "shop.orders"])).is_empty());
        assert_eq!(keys(&with(vec![])), vec!["validation.objects"]);
        assert_eq!(
            keys(&with(vec!["crm", ".x", "a.b.c", "nope", "shop.users"])),
            vec![
                "validation.objects[1]",
                "validation.objects[2]",
                "validation.objects[3]",
                "validation.objects[4]"
            ]
        );
    }
}
