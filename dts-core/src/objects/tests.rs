//! ConfigFilter tests: one per feature and edge case, through the public `Filter` interface
//! (and the task's `Mapper`, to prove route, row filter and masking agree).

use super::testing::{config, table, tables, whole};
use super::ConfigFilter;
use crate::change::{Ddl, DdlKind, RowChange, RowOp};
use crate::config::{
    Capitalization, DdlOp, DdlOpSet, DestinationConfig, DestinationKind, DmlOp, Endpoint,
    MappingLevel, MappingRule, MaskingMethod, MaskingRule, NamePattern, ObjectSelection,
    OnlineDdlMode, PatternKind, PatternSelection, TableSelection, TaskConfig, TopologyMode,
};
use crate::filter::{DmlOps, Filter};
use crate::schema::{TableId, TableSchema};
use crate::task::mapping::Mapper;
use crate::value::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

fn filter(c: &TaskConfig) -> ConfigFilter {
    ConfigFilter::from_config(c).unwrap_or_else(|e| panic!("{e}"))
}

fn orders(db: &str) -> TableSchema {
    table(db, "orders")
        .int("id")
        .varchar("name", 20, "utf8mb4_general_ci")
        .decimal("amount", 10, 2)
        .varchar("phone", 20, "utf8mb4_general_ci")
        .pk(&["id"])
        .build()
}

fn ddl(kind: DdlKind, session: Option<&str>, tables: &[(&str, &str)], sql: &str) -> Ddl {
    Ddl {
        database: session.map(str::to_owned),
        statement: sql.into(),
        kind,
        tables: tables.iter().map(|(d, t)| TableId::new(*d, *t)).collect(),
        sql_mode: None,
    }
}

fn id(db: &str, t: &str) -> TableId {
    TableId::new(db, t)
}

fn with_table(edit: impl FnOnce(&mut TableSelection)) -> TaskConfig {
    let mut t = TableSelection::new("orders");
    edit(&mut t);
    config(tables("shop", vec![t]))
}

// ---------------------------------------------------------------- selection and routes

#[test]
fn whole_database_routes_every_table_under_its_mapped_name() {
    let mut c = config(whole(&["shop"]));
    c.objects.databases[0].rename_to = Some("shop_copy".into());
    let f = filter(&c);
    let route = f.route(&orders("shop")).unwrap();
    assert_eq!(route.destination, id("shop_copy", "orders"));
    assert_eq!(route.columns, None);
    assert_eq!(route.dml, DmlOps::ALL);
    assert_eq!(route.ddl, None);
    assert_eq!(route.condition, None);
    // A table created later in the database is selected too.
    let later = table("shop", "created_later").int("id").pk(&["id"]).build();
    assert_eq!(
        f.route(&later).unwrap().destination,
        id("shop_copy", "created_later")
    );
    assert!(f.route(&orders("other")).is_none());
    assert_eq!(f.destination_database("shop"), "shop_copy");
    assert_eq!(
        f.destination_table(&id("shop", "x")),
        Some(id("shop_copy", "x"))
    );
}

#[test]
fn table_list_selects_listed_tables_with_their_renames() {
    let f = filter(&with_table(|t| t.rename_to = Some("orders_v2".into())));
    assert_eq!(
        f.route(&orders("shop")).unwrap().destination,
        id("shop", "orders_v2")
    );
    let users = table("shop", "users").int("id").pk(&["id"]).build();
    assert!(f.route(&users).is_none());
}

#[test]
fn exclusions_win_over_databases_and_patterns() {
    let mut o = whole(&["shop"]);
    o.patterns.push(PatternSelection {
        pattern: "logs.*".into(),
        ..PatternSelection::default()
    });
    o.exclude.push(NamePattern {
        pattern: r"^(shop\.orders|logs\.debug_.*)$".into(),
        kind: PatternKind::Regex,
    });
    let f = filter(&config(o));
    assert!(f.route(&orders("shop")).is_none());
    assert!(f.route(&orders("logs")).is_some());
    let debug = table("logs", "debug_1").int("id").pk(&["id"]).build();
    assert!(f.route(&debug).is_none());
}

#[test]
fn column_subset_keeps_source_order_and_renames_columns() {
    let f = filter(&with_table(|t| {
        t.columns = Some(vec!["phone".into(), "ID".into(), "name".into()]);
        t.rename_columns.insert("name".into(), "full_name".into());
    }));
    let s = orders("shop");
    let route = f.route(&s).unwrap();
    assert_eq!(
        route.columns,
        Some(vec![
            (0, "id".to_string()),
            (1, "full_name".to_string()),
            (3, "phone".to_string())
        ])
    );
    let dest = route.destination_schema(&s);
    assert_eq!(dest.primary_key, vec!["id"]);
    assert!(f.check_tables(&[s]).is_empty());
}

#[test]
fn column_subset_without_the_key_is_reported_and_not_silently_changed() {
    let f = filter(&with_table(|t| {
        t.columns = Some(vec!["name".into(), "amount".into(), "nope".into()]);
    }));
    let s = orders("shop");
    let problems = f.check_tables(std::slice::from_ref(&s));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("objects.databases[0].tables[0].columns:")
            && problems[0].contains("shop.orders has no column `nope`"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("leaves out key column `id`") && problems[1].contains("shop.orders"),
        "{problems:?}"
    );
    // The route still carries exactly the configured columns (and logs the problem).
    let route = f.route(&s).unwrap();
    assert_eq!(
        route.columns,
        Some(vec![(1, "name".to_string()), (2, "amount".to_string())])
    );
}

