//! `instance_class`: the guide's "Instance Class" (link specification), which "determines the
//! upper performance limit for incremental synchronization, which is measured in rows per
//! second (RPS)". A class also sets the writers' parallelism; an explicit
//! `advanced.incremental_throttle.rps` overrides the class's ceiling.

use serde::{Deserialize, Serialize};

/// A link specification: a ceiling on incremental synchronization throughput. Unset
/// (`instance_class` absent) means no ceiling. The ceilings follow the managed service's
/// published link specifications for micro to large; `xlarge` is our extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceClass {
    /// Up to 200 rows per second.
    Micro,
    /// Up to 2,000 rows per second.
    Small,
    /// Up to 5,000 rows per second.
    Medium,
    /// Up to 10,000 rows per second.
    Large,
    /// Up to 20,000 rows per second.
    Xlarge,
}

impl InstanceClass {
    /// The incremental synchronization ceiling, in rows per second.
    pub fn rps_ceiling(self) -> u64 {
        match self {
            InstanceClass::Micro => 200,
            InstanceClass::Small => 2_000,
            InstanceClass::Medium => 5_000,
            InstanceClass::Large => 10_000,
            InstanceClass::Xlarge => 20_000,
        }
    }

    /// How many writers apply incremental changes and full-sync chunks at the same time
    /// (micro 1, small 2, medium 4, large 8, xlarge 16): a bigger link gets more parallelism as
    /// well as a higher ceiling.
    pub fn parallelism(self) -> usize {
        match self {
            InstanceClass::Micro => 1,
            InstanceClass::Small => 2,
            InstanceClass::Medium => 4,
            InstanceClass::Large => 8,
            InstanceClass::Xlarge => 16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_with_the_class() {
        let classes = [
            InstanceClass::Micro,
            InstanceClass::Small,
            InstanceClass::Medium,
            InstanceClass::Large,
            InstanceClass::Xlarge,
        ];
        assert_eq!(
            classes.map(InstanceClass::rps_ceiling),
            [200, 2_000, 5_000, 10_000, 20_000]
        );
        assert_eq!(classes.map(InstanceClass::parallelism), [1, 2, 4, 8, 16]);
    }

    #[test]
    fn explicit_throttle_overrides_the_class() {
        let base = r#"
instance_class = "micro"
[source]
host = "h"
user = "u"
[destination]
type = "mysql"
host = "d"
user = "u"
[[objects.databases]]
name = "shop"
"#;
        let c = crate::config::TaskConfig::from_toml_str(base).unwrap();
        assert_eq!(c.incremental_rps_limit(), Some(200));
        assert_eq!(c.parallelism(), Some(1));
        let c = crate::config::TaskConfig::from_toml_str(&format!(
            "{base}[advanced.incremental_throttle]\nrps = 5000\n"
        ))
        .unwrap();
        assert_eq!(c.incremental_rps_limit(), Some(5000));
    }
}
