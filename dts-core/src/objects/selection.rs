//! Which tables are selected, by which entry of the config, with which SQL operations.
//!
//! A table `db.t` is selected when, in this order:
//! 1. it is not an Online DDL temporary table the mode skips (see [`super::online_ddl`]);
//! 2. no `[[objects.exclude]]` pattern matches it (exclusions always win);
//! 3. it is listed in `db`'s table list (`[[objects.databases.tables]]`), or `db` is selected
//!    whole (no table list: every table, including tables created later), or an
//!    `[[objects.patterns]]` entry matches `db.t` (the first one that does). Patterns never
//!    select tables of the server's own databases (`mysql`, `sys`, …).
//!
//! Operations: a listed table's `dml`/`ddl` override its database's, which override the
//! instance level (AnalyticDB's `destination.dml`/`ddl`, otherwise everything); a pattern's
//! override its database entry's if there is one. Two-way tasks with `topology.exclude_ddl`
//! synchronize no DDL at all.

use super::condition::Condition;
use super::online_ddl::OnlineDdl;
use super::pattern::NamePattern;
use crate::change::DdlKind;
use crate::config::{
    ConfigError, DatabaseSelection, DdlOp, DdlOpSet, DmlOp, DmlOpSet, TableSelection, TaskConfig,
};
use crate::filter::{DmlOps, SYSTEM_DATABASES};
use crate::schema::TableId;
use std::collections::{BTreeSet, HashMap};

/// One listed table.
#[derive(Clone, Debug)]
pub struct TableRule {
    /// Its config key (`objects.databases[0].tables[1]`).
    pub key: String,
    /// The entry.
    pub config: TableSelection,
    /// Its compiled `filter`.
    pub condition: Option<Condition>,
}

/// One listed database.
#[derive(Clone, Debug)]
pub struct DatabaseRule {
    /// Its config key (`objects.databases[0]`).
    pub key: String,
    /// The entry (with its table list).
    pub config: DatabaseSelection,
    /// Its listed tables.
    pub tables: Vec<TableRule>,
    by_table: HashMap<String, usize>,
}

impl DatabaseRule {
    /// The listed table named `table`.
    pub fn table(&self, table: &str) -> Option<&TableRule> {
        self.by_table.get(table).map(|i| &self.tables[*i])
    }
}

#[derive(Clone, Debug)]
struct PatternRule {
    key: String,
    pattern: NamePattern,
    dml: Option<DmlOpSet>,
    ddl: Option<DdlOpSet>,
}

/// How a table came to be selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Listed in its database's table list.
    Table,
    /// Its database is selected whole.
    Database,
    /// Matched by `objects.patterns[index]`.
    Pattern(usize),
}

/// A selected table's entry and operations.
#[derive(Clone, Debug)]
pub struct Selected<'a> {
    /// How it was selected.
    pub origin: Origin,
    /// Its database's entry, if the database is listed.
    pub database: Option<&'a DatabaseRule>,
    /// Its table entry, if listed.
    pub table: Option<&'a TableRule>,
    /// With `online_ddl = "yes"`: the tool's suffix when this is a copy of listed table
    /// `table` made by an online schema change (`_t_gho` of `t`: `gho`).
    pub companion: Option<String>,
    dml: DmlOpSet,
    ddl: DdlOpSet,
}

impl Selected<'_> {
    /// DML operations synchronized.
    pub fn dml(&self) -> DmlOps {
        DmlOps {
            insert: self.dml.contains(DmlOp::Insert),
            update: self.dml.contains(DmlOp::Update),
            delete: self.dml.contains(DmlOp::Delete),
        }
    }

    /// DDL operations synchronized.
    pub fn ddl(&self) -> &DdlOpSet {
        &self.ddl
    }

    /// DDL kinds synchronized for [`crate::TableRoute::ddl`] (`None`: all).
    pub fn ddl_kinds(&self) -> Option<BTreeSet<DdlKind>> {
        if self.ddl.is_all() {
            return None;
        }
        Some(self.ddl.iter().map(kind_of).collect())
    }

    /// The column subset, if the table entry has one.
    pub fn columns(&self) -> Option<&[String]> {
        self.table.and_then(|t| t.config.columns.as_deref())
    }
}