#[test]
fn unique_key_identity_counts_for_column_subsets() {
    let s = table("shop", "orders")
        .int("code")
        .not_null()
        .int("v")
        .int("w")
        .unique("uk", &["code"])
        .build();
    let f = filter(&with_table(|t| t.columns = Some(vec!["v".into()])));
    let problems = f.check_tables(std::slice::from_ref(&s));
    assert!(problems[0].contains("`code`"), "{problems:?}");
    let f = filter(&with_table(|t| {
        t.columns = Some(vec!["code".into(), "v".into()])
    }));
    assert!(f.check_tables(&[s]).is_empty());
}

#[test]
fn listed_tables_and_renamed_columns_must_exist() {
    let f = filter(&config(tables(
        "shop",
        vec![
            TableSelection {
                rename_columns: [("missing".to_string(), "x".to_string())].into(),
                ..TableSelection::new("orders")
            },
            TableSelection::new("ghost"),
        ],
    )));
    let problems = f.check_tables(&[orders("shop")]);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with("objects.databases[0].tables[1]: table shop.ghost does not exist")
    );
    assert!(problems[1].starts_with("objects.databases[0].tables[0].rename_columns.missing:"));
}

#[test]
fn operations_reach_the_route() {
    let f = filter(&with_table(|t| {
        t.dml = Some([DmlOp::Insert, DmlOp::Update].into_iter().collect());
        t.ddl = Some(
            [DdlOp::AlterTable, DdlOp::TruncateTable]
                .into_iter()
                .collect(),
        );
    }));
    let route = f.route(&orders("shop")).unwrap();
    assert_eq!(
        route.dml,
        DmlOps {
            insert: true,
            update: true,
            delete: false
        }
    );
    let kinds: BTreeSet<DdlKind> = [DdlKind::AlterTable, DdlKind::TruncateTable].into();
    assert_eq!(route.ddl, Some(kinds));
}

// ---------------------------------------------------------------- names

#[test]
fn batch_mapping_rules_apply_to_names_not_renamed_one_by_one() {
    let mut o = tables(
        "crm",
        vec![
            TableSelection::new("orders"),
            TableSelection {
                rename_to: Some("Special".into()),
                ..TableSelection::new("users")
            },
        ],
    );
    o.mapping_rules = vec![
        MappingRule {
            level: MappingLevel::Database,
            add_suffix: Some("_dw".into()),
            ..MappingRule::default()
        },
        MappingRule {
            level: MappingLevel::Table,
            scope: Some("crm.*".into()),
            add_prefix: Some("crm_".into()),
            ..MappingRule::default()
        },
        MappingRule {
            level: MappingLevel::Column,
            regex: Some("^(na)me$".into()),
            replacement: Some("${1}_me".into()),
            ..MappingRule::default()
        },
    ];
    let f = filter(&config(o));
    let route = f.route(&orders("crm")).unwrap();
    assert_eq!(route.destination, id("crm_dw", "crm_orders"));
    assert_eq!(
        route.columns,
        Some(vec![
            (0, "id".to_string()),
            (1, "na_me".to_string()),
            (2, "amount".to_string()),
            (3, "phone".to_string())
        ])
    );
    let users = table("crm", "users").int("id").pk(&["id"]).build();
    assert_eq!(
        f.route(&users).unwrap().destination,
        id("crm_dw", "Special")
    );
}

#[test]
fn capitalization_dts_default_follows_the_destination() {
    let s = table("Shop", "Orders").int("Id").pk(&["Id"]).build();
    let c = config(whole(&["Shop"]));
    let keep = filter(&c);
    let route = keep.route(&s).unwrap();
    assert_eq!(route.destination, id("Shop", "Orders"));
    assert_eq!(route.columns, None);
    let lower = filter(&c).with_destination_lowercase(true);
    let route = lower.route(&s).unwrap();
    assert_eq!(route.destination, id("shop", "orders"));
    // Column names keep the source's case under the DTS default policy.
    assert_eq!(route.columns, None);
}

#[test]
fn capitalization_destination_default_lowercases_everything_after_mapping() {
    let mut c = config(tables(
        "Shop",
        vec![TableSelection {
            rename_to: Some("Orders_V2".into()),
            rename_columns: [("Id".to_string(), "OrderId".to_string())].into(),
            ..TableSelection::new("Orders")
        }],
    ));
    c.migration.capitalization = Capitalization::DestinationDefault;
    let f = filter(&c);
    let s = table("Shop", "Orders")
        .int("Id")
        .int("Total")
        .pk(&["Id"])
        .build();
    let route = f.route(&s).unwrap();
    assert_eq!(route.destination, id("shop", "orders_v2"));
    assert_eq!(
        route.columns,
        Some(vec![(0, "orderid".to_string()), (1, "total".to_string())])
    );
    c.migration.capitalization = Capitalization::SameAsSource;
    let route = filter(&c)
        .with_destination_lowercase(true)
        .route(&s)
        .unwrap();
    assert_eq!(route.destination, id("Shop", "Orders_V2"));
}

