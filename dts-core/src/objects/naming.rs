//! Destination names: single-object renames (`rename_to`, `rename_columns`), batch mapping
//! rules (`[[objects.mapping_rules]]`) and the capitalization policy
//! (`migration.capitalization`), applied in that order.
//!
//! A name renamed one by one is not touched by batch rules; batch rules apply in order, each to
//! the previous one's output (a rule's regex replacement first, then its prefix and suffix).
//! Capitalization applies last, to every database, table and column name alike, so the DDL,
//! schema and row paths all agree on the final names.
//!
//! Capitalization, as the service documents its policies for MySQL-family destinations (MySQL,
//! MariaDB, PolarDB, AnalyticDB for MySQL 3.0):
//! - `dts_default` ("DTS default policy"): database and table names are lower-cased when the
//!   destination stores them lower-case (`lower_case_table_names` = 1 or 2), column names keep
//!   the source's case; with `lower_case_table_names = 0` every name keeps the source's case.
//!   The filter cannot ask the server, so the host says which applies with
//!   [`ConfigFilter::with_destination_lowercase`](super::ConfigFilter::with_destination_lowercase)
//!   (default: names kept);
//! - `same_as_source`: every name exactly as in the source;
//! - `destination_default` ("consistent with the default policy of the destination database",
//!   its lower-case form for MySQL-family destinations): database, table and column names all
//!   lower-case.

use super::pattern::Scope;
use crate::config::{Capitalization, ConfigError, MappingLevel, ObjectSelection};
use crate::schema::TableId;
use regex::Regex;

#[derive(Clone, Debug)]
struct Rule {
    level: MappingLevel,
    scope: Option<Scope>,
    regex: Option<(Regex, String)>,
    prefix: String,
    suffix: String,
}

impl Rule {
    fn apply(&self, name: &str) -> String {
        let replaced = match &self.regex {
            Some((re, replacement)) => re.replace_all(name, replacement.as_str()).into_owned(),
            None => name.to_owned(),
        };
        format!("{}{replaced}{}", self.prefix, self.suffix)
    }
}

/// Computes destination names.
#[derive(Clone, Debug)]
pub struct NameMapper {
    rules: Vec<Rule>,
    capitalization: Capitalization,
    destination_lowercase: bool,
}

impl NameMapper {
    /// Compiles the batch mapping rules; errors name the rule's key.
    pub fn new(
        objects: &ObjectSelection,
        capitalization: Capitalization,
    ) -> Result<NameMapper, ConfigError> {
        let mut rules = Vec::with_capacity(objects.mapping_rules.len());
        for (i, r) in objects.mapping_rules.iter().enumerate() {
            let key = format!("objects.mapping_rules[{i}]");
            let scope = r
                .scope
                .as_deref()
                .map(Scope::new)
                .transpose()
                .map_err(|e| ConfigError::invalid(format!("{key}.scope"), e))?;
            let regex = match (&r.regex, &r.replacement) {
                (Some(re), replacement) => {
                    let compiled = Regex::new(re).map_err(|e| {
                        ConfigError::invalid(
                            format!("{key}.regex"),
                            format!("`{re}` is not a valid regular expression: {e}"),
                        )
                    })?;
                    Some((compiled, replacement.clone().unwrap_or_default()))
                }
                (None, _) => None,
            };
            rules.push(Rule {
                level: r.level,
                scope,
                regex,
                prefix: r.add_prefix.clone().unwrap_or_default(),
                suffix: r.add_suffix.clone().unwrap_or_default(),
            });
        }
        Ok(NameMapper {
            rules,
            capitalization,
            destination_lowercase: false,
        })
    }

    /// Tells the mapper whether the destination stores database and table names lower-case.
    pub fn set_destination_lowercase(&mut self, lowercase: bool) {
        self.destination_lowercase = lowercase;
    }

    fn object_case(&self, name: String) -> String {
        match self.capitalization {
            Capitalization::SameAsSource => name,
            Capitalization::DtsDefault if !self.destination_lowercase => name,
            Capitalization::DtsDefault | Capitalization::DestinationDefault => name.to_lowercase(),
        }
    }

    fn column_case(&self, name: String) -> String {
        match self.capitalization {
            Capitalization::DestinationDefault => name.to_lowercase(),
            _ => name,
        }
    }

