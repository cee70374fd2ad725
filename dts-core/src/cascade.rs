//! Foreign-key cascades: the rows InnoDB changes by itself.
//!
//! `ON DELETE CASCADE`, `ON DELETE SET NULL`, `ON UPDATE CASCADE` and `ON UPDATE SET NULL` are
//! applied inside the storage engine: the binlog carries the parent's row change but not the
//! child rows it deletes or updates. Copying the binlog alone would leave those child rows as
//! they were at the destination, silently.
//!
//! The task therefore derives them, once, here: a [`CascadeGraph`] built from the source's
//! foreign keys ([`crate::Source::foreign_keys`]) turns each parent row change into
//! [`DerivedChange`]s — predicate changes on the child tables ("delete the rows of `c` whose
//! `(p_id)` is `(1)`", "set `c.p_id` to NULL where …") — placed in the transaction right after
//! the parent change. Sinks translate them (SQL destinations as `DELETE … WHERE` /
//! `UPDATE … SET … WHERE`, Kafka as records marked as derived); they do not decide anything.
//!
//! # Rules (InnoDB's)
//!
//! - A DELETE of a parent row follows every foreign key referencing the parent with
//!   `ON DELETE CASCADE` (the child rows go) or `ON DELETE SET NULL` (their foreign-key
//!   columns become NULL). `RESTRICT` and `NO ACTION` produce nothing (the source refused the
//!   statement if children existed).
//! - An UPDATE of a parent row that changes at least one referenced column follows the
//!   foreign keys with `ON UPDATE CASCADE` (the child's columns whose referenced column changed
//!   take the new values) or `ON UPDATE SET NULL` (every foreign-key column becomes NULL).
//! - An old referenced value that is NULL matches no child: nothing is derived.
//! - Derived changes cascade in turn: a deleted child row is a parent for its own children; a
//!   child whose columns were set (NULL or new values) is an updated parent for foreign keys
//!   referencing those columns. Deeper levels select their rows through the level above
//!   ([`RowMatch::Referencing`]), evaluated on the destination's rows *before* the level above
//!   is applied, so a transaction lists them deepest first (post-order): a level's own
//!   children precede it.
//! - InnoDB stops at [`MAX_DEPTH`] nested levels (the statement fails beyond it), so
//!   self-referencing tables and cycles are unrolled that deep and no deeper.
//! - A cascading update that would reach a table it already updated in the same cascade acts
//!   as RESTRICT in InnoDB (the statement fails when such rows exist); such branches are not
//!   derived.
//! - Tables the task does not select end a branch: their rows are not at the destination, and
//!   a selected table below them cannot be reached (the precheck warns about that
//!   constraint, `objects.foreign_key_cascades`).

use crate::change::{Row, RowChange, RowOp};
use crate::schema::{SchemaRef, TableId};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// Nesting depth InnoDB follows a cascade to (deeper, the statement fails at the source).
pub const MAX_DEPTH: u32 = 15;

/// Most derived changes one parent row change may produce before the task refuses (a schema
/// whose foreign keys branch and loop so much that unrolling them to [`MAX_DEPTH`] explodes).
pub const MAX_DERIVED_PER_CHANGE: usize = 10_000;

/// A foreign key's `ON DELETE` / `ON UPDATE` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    /// `CASCADE`: the child rows follow (deleted, or their columns updated).
    Cascade,
    /// `SET NULL`: the child's foreign-key columns become NULL.
    SetNull,
    /// `SET DEFAULT` (parsed by MySQL, refused by InnoDB): treated as producing nothing.
    SetDefault,
    /// `RESTRICT`: the parent change fails while children exist.
    Restrict,
    /// `NO ACTION` (InnoDB: as RESTRICT).
    NoAction,
}

impl ReferentialAction {
    /// Parses `information_schema.REFERENTIAL_CONSTRAINTS.UPDATE_RULE` / `DELETE_RULE`.
    pub fn parse(rule: &str) -> Option<Self> {
        Some(match rule.trim().to_ascii_uppercase().as_str() {
            "CASCADE" => Self::Cascade,
            "SET NULL" => Self::SetNull,
            "SET DEFAULT" => Self::SetDefault,
            "RESTRICT" => Self::Restrict,
            "NO ACTION" => Self::NoAction,
            _ => return None,
        })
    }

