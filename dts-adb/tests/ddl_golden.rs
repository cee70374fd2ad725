//! Golden tests of the ADB DDL generator: exact statements for every type and key shape.

use dts_adb::ddl::{check_stream_ddl, key_warning};
use dts_adb::{
    adb_type, create_table_sql, create_table_sql_with, DdlOptions, KeySource, Partition,
    TableClauses, TableLayout,
};
use dts_core::{Column, ColumnType, Ddl, DdlKind, Index, TableId, TableSchema};

fn col(name: &str, t: ColumnType, nullable: bool) -> Column {
    let mut c = Column::new(name, t, "");
    c.nullable = nullable;
    c
}

fn int(bytes: u8, unsigned: bool) -> ColumnType {
    ColumnType::Integer { bytes, unsigned }
}

const ADB: DdlOptions = DdlOptions {
    merged: false,
    mariadb_compat: false,
};
const COMPAT: DdlOptions = DdlOptions {
    merged: false,
    mariadb_compat: true,
};

#[test]
fn every_type_maps() {
    let m = |s: &str| s.to_string();
    let cases: Vec<(ColumnType, &str, &str)> = vec![
        (int(1, false), "TINYINT", "TINYINT"),
        (int(1, true), "SMALLINT", "SMALLINT"),
        (int(2, false), "SMALLINT", "SMALLINT"),
        (int(2, true), "INT", "INT"),
        (int(3, false), "INT", "INT"),
        (int(3, true), "INT", "INT"),
        (int(4, false), "INT", "INT"),
        (int(4, true), "BIGINT", "BIGINT"),
        (int(8, false), "BIGINT", "BIGINT"),
        (int(8, true), "DECIMAL(20,0)", "DECIMAL(20,0)"),
        (ColumnType::Float, "FLOAT", "FLOAT"),
        (ColumnType::Double, "DOUBLE", "DOUBLE"),
        (
            ColumnType::Decimal {
                precision: 65,
                scale: 30,
            },
            "DECIMAL(65,30)",
            "DECIMAL(65,30)",
        ),
        (ColumnType::Bit { width: 1 }, "BIGINT", "BIGINT"),
        (ColumnType::Bit { width: 63 }, "BIGINT", "BIGINT"),
        (
            ColumnType::Bit { width: 64 },
            "DECIMAL(20,0)",
            "DECIMAL(20,0)",
        ),
        (
            ColumnType::Char { length: 10 },
            "VARCHAR(10)",
            "VARCHAR(10)",
        ),
        (ColumnType::Char { length: 0 }, "VARCHAR(1)", "VARCHAR(1)"),
        (
            ColumnType::VarChar { length: 255 },
            "VARCHAR(255)",
            "VARCHAR(255)",
        ),
        (ColumnType::Text { max_bytes: 255 }, "VARCHAR", "LONGTEXT"),
        (
            ColumnType::Text {
                max_bytes: 4_294_967_295,
            },
            "VARCHAR",
            "LONGTEXT",
        ),
        (
            ColumnType::Binary { length: 16 },
            "VARBINARY(16)",
            "VARBINARY(16)",
        ),
        (
            ColumnType::VarBinary { length: 3 },
            "VARBINARY(3)",
            "VARBINARY(3)",
        ),
        (
            ColumnType::Blob { max_bytes: 65_535 },
            "VARBINARY",
            "LONGBLOB",
        ),
        (ColumnType::Date, "DATE", "DATE"),
        (ColumnType::Time { fsp: 0 }, "TIME", "TIME"),
        (ColumnType::Time { fsp: 6 }, "TIME(6)", "TIME(6)"),
        (ColumnType::DateTime { fsp: 0 }, "DATETIME", "DATETIME"),
        (
            ColumnType::DateTime { fsp: 3 },
            "DATETIME(3)",
            "DATETIME(3)",
        ),
        (ColumnType::Timestamp { fsp: 0 }, "TIMESTAMP", "TIMESTAMP"),
        (
            ColumnType::Timestamp { fsp: 6 },
            "TIMESTAMP(6)",
            "TIMESTAMP(6)",
        ),
        (ColumnType::Year, "INT", "INT"),
        (
            ColumnType::Enum {
                members: vec![m("a"), m("médium"), m("xyz")],
            },
            "VARCHAR(6)",
            "VARCHAR(6)",
        ),
        (
            ColumnType::Enum { members: vec![] },
            "VARCHAR(1)",
            "VARCHAR(1)",
        ),
        (
            ColumnType::Set {
                members: vec![m("a"), m("bb"), m("ccc")],
            },
            "VARCHAR(8)",
            "VARCHAR(8)",
        ),
        (ColumnType::Json, "JSON", "JSON"),
        (
            ColumnType::Geometry {
                subtype: m("point"),
            },
            "VARBINARY",
            "LONGBLOB",
        ),
    ];
    for (t, adb, compat) in cases {
        assert_eq!(adb_type(&t, false), adb, "{t:?}");
        assert_eq!(adb_type(&t, true), compat, "{t:?}");
    }
}