#[test]
fn tables_meeting_in_one_destination_need_merge() {
    let mut o = whole(&["shop"]);
    o.mapping_rules.push(MappingRule {
        regex: Some(r"^orders_\d+$".into()),
        replacement: Some("orders".into()),
        ..MappingRule::default()
    });
    let shard = |n: &str| table("shop", n).int("id").pk(&["id"]).build();
    let shards = [shard("orders_1"), shard("orders_2")];
    let problems = filter(&config(o.clone())).check_tables(&shards);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .contains("shop.orders_1 and shop.orders_2 both map to destination table shop.orders"),
        "{problems:?}"
    );
    let mut adb = config(o);
    adb.destination = DestinationConfig {
        endpoint: Some(Endpoint::default()),
        merge_tables: true,
        ..DestinationConfig::new(DestinationKind::Adb)
    };
    assert!(filter(&adb).check_tables(&shards).is_empty());

    // Lower-casing makes `Orders` and `orders` one table.
    let mut c = config(whole(&["shop"]));
    c.migration.capitalization = Capitalization::DestinationDefault;
    let both = [shard("Orders"), shard("orders")];
    assert_eq!(filter(&c).check_tables(&both).len(), 1);
}

#[test]
fn columns_meeting_in_one_destination_column_are_reported() {
    let mut c = with_table(|t| {
        t.rename_columns.insert("phone".into(), "NAME".into());
    });
    c.migration.capitalization = Capitalization::SameAsSource;
    let problems = filter(&c).check_tables(&[orders("shop")]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("`name` and `phone`"), "{problems:?}");
}

// ---------------------------------------------------------------- row filters

#[test]
fn row_filter_is_pushed_down_quoted_and_evaluated_on_source_rows() {
    let f = filter(&with_table(|t| {
        t.filter = Some("amount >= 100 AND name <> 'test'".into());
        t.columns = Some(vec!["id".into(), "phone".into()]);
    }));
    let s = orders("shop");
    let route = f.route(&s).unwrap();
    assert_eq!(
        route.condition.as_deref(),
        Some("((`amount` >= 100) AND (`name` <> 'test'))")
    );
    let row = |amount: &str, name: Value| {
        vec![
            Value::Int(1),
            name,
            Value::Decimal(amount.into()),
            Value::Text("555".into()),
        ]
    };
    assert!(f.accept_row(&s, &row("100.00", Value::Text("a".into()))));
    assert!(!f.accept_row(&s, &row("99.99", Value::Text("a".into()))));
    // Collation: `TEST ` equals 'test' under general_ci.
    assert!(!f.accept_row(&s, &row("100.00", Value::Text("TEST ".into()))));
    // NULL: unknown rejects.
    assert!(!f.accept_row(&s, &row("100.00", Value::Null)));
    // Tables without a filter accept everything.
    let other = filter(&config(whole(&["shop"])));
    assert!(other.accept_row(&s, &row("0", Value::Null)));
}

#[test]
fn updates_crossing_the_filter_become_inserts_and_deletes() {
    let f: Arc<dyn Filter> = Arc::new(filter(&with_table(|t| {
        t.filter = Some("amount > 10".into());
    })));
    let s = Arc::new(orders("shop"));
    let img = |amount: &str| {
        vec![
            Value::Int(1),
            Value::Text("n".into()),
            Value::Decimal(amount.into()),
            Value::Null,
        ]
    };
    let mut m = Mapper::new(f);
    let change = |before: &str, after: &str| RowChange {
        schema: s.clone(),
        op: RowOp::Update,
        before: Some(img(before)),
        after: Some(img(after)),
    };
    assert_eq!(m.map_row(change("5", "20")).unwrap().op, RowOp::Insert);
    assert_eq!(m.map_row(change("20", "5")).unwrap().op, RowOp::Delete);
    assert_eq!(m.map_row(change("20", "30")).unwrap().op, RowOp::Update);
    assert!(m.map_row(change("1", "2")).is_none());
}

#[test]
fn filter_columns_are_checked_against_the_table() {
    let f = filter(&with_table(|t| t.filter = Some("missing > 1".into())));
    let s = orders("shop");
    let problems = f.check_tables(std::slice::from_ref(&s));
    assert_eq!(
        problems,
        vec!["objects.databases[0].tables[0].filter: table shop.orders has no column `missing`"]
    );
    // At run time such a row is rejected (and logged), never accepted by accident.
    assert!(!f.accept_row(
        &s,
        &vec![Value::Int(1), Value::Null, Value::Null, Value::Null]
    ));
}

#[test]
fn config_errors_name_their_key() {
    let e = ConfigFilter::from_config(&with_table(|t| t.filter = Some("id > NOW()".into())))
        .unwrap_err();
    assert_eq!(e.key, "objects.databases[0].tables[0].filter");
    assert!(e.message.contains("NOW"), "{e}");
    let e = ConfigFilter::from_config(&with_table(|t| t.filter = Some("1; DROP TABLE x".into())))
        .unwrap_err();
    assert_eq!(e.key, "objects.databases[0].tables[0].filter");
    let mut o = whole(&["shop"]);
    o.patterns.push(PatternSelection {
        pattern: "[".into(),
        kind: PatternKind::Regex,
        ..PatternSelection::default()
    });
    let e = ConfigFilter::from_config(&config(o)).unwrap_err();
    assert_eq!(e.key, "objects.patterns[0].pattern");
    let mut c = config(whole(&["shop"]));
    c.advanced.gh_ost_shadow_regex = Some("(".into());
    let e = ConfigFilter::from_config(&c).unwrap_err();
    assert_eq!(e.key, "advanced.gh_ost_shadow_regex");
}

