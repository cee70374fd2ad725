//! [`ConfigError`]: every configuration problem names the key it is about.

/// What kind of problem a [`ConfigError`] reports, so a host program can tell a typo in the file
/// from a rule violation or an unreadable credential without parsing the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConfigErrorKind {
    /// The TOML could not be read into a [`TaskConfig`](super::TaskConfig): bad syntax, an
    /// unknown key, a missing key or a value of the wrong type.
    Parse,
    /// The configuration parsed but breaks one of the guide's rules (a range, an option that only
    /// applies to another topology or destination, a missing object selection, …).
    Invalid,
    /// The configuration file itself could not be read.
    Io,
    /// A password source (`password_env` / `password_file`) could not be resolved.
    Credential,
}

/// One configuration problem, naming the key as a dotted path (`advanced.other_retry_minutes`,
/// `objects.databases[0].tables[1].filter`) so the user can find and fix it.
///
/// Displayed as `key: message`, for example
/// `advanced.other_retry_minutes: must be less than advanced.connection_retry_minutes (720), got 720`.
/// Messages never contain a password: secrets are only ever shown as `***`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", key_prefix(key))]
pub struct ConfigError {
    /// Dotted path of the offending key; empty when the problem is not about one key (for
    /// example an unreadable file).
    pub key: String,
    /// What is wrong and, where it helps, what is allowed.
    pub message: String,
    /// The class of problem.
    pub kind: ConfigErrorKind,
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}

impl ConfigError {
    /// A rule violation ([`ConfigErrorKind::Invalid`]) at `key`.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Invalid, key, message)
    }

    /// A TOML parse problem ([`ConfigErrorKind::Parse`]) at `key`.
    pub fn parse(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ConfigErrorKind::Parse, key, message)
    }

    /// An error of any kind at `key`.
    pub fn new(kind: ConfigErrorKind, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            kind,
        }
    }

    /// The same error with `prefix` prepended to its key, so an error found inside a section
    /// (`password_env`) can be reported where the section sits (`source.password_env`).
    #[must_use]
    pub fn prefixed(mut self, prefix: &str) -> Self {
        if !prefix.is_empty() {
            self.key = if self.key.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}.{}", self.key)
            };
        }
        self
    }
}

/// Collects every problem found while validating, so a user sees all of them at once.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    errors: Vec<ConfigError>,
}

impl Problems {
    /// Records a rule violation at `key`.
    pub(crate) fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ConfigError::invalid(key, message));
    }

    /// Records an already-built error.
    pub(crate) fn push_error(&mut self, error: ConfigError) {
        self.errors.push(error);
    }

    /// All recorded problems, in the order found.
    pub(crate) fn into_vec(self) -> Vec<ConfigError> {
        self.errors
    }
}

/// Joins a key prefix and a field name into a dotted path.
pub(crate) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_key() {
        let e = ConfigError::invalid(
            "advanced.other_retry_minutes",
            "must be less than advanced.connection_retry_minutes (720), got 720",
        );
        assert_eq!(
            e.to_string(),
            "advanced.other_retry_minutes: must be less than advanced.connection_retry_minutes (720), got 720"
        );
    }

    #[test]
    fn display_without_key_is_just_the_message() {
        let e = ConfigError::new(ConfigErrorKind::Io, "", "cannot read x");
        assert_eq!(e.to_string(), "cannot read x");
    }

    #[test]
    fn prefixed_joins_paths() {
        let e = ConfigError::invalid("password_env", "x").prefixed("source");
        assert_eq!(e.key, "source.password_env");
        let e = ConfigError::invalid("", "x").prefixed("source");
        assert_eq!(e.key, "source");
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a.b");
    }
}
