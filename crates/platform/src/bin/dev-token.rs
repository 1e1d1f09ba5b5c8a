//! `dev-token`: mints a customer or admin JWT for local use (`make token ROLE=admin`), signed
//! HS256 with `JWT_SECRET` (the development default when unset) and carrying `JWT_ISSUER` /
//! `JWT_AUDIENCE` when set, so the services accept it. Refuses with `APP_ENV=production`: real
//! tokens come from the shop's identity provider.

use clap::Parser;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform::config::AppEnv;
use platform::service::DEV_JWT_SECRET;

/// Mint a development token.
#[derive(Parser)]
struct Args {
    /// `customer` or `admin`.
    #[arg(long, default_value = "customer")]
    role: String,
    /// The subject (customer id).
    #[arg(long, default_value = "dev-customer")]
    sub: String,
    /// Minutes the token is valid.
    #[arg(long, default_value_t = 60)]
    minutes: i64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let env: AppEnv = match std::env::var("APP_ENV") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(anyhow::Error::msg)?,
        _ => AppEnv::Development,
    };
    anyhow::ensure!(env != AppEnv::Production, "dev-token refuses to mint tokens with APP_ENV=production");
    anyhow::ensure!(matches!(args.role.as_str(), "customer" | "admin"), "--role is customer or admin");
    anyhow::ensure!((1..=7 * 24 * 60).contains(&args.minutes), "--minutes is 1 to 10080");
    let secret = std::env::var("JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEV_JWT_SECRET.to_owned());
    let now = chrono::Utc::now().timestamp();
    let mut claims = serde_json::json!({"sub": args.sub, "iat": now, "exp": now + args.minutes * 60});
    if args.role == "admin" {
        claims["roles"] = serde_json::json!(["admin"]);
    }
    for (var, claim) in [("JWT_ISSUER", "iss"), ("JWT_AUDIENCE", "aud")] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            claims[claim] = serde_json::json!(v);
        }
    }
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )?;
    println!("{token}");
    Ok(())
}
