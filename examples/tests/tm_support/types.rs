//! The one declared list of column types of the type × path matrix: every MySQL and MariaDB
//! type family at its extremes, plus NULL. Each case is one table `t_<name>` of
//! `(id INT PRIMARY KEY, <columns>)` (or key-less, `(n INT, <columns>)`). A new type is one
//! entry in [`with_cases!`]; every path then gets a test case for it.

/// Calls `$callback!` with the whole declared list: `{ name => TypeCase { … } }` items.
macro_rules! with_cases {
    ($callback:ident ! ( $($pre:tt)* )) => {
        $callback! { $($pre)*
            tinyint: ("v TINYINT", "v", ["-128", "127", "0"], Int, true),
            tinyint_unsigned: ("v TINYINT UNSIGNED", "v", ["0", "255"], Int, true),
            boolean: ("v BOOLEAN", "v", ["0", "1"], Int, true),
            smallint: ("v SMALLINT", "v", ["-32768", "32767"], Int, true),
            smallint_unsigned: ("v SMALLINT UNSIGNED", "v", ["0", "65535"], Int, true),
            mediumint: ("v MEDIUMINT", "v", ["-8388608", "8388607"], Int, true),
            mediumint_unsigned: ("v MEDIUMINT UNSIGNED", "v", ["0", "16777215"], Int, true),
            int: ("v INT", "v", ["-2147483648", "2147483647", "0"], Int, true),
            int_unsigned: ("v INT UNSIGNED", "v", ["0", "4294967295"], Int, true),
            bigint: ("v BIGINT", "v", ["-9223372036854775808", "9223372036854775807"], Int, true),
            bigint_unsigned: ("v BIGINT UNSIGNED", "v", ["0", "18446744073709551615", "9223372036854775808"], Int, true),
            float: ("v FLOAT", "v", ["1.5", "-3.40282e38", "1.17549e-38", "0", "-0.1"], Float, false),
            double: ("v DOUBLE", "v", ["-1.7976931348623157e308", "5e-324", "0", "3.141592653589793", "2.2250738585072014e-308"], Double, false),
            decimal_65_30: ("v DECIMAL(65,30)", "v", [
                "'-99999999999999999999999999999999999.999999999999999999999999999999'",
                "'99999999999999999999999999999999999.999999999999999999999999999999'",
                "'0.000000000000000000000000000001'", "0"], Decimal, true),
            decimal_10_2: ("v DECIMAL(10,2)", "v", ["'-12345678.90'", "'0.00'", "'99999999.99'"], Decimal, true),
            decimal_unsigned: ("v DECIMAL(5,0) UNSIGNED", "v", ["0", "99999"], Decimal, true),
            bit_1: ("v BIT(1)", "v", ["b'0'", "b'1'"], Bit, false),
            bit_64: ("v BIT(64)", "v", [
                "b'1111111111111111111111111111111111111111111111111111111111111111'",
                "b'1000000000000000000000000000000000000000000000000000000000000001'", "0"], Bit, false),
            bit_13: ("v BIT(13)", "v", ["b'1010101010101'", "b'1'"], Bit, false),
            date: ("v DATE", "v", ["'0000-00-00'", "'1000-01-01'", "'9999-12-31'", "'2024-02-29'", "'2024-00-00'"], Date, false),
            time_0: ("v TIME", "v", ["'-838:59:59'", "'838:59:59'", "'00:00:00'", "'-00:00:01'"], Time, false),
            time_3: ("v TIME(3)", "v", ["'12:34:56.789'", "'-00:00:00.001'", "'838:59:59.999'"], Time, false),
            time_6: ("v TIME(6)", "v", ["'-838:59:59.999999'", "'838:59:59.999999'", "'-00:00:00.000001'", "'00:00:00'"], Time, false),
            datetime_0: ("v DATETIME", "v", ["'0000-00-00 00:00:00'", "'1000-01-01 00:00:00'", "'9999-12-31 23:59:59'"], DateTime, false),
            datetime_3: ("v DATETIME(3)", "v", ["'2024-02-29 12:34:56.789'", "'1000-01-01 00:00:00.001'"], DateTime, false),
            datetime_6: ("v DATETIME(6)", "v", ["'9999-12-31 23:59:59.999999'", "'2024-02-29 12:34:56.000001'", "'0000-00-00 00:00:00.000000'"], DateTime, false),
            timestamp_0: ("v TIMESTAMP NULL", "v", ["'1970-01-01 00:00:01'", "'2038-01-19 03:14:07'", "0"], Timestamp, false),
            timestamp_6: ("v TIMESTAMP(6) NULL", "v", ["'2038-01-19 03:14:07.999999'", "'1970-01-01 00:00:01.000001'", "'2024-02-29 12:00:00.5'"], Timestamp, false),
            year: ("v YEAR", "v", ["0", "1901", "2155", "2024"], Year, false),
            char_trailing_spaces: ("v CHAR(10)", "v", ["'ab  '", "''", "'  x'", "'0123456789'"], Text, true),
            char_latin1: ("v CHAR(5) CHARACTER SET latin1", "v", ["'ÿé'", "'a'"], Text, true),
            varchar_utf8mb4: ("v VARCHAR(100) CHARACTER SET utf8mb4", "v", [
                "'emoji 😀 ok'", "''", "'quote \" backslash \\\\ newline \\n tab \\t ctl \\0'", "'中文 text'"], Text, true),
            varchar_latin1: ("v VARCHAR(20) CHARACTER SET latin1", "v", ["'café'", "'ÿ'", "'plain'"], Text, true),
            varchar_utf8mb4_bin: ("v VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "v", ["'Abc'", "'abc '", "'ünï'"], Text, true),
            varchar_binary_charset: ("v VARCHAR(20) CHARACTER SET binary", "v", ["x'00ff'", "'text'"], Binary, true),
            text_utf8mb4: ("v TEXT CHARACTER SET utf8mb4", "v", ["'some text 😀'", "''", "REPEAT('long ', 5000)"], Text, true),
            text_latin1: ("v MEDIUMTEXT CHARACTER SET latin1", "v", ["'café ÿ'", "REPEAT('z', 70000)"], Text, true),
            text_utf8mb4_bin: ("v TINYTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", "v", ["'Bin'", "'bin'"], Text, true),
            binary_padding: ("v BINARY(4)", "v", ["x'01'", "x''", "x'00ff0000'", "'ab'"], Binary, true),
            varbinary: ("v VARBINARY(20)", "v", ["x'00'", "x'ff00ff'", "x''"], Binary, true),
            blob: ("v BLOB", "v", ["x'000102'", "x''"], Binary, true),
            longblob_mib: ("v LONGBLOB", "v", ["REPEAT(x'00ff41', 1048576)", "x'7f'"], Binary, true),
            enum_members: ("v ENUM('a','b','c d','é')", "v", ["'a'", "'c d'", "'é'", "''"], Enum, false),
            set_members: ("v SET('x','y','z')", "v", ["''", "'x,z'", "'x,y,z'", "'y'"], Set, false),
            json: ("v JSON", "v", ["'{\"k\": \"ünï\", \"n\": [1, 2.5, null]}'", "'null'", "'[]'", "'\"str\"'", "'1e300'"], Json, true),
            geometry: ("v GEOMETRY", "v", ["ST_GeomFromText('POINT(1 2)', 4326)", "ST_GeomFromText('LINESTRING(0 0, 1.5 -2)')",
                "ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))')"], Geometry, false),
            point: ("v POINT", "v", ["ST_GeomFromText('POINT(-1.5 0.25)')", "POINT(1e300, -1e-300)"], Geometry, false),
            multipolygon: ("v MULTIPOLYGON", "v", ["ST_GeomFromText('MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))')"], Geometry, false),
            uuid: ("v UUID", "v", ["'123e4567-e89b-12d3-a456-426655440000'", "'00000000-0000-0000-0000-000000000000'"], Text, false),
            inet6: ("v INET6", "v", ["'::1'", "'2001:db8::ff00:42:8329'", "'::ffff:192.0.2.1'"], Text, false),
            inet4: ("v INET4", "v", ["'192.0.2.1'", "'0.0.0.0'", "'255.255.255.255'"], Text, false),
            generated_virtual: ("base INT, v INT AS (base * 2) VIRTUAL", "base", ["1", "-5", "1073741823"], Int, false),
            generated_stored: ("base INT, v VARCHAR(20) AS (CONCAT('n', base)) STORED", "base", ["1", "-5"], Text, false),
            invisible: ("x INT, v VARCHAR(10) INVISIBLE", "x, v", ["1, 'hidden'", "2, ''"], Text, true),
            on_update_timestamp: ("x INT, v TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)",
                "x", ["1", "2"], Timestamp, false),
            on_update_datetime: ("x INT, v DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP", "x", ["1", "2"], DateTime, false),
        }
    };
}

/// How a compared column's text is brought to a form every destination and record format can
/// be compared in (see `canon.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Int,
    Float,
    Double,
    Decimal,
    Bit,
    Text,
    Binary,
    Date,
    Time,
    DateTime,
    Timestamp,
    Year,
    Enum,
    Set,
    Json,
    Geometry,
}

