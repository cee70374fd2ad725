//! MariaDB-only binlog events that `mysql_common` does not decode: GTID (162) and GTID_LIST
//! (163). Parsed from the raw event body.

/// Event type code of MariaDB's GTID event.
pub const MARIADB_GTID_EVENT: u8 = 162;
/// Event type code of MariaDB's GTID_LIST event.
pub const MARIADB_GTID_LIST_EVENT: u8 = 163;

/// GTID event flag: the event group has no BEGIN/COMMIT (a DDL or non-transactional statement).
pub const FL_STANDALONE: u8 = 1;

/// A MariaDB GTID event: the start of an event group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MariadbGtid {
    /// Replication domain.
    pub domain: u32,
    /// Originating server id (from the event header).
    pub server: u32,
    /// Sequence number.
    pub sequence: u64,
    /// Flags (`FL_STANDALONE`, …).
    pub flags: u8,
}

impl MariadbGtid {
    /// Parses the event body (`seq_no` u64, `domain_id` u32, `flags2` u8, …).
    pub fn parse(body: &[u8], server: u32) -> Option<Self> {
        if body.len() < 13 {
            return None;
        }
        Some(Self {
            sequence: u64::from_le_bytes(body[0..8].try_into().ok()?),
            domain: u32::from_le_bytes(body[8..12].try_into().ok()?),
            flags: body[12],
            server,
        })
    }

    /// `domain-server-sequence`.
    pub fn text(&self) -> String {
        format!("{}-{}-{}", self.domain, self.server, self.sequence)
    }

    /// True when the group has no BEGIN/COMMIT.
    pub fn is_standalone(&self) -> bool {
        self.flags & FL_STANDALONE != 0
    }
}

/// Parses a GTID_LIST body: `count` (u32, low 28 bits) then `domain` u32, `server` u32, `seq`
/// u64 for each entry.
pub fn parse_gtid_list(body: &[u8]) -> Option<Vec<(u32, u32, u64)>> {
    let count = (u32::from_le_bytes(body.get(0..4)?.try_into().ok()?) & 0x0fff_ffff) as usize;
    // The count is only trusted as far as the body can hold its entries.
    let mut out = Vec::with_capacity(count.min(body.len() / 16));
    for i in 0..count {
        let e = body.get(4 + i * 16..4 + (i + 1) * 16)?;
        out.push((
            u32::from_le_bytes(e[0..4].try_into().ok()?),
            u32::from_le_bytes(e[4..8].try_into().ok()?),
            u64::from_le_bytes(e[8..16].try_into().ok()?),
        ));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_and_list() {
        let mut body = 42u64.to_le_bytes().to_vec();
        body.extend(7u32.to_le_bytes());
        body.push(FL_STANDALONE);
        let g = MariadbGtid::parse(&body, 1).unwrap();
        assert_eq!(g.text(), "7-1-42");
        assert!(g.is_standalone());
        assert!(MariadbGtid::parse(&body[..5], 1).is_none());

        let mut list = 1u32.to_le_bytes().to_vec();
        list.extend(0u32.to_le_bytes());
        list.extend(1u32.to_le_bytes());
        list.extend(9u64.to_le_bytes());
        assert_eq!(parse_gtid_list(&list), Some(vec![(0, 1, 9)]));
        assert_eq!(parse_gtid_list(&list[..10]), None);
    }
}
