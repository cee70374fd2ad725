//! DDL parsing and mapping: arbitrary text classified as a DDL statement
//! (`dts_mysql::source::ddl::classify`) and routed through a configured object filter with renamed
//! databases, tables and columns and a DDL operation selection (`Filter::route_ddl`,
//! `ddl_problem`), the way the task maps DDL read from the binlog. Nothing may panic.
#![no_main]

use dts_core::config::TaskConfig;
use dts_core::objects::ConfigFilter;
use dts_core::Filter;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const TASK: &str = r#"
id = "fuzz"
[source]
host = "127.0.0.1"
port = 3306
user = "u"
[destination]
type = "mysql"
host = "127.0.0.1"
port = 3307
user = "u"
[[objects.databases]]
name = "shop"
rename_to = "shop_copy"
[[objects.databases.tables]]
name = "orders"
rename_to = "orders_copy"
columns = ["id", "amount"]
rename_columns = { amount = "total" }
ddl = ["create_table", "alter_table", "drop_table"]
[[objects.databases]]
name = "crm"
"#;

fn filter() -> &'static ConfigFilter {
    static F: OnceLock<ConfigFilter> = OnceLock::new();
    F.get_or_init(|| {
        let config = TaskConfig::from_toml_str(TASK).expect("the fuzz task parses");
        ConfigFilter::from_config(&config).expect("the fuzz task's filter builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = dts_mysql::source::ddl::is_ddl_statement(text);
    let _ = dts_mysql::source::ddl::is_transaction_control(text);
    for default_db in [None, Some("shop"), Some("crm")] {
        let ddl = dts_mysql::source::ddl::classify(text, default_db);
        let f = filter();
        let _ = f.ddl_problem(&ddl);
        let _ = f.route_ddl(&ddl);
    }
});
