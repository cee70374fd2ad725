//! Source positions: where in the change log a task is, serializable for checkpoints.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Which server family wrote a GTID set; the two spell and compare GTIDs differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GtidFlavor {
    /// MySQL 5.6+ GTIDs: `server_uuid:1-100[,…]`.
    Mysql,
    /// MariaDB GTIDs: `domain-server-sequence[,…]`, one per replication domain.
    Mariadb,
}

/// A GTID set in its server's own text form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GtidSet {
    /// Server family that defines the text's meaning.
    pub flavor: GtidFlavor,
    /// The set, e.g. `0-1-42` (MariaDB) or `3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5` (MySQL).
    pub text: String,
}

/// A point in the source's change log. It names the binlog coordinates (always) and the GTID set
/// executed up to that point (when the server has GTIDs), so a stream can resume from either.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Position {
    /// Binlog file name, e.g. `mysql-bin.000003`.
    pub file: String,
    /// Byte offset in that file of the next event to read.
    pub offset: u64,
    /// GTID set executed up to this point, if the source has GTIDs.
    pub gtid_set: Option<GtidSet>,
}

impl Position {
    /// A position by binlog coordinates alone.
    pub fn new(file: impl Into<String>, offset: u64) -> Self {
        Self {
            file: file.into(),
            offset,
            gtid_set: None,
        }
    }

    /// Orders two positions by binlog coordinates; valid only for positions of one server.
    /// Binlog file names share a base name and end in a zero-padded sequence number.
    pub fn coordinates_cmp(&self, other: &Position) -> std::cmp::Ordering {
        self.file
            .cmp(&other.file)
            .then(self.offset.cmp(&other.offset))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.offset)?;
        if let Some(g) = &self.gtid_set {
            write!(f, " (gtid {})", g.text)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_order() {
        let a = Position::new("bin.000002", 900);
        let b = Position::new("bin.000010", 4);
        assert!(a.coordinates_cmp(&b).is_lt());
        assert!(b.coordinates_cmp(&Position::new("bin.000010", 5)).is_lt());
    }

    #[test]
    fn serde_round_trip_and_display() {
        let p = Position {
            file: "bin.000001".into(),
            offset: 1234,
            gtid_set: Some(GtidSet {
                flavor: GtidFlavor::Mariadb,
                text: "0-1-42".into(),
            }),
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Position>(&json).unwrap(), p);
        assert_eq!(p.to_string(), "bin.000001:1234 (gtid 0-1-42)");
    }
}