    fn batch<'a>(
        &'a self,
        level: MappingLevel,
        in_scope: impl Fn(&Scope) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.rules
            .iter()
            .filter(move |r| r.level == level && r.scope.as_ref().is_none_or(&in_scope))
    }

    /// The destination name of database `db`; `explicit` is its `rename_to`.
    pub fn database(&self, db: &str, explicit: Option<&str>) -> String {
        let name = match explicit {
            Some(e) => e.to_owned(),
            None => self
                .batch(MappingLevel::Database, |s| s.contains_database(db))
                .fold(db.to_owned(), |n, r| r.apply(&n)),
        };
        self.object_case(name)
    }

    /// The destination table name of `id` (database not included); `explicit` is its
    /// `rename_to`.
    pub fn table(&self, id: &TableId, explicit: Option<&str>) -> String {
        let name = match explicit {
            Some(e) => e.to_owned(),
            None => self
                .batch(MappingLevel::Table, |s| s.contains_table(id))
                .fold(id.table.clone(), |n, r| r.apply(&n)),
        };
        self.object_case(name)
    }

    /// The destination name of column `column` of table `id`; `explicit` is its
    /// `rename_columns` entry.
    pub fn column(&self, id: &TableId, column: &str, explicit: Option<&str>) -> String {
        let name = match explicit {
            Some(e) => e.to_owned(),
            None => self
                .batch(MappingLevel::Column, |s| s.contains_table(id))
                .fold(column.to_owned(), |n, r| r.apply(&n)),
        };
        self.column_case(name)
    }

    /// Whether column names of table `id` may change at all (a column rule in scope, or
    /// lower-casing); explicit renames are the caller's to check.
    pub fn may_rename_columns(&self, id: &TableId) -> bool {
        self.capitalization == Capitalization::DestinationDefault
            || self
                .batch(MappingLevel::Column, |s| s.contains_table(id))
                .next()
                .is_some()
    }

    /// Whether database and table names are folded to lower case (so two source names that
    /// differ only in case meet at the destination).
    pub fn folds_object_names(&self) -> bool {
        match self.capitalization {
            Capitalization::SameAsSource => false,
            Capitalization::DtsDefault => self.destination_lowercase,
            Capitalization::DestinationDefault => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MappingRule;

    fn mapper(rules: Vec<MappingRule>, cap: Capitalization) -> NameMapper {
        NameMapper::new(
            &ObjectSelection {
                mapping_rules: rules,
                ..ObjectSelection::default()
            },
            cap,
        )
        .unwrap()
    }

    fn rule(level: MappingLevel) -> MappingRule {
        MappingRule {
            level,
            ..MappingRule::default()
        }
    }

    #[test]
    fn rules_chain_in_order_and_respect_scope() {
        let m = mapper(
            vec![
                MappingRule {
                    scope: Some("crm.*".into()),
                    add_prefix: Some("crm_".into()),
                    ..rule(MappingLevel::Table)
                },
                MappingRule {
                    regex: Some("^(.*)_v\\d+$".into()),
                    replacement: Some("${1}".into()),
                    add_suffix: Some("_x".into()),
                    ..rule(MappingLevel::Table)
                },
            ],
            Capitalization::SameAsSource,
        );
        assert_eq!(
            m.table(&TableId::new("crm", "users_v2"), None),
            "crm_users_x"
        );
        assert_eq!(m.table(&TableId::new("shop", "users_v2"), None), "users_x");
        // Explicit renames skip the rules.
        assert_eq!(m.table(&TableId::new("crm", "a"), Some("b")), "b");
    }

    #[test]
    fn database_and_column_levels() {
        let m = mapper(
            vec![
                MappingRule {
                    scope: Some("src*.anything".into()),
                    add_suffix: Some("_copy".into()),
                    ..rule(MappingLevel::Database)
                },
                MappingRule {
                    regex: Some("^c_".into()),
                    replacement: Some(String::new()),
                    ..rule(MappingLevel::Column)
                },
            ],
            Capitalization::SameAsSource,
        );
        assert_eq!(m.database("src1", None), "src1_copy");
        assert_eq!(m.database("other", None), "other");
        assert_eq!(m.database("src1", Some("x")), "x");
        let t = TableId::new("src1", "t");
        assert_eq!(m.column(&t, "c_name", None), "name");
        assert_eq!(m.column(&t, "c_name", Some("n")), "n");
        assert!(m.may_rename_columns(&t));
    }

    #[test]
    fn capitalization_policies() {
        let t = TableId::new("Shop", "Orders");
        let same = mapper(vec![], Capitalization::SameAsSource);
        assert_eq!(same.table(&t, None), "Orders");
        assert_eq!(same.column(&t, "Id", None), "Id");
        assert!(!same.may_rename_columns(&t));

        let mut dts = mapper(vec![], Capitalization::DtsDefault);
        assert_eq!(dts.database("Shop", None), "Shop");
        assert_eq!(dts.table(&t, None), "Orders");
        assert!(!dts.folds_object_names());
        dts.set_destination_lowercase(true);
        assert_eq!(dts.database("Shop", None), "shop");
        assert_eq!(dts.table(&t, Some("Renamed")), "renamed");
        // Columns keep the source's case under the DTS default policy.
        assert_eq!(dts.column(&t, "Id", None), "Id");
        assert!(dts.folds_object_names());

        let dest = mapper(vec![], Capitalization::DestinationDefault);
        assert_eq!(dest.database("Shop", None), "shop");
        assert_eq!(dest.table(&t, None), "orders");
        assert_eq!(dest.column(&t, "Id", Some("NewId")), "newid");
        assert!(dest.may_rename_columns(&t));
    }

    #[test]
    fn bad_rules_name_their_key() {
        let e = NameMapper::new(
            &ObjectSelection {
                mapping_rules: vec![
                    rule(MappingLevel::Table),
                    MappingRule {
                        regex: Some("(".into()),
                        replacement: Some("x".into()),
                        ..rule(MappingLevel::Table)
                    },
                ],
                ..ObjectSelection::default()
            },
            Capitalization::DtsDefault,
        )
        .unwrap_err();
        assert_eq!(e.key, "objects.mapping_rules[1].regex");
    }
}