// ---------------------------------------------------------------- masking

fn masked(
    rules: Vec<(&str, MaskingMethod, Option<u32>, Option<u32>)>,
    t: TaskConfig,
) -> TaskConfig {
    let mut c = t;
    c.advanced.masking.enabled = true;
    c.advanced.masking.rules = rules
        .into_iter()
        .map(|(column, method, keep_first, keep_last)| MaskingRule {
            database: "shop".into(),
            table: "orders".into(),
            column: column.into(),
            method,
            keep_first,
            keep_last,
            value: None,
            hash_key_env: None,
        })
        .collect();
    c
}

#[test]
fn masking_applies_to_the_projected_row_consistently_with_the_route() {
    let c = masked(
        vec![
            ("phone", MaskingMethod::Partial, Some(3), Some(2)),
            // Not selected: nothing to mask, and nothing else may be hit instead.
            ("name", MaskingMethod::Redact, None, None),
        ],
        with_table(|t| t.columns = Some(vec!["id".into(), "amount".into(), "phone".into()])),
    );
    let f: Arc<dyn Filter> = Arc::new(filter(&c));
    let s = Arc::new(orders("shop"));
    let mut m = Mapper::new(f);
    let out = m
        .map_row(RowChange {
            schema: s.clone(),
            op: RowOp::Insert,
            before: None,
            after: Some(vec![
                Value::Int(7),
                Value::Text("Alice".into()),
                Value::Decimal("1.00".into()),
                Value::Text("13812345678".into()),
            ]),
        })
        .unwrap();
    assert_eq!(
        out.after.unwrap(),
        vec![
            Value::Int(7),
            Value::Decimal("1.00".into()),
            Value::Text("138******78".into())
        ]
    );
}

#[test]
fn masking_hash_and_redact_on_full_rows() {
    let c = masked(
        vec![
            ("name", MaskingMethod::Hash, None, None),
            ("phone", MaskingMethod::Redact, None, None),
        ],
        config(whole(&["shop"])),
    );
    let f = filter(&c);
    let s = orders("shop");
    let mut row = vec![
        Value::Int(1),
        Value::Text("abc".into()),
        Value::Null,
        Value::Text("555".into()),
    ];
    f.transform_row(&s, &mut row);
    // VARCHAR(20) holds the first 20 hex digits of SHA-256("abc").
    assert_eq!(row[1], Value::Text("ba7816bf8f01cfea4141".into()));
    assert_eq!(row[3], Value::Text("******".into()));
    assert_eq!(row[0], Value::Int(1));
    // Other tables are untouched.
    let mut other = vec![
        Value::Int(1),
        Value::Text("abc".into()),
        Value::Null,
        Value::Null,
    ];
    f.transform_row(&orders("shop2"), &mut other);
    assert_eq!(other[1], Value::Text("abc".into()));
}

#[test]
fn masking_problems_are_reported() {
    let s = table("shop", "orders")
        .int("id")
        .date("born")
        .varchar("name", 10, "utf8mb4_bin")
        .pk(&["id"])
        .build();
    let c = masked(
        vec![
            ("born", MaskingMethod::Hash, None, None),
            ("id", MaskingMethod::Redact, None, None),
            ("nope", MaskingMethod::Hash, None, None),
            ("name", MaskingMethod::Partial, Some(1), None),
        ],
        config(whole(&["shop"])),
    );
    let f = filter(&c);
    let problems = f.check_tables(std::slice::from_ref(&s));
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].starts_with("advanced.masking.rules[0].method:")
            && problems[0].contains("`born`")
    );
    assert!(
        problems[1].starts_with("advanced.masking.rules[1].method:")
            && problems[1].contains("collide")
    );
    assert!(problems[2].starts_with("advanced.masking.rules[2].column:"));
    // An unmaskable value is never written in clear.
    let mut row = vec![
        Value::Int(1),
        Value::Date(crate::value::Date {
            year: 2000,
            month: 1,
            day: 1,
        }),
        Value::Text("x".into()),
    ];
    f.transform_row(&s, &mut row);
    assert_eq!(row[1], Value::Null);
}

#[test]
fn masking_disabled_changes_nothing() {
    let mut c = masked(
        vec![("name", MaskingMethod::Redact, None, None)],
        config(whole(&["shop"])),
    );
    c.advanced.masking.enabled = false;
    let f = filter(&c);
    let mut row = vec![
        Value::Int(1),
        Value::Text("abc".into()),
        Value::Null,
        Value::Null,
    ];
    f.transform_row(&orders("shop"), &mut row);
    assert_eq!(row[1], Value::Text("abc".into()));
}

// ---------------------------------------------------------------- online DDL

fn gh_ost(mode: OnlineDdlMode, objects: ObjectSelection) -> ConfigFilter {
    let mut c = config(objects);
    c.advanced.online_ddl = mode;
    filter(&c)
}

#[test]
fn gh_ost_tables_are_never_routed_in_no_modes() {
    for mode in [OnlineDdlMode::NoGhOst, OnlineDdlMode::NoDms] {
        let f = gh_ost(mode, whole(&["shop"]));
        for name in [
            "_orders_gho",
            "_orders_new",
            "_orders_ghc",
            "_orders_del",
            "_orders_old",
        ] {
            let t = table("shop", name).int("id").pk(&["id"]).build();
            assert!(f.route(&t).is_none(), "{mode:?} {name}");
        }
        assert!(f.route(&orders("shop")).is_some());
    }
}

