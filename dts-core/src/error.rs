//! The error type shared by every stage and connector, split by what a retry can fix.

use crate::schema::TableId;

/// How the task reacts to an error: the guide's two retry windows apply to the first two
/// classes, the third fails the task at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// A connection to the source or destination failed or was lost: retried within
    /// `advanced.connection_retry_minutes`.
    Connection,
    /// A failure the same request may not hit again (deadlock, lock wait timeout, a DDL or DML
    /// execution error): retried within `advanced.other_retry_minutes`.
    Transient,
    /// Nothing a retry can fix (bad config, purged binlog, incompatible schema, a conflict under
    /// TaskFailed): the task fails immediately.
    Definite,
}

/// The underlying error a dts [`Error`] was made from (a driver's, an I/O error), kept as its
/// [`source`](std::error::Error::source) so hosts can inspect the chain.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of dts tasks and connectors. Every message names the object and the cause; the
/// three classed variants keep the underlying error, when there is one, as their `source()`.
/// Build them with the constructor that names the class — [`Error::connection`],
/// [`Error::transient`], [`Error::definite`] — and [`Error::caused_by`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Could not connect to, or lost the connection to, a server.
    #[error("connection to {endpoint} failed: {message}")]
    Connection {
        /// Which server (`source`, `destination` or host:port; never credentials).
        endpoint: String,
        /// What the driver reported.
        message: String,
        /// The driver's error, when there is one.
        #[source]
        cause: Option<Cause>,
    },
    /// A statement failed in a way a retry may fix (deadlock, lock wait timeout, …).
    #[error("transient error on {object}: {message}")]
    Transient {
        /// The object the statement worked on.
        object: String,
        /// What the server reported.
        message: String,
        /// The driver's error, when there is one.
        #[source]
        cause: Option<Cause>,
    },
    /// The task configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The position to resume from is no longer in the source's binlog.
    #[error("binlog file {file} needed to resume is no longer on the source (purged): {message}")]
    BinlogPurged {
        /// The missing binlog file.
        file: String,
        /// What the server reported.
        message: String,
    },
    /// A table's schema cannot be handled (unsupported type, incompatible destination, …).
    #[error("table {table}: {message}")]
    Schema {
        /// The table.
        table: TableId,
        /// The cause.
        message: String,
    },
    /// A conflict the configured policy says to fail on.
    #[error("conflict on {table}: {message}")]
    Conflict {
        /// The table.
        table: TableId,
        /// Key and row images involved.
        message: String,
    },
    /// A precheck found errors; the task did not start.
    #[error("precheck failed: {0}")]
    Precheck(String),
    /// A stage transition that the state machine does not allow.
    #[error("illegal transition: {0}")]
    IllegalTransition(String),
    /// Reading or writing a checkpoint failed.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// Where the checkpoint lives.
        path: String,
        /// The cause.
        message: String,
    },
    /// The task was stopped on request.
    #[error("task stopped")]
    Stopped,
    /// Any other definite failure, with the object it concerns.
    #[error("{object}: {message}")]
    Other {
        /// The object concerned.
        object: String,
        /// The cause.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        cause: Option<Cause>,
    },
}

impl Error {
    /// Which retry window, if any, applies.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Connection { .. } => ErrorClass::Connection,
            Error::Transient { .. } => ErrorClass::Transient,
            _ => ErrorClass::Definite,
        }
    }

    /// True when a retry may fix it.
    pub fn is_retryable(&self) -> bool {
        self.class() != ErrorClass::Definite
    }

    /// A lost or failed connection to `endpoint`: retried within the connection retry window.
    pub fn connection(endpoint: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Connection {
            endpoint: endpoint.into(),
            message: message.into(),
            cause: None,
        }
    }

    /// A failure on `object` a later attempt may not hit: retried within the window for other
    /// issues.
    pub fn transient(object: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Transient {
            object: object.into(),
            message: message.into(),
            cause: None,
        }
    }

    /// A failure on `object` no retry can fix: the task fails at once ([`Error::Other`]).
    pub fn definite(object: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Other {
            object: object.into(),
            message: message.into(),
            cause: None,
        }
    }

    /// This error with `cause` as its [`source`](std::error::Error::source) (for the
    /// connection, transient and definite variants; the others keep theirs).
    pub fn caused_by(mut self, cause: impl Into<Cause>) -> Self {
        if let Error::Connection { cause: c, .. }
        | Error::Transient { cause: c, .. }
        | Error::Other { cause: c, .. } = &mut self
        {
            *c = Some(cause.into());
        }
        self
    }
}

/// Result with the dts [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let c = Error::connection("source", "reset");
        assert_eq!(c.class(), ErrorClass::Connection);
        assert!(c.is_retryable());
        assert_eq!(
            Error::transient("t", "deadlock").class(),
            ErrorClass::Transient
        );
        assert_eq!(Error::definite("t", "bad").class(), ErrorClass::Definite);
        let p = Error::BinlogPurged {
            file: "bin.000001".into(),
            message: "gone".into(),
        };
        assert_eq!(p.class(), ErrorClass::Definite);
        assert!(p.to_string().contains("bin.000001"));
    }

    #[test]
    fn the_cause_is_the_source() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let e = Error::connection("source (h:1)", "read binlog: reset by peer").caused_by(io);
        let source = e.source().expect("the I/O error is the source");
        assert_eq!(source.to_string(), "reset by peer");
        assert!(Error::definite("x", "y").source().is_none());
        // Variants without a cause slot keep none.
        assert!(Error::Stopped.caused_by("x").source().is_none());
    }
}
