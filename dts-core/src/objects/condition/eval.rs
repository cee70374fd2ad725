//! Evaluating a compiled condition on a row image, with MySQL's three-valued logic.

use super::ast::{BinOp, Expr, Func, Literal, TrimSide};
use super::collation::{Collation, Derivation};
use super::like::{like_bytes, like_str};
use super::scalar::{arith, compare, negate, Arith, EvalResult, Num, Scalar, Text};
use super::temporal::parse_datetime;
use crate::change::Row;
use crate::schema::TableSchema;
use crate::value::{Date, DateTime};
use std::cmp::Ordering;

/// Position of a column by name, as MySQL resolves column names: case-insensitively (an exact
/// match wins when two columns differ only in case, which the server itself does not allow).
pub fn column_position(schema: &TableSchema, name: &str) -> Option<usize> {
    schema.column_index(name).or_else(|| {
        schema
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    })
}

/// Evaluates `expr` on `row` (laid out by `schema`).
pub fn eval(expr: &Expr, schema: &TableSchema, row: &Row) -> EvalResult<Scalar> {
    let ev = |e: &Expr| eval(e, schema, row);
    Ok(match expr {
        Expr::Column { name, .. } => {
            let i = column_position(schema, name)
                .ok_or_else(|| format!("unknown column `{name}` in table {}", schema.id))?;
            let value = row.get(i).ok_or_else(|| {
                format!(
                    "row image of {} has {} values, column `{name}` is number {}",
                    schema.id,
                    row.len(),
                    i + 1
                )
            })?;
            Scalar::from_value(value, &schema.columns[i])
        }
        Expr::Literal(l) => literal(l),
        Expr::Neg(e) => negate(&ev(e)?)?,
        Expr::Not(e) => Scalar::from_truth(ev(e)?.truth().map(|b| !b)),
        Expr::Binary { op, left, right } => binary(*op, left, right, schema, row)?,
        Expr::IsNull { expr, negated } => Scalar::from_truth(Some(ev(expr)?.is_null() != *negated)),
        Expr::IsBool {
            expr,
            truth,
            negated,
        } => {
            let t = ev(expr)?.truth();
            Scalar::from_truth(Some((t == Some(*truth)) != *negated))
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = ev(expr)?;
            let result = if v.is_null() {
                None
            } else {
                let mut saw_null = false;
                let mut found = false;
                for item in list {
                    match compare(&v, &ev(item)?) {
                        None => saw_null = true,
                        Some(Ordering::Equal) => {
                            found = true;
                            break;
                        }
                        Some(_) => {}
                    }
                }
                if found {
                    Some(true)
                } else if saw_null {
                    None
                } else {
                    Some(false)
                }
            };
            Scalar::from_truth(result.map(|b| b != *negated))
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let v = ev(expr)?;
            let ge = compare(&v, &ev(low)?).map(|o| o != Ordering::Less);
            let le = compare(&v, &ev(high)?).map(|o| o != Ordering::Greater);
            Scalar::from_truth(and3(ge, le).map(|b| b != *negated))
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
        } => {
            let escape = match escape {
                None => Some('\\'),
                Some(e) => match ev(e)?.to_text() {
                    None => Some('\\'),
                    Some(t) => {
                        let s = match t {
                            Text::Str(s, _) => s,
                            Text::Bin(b) => String::from_utf8_lossy(&b).into_owned(),
                        };
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (None, _) => None,
                            (Some(c), None) => Some(c),
                            _ => return Err(format!("ESCAPE '{s}' must be one character")),
                        }
                    }
                },
            };
            let (v, p) = (ev(expr)?.to_text(), ev(pattern)?.to_text());
            let result = match (v, p) {
                (Some(Text::Str(v, cv)), Some(Text::Str(p, cp))) => {
                    Some(like_str(&v, &p, escape, &Collation::resolve(cv, cp)))
                }
                (Some(v), Some(p)) => {
                    let bytes = |t: Text| match t {
                        Text::Str(s, _) => s.into_bytes(),
                        Text::Bin(b) => b,
                    };
                    let esc = escape.and_then(|c| u8::try_from(u32::from(c)).ok());
                    Some(like_bytes(&bytes(v), &bytes(p), esc))
                }
                _ => None,
            };
            Scalar::from_truth(result.map(|b| b != *negated))
        }
        Expr::Call { func, args } => call(*func, args, schema, row)?,
        Expr::Trim { side, what, expr } => {
            let what = match what {
                Some(w) => ev(w)?,
                None => Scalar::Str(" ".into(), Collation::LITERAL),
            };
            trim(*side, &ev(expr)?, &what)
        }
        Expr::Collate { expr, collation } => match ev(expr)?.to_text() {
            None => Scalar::Null,
            Some(Text::Str(s, _)) => {
                Scalar::Str(s, Collation::from_name(collation, Derivation::Explicit))
            }
            Some(Text::Bin(_)) => {
                return Err(format!(
                    "COLLATE {collation} cannot apply to a binary string"
                ))
            }
        },
    })
}