#[test]
fn gh_ost_tables_in_yes_mode_follow_the_selection() {
    let gho = table("shop", "_orders_gho").int("id").pk(&["id"]).build();
    assert!(gh_ost(OnlineDdlMode::Yes, whole(&["shop"]))
        .route(&gho)
        .is_some());
    // With a table list, the copies of a listed table follow it, named after its destination
    // (the changelog table and copies of unlisted tables do not).
    let mut listed = tables("shop", vec![TableSelection::new("orders")]);
    listed.databases[0].tables[0].rename_to = Some("o2".into());
    let f = gh_ost(OnlineDdlMode::Yes, listed);
    assert_eq!(
        f.route(&gho).unwrap().destination,
        TableId::new("shop", "_o2_gho")
    );
    let ghc = table("shop", "_orders_ghc").int("id").pk(&["id"]).build();
    assert!(f.route(&ghc).is_none());
    let other = table("shop", "_items_gho").int("id").pk(&["id"]).build();
    assert!(f.route(&other).is_none());
    let cut_over = ddl(
        DdlKind::RenameTable,
        Some("shop"),
        &[
            ("shop", "orders"),
            ("shop", "_orders_del"),
            ("shop", "_orders_gho"),
            ("shop", "orders"),
        ],
        "RENAME TABLE orders TO _orders_del, _orders_gho TO orders",
    );
    let routed = f.route_ddl(&cut_over).expect("the cut-over is replayed");
    assert!(
        routed.statement.contains("`o2`")
            && routed.statement.contains("`_o2_del`")
            && routed.statement.contains("`_o2_gho`"),
        "{}",
        routed.statement
    );
    let f = gh_ost(OnlineDdlMode::Yes, whole(&["shop"]));
    let cut_over = ddl(
        DdlKind::RenameTable,
        Some("shop"),
        &[
            ("shop", "orders"),
            ("shop", "_orders_del"),
            ("shop", "_orders_gho"),
            ("shop", "orders"),
        ],
        "RENAME TABLE orders TO _orders_del, _orders_gho TO orders",
    );
    assert_eq!(f.route_ddl(&cut_over), Some(cut_over));
}

#[test]
fn gh_ost_alter_on_the_shadow_table_becomes_an_alter_of_the_original() {
    let mut o = tables("shop", vec![TableSelection::new("orders")]);
    o.databases[0].rename_to = Some("shop_copy".into());
    let f = gh_ost(OnlineDdlMode::NoGhOst, o);
    let alter = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "_orders_gho")],
        "alter /* gh-ost */ table `shop`.`_orders_gho` add column note varchar(10) default 'x'",
    );
    let out = f.route_ddl(&alter).unwrap();
    assert_eq!(
        out.statement,
        "alter /* gh-ost */ table `shop_copy`.`orders` add column note varchar(10) default 'x'"
    );
    assert_eq!(out.tables, vec![id("shop_copy", "orders")]);
    assert_eq!(out.kind, DdlKind::AlterTable);
    assert_eq!(out.database.as_deref(), Some("shop_copy"));
}

#[test]
fn gh_ost_statements_on_temporary_tables_are_dropped() {
    let f = gh_ost(OnlineDdlMode::NoGhOst, whole(&["shop"]));
    for (kind, tables, sql) in [
        (
            DdlKind::CreateTable,
            vec![("shop", "_orders_gho"), ("shop", "orders")],
            "CREATE TABLE _orders_gho LIKE orders",
        ),
        (
            DdlKind::CreateTable,
            vec![("shop", "_orders_ghc")],
            "CREATE TABLE _orders_ghc (id int)",
        ),
        (
            DdlKind::RenameTable,
            vec![
                ("shop", "orders"),
                ("shop", "_orders_del"),
                ("shop", "_orders_gho"),
                ("shop", "orders"),
            ],
            "RENAME TABLE orders TO _orders_del, _orders_gho TO orders",
        ),
        (
            DdlKind::DropTable,
            vec![("shop", "_orders_del")],
            "DROP TABLE IF EXISTS _orders_del",
        ),
    ] {
        assert_eq!(
            f.route_ddl(&ddl(kind, Some("shop"), &tables, sql)),
            None,
            "{sql}"
        );
    }
    assert_eq!(f.last_ddl_problem(), None);
    // The shadow ALTER of a table that is not selected goes nowhere.
    let listed = gh_ost(
        OnlineDdlMode::NoGhOst,
        tables("shop", vec![TableSelection::new("users")]),
    );
    let alter = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "_orders_gho")],
        "ALTER TABLE _orders_gho ADD COLUMN x INT",
    );
    assert_eq!(listed.route_ddl(&alter), None);
    // …and with ALTER not selected for the original, neither.
    let mut o = whole(&["shop"]);
    o.databases[0].ddl = Some([DdlOp::CreateTable].into_iter().collect());
    assert_eq!(gh_ost(OnlineDdlMode::NoGhOst, o).route_ddl(&alter), None);
}

// ---------------------------------------------------------------- DDL routing

