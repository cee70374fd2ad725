//! Condition tests: parsing and rendering, then evaluation feature by feature with NULL and
//! collation edge cases.

use super::Condition;
use crate::change::Row;
use crate::objects::testing::table;
use crate::schema::TableSchema;
use crate::value::{Date, DateTime, Time, Timestamp, Value};
use bytes::Bytes;

fn schema() -> TableSchema {
    table("shop", "orders")
        .int("id")
        .ubigint("u")
        .decimal("amount", 30, 10)
        .double("price")
        .varchar("name", 20, "utf8mb4_general_ci")
        .varchar("code", 20, "utf8mb4_bin")
        .varchar("tag", 20, "utf8mb4_0900_ai_ci")
        .varbinary("raw", 16)
        .date("d")
        .datetime("dt")
        .timestamp("ts")
        .time("t")
        .int("n")
        .pk(&["id"])
        .build()
}

/// A row with every column set; `edit` overrides by column name.
fn row(edit: &[(&str, Value)]) -> Row {
    let s = schema();
    let mut r: Row = vec![
        Value::Int(1),
        Value::UInt(u64::MAX),
        Value::Decimal("12.5000000000".into()),
        Value::Double(0.5),
        Value::Text("Alice".into()),
        Value::Text("AbC".into()),
        Value::Text("x".into()),
        Value::Bytes(Bytes::from_static(b"\x01\x02")),
        Value::Date(Date {
            year: 2020,
            month: 1,
            day: 5,
        }),
        Value::DateTime(DateTime {
            date: Date {
                year: 2020,
                month: 1,
                day: 5,
            },
            hour: 10,
            minute: 30,
            second: 0,
            micros: 0,
        }),
        // 2020-01-05 10:30:00 UTC
        Value::Timestamp(Timestamp {
            seconds: 1_578_220_200,
            micros: 0,
        }),
        Value::Time(Time {
            negative: false,
            hours: 10,
            minutes: 0,
            seconds: 0,
            micros: 0,
        }),
        Value::Null,
    ];
    for (name, v) in edit {
        let i = s.column_index(name).unwrap_or_else(|| panic!("{name}"));
        r[i] = v.clone();
    }
    r
}

#[track_caller]
fn eval(cond: &str, r: &Row) -> Option<bool> {
    Condition::parse(cond)
        .unwrap_or_else(|e| panic!("{cond}: {e}"))
        .evaluate(&schema(), r)
        .unwrap_or_else(|e| panic!("{cond}: {e}"))
}

#[track_caller]
fn yes(cond: &str) {
    assert_eq!(eval(cond, &row(&[])), Some(true), "{cond}");
}

#[track_caller]
fn no(cond: &str) {
    assert_eq!(eval(cond, &row(&[])), Some(false), "{cond}");
}

#[track_caller]
fn unknown(cond: &str) {
    assert_eq!(eval(cond, &row(&[])), None, "{cond}");
}

#[test]
fn rejects_what_cannot_be_pushed_down_or_evaluated() {
    for (bad, says) in [
        ("id > 1; DROP TABLE t", ";"),
        ("id IN (SELECT id FROM x)", "subquery"),
        ("EXISTS (SELECT 1)", "subquery"),
        ("id = (SELECT 1)", "subquery"),
        ("created > NOW()", "NOW"),
        ("SLEEP(5) = 0", "SLEEP"),
        ("id = 1 OR", "cannot read"),
        ("id > 1 id", "unexpected"),
        ("CASE WHEN id > 1 THEN 1 END", "not allowed"),
        ("a.b.c.d = 1", "not a column"),
        ("SUBSTRING(name)", "SUBSTRING"),
        ("COALESCE()", "COALESCE"),
        ("d > DATE '2020-02-30'", "not a valid date"),
        ("CAST(id AS CHAR) = '1'", "not allowed"),
    ] {
        let e = Condition::parse(bad).unwrap_err();
        assert!(e.contains(says), "{bad}: {e}");
    }
    // A `;` inside a string is just a character.
    assert!(Condition::parse("name = 'a;b'").is_ok());
}

