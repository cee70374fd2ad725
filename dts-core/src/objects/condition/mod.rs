//! Row conditions: the guide's "Set filter conditions" (a table's `filter`), parsed once,
//! validated against the table, pushed into the full-sync read as safe SQL text, and evaluated
//! on every binlog row image with MySQL's semantics so both phases keep the same rows.
//!
//! ```
//! use dts_core::objects::Condition;
//!
//! let c = Condition::parse("region = 'eu' AND amount >= 100.50").unwrap();
//! assert_eq!(c.to_sql(), "((`region` = 'eu') AND (`amount` >= 100.50))");
//! assert!(Condition::parse("id IN (SELECT id FROM other)").is_err());
//! assert!(Condition::parse("id > 1; DROP TABLE t").is_err());
//! ```
//!
//! Evaluation follows the server: NULL makes a comparison unknown and an unknown result rejects
//! the row; integers, unsigned integers and decimals compare exactly; strings compare under the
//! column's collation (case- and trailing-space-insensitive for PAD SPACE `_ci` collations,
//! bytewise for `_bin` and binary strings); dates, datetimes, timestamps (in UTC, like the
//! full-sync session) and times compare with string literals by parsing the literal.
//! `LENGTH` counts UTF-8 bytes (the server counts bytes of the column's character set, which
//! differs only for non-UTF-8 columns).

mod ast;
mod collation;
mod decimal;
mod eval;
mod like;
mod scalar;
mod temporal;

#[cfg(test)]
mod tests;

pub use ast::quote_ident;

use crate::change::Row;
use crate::schema::TableSchema;
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// Keywords after which `MOD` starts an operand (the function) rather than being an operator.
const OPERATOR_WORDS: [&str; 14] = [
    "AND", "OR", "NOT", "XOR", "IN", "LIKE", "BETWEEN", "IS", "WHEN", "THEN", "ELSE", "CASE",
    "DIV", "MOD",
];

/// MySQL's infix `a MOD b` (sqlparser reads only `%` and the function `MOD(a, b)`): an
/// unquoted `MOD` word between two operands becomes `%`.
fn infix_mod(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let significant = |t: &Token| !matches!(t, Token::Whitespace(_));
    for i in 0..tokens.len() {
        let is_mod = matches!(&tokens[i].token, Token::Word(w)
            if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("MOD"));
        if !is_mod {
            continue;
        }
        let before = tokens[..i].iter().rev().find(|t| significant(&t.token));
        let after = tokens[i + 1..].iter().find(|t| significant(&t.token));
        // After an operand (a column, a literal, a closing parenthesis) MOD is the operator;
        // after an operator keyword it is the function `MOD(…)`.
        let operand_before = before.is_some_and(|t| match &t.token {
            Token::Number(..)
            | Token::RParen
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_) => true,
            Token::Word(w) => {
                w.quote_style.is_some()
                    || !OPERATOR_WORDS
                        .iter()
                        .any(|k| w.value.eq_ignore_ascii_case(k))
            }
            _ => false,
        });
        let operand_after = after.is_some_and(|t| t.token != Token::EOF);
        if operand_before && operand_after {
            tokens[i].token = Token::Mod;
        }
    }
    tokens
}

pub(crate) use eval::column_position;

/// A compiled row condition (the text after `WHERE`).
#[derive(Clone, Debug)]
pub struct Condition {
    text: String,
    expr: ast::Expr,
    sql: String,
}

impl Condition {
    /// Parses a condition with sqlparser's MySQL dialect and compiles it. Rejected with a
    /// message saying why: text that is not one expression (a `;` or anything after it),
    /// subqueries, functions outside the allowed list (see [`Condition`]'s module docs), and
    /// other constructs whose result could differ between the server and this evaluator.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let dialect = MySqlDialect {};
        let tokens = Tokenizer::new(&dialect, text)
            .tokenize_with_location()
            .map_err(|e| format!("cannot read `{text}`: {e}"))?;
        let mut parser = Parser::new(&dialect).with_tokens_with_locations(infix_mod(tokens));
        let expr = parser
            .parse_expr()
            .map_err(|e| format!("cannot read `{text}`: {e}"))?;
        match parser.peek_token().token {
            Token::EOF => {}
            Token::SemiColon => {
                return Err(format!(
                    "`{text}` must be a single condition; `;` is not allowed"
                ))
            }
            other => {
                return Err(format!(
                    "cannot read `{text}`: unexpected `{other}` after the condition"
                ))
            }
        }
        let expr = ast::compile(&expr)?;
        let sql = expr.render();
        Ok(Condition {
            text: text.to_owned(),
            expr,
            sql,
        })
    }

    /// The condition as configured.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The condition as SQL safe to embed in `WHERE (…)`: every identifier in backticks, every
    /// string literal quoted so it reads the same with or without `NO_BACKSLASH_ESCAPES`, every
    /// operator application parenthesized.
    pub fn to_sql(&self) -> &str {
        &self.sql
    }

    /// Names of the columns the condition reads, in order of appearance (repeats included).
    pub fn columns(&self) -> Vec<&str> {
        self.expr.columns().into_iter().map(|(n, _)| n).collect()
    }

    /// Problems with the condition for `table`: columns it does not have, or a qualifier that
    /// names another table. Empty when the condition can run on the table.
    pub fn check(&self, table: &TableSchema) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, qualifier) in self.expr.columns() {
            if column_position(table, name).is_none() {
                problems.push(format!("table {} has no column `{name}`", table.id));
            }
            let qualifies = match qualifier {
                [] => true,
                [t] => *t == table.id.table,
                [d, t] => *d == table.id.database && *t == table.id.table,
                _ => false,
            };
            if !qualifies {
                problems.push(format!(
                    "`{}.{name}` does not name a column of {}",
                    qualifier.join("."),
                    table.id
                ));
            }
        }
        problems
    }

    /// The condition's value on a row image: `Some(true)`, `Some(false)`, or `None` for
    /// unknown (NULL). Errors when the row cannot be evaluated (an unknown column, an integer
    /// overflow the server would also reject).
    pub fn evaluate(&self, table: &TableSchema, row: &Row) -> Result<Option<bool>, String> {
        Ok(eval::eval(&self.expr, table, row)?.truth())
    }

    /// Whether a row passes: only a TRUE result does (FALSE and unknown reject it, as `WHERE`
    /// does).
    pub fn accepts(&self, table: &TableSchema, row: &Row) -> Result<bool, String> {
        Ok(self.evaluate(table, row)? == Some(true))
    }
}
