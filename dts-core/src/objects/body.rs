//! Names inside the definition of a view, routine, trigger or event.
//!
//! A body is a sequence of statements sqlparser cannot read as a whole (compound statements,
//! cursors, handlers), so it is read token by token with sqlparser's MySQL tokenizer — string
//! literals, comments and quoted identifiers are never mistaken for names — and a name is
//! classified by where it stands:
//! - after `FROM`, `JOIN`, `INTO`, `UPDATE`, `TABLE`, `VIEW` (and after `,` or `(` inside such
//!   a clause), and after `ON` in a trigger's header: a **table** — `db.t` or `t` of the
//!   session database;
//! - `x.y.z`: database, table, column; `x.y(`: a routine of database `x`;
//! - `x.y` elsewhere: table (or alias) and column; `NEW.c` / `OLD.c` in a trigger: a column of
//!   its table;
//! - a lone name elsewhere: a column, a variable or a label — it cannot be told apart.
//!
//! Mapping replaces database and table names found so in the original text, and columns where
//! their table is known; a body in which a lone name equals a renamed column of a table the
//! body uses cannot be mapped reliably and is refused with the name.

use super::condition::quote_ident;
use super::rewrite::{offset, Names};
use crate::schema::TableId;
use sqlparser::dialect::MySqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// What a body refers to and how its names map.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BodyNames {
    /// Tables and views read or written (in table positions), qualified, in order of first use.
    pub tables: Vec<TableId>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The next name is a table.
    Table,
    /// Inside a clause listing tables, after a table (aliases, commas).
    TableList,
    /// The name of a routine, trigger or event being created, altered or dropped.
    ObjectName,
    Other,
}

struct Ident {
    value: String,
    start: usize,
    end: usize,
}

fn tokens(text: &str) -> Result<Vec<TokenWithSpan>, String> {
    let mut all = Tokenizer::new(&MySqlDialect {}, text)
        .tokenize_with_location()
        .map_err(|e| format!("its text cannot be tokenized ({e})"))?;
    all.retain(|t| !matches!(t.token, Token::Whitespace(_)));
    Ok(all)
}