#[test]
fn renders_with_quoted_identifiers_and_safe_strings() {
    let c =
        Condition::parse("`we``ird` = 'it''s' AND name LIKE 'a\\_%' OR NOT id IN (1, -2)").unwrap();
    assert_eq!(
        c.to_sql(),
        "(((`we``ird` = 'it''s') AND (`name` LIKE _utf8mb4 X'615C5F25' ESCAPE _utf8mb4 X'5C')) \
         OR (NOT (`id` IN (1, (-2)))))"
    );
    let c =
        Condition::parse("d BETWEEN DATE '2020-01-01' AND '2020-12-31' AND raw = X'0102'").unwrap();
    assert_eq!(
        c.to_sql(),
        "((`d` BETWEEN DATE '2020-01-01' AND '2020-12-31') AND (`raw` = X'0102'))"
    );
    let c =
        Condition::parse("TRIM(LEADING 'x' FROM name) = LOWER(code) COLLATE utf8mb4_bin").unwrap();
    assert_eq!(
        c.to_sql(),
        "(TRIM(LEADING 'x' FROM `name`) = (LOWER(`code`) COLLATE `utf8mb4_bin`))"
    );
    assert_eq!(c.columns(), vec!["name", "code"]);
    let c = Condition::parse("name LIKE 'ab%' AND code NOT LIKE name").unwrap();
    assert_eq!(
        c.to_sql(),
        "((`name` LIKE 'ab%') AND (`code` NOT LIKE `name` ESCAPE _utf8mb4 X'5C'))"
    );
    // Rendered text parses back to the same condition.
    for text in [
        "`we``ird` = 'it''s' AND name LIKE 'a\\_%' OR NOT id IN (1, -2)",
        "TRIM(LEADING 'x' FROM name) = LOWER(code) COLLATE utf8mb4_bin",
        "name = 'tab\there' AND d > DATE '2020-01-01' AND raw <> X'00'",
    ] {
        let c = Condition::parse(text).unwrap();
        let again = Condition::parse(c.to_sql()).unwrap();
        assert_eq!(again.to_sql(), c.to_sql(), "{text}");
        assert_eq!(
            again.evaluate(&schema(), &row(&[])),
            c.evaluate(&schema(), &row(&[])),
            "{text}"
        );
    }
}

#[test]
fn check_names_unknown_columns_and_foreign_qualifiers() {
    let s = schema();
    assert!(
        Condition::parse("ID > 1 AND orders.name = 'x' AND shop.orders.n IS NULL")
            .unwrap()
            .check(&s)
            .is_empty()
    );
    let problems = Condition::parse("nope = 1 AND other.id = 2")
        .unwrap()
        .check(&s);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("no column `nope`"), "{problems:?}");
    assert!(problems[1].contains("other.id"), "{problems:?}");
}

#[test]
fn null_makes_comparisons_unknown_and_unknown_rejects() {
    unknown("n = 1");
    unknown("n <> 1");
    unknown("NOT (n = 1)");
    unknown("n = NULL");
    unknown("NULL = NULL");
    yes("n <=> NULL");
    no("id <=> NULL");
    yes("n IS NULL");
    no("n IS NOT NULL");
    // Unknown rejects the row.
    let c = Condition::parse("n > 0").unwrap();
    assert!(!c.accepts(&schema(), &row(&[])).unwrap());
    assert!(c.accepts(&schema(), &row(&[("n", Value::Int(3))])).unwrap());
    // IS TRUE / IS FALSE are never unknown.
    no("(n = 1) IS TRUE");
    yes("(n = 1) IS NOT TRUE");
    no("(n = 1) IS FALSE");
}

#[test]
fn three_valued_and_or_xor() {
    no("n = 1 AND id = 2");
    unknown("n = 1 AND id = 1");
    yes("n = 1 OR id = 1");
    unknown("n = 1 OR id = 2");
    unknown("(n = 1) XOR (id = 1)");
    yes("(id = 1) XOR (id = 2)");
    no("(id = 1) XOR (id = 1)");
    // sqlparser would read this as `id = (1 XOR id) = 2`; MySQL as `(id = 1) XOR (id = 2)`.
    for misread in [
        "id = 1 XOR id = 2",
        "id = 1 AND id XOR n",
        "NOT id XOR n",
        "(id = 1 XOR id) = 2",
        "id XOR n IS NULL",
    ] {
        let e = Condition::parse(misread).unwrap_err();
        assert!(e.contains("parentheses"), "{misread}: {e}");
    }
    no("id XOR (n IS NULL) OR (id = 2)");
    yes("id XOR (n IS NOT NULL) OR (id = 2)");
    no("((id = 1) XOR (id = 1)) XOR (n IS NOT NULL)");
    no("NOT id = 1");
    yes("NOT (id = 2)");
}

#[test]
fn integers_unsigned_and_decimals_compare_exactly() {
    yes("u = 18446744073709551615");
    no("u = 18446744073709551614");
    // u64::MAX against a decimal one below: f64 would call these equal.
    yes("u > 18446744073709551614.9");
    yes("u > -1");
    yes("amount = 12.5");
    yes("amount = 12.50000000000000000001 - 0.00000000000000000001");
    no("amount > 12.50000000000000000001");
    yes("amount BETWEEN 12 AND 13");
    yes("id = 1.0");
    yes("price = 0.5");
    yes("price < 5e-1 + 0.1");
    yes("'10' > 9");
    yes("'abc' = 0");
}