fn all_types_table() -> TableSchema {
    let mut columns = vec![col("id", int(8, true), false)];
    let types = [
        ("ti", int(1, false)),
        ("tiu", int(1, true)),
        ("si", int(2, false)),
        ("siu", int(2, true)),
        ("mi", int(3, false)),
        ("i", int(4, false)),
        ("iu", int(4, true)),
        ("bi", int(8, false)),
        ("f", ColumnType::Float),
        ("d", ColumnType::Double),
        (
            "dec",
            ColumnType::Decimal {
                precision: 10,
                scale: 2,
            },
        ),
        ("b", ColumnType::Bit { width: 8 }),
        ("c", ColumnType::Char { length: 4 }),
        ("vc", ColumnType::VarChar { length: 20 }),
        ("tx", ColumnType::Text { max_bytes: 65_535 }),
        ("bn", ColumnType::Binary { length: 4 }),
        ("vb", ColumnType::VarBinary { length: 8 }),
        ("bl", ColumnType::Blob { max_bytes: 65_535 }),
        ("dt", ColumnType::Date),
        ("tm", ColumnType::Time { fsp: 0 }),
        ("dtm", ColumnType::DateTime { fsp: 6 }),
        ("ts", ColumnType::Timestamp { fsp: 0 }),
        ("y", ColumnType::Year),
        (
            "e",
            ColumnType::Enum {
                members: vec!["x".into(), "yy".into()],
            },
        ),
        (
            "s",
            ColumnType::Set {
                members: vec!["p".into(), "q".into()],
            },
        ),
        ("j", ColumnType::Json),
        (
            "g",
            ColumnType::Geometry {
                subtype: "geometry".into(),
            },
        ),
    ];
    for (n, t) in types {
        columns.push(col(n, t, true));
    }
    let mut generated = col("gen", int(4, false), true);
    generated.generated = Some("`i` + 1".into());
    columns.push(generated);
    TableSchema {
        id: TableId::new("db", "all_types"),
        columns,
        primary_key: vec!["id".into()],
        unique_keys: vec![],
        indexes: vec![Index {
            name: "ix".into(),
            columns: vec!["vc".into()],
            unique: false,
        }],
        create_sql: None,
        constraints: Default::default(),
    }
}

#[test]
fn golden_all_types_adb() {
    let expected = "CREATE TABLE IF NOT EXISTS `db`.`all_types` (
  `id` DECIMAL(20,0) NOT NULL,
  `ti` TINYINT NULL,
  `tiu` SMALLINT NULL,
  `si` SMALLINT NULL,
  `siu` INT NULL,
  `mi` INT NULL,
  `i` INT NULL,
  `iu` BIGINT NULL,
  `bi` BIGINT NULL,
  `f` FLOAT NULL,
  `d` DOUBLE NULL,
  `dec` DECIMAL(10,2) NULL,
  `b` BIGINT NULL,
  `c` VARCHAR(4) NULL,
  `vc` VARCHAR(20) NULL,
  `tx` VARCHAR NULL,
  `bn` VARBINARY(4) NULL,
  `vb` VARBINARY(8) NULL,
  `bl` VARBINARY NULL,
  `dt` DATE NULL,
  `tm` TIME NULL,
  `dtm` DATETIME(6) NULL,
  `ts` TIMESTAMP NULL,
  `y` INT NULL,
  `e` VARCHAR(2) NULL,
  `s` VARCHAR(3) NULL,
  `j` JSON NULL,
  `g` VARBINARY NULL,
  PRIMARY KEY (`id`)
) DISTRIBUTED BY HASH(`id`)";
    assert_eq!(create_table_sql(&all_types_table(), ADB).unwrap(), expected);
}