    /// Whether the rule changes child rows by itself (CASCADE or SET NULL).
    pub fn changes_children(self) -> bool {
        matches!(self, Self::Cascade | Self::SetNull)
    }
}

impl fmt::Display for ReferentialAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cascade => "CASCADE",
            Self::SetNull => "SET NULL",
            Self::SetDefault => "SET DEFAULT",
            Self::Restrict => "RESTRICT",
            Self::NoAction => "NO ACTION",
        })
    }
}

/// One foreign key of the source, as `information_schema` describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Constraint name (unique within the child's database).
    pub name: String,
    /// The referencing (child) table.
    pub child: TableId,
    /// The child's columns, in constraint order.
    pub child_columns: Vec<String>,
    /// The referenced (parent) table.
    pub parent: TableId,
    /// The parent's referenced columns, in constraint order (same length as `child_columns`).
    pub parent_columns: Vec<String>,
    /// `ON UPDATE` rule.
    pub on_update: ReferentialAction,
    /// `ON DELETE` rule.
    pub on_delete: ReferentialAction,
}

impl ForeignKey {
    /// Whether either rule changes child rows (CASCADE or SET NULL).
    pub fn cascades(&self) -> bool {
        self.on_update.changes_children() || self.on_delete.changes_children()
    }

    /// `db.child.name`, how messages name the constraint.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.child, self.name)
    }
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "constraint `{}` of {} ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            self.name,
            self.child,
            self.child_columns.join(", "),
            self.parent,
            self.parent_columns.join(", "),
            self.on_delete,
            self.on_update
        )
    }
}

/// What a derived change does to the rows it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CascadeOp {
    /// `ON DELETE CASCADE`: the rows are deleted.
    Delete,
    /// `ON DELETE SET NULL` / `ON UPDATE SET NULL`: [`DerivedChange::set`] holds NULLs.
    SetNull,
    /// `ON UPDATE CASCADE`: [`DerivedChange::set`] holds the new values.
    Update,
}

impl CascadeOp {
    /// `delete`, `set_null` or `update`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Delete => "delete",
            Self::SetNull => "set_null",
            Self::Update => "update",
        }
    }

    /// The row operation a destination's DML filter judges it as.
    pub fn row_op(self) -> RowOp {
        match self {
            Self::Delete => RowOp::Delete,
            Self::SetNull | Self::Update => RowOp::Update,
        }
    }
}

/// Which rows of a table a derived change concerns.
#[derive(Clone, Debug, PartialEq)]
pub enum RowMatch {
    /// Rows whose `columns` equal `values` (no value is NULL).
    Equals {
        /// Columns of the table the change targets.
        columns: Vec<String>,
        /// Their values, in order.
        values: Vec<Value>,
    },
    /// Rows whose `columns` equal the `referenced` columns of a row of `table` that `within`
    /// matches — as `table`'s rows are before the derived change on `table` (which follows in
    /// the transaction) is applied.
    Referencing {
        /// Columns of the table the change targets.
        columns: Vec<String>,
        /// The table one level up.
        table: SchemaRef,
        /// Columns of `table` that `columns` reference, in order.
        referenced: Vec<String>,
        /// Rows of `table` concerned.
        within: Box<RowMatch>,
    },
}

impl RowMatch {
    /// The columns of the targeted table the match compares.
    pub fn columns(&self) -> &[String] {
        match self {
            Self::Equals { columns, .. } | Self::Referencing { columns, .. } => columns,
        }
    }

    /// Nesting depth: 1 for [`RowMatch::Equals`].
    pub fn depth(&self) -> u32 {
        match self {
            Self::Equals { .. } => 1,
            Self::Referencing { within, .. } => 1 + within.depth(),
        }
    }
}

/// The source row change a cascade started from.
#[derive(Clone, Debug, PartialEq)]
pub struct CascadeCause {
    /// The parent table (destination name when the parent is selected, else the source's).
    pub table: TableId,
    /// Delete or update.
    pub op: RowOp,
    /// The parent row's identity (primary or unique key) before the change, by column name;
    /// empty for a parent without one.
    pub key: Vec<(String, Value)>,
}

