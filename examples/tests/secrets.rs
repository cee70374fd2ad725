//! Passwords never leave the places they are needed: not in `Debug` output of configs and
//! endpoints, not in saved configs, not in error messages of a refused login, not in the log
//! (captured at TRACE level), not in a task's status or progress snapshots. Passwords are read
//! inline, from an environment variable (`password_env`) or from a file (`password_file`).

mod rs_support;

use dts_core::config::TaskConfig;
use rs_support::*;
use std::time::Duration;

fn objects(db: &str) -> String {
    format!("\n[[objects.databases]]\nname = \"{db}\"\n")
}

/// The password must not appear in `text`, under any of the forms a formatter could give it.
fn assert_hidden(what: &str, text: &str, password: &str) {
    let escaped = format!("{password:?}");
    let escaped = escaped.trim_matches('"');
    assert!(
        !text.contains(password) && !text.contains(escaped),
        "{what} shows the password:\n{text}"
    );
}

#[test]
fn config_debug_and_saved_toml_hide_inline_passwords() {
    let src_pw = password("src");
    let dst_pw = password("dst");
    let toml = format!(
        "id = \"rs-secrets\"\n{}{}",
        endpoints_toml(
            "dts",
            &format!("password = \"{src_pw}\"\n"),
            "dts",
            &format!("password = \"{dst_pw}\"\n")
        ),
        objects("rs_secrets_cfg")
    );
    let config = parse(&toml);
    // The passwords were read (else the assertions below would prove nothing).
    assert_eq!(config.source_password().unwrap().expose(), src_pw);
    assert_eq!(
        config.destination_password().unwrap().unwrap().expose(),
        dst_pw
    );
    for pw in [&src_pw, &dst_pw] {
        assert_hidden("TaskConfig Debug", &format!("{config:?}"), pw);
        assert_hidden("TaskConfig pretty Debug", &format!("{config:#?}"), pw);
        assert_hidden("saved TOML", &config.to_toml_string().unwrap(), pw);
        assert_hidden(
            "source settings Debug",
            &format!("{:?}", config.source_settings().unwrap()),
            pw,
        );
        assert_hidden(
            "destination settings Debug",
            &format!("{:?}", config.destination_settings().unwrap()),
            pw,
        );
        assert_hidden(
            "secret Display",
            &format!("{}", config.source_password().unwrap()),
            pw,
        );
    }
    let endpoint =
        dts_mysql::MysqlEndpoint::new("source", "127.0.0.1", 1, "u", Some(src_pw.clone()));
    assert_hidden("MysqlEndpoint Debug", &format!("{endpoint:?}"), &src_pw);
    // A saved config does not silently become a config with the password `***`.
    let reloaded = TaskConfig::from_toml_str(&config.to_toml_string().unwrap());
    let err = reloaded
        .and_then(|c| c.validate().map(|_| c))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("source.password"),
        "reloading a saved config with a redacted password is an error naming the key: {err:?}"
    );
}

#[test]
fn passwords_come_from_environment_variables_and_files() {
    let src_pw = password("env");
    let dst_pw = password("file");
    let var = format!("RS_SECRETS_PW_{}", std::process::id());
    // SAFETY-free in edition 2021; this test is the only user of this variable name.
    std::env::set_var(&var, &src_pw);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dest.pw");
    std::fs::write(&file, format!("{dst_pw}\n")).unwrap();
    let toml = format!(
        "id = \"rs-secrets\"\n{}{}",
        endpoints_toml(
            "dts",
            &format!("password_env = \"{var}\"\n"),
            "dts",
            &format!("password_file = \"{}\"\n", file.display())
        ),
        objects("rs_secrets_cfg")
    );
    let config = parse(&toml);
    assert_eq!(config.source_password().unwrap().expose(), src_pw);
    assert_eq!(
        config.destination_password().unwrap().unwrap().expose(),
        dst_pw,
        "one trailing newline of the file is not part of the password"
    );
    // Saved configs keep the references, not the values.
    let saved = config.to_toml_string().unwrap();
    assert!(saved.contains(&var));
    assert_hidden("saved TOML", &saved, &src_pw);
    assert_hidden("saved TOML", &saved, &dst_pw);

    // A missing variable and an unreadable file are errors naming the key, not the value.
    std::env::remove_var(&var);
    let e = config.source_password().unwrap_err().to_string();
    assert!(e.contains("source.password_env"), "{e}");
    assert_hidden("missing variable error", &e, &src_pw);
    std::fs::remove_file(&file).unwrap();
    let e = config.destination_password().unwrap_err().to_string();
    assert!(e.contains("destination.password_file"), "{e}");
    assert_hidden("missing file error", &e, &dst_pw);

    // Two sources for one password are refused.
    let both = format!(
        "id = \"rs-secrets\"\n{}{}",
        endpoints_toml(
            "dts",
            &format!("password = \"x\"\npassword_env = \"{var}\"\n"),
            "dts",
            ""
        ),
        objects("rs_secrets_cfg")
    );
    let e = TaskConfig::from_toml_str(&both)
        .and_then(|c| c.validate().map(|_| c))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("source.password"), "{e:?}");
}

