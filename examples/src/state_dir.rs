//! Where the installed `dts` program keeps task state (checkpoint files, the task list of
//! `dts serve`): `--state-dir` when given, else `$XDG_STATE_HOME/dts`, else
//! `$HOME/.local/state/dts` (the XDG Base Directory default).

use std::path::PathBuf;

/// The default state directory: `$XDG_STATE_HOME/dts` when that variable holds an absolute
/// path, else `$HOME/.local/state/dts`; `None` when neither variable is usable.
pub fn default_state_dir() -> Option<PathBuf> {
    from_vars(
        std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

/// The state directory for these values of `XDG_STATE_HOME` and `HOME`. The XDG specification
/// says a relative `XDG_STATE_HOME` is invalid and is to be ignored.
fn from_vars(xdg_state_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(xdg) = xdg_state_home.filter(|p| p.is_absolute()) {
        return Some(xdg.join("dts"));
    }
    home.filter(|p| p.is_absolute())
        .map(|h| h.join(".local").join("state").join("dts"))
}

/// `explicit` when given, else [`default_state_dir`]; an error naming both ways out when
/// neither exists.
pub fn resolve(explicit: Option<PathBuf>) -> Result<PathBuf, String> {
    explicit
        .or_else(default_state_dir)
        .ok_or_else(|| "no state directory: set --state-dir, XDG_STATE_HOME or HOME".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_then_home() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(from_vars(p("/x/state"), p("/home/u")), p("/x/state/dts"));
        assert_eq!(from_vars(None, p("/home/u")), p("/home/u/.local/state/dts"));
        assert_eq!(
            from_vars(p("relative"), p("/home/u")),
            p("/home/u/.local/state/dts"),
            "a relative XDG_STATE_HOME is ignored"
        );
        assert_eq!(from_vars(None, None), None);
    }
}