#[test]
fn arithmetic() {
    yes("id + 1 = 2");
    yes("id - 3 = -2");
    yes("id * 2.5 = 2.5");
    yes("id / 3 = 0.3333");
    no("id / 3 = 0.33333");
    unknown("id / 0 = 1");
    unknown("id % 0 = 1");
    yes("7 % 3 = id");
    yes("-7 % 3 = -id");
    yes("7 DIV 2 = 3");
    yes("amount * 2 = 25");
    yes("-amount = -12.5");
    unknown("n + 1 = 1");
    // Overflow is an error, as on the server.
    let c = Condition::parse("u + 1 > 0").unwrap();
    assert!(c.evaluate(&schema(), &row(&[])).is_err());
}

#[test]
fn string_collations() {
    // general_ci: case-, accent- and trailing-space-insensitive.
    yes("name = 'ALICE'");
    yes("name = 'alice   '");
    yes("name = 'Álice'");
    yes("name > 'aaa'");
    // _bin: exact.
    no("code = 'abc'");
    yes("code = 'AbC'");
    yes("code = 'AbC  '");
    yes("code < 'abc'");
    // 0900_ai_ci: case-insensitive but NO PAD.
    yes("tag = 'X'");
    no("tag = 'x '");
    // Explicit COLLATE wins over the column.
    no("name = 'ALICE' COLLATE utf8mb4_bin");
    yes("code = 'abc' COLLATE utf8mb4_general_ci");
    // Binary strings compare bytes.
    yes("raw = X'0102'");
    no("raw = X'0103'");
    yes("raw < X'02'");
    let r = row(&[("name", Value::Text("Bob".into()))]);
    assert_eq!(eval("name IN ('alice', 'BOB')", &r), Some(true));
}

#[test]
fn in_and_not_in_with_nulls() {
    yes("id IN (3, 2, 1)");
    no("id IN (3, 2)");
    unknown("id IN (3, NULL)");
    yes("id IN (1, NULL)");
    no("id NOT IN (1, 2)");
    yes("id NOT IN (2, 3)");
    unknown("id NOT IN (2, NULL)");
    unknown("n IN (1, 2)");
    unknown("n NOT IN (1, 2)");
    yes("name NOT IN ('bob', 'carol')");
    no("name NOT IN ('bob', 'ALICE')");
}

#[test]
fn between() {
    yes("id BETWEEN 1 AND 1");
    no("id BETWEEN 2 AND 3");
    yes("id NOT BETWEEN 2 AND 3");
    unknown("n BETWEEN 1 AND 2");
    // A NULL bound: unknown unless the other bound already decides.
    unknown("id BETWEEN NULL AND 5");
    no("id BETWEEN NULL AND 0");
    yes("name BETWEEN 'a' AND 'B'");
    yes("d BETWEEN '2020-01-01' AND '2020-01-31'");
}

#[test]
fn like_patterns() {
    yes("name LIKE 'al%'");
    yes("name LIKE 'A_ICE'");
    no("name LIKE 'al'");
    yes("name NOT LIKE 'b%'");
    no("code LIKE 'abc'");
    yes("code LIKE 'Ab_'");
    unknown("n LIKE '%'");
    unknown("name LIKE NULL");
    let r = row(&[("name", Value::Text("50%_off".into()))]);
    assert_eq!(eval("name LIKE '50\\%\\_%'", &r), Some(true));
    assert_eq!(eval("name LIKE '50|%|_%' ESCAPE '|'", &r), Some(true));
    assert_eq!(eval("name LIKE '50|%|_' ESCAPE '|'", &r), Some(false));
    assert_eq!(eval("name LIKE '5_\\%%'", &r), Some(true));
    // Numbers are matched by their text.
    yes("id LIKE '1'");
    assert!(Condition::parse("name LIKE 'x' ESCAPE 'ab'")
        .unwrap()
        .evaluate(&schema(), &row(&[]))
        .is_err());
}

#[test]
fn dates_times_and_timestamps_against_literals() {
    yes("d = '2020-01-05'");
    yes("d = '20200105'");
    yes("d > '2019-12-31'");
    yes("d < '2020-01-05 00:00:01'");
    yes("d = DATE '2020-01-05'");
    yes("dt > '2020-01-05'");
    yes("dt = '2020-01-05 10:30:00'");
    yes("dt >= '2020-01-05T10:30'");
    no("dt < '2020-01-05 10:29:59.999999'");
    // TIMESTAMPs compare in UTC, like the full-sync session.
    yes("ts = '2020-01-05 10:30:00'");
    yes("ts = dt");
    yes("t > '09:59:59'");
    yes("t = TIME '10:00:00'");
    yes("d = 20200105");
    yes("YEAR(d) = 2020 AND MONTH(dt) = 1 AND DAY(ts) = 5");
    yes("DATE(dt) = '2020-01-05'");
    yes("DATE(dt) = d");
    unknown("YEAR('not a date') = 2020");
    unknown("YEAR(n) = 2020");
    // A zero date.
    let r = row(&[("d", Value::Date(Date::ZERO))]);
    assert_eq!(eval("d = '0000-00-00'", &r), Some(true));
    assert_eq!(eval("d < '1970-01-01'", &r), Some(true));
}

