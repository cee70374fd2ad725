//! The `sql_mode` a statement ran under, from its query event's status variables: a routine,
//! trigger or event created during the task is created at the destination under the same
//! mode, as at the source (its body is read under it).

use mysql_common::binlog::events::{QueryEvent, StatusVarVal};
use mysql_common::constants::SqlMode;

/// The names of the modes in `bits`, comma-separated, as `SET sql_mode` takes them.
pub fn sql_mode_names(bits: u64) -> String {
    let mode = SqlMode::from_bits_truncate(bits);
    let mut names = Vec::new();
    for (flag, name) in [
        (SqlMode::MODE_REAL_AS_FLOAT, "REAL_AS_FLOAT"),
        (SqlMode::MODE_PIPES_AS_CONCAT, "PIPES_AS_CONCAT"),
        (SqlMode::MODE_ANSI_QUOTES, "ANSI_QUOTES"),
        (SqlMode::MODE_IGNORE_SPACE, "IGNORE_SPACE"),
        (SqlMode::MODE_ONLY_FULL_GROUP_BY, "ONLY_FULL_GROUP_BY"),
        (
            SqlMode::MODE_NO_UNSIGNED_SUBTRACTION,
            "NO_UNSIGNED_SUBTRACTION",
        ),
        (SqlMode::MODE_NO_DIR_IN_CREATE, "NO_DIR_IN_CREATE"),
        (SqlMode::MODE_POSTGRESQL, "POSTGRESQL"),
        (SqlMode::MODE_ORACLE, "ORACLE"),
        (SqlMode::MODE_MSSQL, "MSSQL"),
        (SqlMode::MODE_DB2, "DB2"),
        (SqlMode::MODE_MAXDB, "MAXDB"),
        (SqlMode::MODE_NO_KEY_OPTIONS, "NO_KEY_OPTIONS"),
        (SqlMode::MODE_NO_TABLE_OPTIONS, "NO_TABLE_OPTIONS"),
        (SqlMode::MODE_NO_FIELD_OPTIONS, "NO_FIELD_OPTIONS"),
        (SqlMode::MODE_MYSQL323, "MYSQL323"),
        (SqlMode::MODE_MYSQL40, "MYSQL40"),
        (SqlMode::MODE_ANSI, "ANSI"),
        (SqlMode::MODE_NO_AUTO_VALUE_ON_ZERO, "NO_AUTO_VALUE_ON_ZERO"),
        (SqlMode::MODE_NO_BACKSLASH_ESCAPES, "NO_BACKSLASH_ESCAPES"),
        (SqlMode::MODE_STRICT_TRANS_TABLES, "STRICT_TRANS_TABLES"),
        (SqlMode::MODE_STRICT_ALL_TABLES, "STRICT_ALL_TABLES"),
        (SqlMode::MODE_NO_ZERO_IN_DATE, "NO_ZERO_IN_DATE"),
        (SqlMode::MODE_NO_ZERO_DATE, "NO_ZERO_DATE"),
        (SqlMode::MODE_INVALID_DATES, "ALLOW_INVALID_DATES"),
        (
            SqlMode::MODE_ERROR_FOR_DIVISION_BY_ZERO,
            "ERROR_FOR_DIVISION_BY_ZERO",
        ),
        (SqlMode::MODE_TRADITIONAL, "TRADITIONAL"),
        (SqlMode::MODE_NO_AUTO_CREATE_USER, "NO_AUTO_CREATE_USER"),
        (SqlMode::MODE_HIGH_NOT_PRECEDENCE, "HIGH_NOT_PRECEDENCE"),
        (
            SqlMode::MODE_NO_ENGINE_SUBSTITUTION,
            "NO_ENGINE_SUBSTITUTION",
        ),
        (
            SqlMode::MODE_PAD_CHAR_TO_FULL_LENGTH,
            "PAD_CHAR_TO_FULL_LENGTH",
        ),
        (
            SqlMode::MODE_TIME_TRUNCATE_FRACTIONAL,
            "TIME_TRUNCATE_FRACTIONAL",
        ),
    ] {
        if mode.contains(flag) {
            names.push(name);
        }
    }
    names.join(",")
}

/// The `sql_mode` of a query event, when its status variables carry one.
pub fn of_query(q: &QueryEvent<'_>) -> Option<String> {
    q.status_vars().iter().find_map(|v| match v.get_value() {
        Ok(StatusVarVal::SqlMode(flags)) => Some(sql_mode_names(flags.0)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_by_name() {
        let bits = (SqlMode::MODE_STRICT_TRANS_TABLES
            | SqlMode::MODE_ERROR_FOR_DIVISION_BY_ZERO
            | SqlMode::MODE_NO_AUTO_CREATE_USER
            | SqlMode::MODE_NO_ENGINE_SUBSTITUTION)
            .bits();
        let names = sql_mode_names(bits);
        assert_eq!(
            names,
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
        );
        assert_eq!(
            crate::wire::session::for_destination(&names, false),
            "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
        );
        assert_eq!(crate::wire::session::for_destination(&names, true), names);
        assert_eq!(sql_mode_names(0), "");
    }
}
