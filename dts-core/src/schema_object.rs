//! Schema objects beyond tables — views, stored procedures and functions, triggers, events —
//! and database accounts: what schema synchronization carries besides table definitions.
//!
//! A source reads them from its catalog ([`crate::Source::schema_objects`],
//! [`crate::Source::accounts`]); the filter decides which reach the destination and maps their
//! names, inside their bodies too ([`crate::Filter::route_object`]); the task creates them
//! during schema synchronization in dependency order (routines, then views in the order they
//! read one another, then triggers, then events) and the sink translates each into its
//! dialect ([`crate::Sink::create_object`]). Rules every sink follows:
//! - a **trigger** the task creates never fires for rows the task itself writes (the rows a
//!   trigger produced at the source already arrive through the log);
//! - an **event** the task creates is disabled: it must not run a second time while the
//!   source is live; [`CutoverStep`]s say what to enable when the application moves over.

use crate::schema::TableId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a schema object other than a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A stored function (created first: views and other routines may call it).
    Function,
    /// A stored procedure.
    Procedure,
    /// A view.
    View,
    /// A trigger on a table.
    Trigger,
    /// A scheduled event.
    Event,
}

impl ObjectKind {
    /// The SQL keyword of the kind (`VIEW`, `PROCEDURE`, …).
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::View => "VIEW",
            ObjectKind::Trigger => "TRIGGER",
            ObjectKind::Event => "EVENT",
        }
    }

    /// The kind named by a SQL keyword (any case).
    pub fn from_keyword(word: &str) -> Option<ObjectKind> {
        Some(match word.to_ascii_uppercase().as_str() {
            "FUNCTION" => ObjectKind::Function,
            "PROCEDURE" => ObjectKind::Procedure,
            "VIEW" => ObjectKind::View,
            "TRIGGER" => ObjectKind::Trigger,
            "EVENT" => ObjectKind::Event,
            _ => return None,
        })
    }

    /// Lower-case name for messages.
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::View => "view",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Event => "event",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// One schema object as the source's catalog holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaObject {
    /// What it is.
    pub kind: ObjectKind,
    /// The database it lives in.
    pub database: String,
    /// Its name.
    pub name: String,
    /// For a trigger: the table it is defined on (in `database`).
    pub table: Option<String>,
    /// The complete `CREATE` statement as the source prints it (`SHOW CREATE …`), its
    /// `DEFINER` clause included. After routing: with destination names.
    pub definition: String,
    /// The account it runs as (`user@host`, unquoted), when it has one.
    pub definer: Option<String>,
    /// The `sql_mode` it was created under (its body is read under it again).
    pub sql_mode: String,
    /// The client character set it was created with.
    pub character_set_client: Option<String>,
    /// The connection collation it was created with.
    pub collation_connection: Option<String>,
    /// For an event: the time zone its schedule is read in.
    pub time_zone: Option<String>,
    /// The tables and views a view reads (qualified); empty for other kinds. Views are created
    /// after those they read.
    pub reads: Vec<TableId>,
    /// For an event: whether it is enabled at the source (it is created disabled).
    pub enabled: bool,
}

impl SchemaObject {
    /// `kind db.name` for messages.
    pub fn label(&self) -> String {
        format!("{} {}.{}", self.kind, self.database, self.name)
    }

    /// The object's name qualified by its database (for a view: the name tables use).
    pub fn id(&self) -> TableId {
        TableId::new(self.database.clone(), self.name.clone())
    }
}

/// Orders objects for creation: functions, procedures, views (each after the views it reads),
/// triggers, events. Views that read one another in a cycle keep their discovery order.
pub fn creation_order(objects: &mut Vec<SchemaObject>) {
    objects.sort_by_key(|o| o.kind);
    let Some(start) = objects.iter().position(|o| o.kind == ObjectKind::View) else {
        return;
    };
    let count = objects
        .iter()
        .filter(|o| o.kind == ObjectKind::View)
        .count();
    let mut pending: Vec<SchemaObject> = objects[start..start + count].to_vec();
    let mut placed: Vec<SchemaObject> = Vec::with_capacity(count);
    while !pending.is_empty() {
        let waiting: Vec<TableId> = pending.iter().map(SchemaObject::id).collect();
        let (ready, blocked): (Vec<_>, Vec<_>) = pending.into_iter().partition(|view| {
            let own = view.id();
            !view.reads.iter().any(|r| r != &own && waiting.contains(r))
        });
        if ready.is_empty() {
            placed.extend(blocked);
            break;
        }
        placed.extend(ready);
        pending = blocked;
    }
    objects.splice(start..start + count, placed);
}

/// What becomes of a source schema object at the destination ([`crate::Filter::route_object`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectRoute {
    /// Not selected (its database is not selected whole, or its kind is not synchronized).
    Skip,
    /// Created by the task, as given (destination names).
    Create(SchemaObject),
    /// Left to the user at cutover (a trigger under `migration.triggers = "manual"`), as given.
    Cutover(SchemaObject),
    /// Selected but not created, for the reason given (a view over an unselected table, a body
    /// whose names cannot be mapped); the precheck reports it.
    Refused(String),
}

