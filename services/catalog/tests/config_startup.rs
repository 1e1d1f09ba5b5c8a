//! Start-up refuses a missing or malformed variable with one line naming it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

fn run(vars: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalog"));
    cmd.env_clear().arg("migrate");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run catalog");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn production_without_database_url_names_it() {
    let (code, stderr) = run(&[("APP_ENV", "production")]);
    assert_eq!(code, 2);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn production_without_internal_token_names_it() {
    let (code, stderr) = run(&[
        ("APP_ENV", "production"),
        ("DATABASE_URL", "postgres://u:hunter2@db/commerce"),
        ("REDIS_URL", "redis://r"),
        ("AMQP_URL", "amqp://q"),
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("INTERNAL_TOKEN"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn malformed_values_are_named() {
    for (var, value) in [
        ("HTTP_ADDR", "not-an-address"),
        ("DB_POOL_SIZE", "many"),
        ("APP_ENV", "staging"),
        ("LOG_FORMAT", "xml"),
    ] {
        let (code, stderr) = run(&[(var, value)]);
        assert_eq!(code, 2, "{var}");
        assert!(stderr.contains(var), "{var}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}
