//! GTID bookkeeping for both server families: what has been executed up to a point of the
//! stream, in the server's own text form, so a position can be resumed by GTID.

use dts_core::{GtidFlavor, GtidSet};
use std::collections::BTreeMap;

/// MariaDB's GTID position: the last GTID of each replication domain
/// (`domain-server-sequence`, comma separated).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MariadbGtidState {
    domains: BTreeMap<u32, (u32, u64)>,
}

impl MariadbGtidState {
    /// Parses `0-1-100,1-2-5` (empty text is the empty state).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut domains = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut it = part.split('-');
            let (Some(d), Some(s), Some(n), None) = (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(format!("bad MariaDB GTID {part:?}"));
            };
            let parse = |x: &str| {
                x.parse::<u64>()
                    .map_err(|_| format!("bad MariaDB GTID {part:?}"))
            };
            domains.insert(parse(d)? as u32, (parse(s)? as u32, parse(n)?));
        }
        Ok(Self { domains })
    }

    /// Records a transaction's GTID.
    pub fn apply(&mut self, domain: u32, server: u32, sequence: u64) {
        self.domains.insert(domain, (server, sequence));
    }

    /// True when no GTID is known.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty()
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        self.domains
            .iter()
            .map(|(d, (s, n))| format!("{d}-{s}-{n}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A MySQL GTID set: for each server UUID, the executed transaction numbers as intervals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MysqlGtidSet {
    sets: BTreeMap<String, Vec<(u64, u64)>>,
}

impl MysqlGtidSet {
    /// Parses `uuid:1-5:7,uuid2:1-3` (whitespace and newlines allowed).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut set = Self::default();
        let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for part in cleaned.split(',').filter(|p| !p.is_empty()) {
            let mut it = part.split(':');
            let uuid = it.next().unwrap_or_default().to_ascii_lowercase();
            if uuid.len() != 36 {
                return Err(format!("bad MySQL GTID set element {part:?}"));
            }
            for range in it {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                let a: u64 = a.parse().map_err(|_| format!("bad GTID range {range:?}"))?;
                let b: u64 = b.parse().map_err(|_| format!("bad GTID range {range:?}"))?;
                for_range(&mut set, &uuid, a, b);
            }
        }
        Ok(set)
    }

    /// Records a transaction's GTID.
    pub fn add(&mut self, uuid: &str, gno: u64) {
        for_range(self, &uuid.to_ascii_lowercase(), gno, gno);
    }

    /// The intervals of each UUID, end inclusive.
    pub fn intervals(&self) -> impl Iterator<Item = (&str, &[(u64, u64)])> {
        self.sets.iter().map(|(u, v)| (u.as_str(), v.as_slice()))
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        self.sets
            .iter()
            .map(|(uuid, ranges)| {
                let mut s = uuid.clone();
                for (a, b) in ranges {
                    if a == b {
                        s.push_str(&format!(":{a}"));
                    } else {
                        s.push_str(&format!(":{a}-{b}"));
                    }
                }
                s
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn for_range(set: &mut MysqlGtidSet, uuid: &str, a: u64, b: u64) {
    let ranges = set.sets.entry(uuid.to_string()).or_default();
    ranges.push((a, b));
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for &(a, b) in ranges.iter() {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    *ranges = merged;
}

/// Formats a 16-byte server UUID.
pub fn format_uuid(sid: &[u8; 16]) -> String {
    let h: String = sid.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Parses a server UUID into its 16 bytes.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

/// Executed-GTID tracking for either family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GtidTracker {
    /// MariaDB domains.
    Mariadb(MariadbGtidState),
    /// MySQL UUID sets.
    Mysql(MysqlGtidSet),
}

impl GtidTracker {
    /// A tracker for `flavor`, starting from a known set if any.
    pub fn new(flavor: GtidFlavor, start: Option<&GtidSet>) -> Result<Self, String> {
        let text = start.map(|g| g.text.as_str()).unwrap_or("");
        Ok(match flavor {
            GtidFlavor::Mariadb => GtidTracker::Mariadb(MariadbGtidState::parse(text)?),
            GtidFlavor::Mysql => GtidTracker::Mysql(MysqlGtidSet::parse(text)?),
        })
    }

    /// The set as a [`GtidSet`], `None` when empty.
    pub fn snapshot(&self) -> Option<GtidSet> {
        let (flavor, text) = match self {
            GtidTracker::Mariadb(s) => (GtidFlavor::Mariadb, s.to_text()),
            GtidTracker::Mysql(s) => (GtidFlavor::Mysql, s.to_text()),
        };
        (!text.is_empty()).then_some(GtidSet { flavor, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_state() {
        let mut s = MariadbGtidState::parse("1-2-5, 0-1-100").unwrap();
        assert_eq!(s.to_text(), "0-1-100,1-2-5");
        s.apply(0, 1, 101);
        s.apply(3, 9, 1);
        assert_eq!(s.to_text(), "0-1-101,1-2-5,3-9-1");
        assert!(MariadbGtidState::parse("0-1").is_err());
        assert!(MariadbGtidState::parse("").unwrap().is_empty());
    }

    #[test]
    fn mysql_set_merges() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        let mut s = MysqlGtidSet::parse(&format!("{u}:1-5:7")).unwrap();
        s.add(u, 6);
        assert_eq!(s.to_text(), format!("{u}:1-7"));
        s.add(u, 9);
        assert_eq!(s.to_text(), format!("{u}:1-7:9"));
        assert!(MysqlGtidSet::parse("nope:1").is_err());
    }

    #[test]
    fn uuid_round_trip() {
        let u = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
        assert_eq!(format_uuid(&parse_uuid(u).unwrap()), u);
    }
}
