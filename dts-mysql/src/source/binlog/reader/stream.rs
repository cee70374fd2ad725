//! The replication connection: the stream request from the resume position (a file and offset,
//! or a GTID set), and the framing of the next event with mysql_common's parser panics
//! contained.

use super::events::Cursor;
use super::{map_stream_err, BinlogReader, ReaderState};
use crate::source::binlog::gtid::{parse_uuid, GtidTracker};
use crate::source::binlog::guard::{self, At};
use crate::wire::ident::quote_str;
use dts_core::Error;
use futures::StreamExt;
use mysql_async::binlog::events::Event;
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, GnoInterval, Sid};

impl BinlogReader {
    /// Requests the binlog stream from `state.resume`; also says whether the server writes
    /// event checksums (see [`BinlogReader::replication_conn`]).
    pub(super) async fn open_stream(
        &self,
        state: &ReaderState,
    ) -> Result<(BinlogStream, bool), Error> {
        let ep = &self.endpoint;
        let (mut conn, server_checksums) = self.replication_conn().await?;
        let from = &state.resume;
        let file_bytes = from.file.clone().into_bytes();
        let mut sids: Vec<Sid<'static>> = Vec::new();
        if self.server.is_mariadb() {
            if from.file.is_empty() {
                let gtid = from
                    .gtid_set
                    .as_ref()
                    .map(|g| g.text.as_str())
                    .unwrap_or("");
                conn.query_drop(format!("SET @slave_connect_state = {}", quote_str(gtid)))
                    .await
                    .map_err(|e| ep.map_err("set GTID start", e))?;
            }
        } else if from.file.is_empty() {
            if let GtidTracker::Mysql(set) = &state.tracker {
                for (uuid, ranges) in set.intervals() {
                    let bytes = parse_uuid(uuid).ok_or_else(|| {
                        Error::definite(&ep.label, format!("bad GTID uuid {uuid}"))
                    })?;
                    let mut sid = Sid::new(bytes);
                    for (a, b) in ranges {
                        sid = sid.with_interval(GnoInterval::new(*a, b + 1));
                    }
                    sids.push(sid);
                }
            }
        }
        let mut request = BinlogStreamRequest::new(self.options.replica_server_id);
        if !from.file.is_empty() {
            request = request.with_filename(&file_bytes).with_pos(from.offset);
        } else if !self.server.is_mariadb() {
            request = request.with_gtid().with_gtid_set(sids);
        }
        let stream = conn
            .get_binlog_stream(request)
            .await
            .map_err(|e| map_stream_err(ep, from, e))?;
        Ok((stream, server_checksums))
    }

    /// The next event of the stream. The stream frames each packet into an event (and reads
    /// table maps and transaction payloads) inside mysql_common, whose parsers panic on some
    /// malformed input: contained, so a hostile or corrupt stream ends in an error. The end of
    /// the stream is a connection error.
    pub(super) async fn next_event(
        &self,
        stream: &mut BinlogStream,
        cur: &Cursor,
        state: &ReaderState,
    ) -> Result<Event, Error> {
        let ep = &self.endpoint;
        let next = std::future::poll_fn(|cx| {
            let at = At {
                file: &cur.file,
                offset: cur.last_end,
            };
            match guard::contain(&ep.label, at, "framing the next event", || {
                stream.poll_next_unpin(cx)
            }) {
                Ok(poll) => poll.map(|o| o.map(|r| r.map_err(Err))),
                Err(e) => std::task::Poll::Ready(Some(Err(Ok(e)))),
            }
        });
        match next.await {
            Some(Ok(e)) => Ok(e),
            Some(Err(Ok(e))) => Err(e),
            Some(Err(Err(e))) => Err(map_stream_err(ep, &state.resume, e)),
            None => Err(Error::connection(
                format!("{} ({})", ep.label, ep.address()),
                "binlog stream ended",
            )),
        }
    }

    /// A connection prepared to request a binlog stream: heartbeat period set, MariaDB
    /// capabilities announced. Also says whether the server writes event checksums (events
    /// before the first format description carry one the decoder cannot know about yet).
    pub(in crate::source::binlog) async fn replication_conn(
        &self,
    ) -> Result<(mysql_async::Conn, bool), Error> {
        let ep = &self.endpoint;
        let mut conn = ep.connect().await?;
        let heartbeat_ns = self
            .options
            .heartbeat
            .as_nanos()
            .min(u128::from(u64::MAX / 2));
        let checksum: Option<String> = conn
            .query_first("SELECT @@global.binlog_checksum")
            .await
            .map_err(|e| ep.map_err("read binlog_checksum", e))?;
        let server_checksums = checksum.is_some_and(|c| !c.eq_ignore_ascii_case("NONE"));
        conn.query_drop(format!("SET @master_heartbeat_period = {heartbeat_ns}"))
            .await
            .map_err(|e| ep.map_err("set heartbeat", e))?;
        if self.server.is_mariadb() {
            conn.query_drop("SET @mariadb_slave_capability = 4")
                .await
                .map_err(|e| ep.map_err("set capability", e))?;
        }
        Ok((conn, server_checksums))
    }
}