impl fmt::Display for CascadeCause {
    /// `db.p delete (id=1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            RowOp::Insert => "insert",
            RowOp::Update => "update",
            RowOp::Delete => "delete",
        };
        write!(f, "{} {op}", self.table)?;
        if !self.key.is_empty() {
            let parts: Vec<String> = self
                .key
                .iter()
                .map(|(c, v)| format!("{c}={}", value_text(v)))
                .collect();
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) | Value::Bit(u) => u.to_string(),
        Value::Text(s) | Value::Decimal(s) | Value::Enum(s) | Value::Json(s) => format!("'{s}'"),
        other => format!("{other:?}"),
    }
}

/// Rows of a child table changed by a foreign key's referential action, which the source's log
/// does not carry: a predicate change (which rows, what happens to them) rather than row
/// images.
#[derive(Clone, Debug, PartialEq)]
pub struct DerivedChange {
    /// The table whose rows change (after mapping: the destination table).
    pub schema: SchemaRef,
    /// Name of the foreign key whose rule this is.
    pub constraint: String,
    /// Delete, set NULL or update.
    pub op: CascadeOp,
    /// Which rows.
    pub matching: RowMatch,
    /// Columns set and their values (NULLs for SET NULL, the parent's new values for CASCADE);
    /// empty for deletes.
    pub set: Vec<(String, Value)>,
    /// The source change the cascade started from.
    pub cause: CascadeCause,
    /// Level in the cascade: 1 for the parent's direct children.
    pub depth: u32,
}

impl DerivedChange {
    /// The table changed.
    pub fn table(&self) -> &TableId {
        &self.schema.id
    }

    /// Rough size in bytes of the values it carries, for throttling.
    pub fn approx_size(&self) -> usize {
        fn m(r: &RowMatch) -> usize {
            match r {
                RowMatch::Equals { values, .. } => values.iter().map(Value::approx_size).sum(),
                RowMatch::Referencing { within, .. } => m(within),
            }
        }
        m(&self.matching) + self.set.iter().map(|(_, v)| v.approx_size()).sum::<usize>()
    }
}

impl fmt::Display for DerivedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} by constraint `{}` (level {}) after {}",
            self.op.name(),
            self.schema.id,
            self.constraint,
            self.depth,
            self.cause
        )
    }
}

/// The source's cascading foreign keys, indexed by parent, with the schemas of their tables:
/// derives the child changes of a parent row change.
#[derive(Clone, Debug, Default)]
pub struct CascadeGraph {
    by_parent: HashMap<TableId, Vec<ForeignKey>>,
    schemas: HashMap<TableId, SchemaRef>,
}

impl CascadeGraph {
    /// The graph of `foreign_keys` whose rules change children, over `schemas` (the source's
    /// tables; a foreign key whose child is not among them is not followed).
    pub fn new(foreign_keys: &[ForeignKey], schemas: &[SchemaRef]) -> Self {
        let schemas: HashMap<TableId, SchemaRef> =
            schemas.iter().map(|s| (s.id.clone(), s.clone())).collect();
        let mut by_parent: HashMap<TableId, Vec<ForeignKey>> = HashMap::new();
        for fk in foreign_keys.iter().filter(|fk| fk.cascades()) {
            if fk.child_columns.len() != fk.parent_columns.len() || fk.child_columns.is_empty() {
                continue;
            }
            by_parent
                .entry(fk.parent.clone())
                .or_default()
                .push(fk.clone());
        }
        for fks in by_parent.values_mut() {
            fks.sort_by(|a, b| (&a.child, &a.name).cmp(&(&b.child, &b.name)));
        }
        Self { by_parent, schemas }
    }

    /// True when no foreign key cascades.
    pub fn is_empty(&self) -> bool {
        self.by_parent.is_empty()
    }

