//! Temporary tables of Online DDL tools (the guide's "Copy the temporary table of the Online DDL
//! tool …", `advanced.online_ddl`).
//!
//! gh-ost changes table `t` by creating a shadow table `_t_gho`, altering it, copying rows into
//! it while it follows the binlog, keeping its state in a changelog table `_t_ghc`, and
//! finally swapping names with `RENAME TABLE t TO _t_del, _t_gho TO t`. With
//! `no_gh_ost` and `no_dms` the task ignores those tables (no full sync, no row changes, no
//! DDL) and instead applies the shadow table's `ALTER` to the destination's `t` directly, so the
//! destination reaches the new schema without copying the table twice.
//!
//! Tables are recognised by name with two regular expressions whose first capture group is the
//! original table's name: shadow tables (`^_(.+)_(?:gho|new)$` by default) and useless tables
//! (`^_(.+)_(?:ghc|del|old)$`). `no_gh_ost` uses the configured expressions; `no_dms` uses the
//! defaults (the config has no DMS-specific patterns). With `yes` nothing is special.

use crate::change::{Ddl, DdlKind};
use crate::config::{
    AdvancedConfig, ConfigError, OnlineDdlMode, DEFAULT_GH_OST_SHADOW_REGEX,
    DEFAULT_GH_OST_USELESS_REGEX,
};
use regex::Regex;

/// The tables of an online schema change that hold the table's rows: gh-ost's shadow and
/// leftover tables, DMS's new and old tables.
const COMPANION_REGEX: &str = "^_(.+)_(gho|del|new|old)$";

/// What an Online DDL tool uses a table for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TempTable {
    /// The altered copy that will replace the original (`_t_gho`); holds the original's name.
    Shadow(String),
    /// A changelog or leftover table (`_t_ghc`, `_t_del`); holds the original's name.
    Useless(String),
}

/// Recognises Online DDL temporary tables.
#[derive(Clone, Debug)]
pub struct OnlineDdl {
    patterns: Option<(Regex, Regex)>,
    /// With `yes`: the tables an online schema change of a table creates (`_t_gho`, `_t_del`,
    /// `_t_new`, `_t_old`), which follow their table's selection.
    companions: Option<Regex>,
}

fn compile(key: &str, re: &str) -> Result<Regex, ConfigError> {
    Regex::new(re).map_err(|e| {
        ConfigError::invalid(
            key,
            format!("`{re}` is not a valid regular expression: {e}"),
        )
    })
}

impl OnlineDdl {
    /// From `[advanced]`; invalid expressions are reported at their key.
    pub fn new(advanced: &AdvancedConfig) -> Result<OnlineDdl, ConfigError> {
        let patterns = match advanced.online_ddl {
            OnlineDdlMode::Yes => None,
            OnlineDdlMode::NoGhOst => Some((
                compile(
                    "advanced.gh_ost_shadow_regex",
                    advanced.gh_ost_shadow_regex(),
                )?,
                compile(
                    "advanced.gh_ost_useless_regex",
                    advanced.gh_ost_useless_regex(),
                )?,
            )),
            OnlineDdlMode::NoDms => Some((
                compile("advanced.online_ddl", DEFAULT_GH_OST_SHADOW_REGEX)?,
                compile("advanced.online_ddl", DEFAULT_GH_OST_USELESS_REGEX)?,
            )),
        };
        let companions = match advanced.online_ddl {
            OnlineDdlMode::Yes => Some(compile("advanced.online_ddl", COMPANION_REGEX)?),
            _ => None,
        };
        Ok(OnlineDdl {
            patterns,
            companions,
        })
    }

    /// With `yes`: the original table's name and the tool's suffix when `name` is a copy an
    /// online schema change works on (`_t_gho` → (`t`, `gho`)). Such a table of a selected
    /// table is synchronized with that table's rules (columns, renames, filter, masking),
    /// under the destination name `_<destination name of t>_<suffix>`, so the tool's cut-over
    /// RENAME can be replayed. gh-ost's changelog table (`_t_ghc`) is not one of them.
    pub fn companion(&self, name: &str) -> Option<(String, String)> {
        let c = self.companions.as_ref()?.captures(name)?;
        Some((c.get(1)?.as_str().to_owned(), c.get(2)?.as_str().to_owned()))
    }

    /// What table `name` is, when the mode filters temporary tables and the name matches.
    pub fn classify(&self, name: &str) -> Option<TempTable> {
        let (shadow, useless) = self.patterns.as_ref()?;
        let original = |re: &Regex| {
            re.captures(name).map(|c| {
                c.get(1)
                    .map_or_else(|| name.to_owned(), |m| m.as_str().to_owned())
            })
        };
        if let Some(o) = original(shadow) {
            return Some(TempTable::Shadow(o));
        }
        original(useless).map(TempTable::Useless)
    }
}