#[test]
fn golden_all_types_compat_differs_only_in_adb_clauses_and_unbounded_types() {
    let adb = create_table_sql(&all_types_table(), ADB).unwrap();
    let compat = create_table_sql(&all_types_table(), COMPAT).unwrap();
    let converted = adb
        .replace(" DISTRIBUTED BY HASH(`id`)", "")
        .replace("`tx` VARCHAR NULL", "`tx` LONGTEXT NULL")
        .replace("`bl` VARBINARY NULL", "`bl` LONGBLOB NULL")
        .replace("`g` VARBINARY NULL", "`g` LONGBLOB NULL");
    assert_eq!(compat, converted);
}

fn two_col(pk: Vec<&str>, unique: Option<(&str, bool)>) -> TableSchema {
    let mut a = col("a", int(4, false), pk.is_empty());
    let mut b = col("b", ColumnType::VarChar { length: 8 }, true);
    let mut unique_keys = vec![];
    if let Some((name, nullable)) = unique {
        if name == "a" {
            a.nullable = nullable;
        } else {
            b.nullable = nullable;
        }
        unique_keys.push(Index {
            name: "uk".into(),
            columns: vec![name.into()],
            unique: true,
        });
    }
    TableSchema {
        id: TableId::new("d", "t"),
        columns: vec![a, b],
        primary_key: pk.into_iter().map(String::from).collect(),
        unique_keys,
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    }
}

#[test]
fn golden_composite_primary_key() {
    let t = two_col(vec!["b", "a"], None);
    assert_eq!(
        create_table_sql(&t, ADB).unwrap(),
        "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  `a` INT NOT NULL,\n  `b` VARCHAR(8) NOT NULL,\n  \
         PRIMARY KEY (`b`, `a`)\n) DISTRIBUTED BY HASH(`b`, `a`)"
    );
    assert!(key_warning(&t).is_none());
}

#[test]
fn golden_not_null_unique_key_becomes_primary_key() {
    let t = two_col(vec![], Some(("b", false)));
    assert_eq!(
        create_table_sql(&t, ADB).unwrap(),
        "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  `a` INT NULL,\n  `b` VARCHAR(8) NOT NULL,\n  \
         PRIMARY KEY (`b`)\n) DISTRIBUTED BY HASH(`b`)"
    );
    let layout = TableLayout::new(&t, false).unwrap();
    assert_eq!(layout.key_source, KeySource::UniqueKey("uk".into()));
}

#[test]
fn golden_no_key_gets_auto_id_and_warning() {
    for t in [two_col(vec![], None), two_col(vec![], Some(("b", true)))] {
        assert_eq!(
            create_table_sql(&t, ADB).unwrap(),
            "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  `a` INT NULL,\n  `b` VARCHAR(8) NULL,\n  \
             `__dts_auto_id` BIGINT NOT NULL AUTO_INCREMENT,\n  PRIMARY KEY (`__dts_auto_id`)\n\
             ) DISTRIBUTED BY HASH(`__dts_auto_id`)"
        );
        let w = key_warning(&t).unwrap();
        assert!(w.contains("d.t") && w.contains("__dts_auto_id"), "{w}");
        assert!(w.contains("may differ from the source"), "{w}");
    }
}

