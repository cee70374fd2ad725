//! Reading the source's current binlog position (file, offset and GTID set).

use crate::wire::conn::{MysqlEndpoint, ServerInfo};
use dts_core::{Error, GtidFlavor, GtidSet, Position};
use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// The current binlog position, with the GTID set executed up to exactly that point.
pub async fn read_position(
    conn: &mut Conn,
    ep: &MysqlEndpoint,
    server: &ServerInfo,
) -> Result<Position, Error> {
    let row: Option<mysql_async::Row> = conn
        .query_first(server.binlog_status_sql())
        .await
        .map_err(|e| ep.map_err("read binlog position", e))?;
    let row = row.ok_or_else(|| {
        Error::definite(
            &ep.label,
            "binary logging is off (SHOW MASTER STATUS is empty): enable log_bin",
        )
    })?;
    let file: String = row.get(0).unwrap_or_default();
    let offset: u64 = row.get(1).unwrap_or(0);
    let gtid_set = if server.is_mariadb() {
        // BINLOG_GTID_POS maps exactly this file/offset to its GTID position.
        let g: Option<String> = conn
            .exec_first("SELECT BINLOG_GTID_POS(?, ?)", (file.clone(), offset))
            .await
            .map_err(|e| ep.map_err("read GTID position", e))?;
        g.filter(|g| !g.is_empty()).map(|text| GtidSet {
            flavor: GtidFlavor::Mariadb,
            text,
        })
    } else {
        let g: Option<String> = row.get::<Option<String>, _>(4).flatten();
        g.map(|t| t.split_whitespace().collect::<String>())
            .filter(|g| !g.is_empty())
            .map(|text| GtidSet {
                flavor: GtidFlavor::Mysql,
                text,
            })
    };
    Ok(Position {
        file,
        offset,
        gtid_set,
    })
}