/// A login refused by either server: the error names the account and the server, never the
/// password given nor the real one; the same holds for the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_logins_do_not_echo_passwords() {
    capture_logs();
    let user = unique("sec");
    let real = password("real");
    let wrong = password("wrong");
    for url in [source_url(), dest_url()] {
        drop_user(&url, &user).await;
        let mut c = connect(&url).await;
        exec_all(
            &mut c,
            &[&format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{real}'")],
        )
        .await;
    }
    let state = tempfile::tempdir().unwrap();
    let pw = |p: &str| format!("password = \"{p}\"\n");
    // Wrong destination password (the destination is connected first), then wrong source
    // password with a correct destination login.
    for (side, source_pw, dest_pw) in [
        ("destination", pw(&real), pw(&wrong)),
        ("source", pw(&wrong), pw(&real)),
    ] {
        let toml = format!(
            "id = \"{user}\"\n{}{}",
            endpoints_toml(&user, &source_pw, &user, &dest_pw),
            objects(&user)
        );
        let config = parse(&toml);
        let e = match dts_mysql::build_mysql_task(&config, state.path(), None).await {
            Ok(_) => panic!("{side}: a wrong password was accepted"),
            Err(e) => e,
        };
        let shown = format!("{e}");
        assert!(
            shown.to_lowercase().contains("access denied") && shown.contains(side),
            "{side}: the error says what failed and where: {shown}"
        );
        for p in [&real, &wrong] {
            assert_hidden("error Display", &shown, p);
            assert_hidden("error Debug", &format!("{e:?}"), p);
        }
    }
    // A task that loses its login while running: the failure in its status and progress
    // snapshots names the cause, not the passwords.
    let db = unique("secdb");
    let mut s = connect(&source_url()).await;
    exec_all(
        &mut s,
        &[
            &format!("CREATE DATABASE `{db}`"),
            &format!("CREATE TABLE `{db}`.t (id INT PRIMARY KEY)"),
            &format!("GRANT SELECT ON `{db}`.* TO '{user}'@'%'"),
            &format!("GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO '{user}'@'%'"),
        ],
    )
    .await;
    // The failure alert goes to the log (LogAlertHook) with the error in it.
    let toml = format!(
        "id = \"{user}\"\n{}{}\n[advanced.monitoring]\nalert_on_failure = true\n",
        endpoints_toml(&user, &pw(&real), "root", ""),
        objects(&db)
    );
    let config = parse(&toml);
    let built = dts_mysql::build_mysql_task(&config, state.path(), None)
        .await
        .unwrap();
    exec_all(
        &mut s,
        &[&format!("ALTER USER '{user}'@'%' IDENTIFIED BY '{wrong}'")],
    )
    .await;
    let handle = built.task.handle();
    let result = tokio::time::timeout(Duration::from_secs(120), built.task.run())
        .await
        .expect("the task ends once its source login is refused");
    let e = result.expect_err("the source login is refused");
    let status = handle.status();
    let progress = handle.progress();
    let texts = [
        format!("{e}"),
        format!("{e:?}"),
        format!("{status:?}"),
        serde_json::to_string(&status).unwrap(),
        format!("{progress:?}"),
        serde_json::to_string(&progress).unwrap(),
    ];
    assert!(
        texts[0].to_lowercase().contains("access denied"),
        "the failure names its cause: {}",
        texts[0]
    );
    for t in &texts {
        for p in [&real, &wrong] {
            assert_hidden("task failure / snapshot", t, p);
        }
    }
    let log = captured_log();
    assert!(
        log.contains("dts alert") && log.to_lowercase().contains("access denied"),
        "the failure alert reached the captured log: {log}"
    );
    for p in [&real, &wrong] {
        assert_hidden("captured log", &log, p);
    }
    exec_all(&mut s, &[&format!("DROP DATABASE `{db}`")]).await;
    for url in [source_url(), dest_url()] {
        drop_user(&url, &user).await;
    }
}
