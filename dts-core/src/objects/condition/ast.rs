//! The row-condition language: the subset of MySQL expressions a WHERE filter may use, compiled
//! from sqlparser's AST, and rendered back to SQL with every identifier quoted.
//!
//! Allowed: column names (optionally qualified by the table, or database and table), literals
//! (numbers, strings, `X'..'`, `TRUE`/`FALSE`, `NULL`, `DATE '..'`, `TIME '..'`,
//! `TIMESTAMP '..'`), `AND OR XOR NOT`, comparisons (`= <=> <> != < <= > >=`), `+ - * / DIV %
//! MOD`, unary minus, `IS [NOT] NULL|TRUE|FALSE`, `[NOT] IN (list)`, `[NOT] BETWEEN`,
//! `[NOT] LIKE … [ESCAPE …]`, `COLLATE`, and the functions in [`Func`]. Everything else —
//! subqueries, other functions (including non-deterministic ones like `NOW()`), variables,
//! `CASE`, `CAST` — is rejected with a message naming it, because the condition is both pushed
//! into the full-sync read and evaluated on binlog row images, and the two must agree.

use super::decimal::Decimal;
use super::temporal::{parse_datetime, parse_time};
use crate::value::{Date, DateTime, Time};
use sqlparser::ast::{
    self as sql, BinaryOperator, DataType, FunctionArg, FunctionArgExpr, FunctionArguments,
    InTarget, TrimWhereField, UnaryOperator,
};
use std::fmt::Write as _;

/// A compiled condition expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A column of the filtered table.
    Column {
        /// Column name as written (MySQL matches column names case-insensitively).
        name: String,
        /// Qualifying names written before it (`t.c` → `["t"]`, `d.t.c` → `["d", "t"]`).
        qualifier: Vec<String>,
    },
    /// A constant.
    Literal(Literal),
    /// Unary minus.
    Neg(Box<Expr>),
    /// Logical NOT.
    Not(Box<Expr>),
    /// A binary operator.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `IS [NOT] NULL`.
    IsNull {
        /// Tested expression.
        expr: Box<Expr>,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `IS [NOT] TRUE|FALSE`.
    IsBool {
        /// Tested expression.
        expr: Box<Expr>,
        /// `TRUE` or `FALSE`.
        truth: bool,
        /// `IS NOT …`.
        negated: bool,
    },
    /// `[NOT] IN (list)`.
    InList {
        /// Tested expression.
        expr: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
    },
    /// `[NOT] BETWEEN low AND high`.
    Between {
        /// Tested expression.
        expr: Box<Expr>,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
        /// `NOT BETWEEN`.
        negated: bool,
    },
    /// `[NOT] LIKE pattern [ESCAPE c]`.
    Like {
        /// Tested expression.
        expr: Box<Expr>,
        /// The pattern (`%` any run, `_` one character).
        pattern: Box<Expr>,
        /// Escape character expression (default `\`).
        escape: Option<Box<Expr>>,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// A whitelisted function call.
    Call {
        /// The function.
        func: Func,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `TRIM([BOTH|LEADING|TRAILING] [what] FROM expr)`.
    Trim {
        /// Which side(s).
        side: TrimSide,
        /// The string removed (default a space).
        what: Option<Box<Expr>>,
        /// The trimmed expression.
        expr: Box<Expr>,
    },
    /// `expr COLLATE name`.
    Collate {
        /// The expression.
        expr: Box<Expr>,
        /// Collation name.
        collation: String,
    },
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `AND`.
    And,
    /// `OR`.
    Or,
    /// `XOR`.
    Xor,
    /// `=`.
    Eq,
    /// `<=>` (NULL-safe equality).
    NullSafeEq,
    /// `<>` / `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `DIV`.
    IntDiv,
    /// `%` / `MOD`.
    Mod,
}

impl BinOp {
    fn sql(self) -> &'static str {
        match self {
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Xor => "XOR",
            BinOp::Eq => "=",
            BinOp::NullSafeEq => "<=>",
            BinOp::NotEq => "<>",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::IntDiv => "DIV",
            BinOp::Mod => "%",
        }
    }
}

/// Which side `TRIM` removes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimSide {
    /// Both ends (the default).
    Both,
    /// The start.
    Leading,
    /// The end.
    Trailing,
}