#[test]
fn golden_merged_tables() {
    let merged = DdlOptions {
        merged: true,
        mariadb_compat: false,
    };
    assert_eq!(
        create_table_sql(&two_col(vec!["a"], None), merged).unwrap(),
        "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  `a` INT NOT NULL,\n  `b` VARCHAR(8) NULL,\n  \
         `__dts_data_source` VARCHAR NOT NULL,\n  \
         PRIMARY KEY (`a`, `__dts_data_source`)\n) DISTRIBUTED BY HASH(`a`, `__dts_data_source`)"
    );
    assert_eq!(
        create_table_sql(&two_col(vec![], None), merged).unwrap(),
        "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  `a` INT NULL,\n  `b` VARCHAR(8) NULL,\n  \
         `__dts_auto_id` BIGINT NOT NULL AUTO_INCREMENT,\n  \
         `__dts_data_source` VARCHAR NOT NULL,\n  \
         PRIMARY KEY (`__dts_auto_id`, `__dts_data_source`)\n\
         ) DISTRIBUTED BY HASH(`__dts_auto_id`, `__dts_data_source`)"
    );
    let compat = DdlOptions {
        merged: true,
        mariadb_compat: true,
    };
    assert_eq!(
        create_table_sql(&two_col(vec!["a"], None), compat).unwrap(),
        "CREATE TABLE IF NOT EXISTS `d`.`t` (\n  `a` INT NOT NULL,\n  `b` VARCHAR(8) NULL,\n  \
         `__dts_data_source` VARCHAR(259) NOT NULL,\n  \
         PRIMARY KEY (`a`, `__dts_data_source`)\n)"
    );
}

#[test]
fn golden_hostile_identifiers() {
    let t = TableSchema {
        id: TableId::new("we`ird db", "t`; DROP TABLE x; --"),
        columns: vec![
            col("k`ey", int(4, false), false),
            col("sp ace,(\"quote'", ColumnType::Json, true),
        ],
        primary_key: vec!["k`ey".into()],
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    };
    assert_eq!(
        create_table_sql(&t, ADB).unwrap(),
        "CREATE TABLE IF NOT EXISTS `we``ird db`.`t``; DROP TABLE x; --` (\n  \
         `k``ey` INT NOT NULL,\n  `sp ace,(\"quote'` JSON NULL,\n  PRIMARY KEY (`k``ey`)\n\
         ) DISTRIBUTED BY HASH(`k``ey`)"
    );
}

#[test]
fn generated_key_column_is_a_schema_error() {
    let mut t = two_col(vec!["a"], None);
    t.columns[0].generated = Some("1".into());
    let err = create_table_sql(&t, ADB).unwrap_err();
    assert!(err.contains("`a`") && err.contains("generated"), "{err}");
}

fn ddl(kind: DdlKind, statement: &str) -> Ddl {
    Ddl {
        database: Some("d".into()),
        statement: statement.into(),
        kind,
        tables: vec![TableId::new("d", "t")],
        sql_mode: None,
    }
}

#[test]
fn stream_ddl_selection() {
    let ok = [
        (DdlKind::CreateTable, "CREATE TABLE t (a int primary key)"),
        (DdlKind::DropTable, "DROP TABLE t"),
        (DdlKind::TruncateTable, "TRUNCATE TABLE t"),
        (DdlKind::CreateDatabase, "CREATE DATABASE x"),
        (DdlKind::DropDatabase, "DROP DATABASE x"),
        (DdlKind::AlterTable, "ALTER TABLE t ADD COLUMN c INT"),
        (
            DdlKind::AlterTable,
            "alter table `d`.`t` add c int, drop column b",
        ),
        (
            DdlKind::AlterTable,
            "ALTER TABLE IF EXISTS t ADD COLUMN (c INT, d VARCHAR(3))",
        ),
        (DdlKind::AlterTable, "ALTER TABLE `we``ird` DROP b"),
        (
            DdlKind::AlterTable,
            "ALTER TABLE t ADD `set` VARCHAR(8) DEFAULT 'unsigned, enum' COMMENT 'bit'",
        ),
        (
            DdlKind::AlterTable,
            "ALTER TABLE t ADD COLUMN IF NOT EXISTS year_n INT AFTER b",
        ),
    ];
    for (k, s) in ok {
        assert_eq!(check_stream_ddl(&ddl(k, s)), Ok(()), "{s}");
    }
    let refused = [
        (DdlKind::AlterTable, "ALTER TABLE t MODIFY c BIGINT"),
        (DdlKind::AlterTable, "ALTER TABLE t CHANGE c d INT"),
        (DdlKind::AlterTable, "ALTER TABLE t ADD INDEX ix (c)"),
        (
            DdlKind::AlterTable,
            "ALTER TABLE t ADD COLUMN c INT, ADD PRIMARY KEY (c)",
        ),
        (DdlKind::AlterTable, "ALTER TABLE t DROP PRIMARY KEY"),
        (DdlKind::AlterTable, "ALTER TABLE t ENGINE=InnoDB"),
        (DdlKind::AlterTable, "ALTER TABLE t RENAME TO u"),
        // Types ADB does not have: the replayed statement is MySQL's.
        (
            DdlKind::AlterTable,
            "ALTER TABLE t ADD c ENUM('a,b', 'c') DEFAULT 'a,b'",
        ),
        (
            DdlKind::AlterTable,
            "ALTER TABLE t ADD COLUMN c INT UNSIGNED",
        ),
        (
            DdlKind::AlterTable,
            "ALTER TABLE t ADD COLUMN (c INT, d SET('x'))",
        ),
        (DdlKind::AlterTable, "ALTER TABLE t ADD c bit(3), DROP b"),
        (DdlKind::AlterTable, "ALTER TABLE t ADD `g` POINT"),
        (DdlKind::RenameTable, "RENAME TABLE t TO u"),
        (DdlKind::CreateIndex, "CREATE INDEX ix ON t (c)"),
        (DdlKind::Other, "CREATE VIEW v AS SELECT 1"),
        (DdlKind::Unparsed, "FROB t"),
    ];
    for (k, s) in refused {
        assert!(check_stream_ddl(&ddl(k, s)).is_err(), "{s}");
    }
    let err =
        check_stream_ddl(&ddl(DdlKind::AlterTable, "ALTER TABLE t MODIFY c BIGINT")).unwrap_err();
    assert!(err.contains("MODIFY c BIGINT"), "{err}");
    let err = check_stream_ddl(&ddl(
        DdlKind::AlterTable,
        "ALTER TABLE t ADD COLUMN c INT UNSIGNED",
    ))
    .unwrap_err();
    assert!(
        err.contains("ADD COLUMN c INT UNSIGNED") && err.contains("uses UNSIGNED"),
        "{err}"
    );
}

