//! Root connections to the test servers and statement runners.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};

/// A connection to `url` with the server's own session settings.
pub async fn connect(url: &str) -> Conn {
    let opts = Opts::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    Conn::new(opts)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

/// A connection to `url` with a permissive SQL mode (zero dates allowed), in UTC.
pub async fn connect_utc(url: &str) -> Conn {
    let mut c = connect(url).await;
    c.query_drop("SET SESSION sql_mode = '', time_zone = '+00:00'")
        .await
        .unwrap_or_else(|e| panic!("session settings on {url}: {e}"));
    c
}

/// Runs statements in order, panicking with the statement that failed.
pub async fn exec_all<S: AsRef<str>>(c: &mut Conn, statements: &[S]) {
    for s in statements {
        let s = s.as_ref();
        c.query_drop(s).await.unwrap_or_else(|e| panic!("{s}: {e}"));
    }
}

/// Closes `session`, which has prepared the XA transactions `xids`, and waits until another
/// session can decide them, probing through `probe`. MariaDB lists a prepared transaction in
/// `XA RECOVER` while its session is still closing, but until the closing session has
/// detached it, `XA COMMIT` from elsewhere answers XAER_NOTA ("Unknown XID"); the session
/// detaches it before it leaves the process list, so both are waited for.
pub async fn detach_prepared(mut session: Conn, probe: &mut Conn, xids: &[&str]) {
    let id: u64 = session
        .query_first("SELECT CONNECTION_ID()")
        .await
        .unwrap_or_else(|e| panic!("CONNECTION_ID(): {e}"))
        .unwrap_or_default();
    session
        .disconnect()
        .await
        .unwrap_or_else(|e| panic!("closing session {id}: {e}"));
    let probe = tokio::sync::Mutex::new(probe);
    let what = format!("{xids:?} detached from session {id}");
    crate::eventually(std::time::Duration::from_secs(10), &what, || async {
        let mut p = probe.lock().await;
        let live: Option<u64> = p
            .exec_first(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?",
                (id,),
            )
            .await
            .unwrap_or_else(|e| panic!("reading the process list: {e}"));
        let listed: Vec<mysql_async::Row> = p
            .query("XA RECOVER")
            .await
            .unwrap_or_else(|e| panic!("XA RECOVER: {e}"));
        let names: Vec<String> = listed
            .iter()
            .filter_map(|r| r.get::<String, _>(3))
            .collect();
        let missing: Vec<&str> = xids
            .iter()
            .copied()
            .filter(|x| !names.iter().any(|n| n == x))
            .collect();
        if live.is_none() && missing.is_empty() {
            Ok(())
        } else {
            Err((live, missing))
        }
    })
    .await;
}