/// The functions a row condition may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `LOWER(s)` / `LCASE(s)`.
    Lower,
    /// `UPPER(s)` / `UCASE(s)`.
    Upper,
    /// `LENGTH(s)` / `OCTET_LENGTH(s)`: bytes.
    Length,
    /// `CHAR_LENGTH(s)` / `CHARACTER_LENGTH(s)`: characters.
    CharLength,
    /// `ABS(x)`.
    Abs,
    /// `COALESCE(a, …)`.
    Coalesce,
    /// `IFNULL(a, b)`.
    IfNull,
    /// `NULLIF(a, b)`.
    NullIf,
    /// `CONCAT(a, …)`.
    Concat,
    /// `SUBSTRING(s, pos[, len])` / `SUBSTR` / `MID`.
    Substring,
    /// `LTRIM(s)`.
    LTrim,
    /// `RTRIM(s)`.
    RTrim,
    /// `YEAR(d)`.
    Year,
    /// `MONTH(d)`.
    Month,
    /// `DAY(d)` / `DAYOFMONTH(d)`.
    Day,
    /// `DATE(d)`.
    Date,
}

impl Func {
    /// Names accepted, for messages.
    pub const NAMES: &'static str = "LOWER, LCASE, UPPER, UCASE, LENGTH, OCTET_LENGTH, \
        CHAR_LENGTH, CHARACTER_LENGTH, ABS, COALESCE, IFNULL, NULLIF, CONCAT, SUBSTRING, SUBSTR, \
        MID, TRIM, LTRIM, RTRIM, YEAR, MONTH, DAY, DAYOFMONTH, DATE";

    fn from_name(name: &str) -> Option<Func> {
        Some(match name.to_ascii_uppercase().as_str() {
            "LOWER" | "LCASE" => Func::Lower,
            "UPPER" | "UCASE" => Func::Upper,
            "LENGTH" | "OCTET_LENGTH" => Func::Length,
            "CHAR_LENGTH" | "CHARACTER_LENGTH" => Func::CharLength,
            "ABS" => Func::Abs,
            "COALESCE" => Func::Coalesce,
            "IFNULL" => Func::IfNull,
            "NULLIF" => Func::NullIf,
            "CONCAT" => Func::Concat,
            "SUBSTRING" | "SUBSTR" | "MID" => Func::Substring,
            "LTRIM" => Func::LTrim,
            "RTRIM" => Func::RTrim,
            "YEAR" => Func::Year,
            "MONTH" => Func::Month,
            "DAY" | "DAYOFMONTH" => Func::Day,
            "DATE" => Func::Date,
            _ => return None,
        })
    }

    fn sql(self) -> &'static str {
        match self {
            Func::Lower => "LOWER",
            Func::Upper => "UPPER",
            Func::Length => "LENGTH",
            Func::CharLength => "CHAR_LENGTH",
            Func::Abs => "ABS",
            Func::Coalesce => "COALESCE",
            Func::IfNull => "IFNULL",
            Func::NullIf => "NULLIF",
            Func::Concat => "CONCAT",
            Func::Substring => "SUBSTRING",
            Func::LTrim => "LTRIM",
            Func::RTrim => "RTRIM",
            Func::Year => "YEAR",
            Func::Month => "MONTH",
            Func::Day => "DAY",
            Func::Date => "DATE",
        }
    }

    /// Allowed argument counts (min, max).
    fn arity(self) -> (usize, usize) {
        match self {
            Func::Coalesce | Func::Concat => (1, usize::MAX),
            Func::IfNull | Func::NullIf => (2, 2),
            Func::Substring => (2, 3),
            _ => (1, 1),
        }
    }
}

/// A constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `NULL`.
    Null,
    /// An integer literal.
    Int(i128),
    /// A fixed-point literal (`1.50`).
    Decimal(DecimalLit),
    /// A literal with an exponent (`1e3`): a DOUBLE in MySQL.
    Double {
        /// The value.
        value: f64,
        /// The literal as written, rendered back unchanged.
        text: String,
    },
    /// A character string.
    Str(String),
    /// A binary string (`X'..'`, `_binary '..'`).
    Bytes(Vec<u8>),
    /// `TRUE` / `FALSE` (1 / 0).
    Bool(bool),
    /// `DATE '..'`.
    Date(Date),
    /// `TIMESTAMP '..'` / `DATETIME '..'`.
    DateTime(DateTime),
    /// `TIME '..'`.
    Time(Time),
}

/// A decimal literal (wrapped so `Literal` can derive `PartialEq`).
#[derive(Clone, Debug)]
pub struct DecimalLit(pub Decimal);

