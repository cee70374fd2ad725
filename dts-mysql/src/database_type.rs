//! The guide's "Database Type" (`mysql` / `mariadb`) set in a task file, compared with the
//! flavour the connection detects: a mismatch is a precheck error naming both, so a task file
//! never describes a server other than the one it connects to.

use crate::conn::ServerInfo;
use dts_core::{CheckResult, GtidFlavor};

/// The precheck name of the source's comparison.
pub const SOURCE_DATABASE_TYPE: &str = "source.database_type";
/// The precheck name of a MySQL destination's comparison.
pub const DESTINATION_DATABASE_TYPE: &str = "destination.database_type";

/// The name a task file uses for a flavour.
fn type_name(flavor: GtidFlavor) -> &'static str {
    match flavor {
        GtidFlavor::Mysql => "mysql",
        GtidFlavor::Mariadb => "mariadb",
    }
}

/// The check named `name` for the endpoint whose settings key is `key` (`source`,
/// `destination`): `None` when the task file sets no database type.
pub fn check(
    name: &str,
    key: &str,
    expected: Option<GtidFlavor>,
    server: &ServerInfo,
) -> Option<CheckResult> {
    let expected = expected?;
    let found = type_name(server.flavor);
    Some(if expected == server.flavor {
        CheckResult::pass(
            name,
            format!(
                "{key}.database_type = \"{found}\" matches the server ({})",
                server.version
            ),
        )
    } else {
        CheckResult::error(
            name,
            format!(
                "{key}.database_type is \"{}\" but the server is {found} (@@version = {})",
                type_name(expected),
                server.version
            ),
            format!(
                "Set {key}.database_type = \"{found}\" (or connect to a {} server).",
                type_name(expected)
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_both() {
        let server = ServerInfo::from_version("10.11.19-MariaDB-0+deb12u1-log");
        let r = check(
            SOURCE_DATABASE_TYPE,
            "source",
            Some(GtidFlavor::Mysql),
            &server,
        )
        .unwrap();
        assert_eq!(r.level, dts_core::CheckLevel::Error);
        assert!(
            r.message.contains("\"mysql\"") && r.message.contains("mariadb"),
            "{r:?}"
        );
        assert!(
            r.fix.contains("source.database_type = \"mariadb\""),
            "{r:?}"
        );
        let ok = check(
            SOURCE_DATABASE_TYPE,
            "source",
            Some(GtidFlavor::Mariadb),
            &server,
        )
        .unwrap();
        assert_eq!(ok.level, dts_core::CheckLevel::Pass);
        assert!(check(SOURCE_DATABASE_TYPE, "source", None, &server).is_none());
    }
}