fn kind_of(op: DdlOp) -> DdlKind {
    match op {
        DdlOp::CreateTable => DdlKind::CreateTable,
        DdlOp::AlterTable => DdlKind::AlterTable,
        DdlOp::DropTable => DdlKind::DropTable,
        DdlOp::TruncateTable => DdlKind::TruncateTable,
        DdlOp::RenameTable => DdlKind::RenameTable,
        DdlOp::CreateDatabase => DdlKind::CreateDatabase,
        DdlOp::DropDatabase => DdlKind::DropDatabase,
        DdlOp::CreateIndex => DdlKind::CreateIndex,
        DdlOp::DropIndex => DdlKind::DropIndex,
    }
}

/// Whether a DDL kind is in an operation set. Kinds the config cannot name (`ALTER DATABASE`,
/// views and other statements, unreadable statements) pass only when every operation is
/// selected.
pub fn allows(set: &DdlOpSet, kind: DdlKind) -> bool {
    let op = match kind {
        DdlKind::CreateTable => DdlOp::CreateTable,
        DdlKind::AlterTable => DdlOp::AlterTable,
        DdlKind::DropTable => DdlOp::DropTable,
        DdlKind::RenameTable => DdlOp::RenameTable,
        DdlKind::TruncateTable => DdlOp::TruncateTable,
        DdlKind::CreateDatabase => DdlOp::CreateDatabase,
        DdlKind::DropDatabase => DdlOp::DropDatabase,
        DdlKind::CreateIndex => DdlOp::CreateIndex,
        DdlKind::DropIndex => DdlOp::DropIndex,
        DdlKind::AlterDatabase | DdlKind::Object(_) | DdlKind::Other | DdlKind::Unparsed => {
            return set.is_all()
        }
    };
    set.contains(op)
}

/// The compiled object selection.
#[derive(Clone, Debug)]
pub struct Selection {
    databases: Vec<DatabaseRule>,
    by_name: HashMap<String, usize>,
    patterns: Vec<PatternRule>,
    exclude: Vec<NamePattern>,
    instance_dml: DmlOpSet,
    instance_ddl: DdlOpSet,
    online: OnlineDdl,
}

