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