fn literal(l: &Literal) -> Scalar {
    match l {
        Literal::Null => Scalar::Null,
        Literal::Int(i) => Scalar::Int(*i),
        Literal::Decimal(d) => Scalar::Dec(d.0.clone()),
        Literal::Double { value, .. } => Scalar::Real(*value),
        Literal::Str(s) => Scalar::Str(s.clone(), Collation::LITERAL),
        Literal::Bytes(b) => Scalar::Bin(b.clone()),
        Literal::Bool(b) => Scalar::Int(i128::from(*b)),
        Literal::Date(d) => Scalar::Date(*d),
        Literal::DateTime(dt) => Scalar::DateTime(*dt),
        Literal::Time(t) => Scalar::Time(*t),
    }
}

fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn binary(
    op: BinOp,
    left: &Expr,
    right: &Expr,
    schema: &TableSchema,
    row: &Row,
) -> EvalResult<Scalar> {
    let ev = |e: &Expr| eval(e, schema, row);
    let cmp = |test: fn(Ordering) -> bool| -> EvalResult<Scalar> {
        let (l, r) = (ev(left)?, ev(right)?);
        Ok(Scalar::from_truth(compare(&l, &r).map(test)))
    };
    let math = |a: Arith| -> EvalResult<Scalar> { arith(a, &ev(left)?, &ev(right)?) };
    match op {
        BinOp::And => {
            let l = ev(left)?.truth();
            if l == Some(false) {
                return Ok(Scalar::from_truth(Some(false)));
            }
            Ok(Scalar::from_truth(and3(l, ev(right)?.truth())))
        }
        BinOp::Or => {
            let l = ev(left)?.truth();
            if l == Some(true) {
                return Ok(Scalar::from_truth(Some(true)));
            }
            Ok(Scalar::from_truth(or3(l, ev(right)?.truth())))
        }
        BinOp::Xor => {
            let (l, r) = (ev(left)?.truth(), ev(right)?.truth());
            Ok(Scalar::from_truth(l.zip(r).map(|(a, b)| a != b)))
        }
        BinOp::Eq => cmp(|o| o == Ordering::Equal),
        BinOp::NotEq => cmp(|o| o != Ordering::Equal),
        BinOp::Lt => cmp(|o| o == Ordering::Less),
        BinOp::LtEq => cmp(|o| o != Ordering::Greater),
        BinOp::Gt => cmp(|o| o == Ordering::Greater),
        BinOp::GtEq => cmp(|o| o != Ordering::Less),
        BinOp::NullSafeEq => {
            let (l, r) = (ev(left)?, ev(right)?);
            Ok(Scalar::from_truth(Some(match (l.is_null(), r.is_null()) {
                (true, true) => true,
                (true, false) | (false, true) => false,
                _ => compare(&l, &r) == Some(Ordering::Equal),
            })))
        }
        BinOp::Add => math(Arith::Add),
        BinOp::Sub => math(Arith::Sub),
        BinOp::Mul => math(Arith::Mul),
        BinOp::Div => math(Arith::Div),
        BinOp::IntDiv => math(Arith::IntDiv),
        BinOp::Mod => math(Arith::Mod),
    }
}