/// What one grant of an account covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GrantScope {
    /// Every database (`ON *.*`).
    Global,
    /// One database (`ON db.*`).
    Database(String),
    /// One table or view (`ON db.t`).
    Table(TableId),
    /// One stored routine (`ON PROCEDURE db.p`, `ON FUNCTION db.f`).
    Routine(ObjectKind, TableId),
    /// A role or proxy grant (not an object).
    Other(String),
}

impl fmt::Display for GrantScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantScope::Global => f.write_str("*.*"),
            GrantScope::Database(d) => write!(f, "{d}.*"),
            GrantScope::Table(t) => write!(f, "{t}"),
            GrantScope::Routine(k, t) => write!(f, "{} {t}", k.keyword()),
            GrantScope::Other(s) => f.write_str(s),
        }
    }
}

/// One `GRANT` of an account: privileges on a scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The privilege list as the source prints it (`SELECT, INSERT`, `SELECT (`a`)`).
    pub privileges: String,
    /// What it covers.
    pub scope: GrantScope,
    /// `WITH GRANT OPTION`.
    pub grant_option: bool,
}

/// A database account as the source holds it, to be created at the destination.
///
/// `create` holds the account's credential hash: it is never printed (`Debug` masks it) and
/// errors that carry it name the account instead.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// User name.
    pub user: String,
    /// Host pattern.
    pub host: String,
    /// Authentication plugin (`mysql_native_password`, `ed25519`, …).
    pub plugin: String,
    /// The `CREATE USER` statement the source prints, with the credential hash.
    pub create: String,
    /// The account's grants on objects (as read; the task restricts them to the selected
    /// objects and maps their names before the sink sees them).
    pub grants: Vec<Grant>,
    /// Grants left out (global privileges, unselected objects, roles), for the precheck.
    pub left_out: Vec<String>,
}

impl Account {
    /// `'user'@'host'` for messages.
    pub fn label(&self) -> String {
        format!("'{}'@'{}'", self.user, self.host)
    }
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("host", &self.host)
            .field("plugin", &self.plugin)
            .field("create", &"***")
            .field("grants", &self.grants)
            .field("left_out", &self.left_out)
            .finish()
    }
}

/// Something to run at the destination when the application moves over to it: the SQL of a
/// trigger left to the user (`migration.triggers = "manual"`), or the statement that enables an
/// event the task created disabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutoverStep {
    /// The object, in destination names (`trigger db.name`).
    pub object: String,
    /// Why it is left for the cutover.
    pub reason: String,
    /// The statements, in order, without delimiters.
    pub statements: Vec<String>,
}

/// Renders cutover steps as a script for the `mysql` client (`DELIMITER` around bodies).
pub fn cutover_script(steps: &[CutoverStep]) -> String {
    let mut out = String::from(
        "-- dts cutover: run at the destination when the application moves over to it.\n",
    );
    if steps.is_empty() {
        out.push_str("-- Nothing to do: no trigger is left to create and no event to enable.\n");
        return out;
    }
    out.push_str("DELIMITER $$\n");
    for step in steps {
        out.push_str(&format!("-- {}: {}\n", step.object, step.reason));
        for statement in &step.statements {
            out.push_str(statement.trim_end_matches(';'));
            out.push_str("$$\n");
        }
    }
    out.push_str("DELIMITER ;\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, reads: &[&str]) -> SchemaObject {
        SchemaObject {
            kind: ObjectKind::View,
            database: "d".into(),
            name: name.into(),
            table: None,
            definition: String::new(),
            definer: None,
            sql_mode: String::new(),
            character_set_client: None,
            collation_connection: None,
            time_zone: None,
            reads: reads.iter().map(|r| TableId::new("d", *r)).collect(),
            enabled: false,
        }
    }

    #[test]
    fn views_follow_the_views_they_read_after_routines() {
        let mut f = view("f", &[]);
        f.kind = ObjectKind::Function;
        let mut t = view("trg", &[]);
        t.kind = ObjectKind::Trigger;
        let mut objects = vec![
            t,
            view("top", &["mid", "t1"]),
            view("mid", &["base"]),
            view("base", &["t1"]),
            f,
        ];
        creation_order(&mut objects);
        let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["f", "base", "mid", "top", "trg"]);
    }

    #[test]
    fn a_cycle_keeps_its_order() {
        let mut objects = vec![view("a", &["b"]), view("b", &["a"]), view("c", &[])];
        creation_order(&mut objects);
        let names: Vec<&str> = objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "b"]);
    }

    #[test]
    fn accounts_never_print_their_credential() {
        let a = Account {
            user: "app".into(),
            host: "%".into(),
            plugin: "mysql_native_password".into(),
            create: "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*SECRETHASH'".into(),
            grants: vec![],
            left_out: vec![],
        };
        assert!(!format!("{a:?}").contains("SECRETHASH"));
    }

    #[test]
    fn cutover_script_uses_delimiters() {
        let s = cutover_script(&[CutoverStep {
            object: "trigger d.t".into(),
            reason: "manual".into(),
            statements: vec![
                "CREATE TRIGGER t AFTER INSERT ON x FOR EACH ROW BEGIN SET @a = 1; END;".into(),
            ],
        }]);
        assert!(
            s.contains("DELIMITER $$\n-- trigger d.t: manual\nCREATE TRIGGER"),
            "{s}"
        );
        assert!(s.contains("END$$\nDELIMITER ;"), "{s}");
    }
}