/// `orders(id INT, day DATE, region VARCHAR(8), amount DECIMAL(10,2))` keyed by `pk`.
fn orders(pk: &[&str]) -> TableSchema {
    TableSchema {
        id: TableId::new("dw", "orders"),
        columns: vec![
            col("id", int(8, false), false),
            col("day", ColumnType::Date, false),
            col("region", ColumnType::VarChar { length: 8 }, false),
            col(
                "amount",
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2,
                },
                true,
            ),
        ],
        primary_key: pk.iter().map(|s| s.to_string()).collect(),
        unique_keys: vec![],
        indexes: vec![],
        create_sql: None,
        constraints: Default::default(),
    }
}

fn partition(column: &str, format: Option<&str>, lifecycle: u32) -> TableClauses {
    TableClauses {
        partition: Some(Partition {
            column: column.into(),
            format: format.map(Into::into),
            lifecycle,
        }),
        clustered_key: vec![],
    }
}

#[test]
fn golden_partition_by_date_value_with_lifecycle() {
    let t = orders(&["id", "day"]);
    for (format, value) in [
        ("%Y%m%d", "DATE_FORMAT(`day`, '%Y%m%d')"),
        ("%Y%m", "DATE_FORMAT(`day`, '%Y%m')"),
        ("%Y", "DATE_FORMAT(`day`, '%Y')"),
    ] {
        assert_eq!(
            create_table_sql_with(&t, ADB, &partition("day", Some(format), 30)).unwrap(),
            format!(
                "CREATE TABLE IF NOT EXISTS `dw`.`orders` (\n  `id` BIGINT NOT NULL,\n  \
                 `day` DATE NOT NULL,\n  `region` VARCHAR(8) NOT NULL,\n  \
                 `amount` DECIMAL(10,2) NULL,\n  PRIMARY KEY (`id`, `day`)\n\
                 ) DISTRIBUTED BY HASH(`id`, `day`) PARTITION BY VALUE({value}) LIFECYCLE 30"
            )
        );
    }
}