/// The trigger name when `ddl` creates a pt-online-schema-change trigger (`pt_osc_…`), which
/// that tool puts on the table it is changing. pt-online-schema-change is not supported (the
/// guide says so): the task refuses to go on when it sees one on a selected table.
pub fn pt_osc_trigger(ddl: &Ddl) -> Option<String> {
    if !matches!(
        ddl.kind,
        DdlKind::Other | DdlKind::Object(crate::schema_object::ObjectKind::Trigger)
    ) {
        return None;
    }
    let mut words = ddl.statement.split_whitespace();
    if !words.next()?.eq_ignore_ascii_case("CREATE") {
        return None;
    }
    // CREATE [OR REPLACE] [DEFINER = …] TRIGGER [IF NOT EXISTS] name …
    words.find(|w| w.eq_ignore_ascii_case("TRIGGER"))?;
    let mut name = words.next()?;
    if name.eq_ignore_ascii_case("IF") {
        name = words.nth(2)?;
    }
    let last = name.rsplit('.').next()?.trim_matches('`');
    last.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case("pt_osc_"))
        .then(|| last.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_pt_osc_triggers() {
        let ddl = |text: &str, kind| Ddl {
            database: Some("d".into()),
            statement: text.into(),
            kind,
            tables: vec![],
            sql_mode: None,
        };
        assert_eq!(
            pt_osc_trigger(&ddl(
                "CREATE DEFINER=`root`@`%` TRIGGER `pt_osc_d_t_ins` AFTER INSERT ON `d`.`t` \
                 FOR EACH ROW REPLACE INTO `d`.`_t_new` (`id`) VALUES (NEW.`id`)",
                DdlKind::Other
            ))
            .as_deref(),
            Some("pt_osc_d_t_ins")
        );
        assert_eq!(
            pt_osc_trigger(&ddl(
                "create trigger if not exists d.PT_OSC_d_t_del after delete on t for each row \
                 delete from _t_new where id = OLD.id",
                DdlKind::Other
            ))
            .as_deref(),
            Some("PT_OSC_d_t_del")
        );
        assert_eq!(
            pt_osc_trigger(&ddl(
                "CREATE TRIGGER audit AFTER INSERT ON t FOR EACH ROW SET @x = 1",
                DdlKind::Other
            )),
            None
        );
        assert_eq!(
            pt_osc_trigger(&ddl("DROP TRIGGER pt_osc_d_t_ins", DdlKind::Other)),
            None
        );
        assert_eq!(
            pt_osc_trigger(&ddl("CREATE TABLE pt_osc_x (id INT)", DdlKind::CreateTable)),
            None
        );
    }

    fn with(mode: OnlineDdlMode, shadow: Option<&str>) -> OnlineDdl {
        OnlineDdl::new(&AdvancedConfig {
            online_ddl: mode,
            gh_ost_shadow_regex: shadow.map(str::to_owned),
            ..AdvancedConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn default_patterns() {
        let o = with(OnlineDdlMode::NoGhOst, None);
        assert_eq!(
            o.classify("_orders_gho"),
            Some(TempTable::Shadow("orders".into()))
        );
        assert_eq!(
            o.classify("_orders_new"),
            Some(TempTable::Shadow("orders".into()))
        );
        assert_eq!(
            o.classify("_orders_ghc"),
            Some(TempTable::Useless("orders".into()))
        );
        assert_eq!(
            o.classify("_a_b_del"),
            Some(TempTable::Useless("a_b".into()))
        );
        assert_eq!(
            o.classify("_orders_old"),
            Some(TempTable::Useless("orders".into()))
        );
        assert_eq!(o.classify("orders"), None);
        assert_eq!(o.classify("orders_gho"), None);
        assert_eq!(
            with(OnlineDdlMode::NoDms, None).classify("_t_gho"),
            Some(TempTable::Shadow("t".into()))
        );
    }

    #[test]
    fn yes_mode_treats_temp_tables_as_tables() {
        assert_eq!(with(OnlineDdlMode::Yes, None).classify("_orders_gho"), None);
    }

    #[test]
    fn custom_and_invalid_patterns() {
        let o = with(OnlineDdlMode::NoGhOst, Some("^_(.+)_tmp$"));
        assert_eq!(o.classify("_t_tmp"), Some(TempTable::Shadow("t".into())));
        assert_eq!(o.classify("_t_gho"), None);
        let e = OnlineDdl::new(&AdvancedConfig {
            gh_ost_useless_regex: Some("(".into()),
            ..AdvancedConfig::default()
        })
        .unwrap_err();
        assert_eq!(e.key, "advanced.gh_ost_useless_regex");
    }
}