/// An integer argument (positions, lengths), rounded as MySQL rounds them.
fn int_arg(s: &Scalar) -> Option<i128> {
    match s.to_number() {
        Num::Null => None,
        Num::Int(i) => Some(i),
        Num::Dec(d) => d.round_to_i128(),
        Num::Real(f) => Some(f.round() as i128),
    }
}

/// A date-like argument read as a DATETIME (strings and numbers parsed, TIME is not a date).
fn datetime_arg(s: &Scalar) -> Option<DateTime> {
    match s {
        Scalar::Date(d) => Some(super::temporal::date_to_datetime(*d)),
        Scalar::DateTime(dt) => Some(*dt),
        Scalar::Null | Scalar::Time(_) => None,
        other => {
            let text = match other.to_text()? {
                Text::Str(s, _) => s,
                Text::Bin(b) => String::from_utf8_lossy(&b).into_owned(),
            };
            parse_datetime(&text).map(|p| p.value)
        }
    }
}

fn text_result(t: Text) -> Scalar {
    match t {
        Text::Str(s, c) => Scalar::Str(s, c),
        Text::Bin(b) => Scalar::Bin(b),
    }
}

fn call(func: Func, args: &[Expr], schema: &TableSchema, row: &Row) -> EvalResult<Scalar> {
    let ev = |i: usize| eval(&args[i], schema, row);
    Ok(match func {
        Func::Lower | Func::Upper => match ev(0)?.to_text() {
            None => Scalar::Null,
            Some(Text::Bin(b)) => Scalar::Bin(b),
            Some(Text::Str(s, c)) => Scalar::Str(
                if func == Func::Lower {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                },
                c,
            ),
        },
        Func::Length | Func::CharLength => match ev(0)?.to_text() {
            None => Scalar::Null,
            Some(Text::Bin(b)) => Scalar::Int(b.len() as i128),
            Some(Text::Str(s, _)) if func == Func::Length => Scalar::Int(s.len() as i128),
            Some(Text::Str(s, _)) => Scalar::Int(s.chars().count() as i128),
        },
        Func::Abs => match ev(0)?.to_number() {
            Num::Null => Scalar::Null,
            Num::Int(i) => Scalar::Int(i.abs()),
            Num::Dec(d) => Scalar::Dec(d.abs()),
            Num::Real(f) => Scalar::Real(f.abs()),
        },
        Func::Coalesce => {
            for i in 0..args.len() {
                let v = ev(i)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Scalar::Null
        }
        Func::IfNull => {
            let v = ev(0)?;
            if v.is_null() {
                ev(1)?
            } else {
                v
            }
        }
        Func::NullIf => {
            let (a, b) = (ev(0)?, ev(1)?);
            if compare(&a, &b) == Some(Ordering::Equal) {
                Scalar::Null
            } else {
                a
            }
        }
        Func::Concat => {
            let mut parts = Vec::with_capacity(args.len());
            for i in 0..args.len() {
                match ev(i)?.to_text() {
                    None => return Ok(Scalar::Null),
                    Some(t) => parts.push(t),
                }
            }
            concat(parts)
        }
        Func::Substring => {
            let s = ev(0)?;
            let pos = int_arg(&ev(1)?);
            let len = if args.len() > 2 {
                match int_arg(&ev(2)?) {
                    None => return Ok(Scalar::Null),
                    Some(l) => Some(l),
                }
            } else {
                None
            };
            match (s.to_text(), pos) {
                (Some(t), Some(pos)) => substring(t, pos, len),
                _ => Scalar::Null,
            }
        }
        Func::LTrim => trim(
            TrimSide::Leading,
            &ev(0)?,
            &Scalar::Str(" ".into(), Collation::LITERAL),
        ),
        Func::RTrim => trim(
            TrimSide::Trailing,
            &ev(0)?,
            &Scalar::Str(" ".into(), Collation::LITERAL),
        ),
        Func::Year | Func::Month | Func::Day => match datetime_arg(&ev(0)?) {
            None => Scalar::Null,
            Some(dt) => Scalar::Int(i128::from(match func {
                Func::Year => dt.date.year,
                Func::Month => u16::from(dt.date.month),
                _ => u16::from(dt.date.day),
            })),
        },
        Func::Date => match datetime_arg(&ev(0)?) {
            None => Scalar::Null,
            Some(dt) => Scalar::Date(Date { ..dt.date }),
        },
    })
}

fn concat(parts: Vec<Text>) -> Scalar {
    if parts.iter().any(|p| matches!(p, Text::Bin(_))) {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Text::Bin(b) => out.extend_from_slice(&b),
                Text::Str(s, _) => out.extend_from_slice(s.as_bytes()),
            }
        }
        return Scalar::Bin(out);
    }
    let mut out = String::new();
    let mut collation: Option<Collation> = None;
    for p in parts {
        if let Text::Str(s, c) = p {
            out.push_str(&s);
            collation = Some(match collation {
                None => c,
                Some(prev) => Collation::resolve(prev, c),
            });
        }
    }
    Scalar::Str(out, collation.unwrap_or(Collation::LITERAL))
}

