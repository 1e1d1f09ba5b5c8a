//! Tokens from an identity provider: ES256 keys from a local JWKS endpoint chosen by `kid`,
//! `iss` and `aud` checked, key rotation (old and new both valid during the overlap, a key
//! removed from the set refused after the next fetch), unknown `kid`s refetching at most once
//! per gap, and a provider that was never reached answering 503.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platform::auth::Auth;
use platform::auth::jwks::Jwks;
use platform::http::ApiError;
use secrecy::SecretString;
use serde_json::{Value, json};

// Two P-256 keys made with `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`
// for this test only.
const K1_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg09LzxMj3UnfHqdd3
6v7PoLJyLkcw1i8gXLtV39PRyyKhRANCAARXcR+6Sow1+StB7sAbao0mWy8GDUjE
aVFy5SmjbZuiUr3NXHmlv6WtXS1p9L7rK83UGza9KWPyKcAokytbJEBP
-----END PRIVATE KEY-----";
const K1_XY: (&str, &str) =
    ("V3EfukqMNfkrQe7AG2qNJlsvBg1IxGlRcuUpo22bolI", "vc1ceaW_pa1dLWn0vusrzdQbNr0pY_IpwCiTK1skQE8");
const K2_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSBnLgwekAJm76SgM
W9GUc6JoJPLCHBWqYhHha7AsHgihRANCAASeMfNwC+k1T8YTot6rz4ENllb06Kgz
QzAX0rM3tAfC6Qp6F+n3FrN1H+bEx8juWlAVp9/lwbj1mtWjOZQVjBeY
-----END PRIVATE KEY-----";
const K2_XY: (&str, &str) =
    ("njHzcAvpNU_GE6Leq8-BDZZW9OioM0MwF9KzN7QHwuk", "CnoX6fcWs3Uf5sTHyO5aUBWn3-XBuPWa1aM5lBWMF5g");
const ISSUER: &str = "https://id.shop.example/realms/shop";
const AUDIENCE: &str = "commerce";

fn jwk(kid: &str, (x, y): (&str, &str)) -> Value {
    json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid, "x": x, "y": y})
}

fn token(kid: &str, pem: &str, iss: &str, aud: &str) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid.to_owned());
    let exp = chrono::Utc::now().timestamp() + 600;
    let claims = json!({"sub": "user-1", "roles": ["admin"], "iss": iss, "aud": aud, "exp": exp});
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()).unwrap()
}

/// A JWKS endpoint serving whatever `keys` holds, counting the fetches.
struct Provider {
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
    server: testkit::TestServer,
}

fn provider(keys: Value) -> Provider {
    let keys = Arc::new(Mutex::new(keys));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let server = testkit::spawn_server(move |listener| {
        Ok(HttpServer::new(move || {
            let (k, f) = (k.clone(), f.clone());
            App::new().route(
                "/certs",
                web::get().to(move || {
                    f.fetch_add(1, Ordering::SeqCst);
                    let body = json!({"keys": k.lock().unwrap().clone()});
                    async move { HttpResponse::Ok().json(body) }
                }),
            )
        })
        .workers(1)
        .listen(listener)?
        .run())
    });
    Provider { keys, fetches, server }
}

fn auth(p: &Provider, max_age: Duration, gap: Duration) -> Auth {
    let set = Jwks::new(&p.server.url("/certs")).unwrap().with_timing(max_age, gap);
    Auth::with_jwks(set, SecretString::from("internal"))
        .with_issuer(Some(ISSUER))
        .with_audience(Some(AUDIENCE))
}

fn status(r: &Result<platform::auth::Principal, ApiError>) -> u16 {
    match r {
        Ok(_) => 200,
        Err(e) => actix_web::ResponseError::status_code(e).as_u16(),
    }
}

#[tokio::test]
async fn keys_rotate_through_the_jwks_and_iss_and_aud_are_checked() {
    let p = provider(json!([jwk("k1", K1_XY)]));
    let a = auth(&p, Duration::from_millis(300), Duration::ZERO);
    let old = token("k1", K1_PEM, ISSUER, AUDIENCE);
    let principal = a.verify(&old).await.unwrap();
    assert_eq!((principal.subject.as_str(), principal.is_admin()), ("user-1", true));

    // Wrong issuer, wrong audience, a key of another provider, an HS256 token naming k1: 401.
    for bad in [
        token("k1", K1_PEM, "https://evil.example/", AUDIENCE),
        token("k1", K1_PEM, ISSUER, "another-app"),
        token("k1", K2_PEM, ISSUER, AUDIENCE),
    ] {
        assert_eq!(status(&a.verify(&bad).await), 401);
    }
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    let forged = jsonwebtoken::encode(
        &hs,
        &json!({"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "exp": chrono::Utc::now().timestamp() + 600}),
        &EncodingKey::from_secret(b""),
    )
    .unwrap();
    assert_eq!(status(&a.verify(&forged).await), 401);

    // Rotation: k2 is added; a token signed with it is accepted at once (unknown kid → fetch),
    // and k1 still works during the overlap.
    *p.keys.lock().unwrap() = json!([jwk("k1", K1_XY), jwk("k2", K2_XY)]);
    let new = token("k2", K2_PEM, ISSUER, AUDIENCE);
    assert_eq!(status(&a.verify(&new).await), 200);
    assert_eq!(status(&a.verify(&old).await), 200);

    // k1 is revoked: refused once the set is fetched again (it is older than its max age).
    *p.keys.lock().unwrap() = json!([jwk("k2", K2_XY)]);
    testkit::wait_until(Duration::from_secs(10), "the revoked key to be refused", || async {
        (status(&a.verify(&old).await) == 401).then_some(())
    })
    .await;
    assert_eq!(status(&a.verify(&new).await), 200);
}

#[tokio::test]
async fn unknown_kids_cannot_hammer_the_provider_and_an_unreachable_one_is_503() {
    let p = provider(json!([jwk("k1", K1_XY)]));
    let a = auth(&p, Duration::from_secs(600), Duration::from_secs(600));
    assert_eq!(status(&a.verify(&token("k1", K1_PEM, ISSUER, AUDIENCE)).await), 200);
    for i in 0..50 {
        let t = token(&format!("invented-{i}"), K1_PEM, ISSUER, AUDIENCE);
        assert_eq!(status(&a.verify(&t).await), 401);
    }
    assert_eq!(p.fetches.load(Ordering::SeqCst), 1, "one fetch, then the gap holds");

    p.server.stop().await;
    let unreachable = auth(&p, Duration::from_secs(600), Duration::ZERO);
    assert_eq!(status(&unreachable.verify(&token("k1", K1_PEM, ISSUER, AUDIENCE)).await), 503);
    // The one that fetched before keeps its keys while the provider is away.
    assert_eq!(status(&a.verify(&token("k1", K1_PEM, ISSUER, AUDIENCE)).await), 200);
}