#[test]
fn ddl_without_mapping_is_passed_on_verbatim() {
    let f = filter(&config(whole(&["shop"])));
    // sqlparser cannot read this, and does not need to.
    let d = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "orders")],
        "ALTER TABLE orders ENGINE=InnoDB, ROW_FORMAT=COMPRESSED",
    );
    assert_eq!(f.route_ddl(&d), Some(d.clone()));
    let create = ddl(
        DdlKind::CreateTable,
        Some("shop"),
        &[("shop", "new_table")],
        "CREATE TABLE new_table (id INT PRIMARY KEY) /*!50100 PARTITION BY HASH(id) */",
    );
    assert_eq!(f.route_ddl(&create), Some(create.clone()));
    assert_eq!(
        f.route_ddl(&ddl(
            DdlKind::DropTable,
            Some("other"),
            &[("other", "t")],
            "DROP TABLE t"
        )),
        None
    );
}

#[test]
fn ddl_names_are_rewritten_in_the_text() {
    let mut o = tables(
        "shop",
        vec![TableSelection {
            rename_to: Some("orders_v2".into()),
            rename_columns: [("name".to_string(), "full_name".to_string())].into(),
            ..TableSelection::new("orders")
        }],
    );
    o.databases[0].rename_to = Some("shop_copy".into());
    let f = filter(&config(o));
    let d = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "orders")],
        "ALTER TABLE orders ADD COLUMN note TEXT COMMENT 'x' AFTER name, MODIFY `name` varchar(40)",
    );
    let out = f.route_ddl(&d).unwrap();
    assert_eq!(
        out.statement,
        "ALTER TABLE `orders_v2` ADD COLUMN note TEXT COMMENT 'x' AFTER `full_name`, MODIFY `full_name` varchar(40)"
    );
    assert_eq!(out.database.as_deref(), Some("shop_copy"));
    assert_eq!(out.tables, vec![id("shop_copy", "orders_v2")]);
    // A qualified name from another session database.
    let d = ddl(
        DdlKind::TruncateTable,
        Some("tmp"),
        &[("shop", "orders")],
        "TRUNCATE TABLE shop.orders",
    );
    let out = f.route_ddl(&d).unwrap();
    assert_eq!(out.statement, "TRUNCATE TABLE `shop_copy`.`orders_v2`");
    assert_eq!(out.database.as_deref(), Some("shop_copy"));
}

#[test]
fn unreadable_ddl_that_needs_renaming_is_dropped_and_reported() {
    let mut c = config(whole(&["shop"]));
    c.objects.databases[0].rename_to = Some("shop_copy".into());
    let f = filter(&c);
    assert_eq!(f.last_ddl_problem(), None);
    let d = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "orders")],
        "ALTER TABLE orders ENGINE=InnoDB",
    );
    assert_eq!(f.route_ddl(&d), None);
    let p = f.last_ddl_problem().unwrap();
    assert!(
        p.contains("shop.orders") && p.contains("ENGINE=InnoDB"),
        "{p}"
    );
}

#[test]
fn ddl_touching_selected_and_unselected_tables_is_dropped_and_reported() {
    let f = filter(&config(tables("shop", vec![TableSelection::new("orders")])));
    let d = ddl(
        DdlKind::RenameTable,
        Some("shop"),
        &[("shop", "orders"), ("other_db", "b")],
        "RENAME TABLE orders TO other_db.b",
    );
    assert_eq!(f.route_ddl(&d), None);
    let p = f.last_ddl_problem().unwrap();
    assert!(
        p.contains("selected table shop.orders") && p.contains("unselected table other_db.b"),
        "{p}"
    );
    // DROP TABLE is reduced to the selected tables instead.
    let drop = ddl(
        DdlKind::DropTable,
        Some("shop"),
        &[("shop", "orders"), ("shop", "scratch")],
        "DROP TABLE IF EXISTS orders, scratch",
    );
    let out = f.route_ddl(&drop).unwrap();
    assert_eq!(out.statement, "DROP TABLE IF EXISTS orders");
    assert_eq!(out.tables, vec![id("shop", "orders")]);
    // Both sides selected: synchronized.
    let f = filter(&config(whole(&["shop"])));
    let d = ddl(
        DdlKind::RenameTable,
        Some("shop"),
        &[("shop", "orders"), ("shop", "orders_old")],
        "RENAME TABLE orders TO orders_old",
    );
    assert_eq!(f.route_ddl(&d), Some(d.clone()));
}

#[test]
fn create_table_follows_database_selection() {
    let create = ddl(
        DdlKind::CreateTable,
        Some("shop"),
        &[("shop", "brand_new")],
        "CREATE TABLE brand_new (id INT PRIMARY KEY)",
    );
    assert!(filter(&config(whole(&["shop"])))
        .route_ddl(&create)
        .is_some());
    let listed = filter(&config(tables("shop", vec![TableSelection::new("orders")])));
    assert_eq!(listed.route_ddl(&create), None);
    assert_eq!(listed.last_ddl_problem(), None);
}

#[test]
fn ddl_kinds_follow_operation_choices() {
    let f = filter(&with_table(|t| {
        t.ddl = Some([DdlOp::AlterTable].into_iter().collect());
    }));
    let alter = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "orders")],
        "ALTER TABLE orders ADD x INT",
    );
    let drop = ddl(
        DdlKind::DropTable,
        Some("shop"),
        &[("shop", "orders")],
        "DROP TABLE orders",
    );
    assert!(f.route_ddl(&alter).is_some());
    assert_eq!(f.route_ddl(&drop), None);
    assert_eq!(f.last_ddl_problem(), None);
}