fn keyword_of(t: &TokenWithSpan) -> Option<Keyword> {
    match &t.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

/// One replacement in the text.
struct Edit {
    start: usize,
    end: usize,
    with: String,
}

/// Reads `text` (a whole `CREATE …` statement or a body) whose unqualified names refer to
/// `session`; with `names`, maps them. `trigger_table` is the table of a trigger (`NEW.c`,
/// `OLD.c` and its header's `ON t`). Returns the tables used and, when mapping, the new text
/// (`None`: no name changes).
pub fn read_body(
    text: &str,
    session: &str,
    trigger_table: Option<&str>,
    names: Option<&dyn Names>,
) -> Result<(BodyNames, Option<String>), String> {
    let toks = tokens(text)?;
    // A select list names its tables before FROM does: find the tables first.
    let (found, _, _) = scan(text, &toks, session, trigger_table, None, &[]);
    let Some(n) = names else {
        return Ok((found, None));
    };
    let (_, edits, lone) = scan(text, &toks, session, trigger_table, Some(n), &found.tables);
    // A lone name equal to a renamed column of a used table cannot be mapped reliably.
    let mut used = found.tables.clone();
    if let Some(t) = trigger_table {
        let t = TableId::new(session, t);
        if !used.contains(&t) {
            used.push(t);
        }
    }
    for name in &lone {
        for table in &used {
            if n.column(table, name) != *name {
                return Err(format!(
                    "column {name} of table {table} is renamed at the destination, and the body \
                     names it where its table cannot be told"
                ));
            }
        }
    }
    if edits.is_empty() {
        return Ok((found, None));
    }
    let mut edits = edits;
    edits.sort_by_key(|e| e.start);
    edits.dedup_by_key(|e| e.start);
    let mut out = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for e in &edits {
        if e.start < at {
            continue;
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.with);
        at = e.end;
    }
    out.push_str(&text[at..]);
    Ok((found, Some(out)))
}

/// Keywords that may stand between a table-introducing keyword and the table.
const BEFORE_TABLE: [Keyword; 8] = [
    Keyword::IF,
    Keyword::NOT,
    Keyword::EXISTS,
    Keyword::IGNORE,
    Keyword::LOW_PRIORITY,
    Keyword::DELAYED,
    Keyword::HIGH_PRIORITY,
    Keyword::ONLY,
];

/// Keywords that, where a table could stand, are not one.
const NOT_A_TABLE: [Keyword; 10] = [
    Keyword::SELECT,
    Keyword::WITH,
    Keyword::LATERAL,
    Keyword::JSON_TABLE,
    Keyword::VALUES,
    Keyword::VALUE,
    Keyword::SET,
    Keyword::WHERE,
    Keyword::ON,
    Keyword::USING,
];

/// A word as a name: quoted with backticks, or unquoted and (unless `any`) not a keyword.
fn name_of(text: &str, t: &TokenWithSpan, any: bool) -> Option<Ident> {
    let Token::Word(w) = &t.token else {
        return None;
    };
    if w.quote_style.is_some_and(|q| q != '`') {
        return None;
    }
    if !any && w.quote_style.is_none() && w.keyword != Keyword::NoKeyword {
        return None;
    }
    let start = offset(text, t.span.start.line, t.span.start.column)?;
    let end = offset(text, t.span.end.line, t.span.end.column)?;
    Some(Ident {
        value: w.value.clone(),
        start,
        end,
    })
}

type Scan = (BodyNames, Vec<Edit>, Vec<String>);

fn scan(
    text: &str,
    toks: &[TokenWithSpan],
    session: &str,
    trigger_table: Option<&str>,
    names: Option<&dyn Names>,
    known: &[TableId],
) -> Scan {
    let mut found = BodyNames::default();
    let mut edits: Vec<Edit> = Vec::new();
    let mut lone: Vec<String> = Vec::new();
    let mut place = Place::Other;
    let mut in_trigger_header = trigger_table.is_some();
    let trigger_id = trigger_table.map(|t| TableId::new(session, t));
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let keyword = keyword_of(t).filter(|k| *k != Keyword::NoKeyword);
        // An unquoted keyword is a name where a table stands or before a dot (`NEW.c`).
        let dotted = toks
            .get(i + 1)
            .is_some_and(|n| matches!(n.token, Token::Period));
        let table_word = matches!(place, Place::Table | Place::ObjectName)
            && keyword.is_some_and(|k| !NOT_A_TABLE.contains(&k) && !BEFORE_TABLE.contains(&k));
        let as_name = table_word || dotted;
        let after_as = i > 0 && keyword_of(&toks[i - 1]) == Some(Keyword::AS);
        if let (Some(k), false) = (keyword, as_name) {
            match k {
                Keyword::FROM
                | Keyword::JOIN
                | Keyword::INTO
                | Keyword::UPDATE
                | Keyword::TABLE
                | Keyword::VIEW
                | Keyword::STRAIGHT_JOIN => place = Place::Table,
                Keyword::ON if in_trigger_header => place = Place::Table,
                Keyword::PROCEDURE | Keyword::FUNCTION | Keyword::EVENT | Keyword::TRIGGER
                    if place != Place::TableList =>
                {
                    place = Place::ObjectName
                }
                Keyword::ROW if in_trigger_header => {
                    in_trigger_header = false;
                    place = Place::Other;
                }
                k if matches!(place, Place::Table | Place::ObjectName)
                    && BEFORE_TABLE.contains(&k) => {}
                Keyword::AS if place == Place::TableList => {}
                _ => place = Place::Other,
            }
            i += 1;
            continue;
        }
        match &t.token {
            Token::Comma if place == Place::TableList => {
                place = Place::Table;
                i += 1;
                continue;
            }
            Token::LParen if place == Place::Table => {
                i += 1;
                continue;
            }
            Token::RParen if place == Place::TableList => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let Some(first) = name_of(text, t, as_name) else {
            if place == Place::TableList {
                place = Place::Other;
            }
            i += 1;
            continue;
        };
        // A chain a.b.c (a dot right after a name; `t.*` ends the chain).
        let mut chain = vec![first];
        let mut j = i + 1;
        while j + 1 < toks.len() && matches!(toks[j].token, Token::Period) {
            match name_of(text, &toks[j + 1], true) {
                Some(next) => {
                    chain.push(next);
                    j += 2;
                }
                None => break,
            }
        }
        let call = j < toks.len() && matches!(toks[j].token, Token::LParen);
        if place == Place::ObjectName {
            if let (Some(n), 2) = (names, chain.len()) {
                edit_database(&mut edits, n, &chain[0]);
            }
            place = Place::Other;
            i = j;
            continue;
        }
        let at_table = place == Place::Table;
        match (chain.len(), at_table) {
            (1, true) if chain[0].value.eq_ignore_ascii_case("dual") => {}
            (1, true) => {
                let id = TableId::new(session, chain[0].value.clone());
                note_table(&mut found, &id);
                if let Some(n) = names {
                    let dest = n.table(&id);
                    if dest != id {
                        let with = if dest.database != n.database(session) {
                            format!(
                                "{}.{}",
                                quote_ident(&dest.database),
                                quote_ident(&dest.table)
                            )
                        } else {
                            quote_ident(&dest.table)
                        };
                        edits.push(Edit {
                            start: chain[0].start,
                            end: chain[0].end,
                            with,
                        });
                    }
                }
                place = Place::TableList;
            }
            (2, true) => {
                let id = TableId::new(chain[0].value.clone(), chain[1].value.clone());
                note_table(&mut found, &id);
                if let Some(n) = names {
                    edit_table(&mut edits, n, &id, &chain[0], &chain[1]);
                }
                place = Place::TableList;
            }
            (2, false) if call => {
                // db.routine( — only the database maps.
                if let Some(n) = names {
                    edit_database(&mut edits, n, &chain[0]);
                }
            }
            (2, false) => {
                let pseudo = matches!(chain[0].value.to_ascii_uppercase().as_str(), "NEW" | "OLD");
                let table = match (&trigger_id, pseudo) {
                    (Some(tid), true) => Some(tid.clone()),
                    _ => None,
                };
                let (table, is_name) = match table {
                    Some(t) => (t, false),
                    None => (TableId::new(session, chain[0].value.clone()), true),
                };
                let real = !is_name || known.contains(&table);
                if let Some(n) = names {
                    if is_name && real {
                        let dest = n.table(&table);
                        if dest.table != table.table {
                            edits.push(Edit {
                                start: chain[0].start,
                                end: chain[0].end,
                                with: quote_ident(&dest.table),
                            });
                        }
                    }
                    if real {
                        edit_column(&mut edits, n, &table, &chain[1]);
                    } else {
                        // An alias: its column cannot be resolved; checked as a lone name.
                        lone.push(chain[1].value.clone());
                    }
                }
                if place == Place::TableList {
                    place = Place::Other;
                }
            }
            (3, _) => {
                let table = TableId::new(chain[0].value.clone(), chain[1].value.clone());
                if at_table {
                    note_table(&mut found, &table);
                    place = Place::TableList;
                }
                if let Some(n) = names {
                    edit_table(&mut edits, n, &table, &chain[0], &chain[1]);
                    edit_column(&mut edits, n, &table, &chain[2]);
                }
            }
            (1, false) if place != Place::TableList && !call && !after_as => {
                lone.push(chain[0].value.clone());
            }
            _ => {}
        }
        i = j;
    }
    (found, edits, lone)
}

fn note_table(found: &mut BodyNames, id: &TableId) {
    if !found.tables.contains(id) {
        found.tables.push(id.clone());
    }
}

fn edit_database(edits: &mut Vec<Edit>, n: &dyn Names, db: &Ident) {
    let dest = n.database(&db.value);
    if dest != db.value {
        edits.push(Edit {
            start: db.start,
            end: db.end,
            with: quote_ident(&dest),
        });
    }
}

fn edit_table(edits: &mut Vec<Edit>, n: &dyn Names, id: &TableId, db: &Ident, table: &Ident) {
    let dest = n.table(id);
    if dest.database != id.database {
        edits.push(Edit {
            start: db.start,
            end: db.end,
            with: quote_ident(&dest.database),
        });
    }
    if dest.table != id.table {
        edits.push(Edit {
            start: table.start,
            end: table.end,
            with: quote_ident(&dest.table),
        });
    }
}

fn edit_column(edits: &mut Vec<Edit>, n: &dyn Names, table: &TableId, column: &Ident) {
    let dest = n.column(table, &column.value);
    if dest != column.value {
        edits.push(Edit {
            start: column.start,
            end: column.end,
            with: quote_ident(&dest),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Upper;
    impl Names for Upper {
        fn table(&self, t: &TableId) -> TableId {
            TableId::new(self.database(&t.database), t.table.to_uppercase())
        }
        fn database(&self, d: &str) -> String {
            if d == "src" {
                "dst".into()
            } else {
                d.into()
            }
        }
        fn column(&self, _: &TableId, c: &str) -> String {
            if c == "a" {
                "A".into()
            } else {
                c.into()
            }
        }
    }

    const VIEW: &str = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY \
        DEFINER VIEW `v1` AS select `t1`.`id` AS `id`,`t1`.`a` AS `a`,`t2`.`b` AS `b` from \
        (`t1` join `t2` on(`t1`.`id` = `t2`.`id`)) where `t1`.`a` > 1";

    #[test]
    fn a_view_reads_its_tables() {
        let (found, text) = read_body(VIEW, "src", None, None).unwrap();
        assert_eq!(
            found.tables,
            [
                TableId::new("src", "v1"),
                TableId::new("src", "t1"),
                TableId::new("src", "t2")
            ]
        );
        assert!(text.is_none());
    }

    #[test]
    fn a_view_maps_tables_and_qualified_columns() {
        let (_, text) = read_body(VIEW, "src", None, Some(&Upper)).unwrap();
        let text = text.unwrap();
        assert!(
            text.contains("VIEW `V1` AS select `T1`.`id` AS `id`,`T1`.`A` AS `a`"),
            "{text}"
        );
        assert!(
            text.contains("from (`T1` join `T2` on(`T1`.`id` = `T2`.`id`)) where `T1`.`A` > 1"),
            "{text}"
        );
    }

    #[test]
    fn strings_comments_and_qualified_names_in_a_procedure() {
        let p = "CREATE DEFINER=`root`@`%` PROCEDURE `p`(IN n INT)\nBEGIN\n  -- from t1\n  \
                 INSERT INTO t1 VALUES (n, n); SELECT 'from t1', src.f(n) FROM src.t2, t1 x;\n\
                 UPDATE other.t SET b = 1;\nEND";
        let (found, text) = read_body(p, "src", None, Some(&Upper)).unwrap();
        assert_eq!(
            found.tables,
            [
                TableId::new("src", "t1"),
                TableId::new("src", "t2"),
                TableId::new("other", "t")
            ]
        );
        let text = text.unwrap();
        assert!(
            text.contains("-- from t1\n  INSERT INTO `T1` VALUES"),
            "{text}"
        );
        assert!(
            text.contains("'from t1', `dst`.f(n) FROM `dst`.`T2`, `T1` x;"),
            "{text}"
        );
        assert!(text.contains("UPDATE other.`T` SET"), "{text}");
    }

    #[test]
    fn qualified_object_names_map_their_database() {
        for (stmt, want) in [
            (
                "DROP PROCEDURE IF EXISTS `src`.`p`",
                "DROP PROCEDURE IF EXISTS `dst`.`p`",
            ),
            (
                "CREATE EVENT src.e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t1",
                "CREATE EVENT `dst`.e ON SCHEDULE EVERY 1 DAY DO DELETE FROM `T1`",
            ),
            (
                "ALTER FUNCTION src.f COMMENT 'x'",
                "ALTER FUNCTION `dst`.f COMMENT 'x'",
            ),
        ] {
            let (_, text) = read_body(stmt, "src", None, Some(&Upper)).unwrap();
            assert_eq!(text.as_deref(), Some(want), "{stmt}");
        }
    }

    #[test]
    fn trigger_new_and_old_use_the_trigger_table_and_lone_renamed_columns_refuse() {
        let t = "CREATE DEFINER=`root`@`%` TRIGGER tr AFTER INSERT ON t1 FOR EACH ROW \
                 INSERT INTO audit (id, note) VALUES (NEW.id, NEW.a)";
        let (found, text) = read_body(t, "src", Some("t1"), Some(&Upper)).unwrap();
        assert_eq!(
            found.tables,
            [TableId::new("src", "t1"), TableId::new("src", "audit")]
        );
        let text = text.unwrap();
        assert!(
            text.contains(
                "ON `T1` FOR EACH ROW INSERT INTO `AUDIT` (id, note) VALUES (NEW.id, NEW.`A`)"
            ),
            "{text}"
        );
        let bad = "CREATE TRIGGER tr BEFORE UPDATE ON t1 FOR EACH ROW SET NEW.b = a";
        let e = read_body(bad, "src", Some("t1"), Some(&Upper)).unwrap_err();
        assert!(e.contains("column a of table src.t1"), "{e}");
    }
}