/// MySQL's SUBSTRING: 1-based; a negative position counts from the end; position 0 or a
/// length below 1 gives the empty string. Characters for strings, bytes for binary strings.
fn substring(t: Text, pos: i128, len: Option<i128>) -> Scalar {
    fn range(total: usize, pos: i128, len: Option<i128>) -> Option<(usize, usize)> {
        let total = total as i128;
        let start = match pos {
            0 => return None,
            p if p > 0 => p - 1,
            p => total + p,
        };
        if start < 0 || start >= total {
            return None;
        }
        let end = match len {
            Some(l) if l < 1 => return None,
            Some(l) => (start + l).min(total),
            None => total,
        };
        Some((start as usize, end as usize))
    }
    match t {
        Text::Str(s, c) => {
            let chars: Vec<char> = s.chars().collect();
            let out = range(chars.len(), pos, len)
                .map(|(a, b)| chars[a..b].iter().collect())
                .unwrap_or_default();
            Scalar::Str(out, c)
        }
        Text::Bin(b) => {
            let out = range(b.len(), pos, len)
                .map(|(x, y)| b[x..y].to_vec())
                .unwrap_or_default();
            Scalar::Bin(out)
        }
    }
}

fn trim(side: TrimSide, value: &Scalar, what: &Scalar) -> Scalar {
    let (Some(v), Some(w)) = (value.to_text(), what.to_text()) else {
        return Scalar::Null;
    };
    let bytes_of = |t: &Text| -> Vec<u8> {
        match t {
            Text::Str(s, _) => s.as_bytes().to_vec(),
            Text::Bin(b) => b.clone(),
        }
    };
    let remove = bytes_of(&w);
    let mut data = bytes_of(&v);
    if !remove.is_empty() {
        if side != TrimSide::Trailing {
            let mut start = 0;
            while data[start..].starts_with(&remove) {
                start += remove.len();
            }
            data.drain(..start);
        }
        if side != TrimSide::Leading {
            while data.ends_with(&remove) {
                data.truncate(data.len() - remove.len());
            }
        }
    }
    match v {
        // Removing whole UTF-8 sequences from whole UTF-8 text leaves valid UTF-8.
        Text::Str(_, c) => Scalar::Str(String::from_utf8_lossy(&data).into_owned(), c),
        Text::Bin(_) => text_result(Text::Bin(data)),
    }
}
