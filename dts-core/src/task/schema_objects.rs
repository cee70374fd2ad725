//! Schema synchronization of views, routines, triggers, events and accounts: what the task
//! reads from the source, routes through the filter, checks at precheck and creates after the
//! tables (see [`crate::schema_object`] for the rules every sink follows).
//!
//! Precheck findings:
//! - `source.schema_objects` (error): the source's catalog of objects or accounts cannot be read;
//! - `objects.schema_objects` (pass): what will be created and what is left for the cutover;
//! - `objects.refused_objects` (warning): selected objects that cannot be created (a view over
//!   an unselected table, a body whose names cannot be mapped), each with its reason —
//!   acknowledged, the task runs without them;
//! - `destination.schema_objects` (warning): objects the destination cannot hold (AnalyticDB
//!   holds tables only) — acknowledged, the task runs without them;
//! - the sink's own checks on what it is about to create ([`Sink::precheck_objects`]).

use super::Task;
use crate::error::Result;
use crate::precheck::{CheckResult, PrecheckReport};
use crate::schema_object::{
    creation_order, Account, CutoverStep, ObjectKind, ObjectRoute, SchemaObject,
};
use crate::sink::ConflictingTables;

/// What schema synchronization creates besides tables.
#[derive(Debug, Default)]
pub(crate) struct ObjectPlan {
    /// Objects to create, in creation order, in destination names.
    pub create: Vec<SchemaObject>,
    /// Triggers left for the cutover, in destination names.
    pub cutover: Vec<SchemaObject>,
    /// Accounts to create, grants restricted and mapped.
    pub accounts: Vec<Account>,
}

impl Task {
    /// Reads and routes the source's objects and accounts, with the precheck findings on them.
    pub(super) async fn plan_objects(&self, resuming: bool) -> (ObjectPlan, PrecheckReport) {
        let mut report = PrecheckReport::default();
        let mut plan = ObjectPlan::default();
        if !self.options.schema_sync {
            return (plan, report);
        }
        let objects = match self.source.schema_objects().await {
            Ok(o) => o,
            Err(e) => {
                report.checks.push(CheckResult::error(
                    "source.schema_objects",
                    format!(
                        "the source's views, routines, triggers and events cannot be read: {e}"
                    ),
                    "grant the source account SELECT on the selected databases and SHOW VIEW \
                     (and, for routines, SELECT on mysql.proc or the routines' databases)",
                ));
                return (plan, report);
            }
        };
        let mut refused = Vec::new();
        let mut unheld = Vec::new();
        let mut selected = Vec::new();
        for object in &objects {
            let route = self.filter.route_object(object);
            if matches!(route, ObjectRoute::Create(_) | ObjectRoute::Cutover(_)) {
                selected.push(object.clone());
            }
            match route {
                ObjectRoute::Skip => {}
                ObjectRoute::Refused(reason) => refused.push(reason),
                ObjectRoute::Create(o) => match self.sink.holds_objects(o.kind) {
                    Ok(()) => plan.create.push(o),
                    Err(why) => unheld.push(format!("{} ({why})", o.label())),
                },
                ObjectRoute::Cutover(o) => plan.cutover.push(o),
            }
        }
        if !selected.is_empty() {
            report.extend(self.source.precheck_objects(&selected).await);
        }
        creation_order(&mut plan.create);
        if let Some(names) = &self.options.accounts {
            match self.plan_accounts(names).await {
                Ok(accounts) => plan.accounts = accounts,
                Err(e) => report.checks.push(CheckResult::error(
                    "source.schema_objects",
                    format!("the source's accounts cannot be read: {e}"),
                    "grant the source account SELECT on the mysql database (SHOW CREATE USER and \
                     SHOW GRANTS of other accounts need it), or turn migration.migrate_accounts \
                     off",
                )),
            }
        }
        report
            .checks
            .push(CheckResult::pass("objects.schema_objects", plan.summary()));
        if !refused.is_empty() {
            report.checks.push(CheckResult::warning(
                "objects.refused_objects",
                format!(
                    "{} selected object(s) will not be created at the destination: {}",
                    refused.len(),
                    refused.join("; ")
                ),
                "select what they need, or acknowledge (acknowledge_warnings = \
                 [\"objects.refused_objects\"]) to run without them",
            ));
        }
        if !unheld.is_empty() {
            report.checks.push(CheckResult::warning(
                "destination.schema_objects",
                format!(
                    "the destination cannot hold {} selected object(s), which are not created: {}",
                    unheld.len(),
                    unheld.join("; ")
                ),
                "acknowledge (acknowledge_warnings = [\"destination.schema_objects\"]) to \
                 synchronize the tables without them",
            ));
        }
        let mode = if resuming {
            ConflictingTables::IgnoreErrorsAndProceed
        } else {
            self.options.conflicting_tables
        };
        if !plan.create.is_empty() || !plan.accounts.is_empty() {
            report.extend(
                self.sink
                    .precheck_objects(&plan.create, &plan.accounts, mode)
                    .await,
            );
        }
        (plan, report)
    }