/// One declared type: how its table looks, what is written, what is compared.
#[derive(Debug)]
pub struct TypeCase {
    /// The case's name; its table is `t_<name>` and its tests are named after it.
    pub name: &'static str,
    /// Column definitions after the key column; the column under test is `v`.
    pub columns: &'static str,
    /// The columns the writer names in its INSERTs.
    pub insert: &'static str,
    /// Value tuples for `insert`, one per row (a row of NULLs is always added).
    pub rows: &'static [&'static str],
    /// How `v` compares (the other compared columns are integers).
    pub family: Family,
    /// Whether the `redact` masking method applies to `v`: the engine masks it, or must
    /// refuse the rule at precheck naming the column.
    pub maskable: bool,
}

impl TypeCase {
    /// The case's table name.
    pub fn table(&self) -> String {
        format!("t_{}", self.name)
    }

    /// Every row written, the NULL row last.
    pub fn all_rows(&self) -> Vec<String> {
        let mut rows: Vec<String> = self.rows.iter().map(|r| r.to_string()).collect();
        let nulls = vec!["NULL"; self.insert.split(',').count()];
        rows.push(nulls.join(", "));
        rows
    }

    /// The compared columns with their families: the written columns, then `v`.
    pub fn compared(&self) -> Vec<(String, Family)> {
        let mut out: Vec<(String, Family)> = self
            .insert
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| c != "v")
            .map(|c| (c, Family::Int))
            .collect();
        out.push(("v".into(), self.family));
        out
    }

    /// Whether `v` is a generated column.
    pub fn generated(&self) -> bool {
        self.columns.contains(" AS (")
    }

    /// The SELECT list that compares the case: `key`, then the compared columns.
    pub fn select_list(&self, key: &str) -> String {
        let mut cols = vec![format!("`{key}`")];
        cols.extend(self.compared().iter().map(|(c, _)| format!("`{c}`")));
        cols.join(", ")
    }
}

/// The declared list as values.
macro_rules! define_cases {
    ($($name:ident: ($columns:expr, $insert:expr, [$($row:expr),* $(,)?], $family:ident, $maskable:expr)),* $(,)?) => {
        /// Every declared case, in declaration order.
        pub const CASES: &[TypeCase] = &[
            $(TypeCase {
                name: stringify!($name),
                columns: $columns,
                insert: $insert,
                rows: &[$($row),*],
                family: Family::$family,
                maskable: $maskable,
            }),*
        ];
    };
}
with_cases!(define_cases!());

/// The case named `name`.
pub fn case(name: &str) -> &'static TypeCase {
    CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no declared case {name}"))
}