#[test]
fn golden_partition_by_plain_value_and_clustered_key() {
    let t = orders(&["id", "region"]);
    let clauses = TableClauses {
        clustered_key: vec!["day".into(), "amount".into()],
        ..partition("region", None, 7)
    };
    assert_eq!(
        create_table_sql_with(&t, ADB, &clauses).unwrap(),
        "CREATE TABLE IF NOT EXISTS `dw`.`orders` (\n  `id` BIGINT NOT NULL,\n  \
         `day` DATE NOT NULL,\n  `region` VARCHAR(8) NOT NULL,\n  \
         `amount` DECIMAL(10,2) NULL,\n  PRIMARY KEY (`id`, `region`),\n  \
         CLUSTERED KEY `clustered_key` (`day`, `amount`)\n\
         ) DISTRIBUTED BY HASH(`id`, `region`) PARTITION BY VALUE(`region`) LIFECYCLE 7"
    );
    // Compatibility mode omits exactly the ADB-only clauses.
    assert_eq!(
        create_table_sql_with(&t, COMPAT, &clauses).unwrap(),
        "CREATE TABLE IF NOT EXISTS `dw`.`orders` (\n  `id` BIGINT NOT NULL,\n  \
         `day` DATE NOT NULL,\n  `region` VARCHAR(8) NOT NULL,\n  \
         `amount` DECIMAL(10,2) NULL,\n  PRIMARY KEY (`id`, `region`)\n)"
    );
    // No clauses: the same statement as create_table_sql.
    assert_eq!(
        create_table_sql_with(&t, ADB, &TableClauses::default()).unwrap(),
        create_table_sql(&t, ADB).unwrap()
    );
}

#[test]
fn golden_partition_of_a_merged_table() {
    let merged = DdlOptions {
        merged: true,
        mariadb_compat: false,
    };
    assert_eq!(
        create_table_sql_with(
            &orders(&["id", "day"]),
            merged,
            &partition("day", Some("%Y%m"), 12)
        )
        .unwrap(),
        "CREATE TABLE IF NOT EXISTS `dw`.`orders` (\n  `id` BIGINT NOT NULL,\n  \
         `day` DATE NOT NULL,\n  `region` VARCHAR(8) NOT NULL,\n  \
         `amount` DECIMAL(10,2) NULL,\n  `__dts_data_source` VARCHAR NOT NULL,\n  \
         PRIMARY KEY (`id`, `day`, `__dts_data_source`)\n\
         ) DISTRIBUTED BY HASH(`id`, `day`, `__dts_data_source`) \
         PARTITION BY VALUE(DATE_FORMAT(`day`, '%Y%m')) LIFECYCLE 12"
    );
}

#[test]
fn clauses_that_do_not_fit_the_table_are_errors_naming_the_column() {
    let err = |t: &TableSchema, c: &TableClauses| {
        let a = create_table_sql_with(t, ADB, c).unwrap_err();
        // Compatibility mode checks the same way.
        assert_eq!(create_table_sql_with(t, COMPAT, c).unwrap_err(), a);
        a
    };
    let t = orders(&["id"]);
    let e = err(&t, &partition("day", Some("%Y%m%d"), 30));
    assert!(
        e.contains("`day`") && e.contains("not in the primary key"),
        "{e}"
    );
    let e = err(&orders(&["id", "day"]), &partition("nope", None, 30));
    assert!(e.contains("`nope`") && e.contains("not a column"), "{e}");
    let e = err(&orders(&["id", "amount"]), &partition("amount", None, 3));
    assert!(
        e.contains("`amount`") && e.contains("integer or string value"),
        "{e}"
    );
    let e = err(
        &orders(&["id", "region"]),
        &partition("region", Some("%Y"), 3),
    );
    assert!(e.contains("`region`") && e.contains("DATE"), "{e}");
    let e = err(&orders(&["id", "day"]), &partition("day", Some("%d"), 3));
    assert!(e.contains("`%d`"), "{e}");
    let e = err(&orders(&["id", "day"]), &partition("day", Some("%Y"), 0));
    assert!(e.contains("LIFECYCLE"), "{e}");
    let clustered = TableClauses {
        clustered_key: vec!["ghost".into()],
        ..TableClauses::default()
    };
    let e = err(&t, &clustered);
    assert!(e.contains("clustered key column `ghost`"), "{e}");
    // A table that gets the added auto-increment key cannot be partitioned by a data column.
    let e = err(&orders(&[]), &partition("day", Some("%Y"), 3));
    assert!(e.contains("__dts_auto_id"), "{e}");
}