    /// The accounts to create: the named ones, or every account with a grant on a selected
    /// object; grants restricted to the selection and mapped.
    async fn plan_accounts(&self, names: &[String]) -> Result<Vec<Account>> {
        let accounts = self.source.accounts(names).await?;
        let mut out = Vec::new();
        for mut account in accounts {
            let mut kept = Vec::new();
            for grant in std::mem::take(&mut account.grants) {
                match self.filter.route_grant(&grant.scope) {
                    Some(scope) => kept.push(crate::schema_object::Grant { scope, ..grant }),
                    None => account
                        .left_out
                        .push(format!("{} ON {}", grant.privileges, grant.scope)),
                }
            }
            account.grants = kept;
            if names.is_empty() && account.grants.is_empty() {
                continue;
            }
            out.push(account);
        }
        Ok(out)
    }

    /// Creates the planned accounts and objects (after the tables), each within the retry
    /// windows.
    ///
    /// Accounts come first (an object may keep a migrated account as its definer), with their
    /// grants on databases and tables; their grants on routines follow the routines.
    pub(super) async fn create_objects(&self, plan: &ObjectPlan) -> Result<()> {
        let is_routine = |g: &crate::schema_object::Grant| {
            matches!(g.scope, crate::schema_object::GrantScope::Routine(..))
        };
        let split = |routines: bool| -> Vec<Account> {
            plan.accounts
                .iter()
                .map(|a| Account {
                    grants: a
                        .grants
                        .iter()
                        .filter(|g| is_routine(g) == routines)
                        .cloned()
                        .collect(),
                    ..a.clone()
                })
                .filter(|a| !routines || !a.grants.is_empty())
                .collect()
        };
        self.create_accounts(&split(false)).await?;
        for object in &plan.create {
            self.check_control(crate::stage::Stage::SchemaSync).await?;
            let operation = format!("schema sync of {}", object.label());
            self.with_retry(&operation, || self.sink.create_object(object))
                .await?;
        }
        self.create_accounts(&split(true)).await
    }

    async fn create_accounts(&self, accounts: &[Account]) -> Result<()> {
        for account in accounts {
            self.check_control(crate::stage::Stage::SchemaSync).await?;
            let operation = format!("schema sync of account {}", account.label());
            self.with_retry(&operation, || self.sink.create_account(account))
                .await?;
        }
        Ok(())
    }

    /// What is left to do at the destination when the application moves over to it: the
    /// triggers `migration.triggers = "manual"` leaves to the user, and enabling the events the
    /// task created disabled (those enabled at the source). Reads the source's objects now.
    pub async fn cutover_steps(&self) -> Result<Vec<CutoverStep>> {
        let objects = self.source.schema_objects().await?;
        let mut steps = Vec::new();
        let mut routed: Vec<(SchemaObject, bool)> = Vec::new();
        for object in &objects {
            match self.filter.route_object(object) {
                ObjectRoute::Cutover(o) => routed.push((o, false)),
                ObjectRoute::Create(o)
                    if o.kind == ObjectKind::Event
                        && o.enabled
                        && self.sink.holds_objects(o.kind).is_ok() =>
                {
                    routed.push((o, true))
                }
                _ => {}
            }
        }
        for (object, enable) in routed {
            let statements = self.sink.cutover_statements(&object, enable);
            if statements.is_empty() {
                continue;
            }
            steps.push(CutoverStep {
                object: object.label(),
                reason: if enable {
                    "enabled at the source; created disabled so it does not run twice".into()
                } else {
                    "migration.triggers = \"manual\": create it when writes move here".into()
                },
                statements,
            });
        }
        Ok(steps)
    }
}

impl ObjectPlan {
    fn summary(&self) -> String {
        let count = |k: ObjectKind| self.create.iter().filter(|o| o.kind == k).count();
        let mut parts = Vec::new();
        for kind in [
            ObjectKind::View,
            ObjectKind::Procedure,
            ObjectKind::Function,
            ObjectKind::Trigger,
            ObjectKind::Event,
        ] {
            let n = count(kind);
            if n > 0 {
                parts.push(format!("{n} {}(s)", kind.noun()));
            }
        }
        if !self.accounts.is_empty() {
            parts.push(format!("{} account(s)", self.accounts.len()));
        }
        let mut s = if parts.is_empty() {
            "no view, routine, trigger, event or account to create".to_string()
        } else {
            format!(
                "schema sync creates {} besides the tables",
                parts.join(", ")
            )
        };
        if !self.cutover.is_empty() {
            s.push_str(&format!(
                "; {} trigger(s) left for the cutover (migration.triggers = \"manual\"; `dts \
                 cutover` prints their SQL)",
                self.cutover.len()
            ));
        }
        s
    }
}