#[test]
fn database_ddl_needs_a_whole_database_and_is_renamed() {
    let mut o = whole(&["shop"]);
    o.databases.push(crate::config::DatabaseSelection {
        name: "part".into(),
        tables: vec![TableSelection::new("t")],
        ..Default::default()
    });
    o.mapping_rules.push(MappingRule {
        level: MappingLevel::Database,
        scope: Some("shop".into()),
        add_suffix: Some("_bak".into()),
        ..MappingRule::default()
    });
    let f = filter(&config(o));
    let create = ddl(
        DdlKind::CreateDatabase,
        None,
        &[],
        "CREATE DATABASE IF NOT EXISTS `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */",
    );
    let out = f.route_ddl(&create).unwrap();
    assert_eq!(
        out.statement,
        "CREATE DATABASE IF NOT EXISTS `shop_bak` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"
    );
    assert_eq!(out.database, None);
    assert_eq!(
        f.route_ddl(&ddl(DdlKind::DropDatabase, None, &[], "DROP DATABASE part")),
        None
    );
    assert_eq!(
        f.route_ddl(&ddl(
            DdlKind::DropDatabase,
            None,
            &[],
            "DROP DATABASE other"
        )),
        None
    );
    let mut o = whole(&["shop"]);
    o.databases[0].ddl = Some([DdlOp::CreateTable].into_iter().collect());
    assert_eq!(filter(&config(o)).route_ddl(&create), None);
}

#[test]
fn exclude_ddl_drops_every_statement() {
    let mut c = config(whole(&["shop"]));
    c.topology.mode = TopologyMode::TwoWay;
    c.topology.exclude_ddl = Some(true);
    let f = filter(&c);
    let alter = ddl(
        DdlKind::AlterTable,
        Some("shop"),
        &[("shop", "orders")],
        "ALTER TABLE orders ADD x INT",
    );
    assert_eq!(f.route_ddl(&alter), None);
    assert_eq!(f.route(&orders("shop")).unwrap().ddl, Some(BTreeSet::new()));
}

#[test]
fn adb_instance_level_operations_apply() {
    let mut c = config(whole(&["shop"]));
    c.destination = DestinationConfig {
        endpoint: Some(Endpoint::default()),
        merge_tables: false,
        dml: [DmlOp::Insert, DmlOp::Update].into_iter().collect(),
        ddl: DdlOpSet::none(),
        ..DestinationConfig::new(DestinationKind::Adb)
    };
    let f = filter(&c);
    let route = f.route(&orders("shop")).unwrap();
    assert!(!route.dml.delete && route.dml.insert);
    assert_eq!(route.ddl, Some(BTreeSet::new()));
}

#[test]
fn column_subset_tables_keep_unselected_columns_out_of_ddl() {
    let f = filter(&with_table(|t| {
        t.columns = Some(vec!["id".into(), "name".into()]);
    }));
    let alter = |sql: &str| {
        ddl(
            DdlKind::AlterTable,
            Some("shop"),
            &[("shop", "orders")],
            sql,
        )
    };
    // Only unselected columns: skipped quietly.
    assert_eq!(
        f.route_ddl(&alter(
            "ALTER TABLE orders ADD COLUMN extra INT, ALGORITHM=INPLACE"
        )),
        None
    );
    assert_eq!(f.last_ddl_problem(), None);
    assert_eq!(
        f.route_ddl(&alter("ALTER TABLE orders DROP COLUMN phone")),
        None
    );
    assert_eq!(f.last_ddl_problem(), None);
    // Only selected columns: synchronized as is.
    let keep = alter("ALTER TABLE orders MODIFY name VARCHAR(40)");
    assert_eq!(f.route_ddl(&keep), Some(keep.clone()));
    // Mixed: reported.
    assert_eq!(
        f.route_ddl(&alter(
            "ALTER TABLE orders MODIFY name VARCHAR(40), DROP COLUMN phone"
        )),
        None
    );
    assert!(f.last_ddl_problem().unwrap().contains("phone"));
    // Renaming a selected column to a name outside the subset: reported.
    assert_eq!(
        f.route_ddl(&alter("ALTER TABLE orders CHANGE name nick VARCHAR(20)")),
        None
    );
    assert!(f.last_ddl_problem().unwrap().contains("nick"));
    // CREATE INDEX over an unselected column: skipped.
    let index = ddl(
        DdlKind::CreateIndex,
        Some("shop"),
        &[("shop", "orders")],
        "CREATE INDEX ip ON orders (phone)",
    );
    assert_eq!(f.route_ddl(&index), None);
    // CREATE TABLE would bring every column: reported.
    let create = ddl(
        DdlKind::CreateTable,
        Some("shop"),
        &[("shop", "orders")],
        "CREATE TABLE orders (id INT PRIMARY KEY, name TEXT, phone TEXT)",
    );
    assert_eq!(f.route_ddl(&create), None);
    assert!(f.last_ddl_problem().unwrap().contains("column subset"));
}

