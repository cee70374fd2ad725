//! Task configuration parsing: arbitrary text as a task file (`TaskConfig::from_toml_str`),
//! then validation, saving (`to_toml_string`) and re-reading, password resolution (inline only:
//! no environment or file is touched for `password_env` / `password_file` values that are not
//! set) and building the object filter. Nothing may panic.
#![no_main]

use dts_core::config::TaskConfig;
use dts_core::objects::ConfigFilter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = TaskConfig::from_toml_str(text) else {
        return;
    };
    let _ = config.validate();
    if let Ok(saved) = config.to_toml_string() {
        let _ = TaskConfig::parse_toml_str(&saved);
    }
    let _ = format!("{config:?}");
    let inline_only = config
        .source_settings()
        .map(|s| s.password_env.is_none() && s.password_file.is_none())
        .unwrap_or(false);
    if inline_only {
        let _ = config.source_password();
    }
    let _ = config.parallelism();
    let _ = config.incremental_rps_limit();
    let _ = ConfigFilter::from_config(&config);
});
