//! Schema verification: the destination table the source and the task's route imply against
//! the one the destination has — columns (names, types, nullability, defaults, character set
//! and collation), primary key, unique keys and indexes.
//!
//! Types are compared by the server's type text, case-insensitively (MySQL-family destinations
//! report types in the same dialect as the source). Keys and indexes are matched by their
//! column lists, not their names, so a renamed index is not a difference.

use super::report::SchemaDifference;
use crate::schema::{Index, TableSchema};

fn norm(t: &str) -> String {
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

fn cols(ix: &Index) -> String {
    format!("({})", ix.columns.join(", "))
}

/// The differences between `expected` and `actual` (`None`: the table is missing).
pub fn compare_schema(
    expected: &TableSchema,
    actual: Option<&TableSchema>,
) -> Vec<SchemaDifference> {
    let table = expected.id.clone();
    let diff = |object: String, expected: String, actual: String| SchemaDifference {
        table: table.clone(),
        object,
        expected,
        actual,
    };
    let Some(actual) = actual else {
        return vec![diff("table".into(), "exists".into(), "missing".into())];
    };
    let mut out = Vec::new();
    for e in &expected.columns {
        let Some(a) = actual
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&e.name))
        else {
            out.push(diff(
                format!("column `{}`", e.name),
                e.type_text.clone(),
                "missing".into(),
            ));
            continue;
        };
        let name = &e.name;
        if norm(&e.type_text) != norm(&a.type_text) {
            out.push(diff(
                format!("column `{name}` type"),
                e.type_text.clone(),
                a.type_text.clone(),
            ));
        }
        if e.nullable != a.nullable {
            let n = |b: bool| if b { "NULL" } else { "NOT NULL" }.to_string();
            out.push(diff(
                format!("column `{name}` nullability"),
                n(e.nullable),
                n(a.nullable),
            ));
        }
        if e.default != a.default {
            let d = |v: &Option<String>| v.clone().unwrap_or_else(|| "no default".into());
            out.push(diff(
                format!("column `{name}` default"),
                d(&e.default),
                d(&a.default),
            ));
        }
        for (what, ev, av) in [
            ("character set", &e.charset, &a.charset),
            ("collation", &e.collation, &a.collation),
        ] {
            if let (Some(ev), Some(av)) = (ev, av) {
                if !ev.eq_ignore_ascii_case(av) {
                    out.push(diff(
                        format!("column `{name}` {what}"),
                        ev.clone(),
                        av.clone(),
                    ));
                }
            }
        }
    }
    for a in &actual.columns {
        if !expected
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&a.name))
        {
            out.push(diff(
                format!("column `{}`", a.name),
                "absent".into(),
                a.type_text.clone(),
            ));
        }
    }
    let same = |a: &[String], b: &[String]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
    };
    if !same(&expected.primary_key, &actual.primary_key) {
        out.push(diff(
            "primary key".into(),
            format!("({})", expected.primary_key.join(", ")),
            format!("({})", actual.primary_key.join(", ")),
        ));
    }
    for (what, exp, act) in [
        ("unique key", &expected.unique_keys, &actual.unique_keys),
        ("index", &expected.indexes, &actual.indexes),
    ] {
        for e in exp {
            if !act.iter().any(|a| same(&a.columns, &e.columns)) {
                out.push(diff(
                    format!("{what} `{}`", e.name),
                    cols(e),
                    "missing".into(),
                ));
            }
        }
        for a in act {
            if !exp.iter().any(|e| same(&a.columns, &e.columns)) {
                out.push(diff(
                    format!("{what} `{}`", a.name),
                    "absent".into(),
                    cols(a),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ColumnType, TableId};

    fn t(score_type: &str, nullable: bool) -> TableSchema {
        let mut id = Column::new(
            "id",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            "int(11)",
        );
        id.nullable = false;
        let mut score = Column::new(
            "score",
            ColumnType::Integer {
                bytes: 4,
                unsigned: false,
            },
            score_type,
        );
        score.nullable = nullable;
        TableSchema {
            id: TableId::new("d", "t"),
            columns: vec![id, score],
            primary_key: vec!["id".into()],
            unique_keys: vec![],
            indexes: vec![Index {
                name: "i".into(),
                columns: vec!["score".into()],
                unique: false,
            }],
            create_sql: None,
            constraints: Default::default(),
        }
    }

    #[test]
    fn finds_type_nullability_index_and_missing_table() {
        assert!(compare_schema(&t("int(11)", true), Some(&t("INT(11)", true))).is_empty());
        let mut actual = t("bigint(20)", false);
        actual.indexes.clear();
        let d = compare_schema(&t("int(11)", true), Some(&actual));
        let objects: Vec<_> = d.iter().map(|d| d.object.as_str()).collect();
        assert_eq!(
            objects,
            vec![
                "column `score` type",
                "column `score` nullability",
                "index `i`"
            ]
        );
        assert_eq!(compare_schema(&t("int", true), None)[0].actual, "missing");
    }
}
