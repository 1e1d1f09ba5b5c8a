//! `dev-token` (`make token`): its tokens pass the services' own verification; it refuses in
//! production.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

use platform::auth::Auth;
use platform::service::DEV_JWT_SECRET;
use secrecy::SecretString;

fn mint(env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dev-token"));
    cmd.env_remove("APP_ENV").env_remove("JWT_SECRET").env_remove("JWT_ISSUER").env_remove("JWT_AUDIENCE");
    cmd.envs(env.iter().copied()).args(args).output().unwrap()
}

#[tokio::test]
async fn minted_tokens_verify_and_production_is_refused() {
    let out = mint(&[], &["--role", "admin", "--sub", "alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    let auth = Auth::with_secret(&SecretString::from(DEV_JWT_SECRET), SecretString::from("i"));
    let p = auth.verify(token.trim()).await.unwrap();
    assert_eq!((p.subject.as_str(), p.is_admin()), ("alice", true));

    // With an issuer and audience configured, the token carries them and passes the checks.
    let env = [("JWT_SECRET", "s3cret"), ("JWT_ISSUER", "https://id.example/"), ("JWT_AUDIENCE", "commerce")];
    let out = mint(&env, &[]);
    let token = String::from_utf8(out.stdout).unwrap();
    let strict = Auth::with_secret(&SecretString::from("s3cret"), SecretString::from("i"))
        .with_issuer(Some("https://id.example/"))
        .with_audience(Some("commerce"));
    let p = strict.verify(token.trim()).await.unwrap();
    assert_eq!((p.subject.as_str(), p.is_admin()), ("dev-customer", false));

    for env in [[("APP_ENV", "production")], [("APP_ENV", "nonsense")]] {
        let out = mint(&env, &[]);
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "no token printed");
    }
}