impl PartialEq for DecimalLit {
    fn eq(&self, other: &Self) -> bool {
        self.0.cmp_exact(&other.0).is_eq() && self.0.scale() == other.0.scale()
    }
}

fn boxed(e: &sql::Expr) -> Result<Box<Expr>, String> {
    compile_at(e, false).map(Box::new)
}

fn unsupported(what: &str) -> String {
    format!(
        "{what} is not allowed in a row filter; use column comparisons, AND/OR/NOT, IN, BETWEEN, \
         LIKE, IS NULL, arithmetic and the functions {}",
        Func::NAMES
    )
}

/// Compiles a parsed sqlparser expression into a condition, rejecting what is not allowed.
pub fn compile(e: &sql::Expr) -> Result<Expr, String> {
    compile_at(e, true)
}

/// `xor_ok`: whether an unparenthesized XOR may stand here. sqlparser gives XOR a higher
/// precedence than MySQL does (MySQL: comparison > NOT > AND > XOR > OR), so a bare XOR is only
/// read the same way at the top, inside parentheses, or as an operand of OR or XOR, and only
/// when its own operands are atoms; anywhere else the user is asked to add parentheses.
fn compile_at(e: &sql::Expr, xor_ok: bool) -> Result<Expr, String> {
    use sql::Expr as E;
    Ok(match e {
        E::Identifier(id) => Expr::Column {
            name: id.value.clone(),
            qualifier: Vec::new(),
        },
        E::CompoundIdentifier(ids) if (2..=3).contains(&ids.len()) => {
            let (last, rest) = ids.split_last().expect("non-empty");
            Expr::Column {
                name: last.value.clone(),
                qualifier: rest.iter().map(|i| i.value.clone()).collect(),
            }
        }
        E::CompoundIdentifier(ids) => {
            return Err(format!(
                "`{}` is not a column name",
                ids.iter()
                    .map(|i| i.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            ))
        }
        E::Value(v) => Expr::Literal(literal(&v.value)?),
        E::Nested(inner) => compile_at(inner, true)?,
        E::UnaryOp { op, expr } => match op {
            UnaryOperator::Minus => Expr::Neg(boxed(expr)?),
            UnaryOperator::Plus => compile_at(expr, false)?,
            UnaryOperator::Not | UnaryOperator::BangNot => Expr::Not(boxed(expr)?),
            other => return Err(unsupported(&format!("operator `{other}`"))),
        },
        E::BinaryOp {
            left,
            op: BinaryOperator::Xor,
            right,
        } if !xor_ok || !xor_operand(left) || !xor_operand(right) => {
            return Err(format!(
                "write both sides of XOR in parentheses (`({left}) XOR ({right})`): the parser \
                 and MySQL disagree on its precedence"
            ))
        }
        E::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::And => BinOp::And,
                BinaryOperator::Or => BinOp::Or,
                BinaryOperator::Xor => BinOp::Xor,
                BinaryOperator::Eq => BinOp::Eq,
                BinaryOperator::Spaceship => BinOp::NullSafeEq,
                BinaryOperator::NotEq => BinOp::NotEq,
                BinaryOperator::Lt => BinOp::Lt,
                BinaryOperator::LtEq => BinOp::LtEq,
                BinaryOperator::Gt => BinOp::Gt,
                BinaryOperator::GtEq => BinOp::GtEq,
                BinaryOperator::Plus => BinOp::Add,
                BinaryOperator::Minus => BinOp::Sub,
                BinaryOperator::Multiply => BinOp::Mul,
                BinaryOperator::Divide => BinOp::Div,
                BinaryOperator::MyIntegerDivide => BinOp::IntDiv,
                BinaryOperator::Modulo => BinOp::Mod,
                other => return Err(unsupported(&format!("operator `{other}`"))),
            };
            let logical = matches!(op, BinOp::Or | BinOp::Xor);
            Expr::Binary {
                op,
                left: Box::new(compile_at(left, logical)?),
                right: Box::new(compile_at(right, logical)?),
            }
        }
        E::IsNull(x) => Expr::IsNull {
            expr: boxed(x)?,
            negated: false,
        },
        E::IsNotNull(x) => Expr::IsNull {
            expr: boxed(x)?,
            negated: true,
        },
        E::IsTrue(x) | E::IsNotTrue(x) | E::IsFalse(x) | E::IsNotFalse(x) => Expr::IsBool {
            expr: boxed(x)?,
            truth: matches!(e, E::IsTrue(_) | E::IsNotTrue(_)),
            negated: matches!(e, E::IsNotTrue(_) | E::IsNotFalse(_)),
        },
        E::In {
            expr,
            target,
            negated,
            ..
        } => match target {
            InTarget::List(list) => Expr::InList {
                expr: boxed(expr)?,
                list: list
                    .iter()
                    .map(|e| compile_at(e, false))
                    .collect::<Result<_, _>>()?,
                negated: *negated,
            },
            InTarget::Subquery(_) => return Err(unsupported("a subquery")),
            _ => return Err(unsupported("this form of IN")),
        },
        E::Between {
            expr,
            negated,
            low,
            high,
        } => Expr::Between {
            expr: boxed(expr)?,
            low: boxed(low)?,
            high: boxed(high)?,
            negated: *negated,
        },
        E::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char,
        } => Expr::Like {
            expr: boxed(expr)?,
            pattern: boxed(pattern)?,
            escape: escape_char.as_deref().map(boxed).transpose()?,
            negated: *negated,
        },
        E::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            let from = substring_from
                .as_deref()
                .ok_or_else(|| "SUBSTRING needs a start position".to_string())?;
            let mut args = vec![compile_at(expr, false)?, compile_at(from, false)?];
            if let Some(len) = substring_for {
                args.push(compile_at(len, false)?);
            }
            Expr::Call {
                func: Func::Substring,
                args,
            }
        }
        E::Trim {
            trim_where,
            trim_what,
            expr,
            trim_characters,
        } => {
            if trim_characters.is_some() {
                return Err(unsupported("TRIM with a character list"));
            }
            Expr::Trim {
                side: match trim_where {
                    None | Some(TrimWhereField::Both) => TrimSide::Both,
                    Some(TrimWhereField::Leading) => TrimSide::Leading,
                    Some(TrimWhereField::Trailing) => TrimSide::Trailing,
                },
                what: trim_what.as_deref().map(boxed).transpose()?,
                expr: boxed(expr)?,
            }
        }
        E::Collate { expr, collation } => Expr::Collate {
            expr: boxed(expr)?,
            collation: collation.to_string().trim_matches('`').to_string(),
        },
        E::TypedString(ts) => typed_string(&ts.data_type, &ts.value.value)?,
        E::Prefixed { prefix, value } => {
            let E::Value(v) = value.as_ref() else {
                return Err(unsupported(&format!("`{e}`")));
            };
            let bytes = match &v.value {
                sql::Value::HexStringLiteral(hex) => decode_hex(hex)?,
                other => string_value(other)
                    .ok_or_else(|| unsupported(&format!("the introducer `{}`", prefix.value)))?
                    .into_bytes(),
            };
            if prefix.value.eq_ignore_ascii_case("_binary") {
                Expr::Literal(Literal::Bytes(bytes))
            } else {
                Expr::Literal(Literal::Str(String::from_utf8(bytes).map_err(|_| {
                    format!("the `{}` string is not valid UTF-8", prefix.value)
                })?))
            }
        }
        E::Function(f) => function(f)?,
        E::Subquery(_) | E::Exists { .. } => return Err(unsupported("a subquery")),
        other => return Err(unsupported(&format!("`{other}`"))),
    })
}