    /// The derived changes of one source row change, in application order (deepest level of
    /// each branch first, see the module documentation), in source names. Fails when the
    /// unrolled cascade is unreasonably large ([`MAX_DERIVED_PER_CHANGE`]).
    pub fn derive(&self, change: &RowChange) -> crate::Result<Vec<DerivedChange>> {
        let mut out = Vec::new();
        let parent = change.table();
        let Some(fks) = self.by_parent.get(parent) else {
            return Ok(out);
        };
        let Some(before) = change.before.as_ref() else {
            return Ok(out);
        };
        let schema = &change.schema;
        let cause = || CascadeCause {
            table: parent.clone(),
            op: change.op,
            key: schema
                .identity_indexes()
                .map(|idx| {
                    idx.iter()
                        .filter_map(|&i| {
                            Some((schema.columns[i].name.clone(), before.get(i)?.clone()))
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let value_of = |row: &Row, col: &str| -> Option<Value> {
            schema.column_index(col).and_then(|i| row.get(i).cloned())
        };
        for fk in fks {
            let Some(old) = fk
                .parent_columns
                .iter()
                .map(|c| value_of(before, c))
                .collect::<Option<Vec<Value>>>()
            else {
                continue;
            };
            if old.iter().any(Value::is_null) {
                continue;
            }
            let matching = RowMatch::Equals {
                columns: fk.child_columns.clone(),
                values: old.clone(),
            };
            let (op, set) = match change.op {
                RowOp::Insert => continue,
                RowOp::Delete => match fk.on_delete {
                    ReferentialAction::Cascade => (CascadeOp::Delete, vec![]),
                    ReferentialAction::SetNull => (CascadeOp::SetNull, null_set(fk)),
                    _ => continue,
                },
                RowOp::Update => {
                    let Some(after) = change.after.as_ref() else {
                        continue;
                    };
                    let new: Option<Vec<Value>> = fk
                        .parent_columns
                        .iter()
                        .map(|c| value_of(after, c))
                        .collect();
                    let Some(new) = new else { continue };
                    if new == old {
                        continue;
                    }
                    match fk.on_update {
                        ReferentialAction::Cascade => (
                            CascadeOp::Update,
                            fk.child_columns
                                .iter()
                                .zip(old.iter().zip(&new))
                                .filter(|(_, (o, n))| o != n)
                                .map(|(c, (_, n))| (c.clone(), n.clone()))
                                .collect(),
                        ),
                        ReferentialAction::SetNull => (CascadeOp::SetNull, null_set(fk)),
                        _ => continue,
                    }
                }
            };
            // InnoDB refuses a cascading update that reaches a table the statement already
            // updated (the parent, for an UPDATE).
            let mut updated = if change.op == RowOp::Update {
                vec![parent.clone()]
            } else {
                vec![]
            };
            let mut ctx = Expand {
                cause: cause(),
                out: &mut out,
            };
            self.expand(fk, op, matching, set, 1, &mut updated, &mut ctx)?;
        }
        Ok(out)
    }

    /// Appends the changes below `fk`'s level, then the level itself.
    #[allow(clippy::too_many_arguments)]
    fn expand(
        &self,
        fk: &ForeignKey,
        op: CascadeOp,
        matching: RowMatch,
        set: Vec<(String, Value)>,
        depth: u32,
        updated: &mut Vec<TableId>,
        ctx: &mut Expand<'_>,
    ) -> crate::Result<()> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let Some(child) = self.schemas.get(&fk.child) else {
            return Ok(());
        };
        if ctx.out.len() >= MAX_DERIVED_PER_CHANGE {
            return Err(crate::Error::Schema {
                table: fk.child.clone(),
                message: format!(
                    "the foreign-key cascade of {} unrolls into more than \
                     {MAX_DERIVED_PER_CHANGE} derived changes (foreign keys that branch and \
                     loop); synchronize these tables without cascading foreign keys",
                    ctx.cause
                ),
            });
        }
        let is_update = op != CascadeOp::Delete;
        if is_update {
            updated.push(fk.child.clone());
        }
        for next in self.by_parent.get(&fk.child).into_iter().flatten() {
            let below = |matching: &RowMatch| RowMatch::Referencing {
                columns: next.child_columns.clone(),
                table: child.clone(),
                referenced: next.parent_columns.clone(),
                within: Box::new(matching.clone()),
            };
            match op {
                CascadeOp::Delete => {
                    let (op2, set2) = match next.on_delete {
                        ReferentialAction::Cascade => (CascadeOp::Delete, vec![]),
                        ReferentialAction::SetNull => (CascadeOp::SetNull, null_set(next)),
                        _ => continue,
                    };
                    self.expand(next, op2, below(&matching), set2, depth + 1, updated, ctx)?;
                }
                CascadeOp::SetNull | CascadeOp::Update => {
                    // The child's set columns that `next` references.
                    let changed: Vec<(&String, &Value)> = next
                        .child_columns
                        .iter()
                        .zip(&next.parent_columns)
                        .filter_map(|(c2, r2)| {
                            set.iter().find(|(s, _)| s == r2).map(|(_, v)| (c2, v))
                        })
                        .collect();
                    if changed.is_empty() || updated.contains(&next.child) {
                        continue;
                    }
                    let (op2, set2) = match next.on_update {
                        ReferentialAction::Cascade => (
                            CascadeOp::Update,
                            changed
                                .into_iter()
                                .map(|(c, v)| (c.clone(), v.clone()))
                                .collect(),
                        ),
                        ReferentialAction::SetNull => (CascadeOp::SetNull, null_set(next)),
                        _ => continue,
                    };
                    self.expand(next, op2, below(&matching), set2, depth + 1, updated, ctx)?;
                }
            }
        }
        if is_update {
            updated.pop();
        }
        ctx.out.push(DerivedChange {
            schema: child.clone(),
            constraint: fk.name.clone(),
            op,
            matching,
            set,
            cause: ctx.cause.clone(),
            depth,
        });
        Ok(())
    }
}

struct Expand<'a> {
    cause: CascadeCause,
    out: &'a mut Vec<DerivedChange>,
}

fn null_set(fk: &ForeignKey) -> Vec<(String, Value)> {
    fk.child_columns
        .iter()
        .map(|c| (c.clone(), Value::Null))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Column, ColumnType, TableSchema};
    use std::sync::Arc;

    fn table(name: &str, cols: &[&str], pk: &[&str]) -> SchemaRef {
        Arc::new(TableSchema {
            id: TableId::new("d", name),
            columns: cols
                .iter()
                .map(|c| {
                    Column::new(
                        *c,
                        ColumnType::Integer {
                            bytes: 4,
                            unsigned: false,
                        },
                        "int",
                    )
                })
                .collect(),
            primary_key: pk.iter().map(|s| s.to_string()).collect(),
            unique_keys: vec![],
            indexes: vec![],
            create_sql: None,
            constraints: Default::default(),
        })
    }

    fn fk(
        name: &str,
        child: &str,
        cc: &[&str],
        parent: &str,
        pc: &[&str],
        on_delete: ReferentialAction,
        on_update: ReferentialAction,
    ) -> ForeignKey {
        ForeignKey {
            name: name.into(),
            child: TableId::new("d", child),
            child_columns: cc.iter().map(|s| s.to_string()).collect(),
            parent: TableId::new("d", parent),
            parent_columns: pc.iter().map(|s| s.to_string()).collect(),
            on_update,
            on_delete,
        }
    }

    fn ints(v: &[i64]) -> Vec<Value> {
        v.iter().map(|&i| Value::Int(i)).collect()
    }

    fn delete(s: &SchemaRef, row: &[i64]) -> RowChange {
        RowChange {
            schema: s.clone(),
            op: RowOp::Delete,
            before: Some(ints(row)),
            after: None,
        }
    }

    fn update(s: &SchemaRef, b: &[i64], a: &[i64]) -> RowChange {
        RowChange {
            schema: s.clone(),
            op: RowOp::Update,
            before: Some(ints(b)),
            after: Some(ints(a)),
        }
    }

    use ReferentialAction::*;

    #[test]
    fn delete_cascade_and_set_null_and_restrict() {
        let p = table("p", &["id", "v"], &["id"]);
        let c = table("c", &["id", "p_id"], &["id"]);
        let n = table("n", &["id", "p_id"], &["id"]);
        let r = table("r", &["id", "p_id"], &["id"]);
        let g = CascadeGraph::new(
            &[
                fk("fc", "c", &["p_id"], "p", &["id"], Cascade, Restrict),
                fk("fn", "n", &["p_id"], "p", &["id"], SetNull, Restrict),
                fk("fr", "r", &["p_id"], "p", &["id"], Restrict, NoAction),
            ],
            &[p.clone(), c, n, r],
        );
        let out = g.derive(&delete(&p, &[1, 5])).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].table().table, "c");
        assert_eq!(out[0].op, CascadeOp::Delete);
        assert_eq!(
            out[0].matching,
            RowMatch::Equals {
                columns: vec!["p_id".into()],
                values: ints(&[1])
            }
        );
        assert!(out[0].set.is_empty());
        assert_eq!(out[0].cause.key, vec![("id".to_string(), Value::Int(1))]);
        assert_eq!(out[0].cause.to_string(), "d.p delete (id=1)");
        assert_eq!(out[1].table().table, "n");
        assert_eq!(out[1].op, CascadeOp::SetNull);
        assert_eq!(out[1].set, vec![("p_id".to_string(), Value::Null)]);
        // Inserts, and updates of RESTRICT-only or unreferenced columns, derive nothing.
        let ins = RowChange {
            schema: p.clone(),
            op: RowOp::Insert,
            before: None,
            after: Some(ints(&[1, 2])),
        };
        assert!(g.derive(&ins).unwrap().is_empty());
        assert!(g.derive(&update(&p, &[1, 5], &[1, 6])).unwrap().is_empty());
        assert!(g.derive(&update(&p, &[1, 5], &[2, 5])).unwrap().is_empty());
    }

