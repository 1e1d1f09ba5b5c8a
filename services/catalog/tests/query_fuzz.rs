//! Property tests against the running catalog: no query string (listing) and no slug (product
//! page) gets a 5xx, and every non-200 answer is the documented JSON error shape.
//!
//! Generated query strings mix the listing's keys with bracketed and unknown ones, repeat
//! keys, and use hostile values: NUL and other control bytes, invalid UTF-8 percent-escapes,
//! huge, negative and malformed numbers in every numeric field and inside cursors.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;

/// The listing's own keys (the fuzzer mixes them with bracketed and unknown ones).
const KEYS: &[&str] = &catalog::listing::query::KEYS;

const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999999",
    "1e309",
    "NaN",
    "inf",
    "1.5",
    "0.001",
    "92233720368547758.07",
    "92233720368547758.08",
    "0x10",
    "+5",
    "%201",
    "1%00",
    "١٢",
];

const SPECIALS: &[&str] = &[
    "%00",
    "a%00b",
    "%01%02%1F",
    "%7F",
    "%0D%0A",
    "%FF",
    "%C3%28",
    "%E2%82",
    "%ED%A0%80",
    "%C0%AF",
    "%F4%90%80%80",
    "%",
    "%2",
    "%zz",
    "%25",
    "%26page%3D0",
    "+",
    "%E2%80%AE",
    "%F0%9F%92%A9",
    "true",
    "false",
    "created_at",
    "price_cents",
    "name",
    "asc",
    "desc",
    "clothing",
];

fn hex(bytes: &[u8]) -> String {
    escape(bytes, "", false)
}

fn escape(bytes: &[u8], prefix: &str, upper: bool) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = if upper { write!(s, "{prefix}{b:02X}") } else { write!(s, "{prefix}{b:02x}") };
        s
    })
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(NUMBERS).prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<i128>().prop_map(|n| n.to_string()),
        (any::<i64>(), 0u32..5).prop_map(|(n, d)| format!("{n}.{}", "9".repeat(d as usize))),
    ]
}

fn cursor() -> impl Strategy<Value = String> {
    let tag = proptest::sample::select(&["c", "p", "n", "x", ""][..]);
    let value = prop_oneof![
        number(),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| hex(&b)),
        Just("00".to_owned()),
        Just("zz".to_owned()),
    ];
    (tag, value, number()).prop_map(|(t, v, id)| format!("{t}.{v}.{id}"))
}

fn escaped_bytes() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..12).prop_map(|b| escape(&b, "%", true))
}

fn plain_value() -> impl Strategy<Value = String> {
    prop_oneof![
        number(),
        cursor(),
        proptest::sample::select(SPECIALS).prop_map(str::to_owned),
        escaped_bytes(),
        "[a-zA-Z0-9._~-]{0,20}",
        (1usize..400).prop_map(|n| "a".repeat(n)),
        (1usize..80).prop_map(|n| "%C3%A9".repeat(n)),
    ]
}

/// A value, often with a control byte or a broken UTF-8 escape spliced in somewhere.
fn value() -> impl Strategy<Value = String> {
    let splice = proptest::option::weighted(
        0.5,
        (
            any::<usize>(),
            proptest::sample::select(&["%00", "%01", "%0A", "%1B", "%7F", "%FF", "%C3", "%80"][..]),
        ),
    );
    (plain_value(), splice).prop_map(|(v, splice)| match splice {
        None => v,
        Some((at, bad)) => {
            // Splice between escapes, not inside one.
            let b = v.as_bytes();
            let cuts: Vec<usize> = (0..=v.len())
                .filter(|&i| {
                    v.is_char_boundary(i) && !(i >= 1 && b[i - 1] == b'%') && !(i >= 2 && b[i - 2] == b'%')
                })
                .collect();
            let at = cuts[at % cuts.len()];
            format!("{}{bad}{}", &v[..at], &v[at..])
        }
    })
}

fn key() -> impl Strategy<Value = String> {
    let known = proptest::sample::select(KEYS).prop_map(str::to_owned);
    prop_oneof![
        4 => known.clone(),
        1 => known.clone().prop_map(|k| format!("{k}[]")),
        1 => known.clone().prop_map(|k| format!("{k}%5B0%5D")),
        1 => known.prop_map(|k| format!("{k}%00")),
        1 => "[a-z_\\[\\]]{1,10}",
    ]
}

fn query_string() -> impl Strategy<Value = String> {
    let pair = prop_oneof![
        8 => (key(), value()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => key(),
        1 => Just(String::new()),
    ];
    proptest::collection::vec(pair, 0..7).prop_map(|pairs| pairs.join("&"))
}

/// A non-200 answer must be `{"error": "...", "message": "..."}` or, for 422,
/// `{"error": "Validation failed", "messages": {"field": ["...", ...]}}`.
fn check_answer(what: &str, status: u16, body: &Value) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "{what} → {status} {body}");
    if status == 200 {
        prop_assert!(body["data"].is_array() || body["data"].is_object(), "{what} → 200 {body}");
        return Ok(());
    }
    prop_assert!(body["error"].is_string(), "{what} → {status} without the error shape: {body}");
    if status == 422 {
        let messages = body["messages"].as_object();
        prop_assert!(
            messages.is_some_and(|m| !m.is_empty()
                && m.values().all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))),
            "{what} → 422 without messages: {body}"
        );
    } else {
        prop_assert!(body["message"].is_string(), "{what} → {status} without a message: {body}");
    }
    Ok(())
}

async fn raw_get(app: &common::App, path_and_query: &str) -> (u16, Value) {
    // The URL is sent as written: reqwest keeps valid percent-escapes and encodes the rest.
    testkit::http::send(app.server.client.get(format!("{}{path_and_query}", app.server.base_url))).await
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

#[test]
fn no_query_string_gets_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(common::spawn());
    let mut runner = runner(400);
    let result = runner.run(&query_string(), |qs| {
        let path = format!("/api/v1/products?{qs}");
        let (status, body) = rt.block_on(raw_get(&app, &path));
        check_answer(&path, status, &body)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn known_hostile_query_strings_get_422() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(common::spawn());
    for qs in [
        "category=a%00b",
        "search=%00",
        "search=a%01b",
        "cursor=c.-9223372036854775808.1",
        "cursor=c.9223372036854775807.1",
        "cursor=c.-3220000000000000000.1",
        "cursor=n.00.1",
        "sort_by=name&cursor=n.610062.1",
        "page=99999999999999999999",
        "per_page=-1",
        "min_price=99999999999999999999",
        "search=%FF",
        "category=%C3%28",
        "sort_by=%E2%82",
        "cursor=c.%ED%A0%80.1",
    ] {
        let (status, body) = rt.block_on(raw_get(&app, &format!("/api/v1/products?{qs}")));
        assert_eq!(status, 422, "{qs}: {body}");
        check_answer(qs, status, &body).unwrap();
    }
}

fn slug() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,40}",
        escaped_bytes(),
        proptest::sample::select(SPECIALS).prop_map(str::to_owned),
        (1usize..400).prop_map(|n| "a".repeat(n)),
        cursor(),
        number(),
    ]
}

#[test]
fn no_slug_gets_a_5xx() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let app = rt.block_on(common::spawn());
    let mut runner = runner(300);
    let result = runner.run(&(slug(), query_string()), |(slug, qs)| {
        let path = format!("/api/v1/products/{slug}?{qs}");
        let (status, body) = rt.block_on(raw_get(&app, &path));
        prop_assert!(status == 200 || status == 404, "{path} → {status} {body}");
        check_answer(&path, status, &body)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