impl Selection {
    /// Compiles `objects` (patterns, filters) and the operation defaults of `config`.
    pub fn new(config: &TaskConfig) -> Result<Selection, ConfigError> {
        let objects = &config.objects;
        let mut databases = Vec::with_capacity(objects.databases.len());
        let mut by_name = HashMap::new();
        for (i, db) in objects.databases.iter().enumerate() {
            let key = format!("objects.databases[{i}]");
            let mut tables = Vec::with_capacity(db.tables.len());
            let mut by_table = HashMap::new();
            for (j, t) in db.tables.iter().enumerate() {
                let tkey = format!("{key}.tables[{j}]");
                let condition = t
                    .filter
                    .as_deref()
                    .map(Condition::parse)
                    .transpose()
                    .map_err(|e| ConfigError::invalid(format!("{tkey}.filter"), e))?;
                by_table.entry(t.name.clone()).or_insert(tables.len());
                tables.push(TableRule {
                    key: tkey,
                    config: t.clone(),
                    condition,
                });
            }
            by_name.entry(db.name.clone()).or_insert(databases.len());
            databases.push(DatabaseRule {
                key,
                config: db.clone(),
                tables,
                by_table,
            });
        }
        let patterns = objects
            .patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let key = format!("objects.patterns[{i}]");
                let pattern = NamePattern::new(&p.pattern, p.kind)
                    .map_err(|e| ConfigError::invalid(format!("{key}.pattern"), e))?;
                Ok(PatternRule {
                    key,
                    pattern,
                    dml: p.dml.clone(),
                    ddl: p.ddl.clone(),
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let exclude = objects
            .exclude
            .iter()
            .enumerate()
            .map(|(i, p)| {
                NamePattern::new(&p.pattern, p.kind)
                    .map_err(|e| ConfigError::invalid(format!("objects.exclude[{i}].pattern"), e))
            })
            .collect::<Result<_, _>>()?;
        let (instance_dml, mut instance_ddl) = (
            config.destination.dml.clone(),
            config.destination.ddl.clone(),
        );
        if config.topology.exclude_ddl() {
            instance_ddl = DdlOpSet::none();
        }
        Ok(Selection {
            databases,
            by_name,
            patterns,
            exclude,
            instance_dml,
            instance_ddl,
            online: OnlineDdl::new(&config.advanced)?,
        })
    }

    /// Whether DDL is off for the whole task (`topology.exclude_ddl`).
    pub fn ddl_excluded(&self) -> bool {
        self.instance_ddl.is_empty()
    }

    /// The Online DDL temporary table recogniser.
    pub fn online_ddl(&self) -> &OnlineDdl {
        &self.online
    }

    /// The entry of database `name`, if listed.
    pub fn database(&self, name: &str) -> Option<&DatabaseRule> {
        self.by_name.get(name).map(|i| &self.databases[*i])
    }

    /// Every listed database.
    pub fn databases(&self) -> &[DatabaseRule] {
        &self.databases
    }

    /// Whether an exclusion pattern matches the table.
    pub fn excluded(&self, id: &TableId) -> bool {
        self.exclude.iter().any(|p| p.matches_table(id))
    }

    /// The selection of table `id`, or `None` when it is not synchronized.
    pub fn select(&self, id: &TableId) -> Option<Selected<'_>> {
        if self.online.classify(&id.table).is_some() || self.excluded(id) {
            return None;
        }
        let database = self.database(&id.database);
        let ddl_of = |own: Option<&DdlOpSet>, db: Option<&DatabaseRule>| {
            if self.ddl_excluded() {
                return DdlOpSet::none();
            }
            own.or(db.and_then(|d| d.config.ddl.as_ref()))
                .unwrap_or(&self.instance_ddl)
                .clone()
        };
        let dml_of = |own: Option<&DmlOpSet>, db: Option<&DatabaseRule>| {
            own.or(db.and_then(|d| d.config.dml.as_ref()))
                .unwrap_or(&self.instance_dml)
                .clone()
        };
        if let Some(db) = database {
            if let Some(t) = db.table(&id.table) {
                return Some(Selected {
                    origin: Origin::Table,
                    database,
                    table: Some(t),
                    companion: None,
                    dml: dml_of(t.config.dml.as_ref(), database),
                    ddl: ddl_of(t.config.ddl.as_ref(), database),
                });
            }
            if let Some((original, suffix)) = self.online.companion(&id.table) {
                let original_id = TableId::new(id.database.clone(), original.clone());
                if let (Some(t), false) = (db.table(&original), self.excluded(&original_id)) {
                    return Some(Selected {
                        origin: Origin::Table,
                        database,
                        table: Some(t),
                        companion: Some(suffix),
                        dml: dml_of(t.config.dml.as_ref(), database),
                        ddl: ddl_of(t.config.ddl.as_ref(), database),
                    });
                }
            }
            if db.config.is_whole() {
                return Some(Selected {
                    origin: Origin::Database,
                    database,
                    table: None,
                    companion: None,
                    dml: dml_of(None, database),
                    ddl: ddl_of(None, database),
                });
            }
        }
        if SYSTEM_DATABASES.contains(&id.database.as_str()) {
            return None;
        }
        let by_pattern = |t: &TableId| {
            self.patterns
                .iter()
                .enumerate()
                .find(|(_, p)| p.pattern.matches_table(t))
        };
        let ((index, p), companion) = match by_pattern(id) {
            Some(found) => (found, None),
            // An online schema change's copy of a table a pattern selects (`yes` mode).
            None => {
                let (original, suffix) = self.online.companion(&id.table)?;
                let original = TableId::new(id.database.clone(), original);
                if self.excluded(&original) {
                    return None;
                }
                (by_pattern(&original)?, Some(suffix))
            }
        };
        Some(Selected {
            origin: Origin::Pattern(index),
            database,
            table: None,
            companion,
            dml: dml_of(p.dml.as_ref(), database),
            ddl: ddl_of(p.ddl.as_ref(), database),
        })
    }

    /// The key of the entry that selected a table, for messages.
    pub fn key_of(&self, selected: &Selected<'_>) -> String {
        match (selected.origin, selected.table, selected.database) {
            (Origin::Table, Some(t), _) => t.key.clone(),
            (Origin::Pattern(i), _, _) => self.patterns[i].key.clone(),
            (_, _, Some(d)) => d.key.clone(),
            _ => "objects".into(),
        }
    }

    /// Whether database `name` is selected whole (so it carries database-level DDL and objects
    /// created later).
    pub fn whole_database(&self, name: &str) -> Option<&DatabaseRule> {
        self.database(name).filter(|d| d.config.is_whole())
    }

    /// The DDL operations of a database selected whole.
    pub fn database_ddl(&self, db: &DatabaseRule) -> DdlOpSet {
        if self.ddl_excluded() {
            return DdlOpSet::none();
        }
        db.config
            .ddl
            .clone()
            .unwrap_or_else(|| self.instance_ddl.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{
        DestinationConfig, DestinationKind, Endpoint, NamePattern as ConfigPattern,
        ObjectSelection, PatternKind, PatternSelection, TopologyMode,
    };
    use crate::objects::testing::{config, tables, whole};

    fn sel(objects: ObjectSelection) -> Selection {
        Selection::new(&config(objects)).unwrap()
    }

    fn id(db: &str, t: &str) -> TableId {
        TableId::new(db, t)
    }

    #[test]
    fn whole_database_selects_every_table_including_new_ones() {
        let s = sel(whole(&["shop"]));
        let got = s.select(&id("shop", "created_later")).unwrap();
        assert_eq!(got.origin, Origin::Database);
        assert!(s.select(&id("other", "t")).is_none());
        assert!(s.whole_database("shop").is_some());
    }

    #[test]
    fn table_lists_select_only_listed_tables() {
        let s = sel(tables("shop", vec![TableSelection::new("orders")]));
        assert_eq!(
            s.select(&id("shop", "orders")).unwrap().origin,
            Origin::Table
        );
        assert!(s.select(&id("shop", "users")).is_none());
        // Names are case-sensitive, as on a Linux server.
        assert!(s.select(&id("shop", "Orders")).is_none());
        assert!(s.whole_database("shop").is_none());
    }

    #[test]
    fn patterns_select_and_exclusions_win() {
        let mut o = tables("shop", vec![TableSelection::new("orders")]);
        o.patterns.push(PatternSelection {
            pattern: "logs_*.events_*".into(),
            ..Default::default()
        });
        o.patterns.push(PatternSelection {
            pattern: r"^shop\.u.*$".into(),
            kind: PatternKind::Regex,
            ..Default::default()
        });
        o.patterns.push(PatternSelection {
            pattern: "*".into(),
            dml: Some([DmlOp::Insert].into_iter().collect()),
            ..Default::default()
        });
        o.exclude.push(ConfigPattern {
            pattern: "logs_*.events_tmp*".into(),
            kind: PatternKind::Wildcard,
        });
        o.exclude.push(ConfigPattern {
            pattern: "shop.orders".into(),
            kind: PatternKind::Wildcard,
        });
        let s = sel(o);
        assert_eq!(
            s.select(&id("logs_1", "events_a")).unwrap().origin,
            Origin::Pattern(0)
        );
        assert!(s.select(&id("logs_1", "events_tmp1")).is_none());
        // Exclusion beats an explicit table entry.
        assert!(s.select(&id("shop", "orders")).is_none());
        // A table list does not stop patterns from selecting more tables of the database.
        let u = s.select(&id("shop", "users")).unwrap();
        assert_eq!(u.origin, Origin::Pattern(1));
        assert_eq!(s.key_of(&u), "objects.patterns[1]");
        // The catch-all pattern never reaches the server's own databases.
        assert!(s.select(&id("mysql", "user")).is_none());
        assert!(!s.select(&id("x", "y")).unwrap().dml().update);
    }

    #[test]
    fn operations_inherit_table_over_database_over_instance() {
        let mut o = tables(
            "shop",
            vec![
                TableSelection {
                    dml: Some([DmlOp::Insert].into_iter().collect()),
                    ddl: Some(DdlOpSet::none()),
                    ..TableSelection::new("orders")
                },
                TableSelection::new("users"),
            ],
        );
        o.databases[0].dml = Some([DmlOp::Insert, DmlOp::Update].into_iter().collect());
        o.databases[0].ddl = Some([DdlOp::AlterTable].into_iter().collect());
        let s = sel(o);
        let orders = s.select(&id("shop", "orders")).unwrap();
        assert_eq!(
            orders.dml(),
            DmlOps {
                insert: true,
                update: false,
                delete: false
            }
        );
        assert_eq!(orders.ddl_kinds(), Some(BTreeSet::new()));
        let users = s.select(&id("shop", "users")).unwrap();
        assert!(users.dml().update && !users.dml().delete);
        assert_eq!(
            users.ddl_kinds(),
            Some([DdlKind::AlterTable].into_iter().collect())
        );
        assert!(allows(users.ddl(), DdlKind::AlterTable));
        assert!(!allows(users.ddl(), DdlKind::DropTable));
        assert!(!allows(users.ddl(), DdlKind::Other));
        assert!(allows(&DdlOpSet::all(), DdlKind::Other));
    }

    #[test]
    fn adb_instance_level_operations_and_exclude_ddl() {
        let mut c = config(whole(&["shop"]));
        c.destination = DestinationConfig {
            endpoint: Some(Endpoint::default()),
            merge_tables: false,
            dml: [DmlOp::Insert].into_iter().collect(),
            ddl: [DdlOp::CreateTable].into_iter().collect(),
            ..DestinationConfig::new(DestinationKind::Adb)
        };
        let s = Selection::new(&c).unwrap();
        let t = s.select(&id("shop", "t")).unwrap();
        assert!(t.dml().insert && !t.dml().delete);
        assert_eq!(
            t.ddl_kinds(),
            Some([DdlKind::CreateTable].into_iter().collect())
        );

        let mut c = config(whole(&["shop"]));
        c.topology.mode = TopologyMode::TwoWay;
        c.topology.exclude_ddl = Some(true);
        let s = Selection::new(&c).unwrap();
        assert!(s.ddl_excluded());
        assert!(s.select(&id("shop", "t")).unwrap().ddl().is_empty());
    }

    #[test]
    fn bad_patterns_and_filters_name_their_key() {
        let mut o = whole(&["shop"]);
        o.exclude.push(ConfigPattern {
            pattern: "(".into(),
            kind: PatternKind::Regex,
        });
        let e = Selection::new(&config(o)).unwrap_err();
        assert_eq!(e.key, "objects.exclude[0].pattern");
        let o = tables(
            "shop",
            vec![
                TableSelection::new("a"),
                TableSelection {
                    filter: Some("id IN (SELECT 1)".into()),
                    ..TableSelection::new("b")
                },
            ],
        );
        let e = Selection::new(&config(o)).unwrap_err();
        assert_eq!(e.key, "objects.databases[0].tables[1].filter");
        assert!(e.to_string().contains("subquery"), "{e}");
    }
}
