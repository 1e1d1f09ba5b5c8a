//! The client side of `stripe-emulator trigger|resend`: talks to a running emulator's control
//! API, as the Stripe CLI talks to Stripe.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use serde_json::Value;

/// Where the running emulator is: `STRIPE_API_BASE` (as the services see it), else the default.
pub fn emulator_url(flag: Option<String>) -> String {
    flag.or_else(|| std::env::var("STRIPE_API_BASE").ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "http://127.0.0.1:12111".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Parses `--metadata key=value` arguments.
pub fn metadata(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => bail!("--metadata takes key=value, not {p:?}"),
        })
        .collect()
}

/// POSTs `body` to `{base}{path}` and returns the JSON answer, failing on a non-2xx status.
pub async fn post(base: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let response = client
        .post(format!("{base}{path}"))
        .json(body)
        .send()
        .await
        .with_context(|| format!("cannot reach the emulator at {base}"))?;
    let status = response.status();
    let answer: Value = response.json().await.context("the emulator's answer is not JSON")?;
    if !status.is_success() {
        let message = answer.pointer("/error/message").and_then(Value::as_str).unwrap_or("no message");
        bail!("{status}: {message}");
    }
    Ok(answer)
}