#[test]
fn string_functions() {
    yes("LOWER(name) = 'alice'");
    yes("UPPER(code) = 'ABC'");
    yes("LCASE(code) COLLATE utf8mb4_bin = 'abc'");
    yes("LENGTH(name) = 5");
    let r = row(&[("name", Value::Text("héllo".into()))]);
    assert_eq!(eval("LENGTH(name) = 6", &r), Some(true));
    assert_eq!(eval("CHAR_LENGTH(name) = 5", &r), Some(true));
    yes("LENGTH(raw) = 2");
    yes("CONCAT(name, '-', id) = 'alice-1'");
    unknown("CONCAT(name, n) = 'x'");
    yes("SUBSTRING(name, 2, 3) = 'lic'");
    yes("SUBSTRING(name FROM 2) = 'lice'");
    yes("SUBSTRING(name, -3) = 'ice'");
    yes("SUBSTR(name, 0) = ''");
    yes("SUBSTRING(name, 2, 0) = ''");
    yes("SUBSTRING(name, 10) = ''");
    yes("MID(name, 1, 1) = 'a'");
    let r = row(&[("name", Value::Text("  xxhixx  ".into()))]);
    assert_eq!(eval("TRIM(name) = 'xxhixx'", &r), Some(true));
    assert_eq!(eval("LTRIM(name) = 'xxhixx  '", &r), Some(true));
    assert_eq!(eval("RTRIM(name) = '  xxhixx'", &r), Some(true));
    assert_eq!(
        eval("TRIM(BOTH 'x' FROM TRIM(name)) = 'hi'", &r),
        Some(true)
    );
    assert_eq!(
        eval("TRIM(TRAILING 'xx' FROM TRIM(name)) = 'xxhi'", &r),
        Some(true)
    );
}

#[test]
fn null_handling_functions_and_abs() {
    yes("COALESCE(n, id) = 1");
    yes("COALESCE(n, NULL, 7) = 7");
    unknown("COALESCE(n, NULL) = 7");
    yes("IFNULL(n, 0) = 0");
    yes("IFNULL(id, 0) = 1");
    unknown("NULLIF(id, 1) = 1");
    yes("NULLIF(id, 2) = 1");
    yes("ABS(-amount) = 12.5");
    yes("ABS(id - 3) = 2");
    unknown("ABS(n) = 0");
    unknown("LOWER(n) = 'x'");
}

#[test]
fn enum_values_compare_as_text() {
    let s = table("d", "t")
        .int("id")
        .enumeration("state", &["new", "Done"])
        .pk(&["id"])
        .build();
    let row = vec![Value::Int(1), Value::Enum("Done".into())];
    for (cond, expected) in [
        ("state = 'DONE'", true),
        ("state LIKE 'd%'", true),
        // In numeric context an ENUM is its 1-based index.
        ("state = 2", true),
        ("state + 0 = 2", true),
        ("state > 1", true),
        ("state = 1", false),
    ] {
        let c = Condition::parse(cond).unwrap();
        assert_eq!(c.evaluate(&s, &row), Ok(Some(expected)), "{cond}");
    }
}

#[test]
fn unknown_column_is_an_error_not_a_silent_reject() {
    let c = Condition::parse("missing = 1").unwrap();
    let e = c.evaluate(&schema(), &row(&[])).unwrap_err();
    assert!(e.contains("missing") && e.contains("shop.orders"), "{e}");
}

#[test]
fn infix_mod_is_the_modulo_operator() {
    // The default row has id = 1 (see `row`).
    let r = row(&[("id", Value::Int(7))]);
    assert_eq!(eval("id MOD 3 = 1", &r), Some(true));
    assert_eq!(eval("id mod (2 + 1) = 1", &r), Some(true));
    // The function form is left alone (and is not among the allowed functions).
    let e = Condition::parse("id > 0 AND MOD(id, 3) = 1").unwrap_err();
    assert!(e.contains("function `MOD` is not allowed"), "{e}");
    assert_eq!(eval("(id + 1) MOD 4 = 0", &r), Some(true));
    assert_eq!(eval("name = 'mod' OR id MOD 2 = 1", &r), Some(true));
    let c = Condition::parse("id MOD 3 <> 1").unwrap();
    assert!(c.to_sql().contains('%'), "{}", c.to_sql());
    assert!(Condition::parse("id MOD").is_err());
}