/// Operands of XOR whose grouping cannot be misread.
fn xor_operand(e: &sql::Expr) -> bool {
    matches!(
        e,
        sql::Expr::Nested(_)
            | sql::Expr::Identifier(_)
            | sql::Expr::CompoundIdentifier(_)
            | sql::Expr::Value(_)
            | sql::Expr::Function(_)
            | sql::Expr::BinaryOp {
                op: BinaryOperator::Xor,
                ..
            }
    )
}

fn string_value(v: &sql::Value) -> Option<String> {
    match v {
        sql::Value::SingleQuotedString(s)
        | sql::Value::DoubleQuotedString(s)
        | sql::Value::NationalStringLiteral(s) => Some(s.clone()),
        _ => None,
    }
}

fn literal(v: &sql::Value) -> Result<Literal, String> {
    Ok(match v {
        sql::Value::Null => Literal::Null,
        sql::Value::Boolean(b) => Literal::Bool(*b),
        sql::Value::Number(text, _) => number(text)?,
        sql::Value::HexStringLiteral(hex) => Literal::Bytes(decode_hex(hex)?),
        other => match string_value(other) {
            Some(s) => Literal::Str(s),
            None => return Err(unsupported(&format!("the literal `{other}`"))),
        },
    })
}

fn number(text: &str) -> Result<Literal, String> {
    if text.contains(['e', 'E']) {
        let value: f64 = text
            .parse()
            .map_err(|_| format!("`{text}` is not a number"))?;
        return Ok(Literal::Double {
            value,
            text: text.to_owned(),
        });
    }
    let d = Decimal::parse(text).ok_or_else(|| format!("`{text}` is not a number"))?;
    Ok(if text.contains('.') {
        Literal::Decimal(DecimalLit(d))
    } else {
        match d.to_i128() {
            Some(i) if i <= i128::from(u64::MAX) => Literal::Int(i),
            _ => Literal::Decimal(DecimalLit(d)),
        }
    })
}