    #[test]
    fn update_cascade_sets_changed_columns_and_set_null_all() {
        let p = table("p", &["a", "b", "v"], &["a", "b"]);
        let c = table("c", &["id", "pa", "pb"], &["id"]);
        let n = table("n", &["id", "pa", "pb"], &["id"]);
        let g = CascadeGraph::new(
            &[
                fk(
                    "fc",
                    "c",
                    &["pa", "pb"],
                    "p",
                    &["a", "b"],
                    Restrict,
                    Cascade,
                ),
                fk(
                    "fn",
                    "n",
                    &["pa", "pb"],
                    "p",
                    &["a", "b"],
                    Restrict,
                    SetNull,
                ),
            ],
            &[p.clone(), c, n],
        );
        let out = g.derive(&update(&p, &[1, 2, 0], &[1, 3, 0])).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].op, CascadeOp::Update);
        assert_eq!(out[0].set, vec![("pb".to_string(), Value::Int(3))]);
        assert_eq!(
            out[0].matching,
            RowMatch::Equals {
                columns: vec!["pa".into(), "pb".into()],
                values: ints(&[1, 2])
            }
        );
        assert_eq!(out[1].op, CascadeOp::SetNull);
        assert_eq!(
            out[1].set,
            vec![
                ("pa".to_string(), Value::Null),
                ("pb".to_string(), Value::Null)
            ]
        );
        // Deletes follow ON DELETE (RESTRICT here): nothing.
        assert!(g.derive(&delete(&p, &[1, 2, 0])).unwrap().is_empty());
    }

    #[test]
    fn null_old_values_match_nothing() {
        let p = table("p", &["id", "u"], &["id"]);
        let c = table("c", &["id", "pu"], &["id"]);
        let g = CascadeGraph::new(
            &[fk("fc", "c", &["pu"], "p", &["u"], Cascade, Cascade)],
            &[p.clone(), c],
        );
        let mut d = delete(&p, &[1, 0]);
        d.before.as_mut().unwrap()[1] = Value::Null;
        assert!(g.derive(&d).unwrap().is_empty());
    }

    #[test]
    fn three_levels_come_deepest_first_through_the_level_above() {
        let a = table("a", &["id"], &["id"]);
        let b = table("b", &["id", "a_id"], &["id"]);
        let c = table("c", &["id", "b_id"], &["id"]);
        let g = CascadeGraph::new(
            &[
                fk("fb", "b", &["a_id"], "a", &["id"], Cascade, Restrict),
                fk("fc", "c", &["b_id"], "b", &["id"], Cascade, Restrict),
            ],
            &[a.clone(), b.clone(), c],
        );
        let out = g.derive(&delete(&a, &[7])).unwrap();
        let names: Vec<_> = out
            .iter()
            .map(|d| (d.table().table.as_str(), d.depth))
            .collect();
        assert_eq!(names, vec![("c", 2), ("b", 1)]);
        assert_eq!(
            out[0].matching,
            RowMatch::Referencing {
                columns: vec!["b_id".into()],
                table: b,
                referenced: vec!["id".into()],
                within: Box::new(RowMatch::Equals {
                    columns: vec!["a_id".into()],
                    values: ints(&[7])
                }),
            }
        );
    }

    #[test]
    fn self_reference_unrolls_to_innodb_depth() {
        let t = table("t", &["id", "parent"], &["id"]);
        let g = CascadeGraph::new(
            &[fk("ft", "t", &["parent"], "t", &["id"], Cascade, Restrict)],
            std::slice::from_ref(&t),
        );
        let out = g.derive(&delete(&t, &[1, 0])).unwrap();
        assert_eq!(out.len(), MAX_DEPTH as usize);
        assert_eq!(out[0].depth, MAX_DEPTH);
        assert_eq!(out[0].matching.depth(), MAX_DEPTH);
        assert_eq!(out.last().unwrap().depth, 1);
        // Self-referencing ON UPDATE CASCADE acts as RESTRICT below the first level.
        let u = CascadeGraph::new(
            &[fk("ft", "t", &["parent"], "t", &["id"], Restrict, Cascade)],
            std::slice::from_ref(&t),
        );
        let out = u.derive(&update(&t, &[1, 0], &[2, 0])).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].set, vec![("parent".to_string(), Value::Int(2))]);
    }

    #[test]
    fn set_columns_cascade_to_keys_referencing_them() {
        // c's key includes its foreign-key column; g references c's whole key.
        let p = table("p", &["id"], &["id"]);
        let c = table("c", &["p_id", "n"], &["p_id", "n"]);
        let g = table("g", &["id", "cp", "cn"], &["id"]);
        let h = table("h", &["id", "cn"], &["id"]);
        let graph = CascadeGraph::new(
            &[
                fk("fc", "c", &["p_id"], "p", &["id"], Cascade, Cascade),
                fk(
                    "fg",
                    "g",
                    &["cp", "cn"],
                    "c",
                    &["p_id", "n"],
                    Cascade,
                    Cascade,
                ),
                // References a column the cascade does not change: not followed on update.
                fk("fh", "h", &["cn"], "c", &["n"], Cascade, Cascade),
            ],
            &[p.clone(), c, g, h],
        );
        let out = graph.derive(&update(&p, &[1], &[2])).unwrap();
        let desc: Vec<_> = out
            .iter()
            .map(|d| (d.table().table.clone(), d.op, d.set.clone()))
            .collect();
        assert_eq!(
            desc,
            vec![
                (
                    "g".to_string(),
                    CascadeOp::Update,
                    vec![("cp".to_string(), Value::Int(2))]
                ),
                (
                    "c".to_string(),
                    CascadeOp::Update,
                    vec![("p_id".to_string(), Value::Int(2))]
                ),
            ]
        );
        // A delete reaches every level and both children of c.
        let out = graph.derive(&delete(&p, &[1])).unwrap();
        let names: Vec<_> = out.iter().map(|d| d.table().table.as_str()).collect();
        assert_eq!(names, vec!["g", "h", "c"]);
    }

    #[test]
    fn unknown_child_tables_end_the_branch() {
        let p = table("p", &["id"], &["id"]);
        let g = CascadeGraph::new(
            &[fk("fc", "c", &["p_id"], "p", &["id"], Cascade, Cascade)],
            std::slice::from_ref(&p),
        );
        assert!(g.derive(&delete(&p, &[1])).unwrap().is_empty());
        assert!(ReferentialAction::parse("set null") == Some(SetNull));
        assert!(ReferentialAction::parse("bogus").is_none());
    }
}
