//! The type × path matrix's machinery: each path's fixture creates one table per declared type
//! (`types.rs`), drives a whole task built from a task file over the real servers, and records
//! one outcome per type; each (type, path) test case reads its own outcome, so a failure names
//! both. A fixture runs once per test process, however many of its cases are selected.
#![allow(dead_code)]

#[macro_use]
pub mod types;
pub mod canon;
pub mod fixtures;
mod kafka;

use std::collections::HashMap;
use std::sync::OnceLock;

/// One path a value travels, each its own column of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// Keyed chunked snapshot written with multi-row INSERTs.
    SnapshotInsert,
    /// Keyed chunked snapshot written with LOAD DATA.
    SnapshotLoadData,
    /// Key-less table: consistent snapshot.
    KeylessSnapshot,
    /// Binlog: multi-row INSERT events.
    BinlogInsert,
    /// Binlog: UPDATE events (every row to another declared value).
    BinlogUpdate,
    /// Binlog: key-changing UPDATE events.
    BinlogKeyChange,
    /// Binlog: DELETE events.
    BinlogDelete,
    /// Two-way topology: conflict-checked apply of inserts, updates, deletes.
    TwoWayApply,
    /// Full data verification after the copy reports every table clean.
    Verification,
    /// Kafka records (snapshot, update, delete) decoded back, per format.
    KafkaCanalJson,
    KafkaShareplexJson,
    KafkaDebeziumJson,
    KafkaDtsAvro,
    /// AnalyticDB write path (a MariaDB server standing in).
    Adb,
    /// Masking with `redact`: masked, or refused at precheck naming the column.
    Masking,
}

/// What one (type, path) pair came to.
pub type Outcome = Result<(), String>;

/// The fixture that produces a path's outcomes (several paths share one task).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fixture {
    SnapshotInsert,
    SnapshotLoadData,
    Keyless,
    Binlog,
    TwoWay,
    Verification,
    Kafka(dts_kafka::KafkaDataFormat),
    Adb,
    Masking,
}

impl Path {
    fn fixture(self) -> Fixture {
        use dts_kafka::KafkaDataFormat as F;
        match self {
            Path::SnapshotInsert => Fixture::SnapshotInsert,
            Path::SnapshotLoadData => Fixture::SnapshotLoadData,
            Path::KeylessSnapshot => Fixture::Keyless,
            Path::BinlogInsert
            | Path::BinlogUpdate
            | Path::BinlogKeyChange
            | Path::BinlogDelete => Fixture::Binlog,
            Path::TwoWayApply => Fixture::TwoWay,
            Path::Verification => Fixture::Verification,
            Path::KafkaCanalJson => Fixture::Kafka(F::CanalJson),
            Path::KafkaShareplexJson => Fixture::Kafka(F::ShareplexJson),
            Path::KafkaDebeziumJson => Fixture::Kafka(F::DebeziumJson),
            Path::KafkaDtsAvro => Fixture::Kafka(F::DtsAvro),
            Path::Adb => Fixture::Adb,
            Path::Masking => Fixture::Masking,
        }
    }
}

/// Outcomes of one fixture run, by (path, case name).
pub type Outcomes = HashMap<(Path, &'static str), Outcome>;

/// The outcome of `case` on `path`, running the path's fixture first if no case has yet.
pub fn outcome(path: Path, case: &str) -> Outcome {
    static RUNS: OnceLock<std::sync::Mutex<HashMap<Fixture, &'static OnceLock<Outcomes>>>> =
        OnceLock::new();
    let fixture = path.fixture();
    let cell: &'static OnceLock<Outcomes> = RUNS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(fixture)
        .or_insert_with(|| Box::leak(Box::new(OnceLock::new())));
    let outcomes = cell.get_or_init(|| run_fixture(fixture));
    outcomes
        .get(&(path, types::case(case).name))
        .cloned()
        .unwrap_or_else(|| {
            Err(format!(
                "the {fixture:?} fixture recorded nothing for {case} on {path:?}"
            ))
        })
}

tokio::task_local! {
    /// The cases a fixture's current attempt covers.
    static SELECTED: Vec<&'static types::TypeCase>;
}

/// The cases the running fixture attempt covers (all declared ones outside a fixture).
pub fn cases() -> Vec<&'static types::TypeCase> {
    SELECTED
        .try_with(|c| c.clone())
        .unwrap_or_else(|_| types::CASES.iter().collect())
}

/// Runs a fixture; when its task fails on one type's table, that type keeps the failure and
/// the fixture runs again without it, so one type's defect does not hide the others'.
fn run_fixture(fixture: Fixture) -> Outcomes {
    let mut selected: Vec<&'static types::TypeCase> = types::CASES.iter().collect();
    let mut settled = Outcomes::new();
    for _attempt in 0..6 {
        let outcomes = run_attempt(fixture, selected.clone());
        let culprits: Vec<&'static types::TypeCase> = selected
            .iter()
            .copied()
            .filter(|c| {
                fixtures::paths_of(fixture).iter().any(|p| {
                    matches!(outcomes.get(&(*p, c.name)),
                        Some(Err(e)) if e.contains("task failed") && blames(e, c))
                })
            })
            .collect();
        if culprits.is_empty() || culprits.len() == selected.len() {
            settled.extend(outcomes);
            return settled;
        }
        for c in &culprits {
            for p in fixtures::paths_of(fixture) {
                if let Some(o) = outcomes.get(&(p, c.name)) {
                    settled.insert((p, c.name), o.clone());
                }
            }
        }
        selected.retain(|c| !culprits.iter().any(|x| x.name == c.name));
    }
    for p in fixtures::paths_of(fixture) {
        for c in &selected {
            settled
                .entry((p, c.name))
                .or_insert_with(|| Err("too many types failed the whole task".into()));
        }
    }
    settled
}

/// Whether a failure message names `case`'s table (`t_<name>` as a whole identifier).
fn blames(message: &str, case: &types::TypeCase) -> bool {
    let message = message.split(fixtures::COMPARED).next().unwrap_or_default();
    let table = case.table();
    message.match_indices(&table).any(|(i, _)| {
        let before = message[..i].chars().next_back();
        let after = message[i + table.len()..].chars().next();
        let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !ident(before) && !ident(after)
    })
}

/// One attempt of a fixture over `selected`, on its own runtime; a panic becomes every
/// selected case's failure.
fn run_attempt(fixture: Fixture, selected: Vec<&'static types::TypeCase>) -> Outcomes {
    let chosen = selected.clone();
    let run = std::panic::catch_unwind(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_all()
            .build()
            .unwrap()
            .block_on(SELECTED.scope(chosen, fixtures::run(fixture)))
    });
    match run {
        Ok(outcomes) => outcomes,
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".into());
            let mut out = Outcomes::new();
            for p in fixtures::paths_of(fixture) {
                for c in &selected {
                    out.insert(
                        (p, c.name),
                        Err(format!("the {fixture:?} fixture panicked: {why}")),
                    );
                }
            }
            out
        }
    }
}

/// One test function per (path, type): `mod <path> { fn <type>() }`.
macro_rules! path_tests {
    ($module:ident, $variant:ident; $($name:ident: $spec:tt),* $(,)?) => {
        mod $module {
            $(
                #[test]
                fn $name() {
                    let path = $crate::tm_support::Path::$variant;
                    if let Err(e) = $crate::tm_support::outcome(path, stringify!($name)) {
                        panic!("type {} on path {path:?}: {e}", stringify!($name));
                    }
                }
            )*
        }
    };
}