#[test]
fn views_follow_whole_databases_and_triggers_never() {
    let f = filter(&config(whole(&["shop"])));
    let view = ddl(
        DdlKind::Other,
        Some("shop"),
        &[("shop", "v")],
        "CREATE VIEW v AS SELECT id FROM orders",
    );
    assert_eq!(f.route_ddl(&view), Some(view.clone()));
    let trigger = ddl(
        DdlKind::Other,
        Some("shop"),
        &[("shop", "orders")],
        "CREATE TRIGGER tr BEFORE INSERT ON orders FOR EACH ROW SET NEW.id = NEW.id",
    );
    assert_eq!(f.route_ddl(&trigger), None);
    let listed = filter(&config(tables("shop", vec![TableSelection::new("v")])));
    assert_eq!(listed.route_ddl(&view), None);
    // A renamed database would need the view body rewritten: reported instead.
    let mut c = config(whole(&["shop"]));
    c.objects.databases[0].rename_to = Some("x".into());
    let renamed = filter(&c);
    assert_eq!(renamed.route_ddl(&view), None);
    assert!(renamed.last_ddl_problem().unwrap().contains("view shop.v"));
}

#[test]
fn unreadable_statements_in_selected_databases_are_reported() {
    let f = filter(&config(whole(&["shop"])));
    let d = ddl(
        DdlKind::Unparsed,
        Some("shop"),
        &[],
        "ALTER ONLINE WHATEVER x",
    );
    assert_eq!(f.route_ddl(&d), None);
    assert!(f
        .last_ddl_problem()
        .unwrap()
        .contains("ALTER ONLINE WHATEVER"));
    let f = filter(&config(whole(&["shop"])));
    let elsewhere = ddl(
        DdlKind::Unparsed,
        Some("other"),
        &[],
        "ALTER ONLINE WHATEVER x",
    );
    assert_eq!(f.route_ddl(&elsewhere), None);
    assert_eq!(f.last_ddl_problem(), None);
}

// ---------------------------------------------------------------- run-time collisions

#[test]
fn tables_created_later_cannot_take_another_tables_destination() {
    let mut objects = whole(&["shop"]);
    objects.mapping_rules = vec![MappingRule {
        regex: Some("^[ab]_".into()),
        replacement: Some(String::new()),
        ..MappingRule::default()
    }];
    let f = filter(&config(objects));
    let a = table("shop", "a_t").int("id").pk(&["id"]).build();
    assert!(f.route(&a).is_some());
    let ddl = |kind, statement: &str, tables: &[&str]| Ddl {
        database: Some("shop".into()),
        statement: statement.into(),
        kind,
        tables: tables.iter().map(|t| TableId::new("shop", *t)).collect(),
        sql_mode: None,
    };
    // b_t would land in a_t's destination table `t`.
    let create_b = ddl(DdlKind::CreateTable, "CREATE TABLE b_t (id INT)", &["b_t"]);
    let problem = f.ddl_problem(&create_b).expect("collision");
    assert!(
        problem.contains("shop.b_t") && problem.contains("shop.a_t") && problem.contains("shop.t"),
        "{problem}"
    );
    // Unrelated tables, and a_t itself again, are fine.
    assert!(f
        .ddl_problem(&ddl(
            DdlKind::CreateTable,
            "CREATE TABLE c (id INT)",
            &["c"]
        ))
        .is_none());
    assert!(f
        .ddl_problem(&ddl(
            DdlKind::CreateTable,
            "CREATE TABLE IF NOT EXISTS a_t (id INT)",
            &["a_t"]
        ))
        .is_none());
    // Renaming a_t to b_t moves the destination with it; once a_t is dropped, b_t may have it.
    assert!(f
        .ddl_problem(&ddl(
            DdlKind::RenameTable,
            "RENAME TABLE a_t TO b_t",
            &["a_t", "b_t"]
        ))
        .is_none());
    assert!(f
        .ddl_problem(&ddl(
            DdlKind::CreateTable,
            "CREATE TABLE a_t (id INT)",
            &["a_t"]
        ))
        .is_some());
    assert!(f
        .ddl_problem(&ddl(DdlKind::DropTable, "DROP TABLE b_t", &["b_t"]))
        .is_none());
    assert!(f
        .ddl_problem(&ddl(
            DdlKind::CreateTable,
            "CREATE TABLE a_t (id INT)",
            &["a_t"]
        ))
        .is_none());
    // A gh-ost style swap within one statement is not a collision.
    assert!(f
        .ddl_problem(&ddl(
            DdlKind::RenameTable,
            "RENAME TABLE a_t TO a_old, c TO a_t",
            &["a_t", "a_old", "c", "a_t"]
        ))
        .is_none());
}

#[test]
fn a_shadow_table_at_the_start_is_a_precheck_problem_in_the_adapt_modes() {
    let orders = table("shop", "orders").int("id").pk(&["id"]).build();
    let gho = table("shop", "_orders_gho").int("id").pk(&["id"]).build();
    let del = table("shop", "_items_del").int("id").pk(&["id"]).build();
    let all = [orders, gho, del];
    let problems = gh_ost(OnlineDdlMode::NoGhOst, whole(&["shop"])).check_tables(&all);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("advanced.online_ddl")
            && problems[0].contains("shop._orders_gho")
            && problems[0].contains("shop.orders"),
        "{problems:?}"
    );
    assert!(gh_ost(OnlineDdlMode::Yes, whole(&["shop"]))
        .check_tables(&all)
        .is_empty());
    // Not a problem when the original table is not selected.
    let other = tables("shop", vec![TableSelection::new("items")]);
    let items = table("shop", "items").int("id").pk(&["id"]).build();
    assert!(gh_ost(OnlineDdlMode::NoDms, other)
        .check_tables(&[items, all[1].clone()])
        .is_empty());
}