fn decode_hex(hex: &str) -> Result<Vec<u8>, String> {
    let padded = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    (0..padded.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&padded[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|_| format!("X'{hex}' is not a hexadecimal literal"))
}

fn typed_string(data_type: &DataType, value: &sql::Value) -> Result<Expr, String> {
    let text = string_value(value).ok_or_else(|| unsupported(&format!("`{value}`")))?;
    let lit = match data_type {
        DataType::Date => {
            let p = parse_datetime(&text)
                .filter(|p| !p.has_time)
                .ok_or_else(|| format!("DATE '{text}' is not a valid date"))?;
            Literal::Date(p.value.date)
        }
        DataType::Datetime(_) | DataType::Timestamp(_, _) => {
            let p = parse_datetime(&text)
                .ok_or_else(|| format!("TIMESTAMP '{text}' is not a valid date and time"))?;
            Literal::DateTime(p.value)
        }
        DataType::Time(_, _) => Literal::Time(
            parse_time(&text).ok_or_else(|| format!("TIME '{text}' is not a valid time"))?,
        ),
        other => {
            return Err(unsupported(&format!(
                "the typed literal `{other} '{text}'`"
            )))
        }
    };
    Ok(Expr::Literal(lit))
}

fn function(f: &sql::Function) -> Result<Expr, String> {
    let name = f.name.to_string();
    let func = Func::from_name(&name).ok_or_else(|| {
        format!(
            "function `{name}` is not allowed in a row filter (allowed: {})",
            Func::NAMES
        )
    })?;
    if f.over.is_some() || f.filter.is_some() || !f.within_group.is_empty() {
        return Err(unsupported(&format!("`{f}`")));
    }
    let args = match &f.args {
        FunctionArguments::List(list) => {
            if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                return Err(unsupported(&format!("`{f}`")));
            }
            list.args
                .iter()
                .map(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => compile_at(e, false),
                    _ => Err(unsupported(&format!("the argument `{a}`"))),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        FunctionArguments::Subquery(_) => return Err(unsupported("a subquery")),
        FunctionArguments::None => Vec::new(),
    };
    let (min, max) = func.arity();
    if args.len() < min || args.len() > max {
        return Err(format!(
            "{} takes {} argument{}, got {}",
            func.sql(),
            if min == max {
                min.to_string()
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            },
            if max == 1 { "" } else { "s" },
            args.len()
        ));
    }
    Ok(Expr::Call { func, args })
}

/// An identifier in backticks, with backticks inside doubled.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A string literal safe to embed in MySQL whatever `NO_BACKSLASH_ESCAPES` says: plain quotes
/// with `''` when there is no backslash or control character, otherwise a hex literal with a
/// `_utf8mb4` introducer (still a character string, compared with the column's collation).
pub fn quote_string(s: &str) -> String {
    if s.chars().any(|c| c == '\\' || c.is_control()) {
        let mut out = String::from("_utf8mb4 X'");
        for b in s.bytes() {
            let _ = write!(out, "{b:02X}");
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

impl Expr {
    /// The condition as MySQL text: identifiers in backticks, strings quoted safely, every
    /// operator application parenthesized so the text means exactly the compiled tree.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) {
        match self {
            Expr::Column { name, .. } => out.push_str(&quote_ident(name)),
            Expr::Literal(l) => render_literal(l, out),
            Expr::Neg(e) => {
                out.push_str("(-");
                e.render_into(out);
                out.push(')');
            }
            Expr::Not(e) => {
                out.push_str("(NOT ");
                e.render_into(out);
                out.push(')');
            }
            Expr::Binary { op, left, right } => {
                out.push('(');
                left.render_into(out);
                let _ = write!(out, " {} ", op.sql());
                right.render_into(out);
                out.push(')');
            }
            Expr::IsNull { expr, negated } => {
                out.push('(');
                expr.render_into(out);
                out.push_str(if *negated {
                    " IS NOT NULL)"
                } else {
                    " IS NULL)"
                });
            }
            Expr::IsBool {
                expr,
                truth,
                negated,
            } => {
                out.push('(');
                expr.render_into(out);
                out.push_str(if *negated { " IS NOT " } else { " IS " });
                out.push_str(if *truth { "TRUE)" } else { "FALSE)" });
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                out.push('(');
                expr.render_into(out);
                out.push_str(if *negated { " NOT IN (" } else { " IN (" });
                for (i, e) in list.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    e.render_into(out);
                }
                out.push_str("))");
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                out.push('(');
                expr.render_into(out);
                out.push_str(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                });
                low.render_into(out);
                out.push_str(" AND ");
                high.render_into(out);
                out.push(')');
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                out.push('(');
                expr.render_into(out);
                out.push_str(if *negated { " NOT LIKE " } else { " LIKE " });
                pattern.render_into(out);
                // The default escape is `\`. Spell it out (in a form that reads the same with
                // or without NO_BACKSLASH_ESCAPES) unless the pattern is a literal without one,
                // where no escape character can matter.
                let plain_literal = matches!(
                    pattern.as_ref(),
                    Expr::Literal(Literal::Str(p)) if !p.contains('\\')
                );
                match escape {
                    Some(e) => {
                        out.push_str(" ESCAPE ");
                        e.render_into(out);
                    }
                    None if plain_literal => {}
                    None => {
                        out.push_str(" ESCAPE ");
                        out.push_str(&quote_string("\\"));
                    }
                }
                out.push(')');
            }
            Expr::Call { func, args } => {
                out.push_str(func.sql());
                out.push('(');
                for (i, e) in args.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    e.render_into(out);
                }
                out.push(')');
            }
            Expr::Trim { side, what, expr } => {
                out.push_str("TRIM(");
                out.push_str(match side {
                    TrimSide::Both => "BOTH ",
                    TrimSide::Leading => "LEADING ",
                    TrimSide::Trailing => "TRAILING ",
                });
                match what {
                    Some(w) => w.render_into(out),
                    None => out.push_str("' '"),
                }
                out.push_str(" FROM ");
                expr.render_into(out);
                out.push(')');
            }
            Expr::Collate { expr, collation } => {
                out.push('(');
                expr.render_into(out);
                out.push_str(" COLLATE ");
                out.push_str(&quote_ident(collation));
                out.push(')');
            }
        }
    }

    /// Every column reference, in order of appearance.
    pub fn columns(&self) -> Vec<(&str, &[String])> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Column { name, qualifier } = e {
                out.push((name.as_str(), qualifier.as_slice()));
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Column { .. } | Expr::Literal(_) => {}
            Expr::Neg(e) | Expr::Not(e) => e.walk(f),
            Expr::IsNull { expr, .. } | Expr::IsBool { expr, .. } | Expr::Collate { expr, .. } => {
                expr.walk(f)
            }
            Expr::Binary { left, right, .. } => {
                left.walk(f);
                right.walk(f);
            }
            Expr::InList { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|e| e.walk(f));
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.walk(f);
                low.walk(f);
                high.walk(f);
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                expr.walk(f);
                pattern.walk(f);
                if let Some(e) = escape {
                    e.walk(f);
                }
            }
            Expr::Call { args, .. } => args.iter().for_each(|e| e.walk(f)),
            Expr::Trim { what, expr, .. } => {
                if let Some(w) = what {
                    w.walk(f);
                }
                expr.walk(f);
            }
        }
    }
}

fn render_literal(l: &Literal, out: &mut String) {
    match l {
        Literal::Null => out.push_str("NULL"),
        Literal::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Literal::Decimal(d) => {
            let _ = write!(out, "{}", d.0);
        }
        Literal::Double { text, .. } => out.push_str(text),
        Literal::Str(s) => out.push_str(&quote_string(s)),
        Literal::Bytes(b) => {
            out.push_str("X'");
            for byte in b {
                let _ = write!(out, "{byte:02X}");
            }
            out.push('\'');
        }
        Literal::Bool(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
        Literal::Date(d) => {
            let _ = write!(out, "DATE '{d}'");
        }
        Literal::DateTime(dt) => {
            let _ = write!(out, "TIMESTAMP '{dt}'");
        }
        Literal::Time(t) => {
            let _ = write!(out, "TIME '{t}'");
        }
    }
}
