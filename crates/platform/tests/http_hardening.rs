//! HTTP hardening, tested from a raw socket: time-outs on every request of a connection (head,
//! body, idle), JSON bodies on the HTTP layer's own errors (400, 408, 431), JWT `nbf`, and
//! forwarded headers believed only from trusted proxies.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use jsonwebtoken::{EncodingKey, Header};
use platform::auth::{Auth, Principal};
use platform::config::SecretString;
use platform::http::{HttpKit, HttpSettings, Readiness};
use serde_json::{Value, json};
use testkit::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "hardening-secret";

async fn echo(body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().json(json!({"bytes": body.len()}))
}

async fn me(p: Principal) -> HttpResponse {
    HttpResponse::Ok().json(json!({"subject": p.subject}))
}

async fn origin(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(json!({"origin": platform::http::forwarded::public_origin(&req)}))
}

fn spawn(settings: HttpSettings) -> TestServer {
    let metrics = platform::http::metrics::middleware("hardening", prometheus::Registry::new()).unwrap();
    let kit = HttpKit {
        workers: 1,
        settings,
        ..HttpKit::new(metrics, Readiness::new(vec![], Duration::from_secs(1)))
    };
    let auth = web::Data::new(Auth::with_secret(&SecretString::from(SECRET), SecretString::from("internal")));
    testkit::spawn_server(move |l| {
        platform::http::build_server(l, kit, move |cfg| {
            cfg.app_data(auth.clone())
                .route("/echo", web::post().to(echo))
                .route("/me", web::get().to(me))
                .route("/origin", web::get().to(origin))
                // A resource answers other methods with an empty 405 of its own.
                .service(web::resource("/only-get").route(web::get().to(HttpResponse::Ok)));
        })
    })
}

fn fast() -> HttpSettings {
    HttpSettings {
        head_timeout: Duration::from_millis(700),
        body_timeout: Duration::from_millis(900),
        idle_timeout: Duration::from_millis(1500),
        ..HttpSettings::default()
    }
}

/// One HTTP/1.1 response read off a raw socket: status, headers (lower-case), body.
struct Raw {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} body is not JSON ({e}): {:?}", self.status, String::from_utf8_lossy(&self.body))
        })
    }
}

/// Reads one response with a content-length (every response here has one).
async fn read_response(s: &mut TcpStream) -> Option<Raw> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Duration::from_secs(10);
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = tokio::time::timeout(deadline, s.read(&mut chunk)).await.expect("response in time").ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status = head.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while buf.len() < head_end + len {
        let n = tokio::time::timeout(deadline, s.read(&mut chunk)).await.expect("body in time").ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(Raw { status, headers: head, body: buf[head_end..].to_vec() })
}

/// True when the server closes the socket (EOF or reset) within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 64];
    loop {
        match tokio::time::timeout(within, s.read(&mut b)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

fn assert_error_shape(r: &Raw, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.headers);
    assert!(r.headers.contains("content-type: application/json"), "{}", r.headers);
    let body = r.json();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["message"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_second_head_on_a_keep_alive_connection_is_timed_out() {
    let server = spawn(fast());
    let mut s = connect(server.addr).await;
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut s).await.unwrap().status, 200);
    // The second head trickles: a byte every 200 ms keeps the keep-alive timer from firing.
    let started = Instant::now();
    let head = b"GET /health HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut answer = None;
    for byte in head.iter().take(head.len() - 1) {
        if s.write_all(&[*byte]).await.is_err() {
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), s.peek(&mut probe)).await {
            if n > 0 {
                answer = read_response(&mut s).await;
            }
            break;
        }
    }
    let r = answer.expect("the server answered before the head was complete");
    assert_error_shape(&r, 408, "Request timeout");
    assert!(started.elapsed() < Duration::from_secs(3), "cut after ~0.7 s, not {:?}", started.elapsed());
    assert!(closed_within(&mut s, Duration::from_secs(2)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_at_one_byte_a_second_is_cut_with_a_json_408() {
    let server = spawn(fast());
    let mut s = connect(server.addr).await;
    s.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = None;
    for _ in 0..100 {
        let _ = s.write_all(b"a").await;
        let mut probe = [0u8; 1];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(1), s.peek(&mut probe)).await {
            if n > 0 {
                answer = read_response(&mut s).await;
            }
            break;
        }
    }
    let r = answer.expect("the server answered before the body was complete");
    assert_error_shape(&r, 408, "Request timeout");
    assert!(r.headers.contains("connection: close"), "{}", r.headers);
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    assert!(closed_within(&mut s, Duration::from_secs(2)).await);

    // A body sent at once is fine, and so is the next request on that connection.
    let mut s = connect(server.addr).await;
    for _ in 0..2 {
        s.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc").await.unwrap();
        let r = read_response(&mut s).await.unwrap();
        assert_eq!((r.status, r.json()), (200, json!({"bytes": 3})));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = spawn(fast());
    let mut s = connect(server.addr).await;
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut s).await.unwrap().status, 200);
    let started = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(3)).await, "idle connection kept open");
    assert!(started.elapsed() >= Duration::from_secs(1), "closed too early: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_layers_own_errors_are_json() {
    let server = spawn(fast());

    // 431: a head beyond actix's buffer.
    let mut s = connect(server.addr).await;
    let big = format!("GET /health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n", "a".repeat(140 * 1024));
    let _ = s.write_all(big.as_bytes()).await;
    let r = read_response(&mut s).await.expect("431 answer");
    assert_error_shape(&r, 431, "Request header fields too large");

    // 431: more headers than actix parses.
    let mut s = connect(server.addr).await;
    let many = "x-h: v\r\n".repeat(120);
    s.write_all(format!("GET /health HTTP/1.1\r\nhost: x\r\n{many}\r\n").as_bytes()).await.unwrap();
    let r = read_response(&mut s).await.expect("431 answer");
    assert_error_shape(&r, 431, "Request header fields too large");

    // 400: a malformed head.
    let mut s = connect(server.addr).await;
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\ncontent-length: nope\r\n\r\n").await.unwrap();
    assert_error_shape(&read_response(&mut s).await.expect("400 answer"), 400, "Bad request");
    let mut s = connect(server.addr).await;
    s.write_all(b"\x01\x02 garbage\r\n\r\n").await.unwrap();
    assert_error_shape(&read_response(&mut s).await.expect("400 answer"), 400, "Bad request");

    // 408: a first head that never completes.
    let mut s = connect(server.addr).await;
    s.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    assert_error_shape(&read_response(&mut s).await.expect("408 answer"), 408, "Request timeout");

    // A malformed second head on a keep-alive connection gets the same.
    let mut s = connect(server.addr).await;
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    assert_eq!(read_response(&mut s).await.unwrap().status, 200);
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\n").await.unwrap();
    assert_error_shape(&read_response(&mut s).await.expect("400 answer"), 400, "Bad request");

    // A method the route does not take.
    let mut s = connect(server.addr).await;
    s.write_all(b"DELETE /only-get HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let r = read_response(&mut s).await.unwrap();
    assert_error_shape(&r, 405, "Method not allowed");

    // Ordinary error answers pass through untouched.
    let mut s = connect(server.addr).await;
    s.write_all(b"GET /nowhere HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    assert_error_shape(&read_response(&mut s).await.unwrap(), 404, "Not found");
}

fn token(claims: &Value) -> String {
    jsonwebtoken::encode(&Header::default(), claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_nbf_is_checked_with_the_stated_leeway() {
    let server = spawn(HttpSettings::default());
    let now = chrono::Utc::now().timestamp();
    let status = |nbf: i64| {
        let t = token(&json!({"sub": "c-1", "exp": now + 3600, "nbf": now + nbf}));
        let req = server.client.get(server.url("/me")).bearer_auth(t);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(3600).await, 401, "a token valid only from next hour is refused now");
    assert_eq!(status(-10).await, 200);
    let leeway = i64::try_from(platform::auth::CLOCK_LEEWAY_SECS).unwrap();
    assert_eq!(status(leeway - 5).await, 200, "within the leeway");
    assert_eq!(status(leeway + 30).await, 401, "beyond the leeway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let ask = |server: &TestServer, proto: &'static str, host: &'static str| {
        let req = server
            .client
            .get(server.url("/origin"))
            .header("x-forwarded-proto", proto)
            .header("x-forwarded-host", host);
        async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()["origin"].as_str().unwrap().to_owned()
        }
    };
    let untrusted =
        spawn(HttpSettings { trusted_proxies: "10.0.0.0/8".parse().unwrap(), ..HttpSettings::default() });
    let own = format!("http://{}", untrusted.addr);
    assert_eq!(ask(&untrusted, "https", "shop.example.com").await, own);

    let trusted =
        spawn(HttpSettings { trusted_proxies: "127.0.0.1/32".parse().unwrap(), ..HttpSettings::default() });
    assert_eq!(ask(&trusted, "https", "shop.example.com").await, "https://shop.example.com");
    assert_eq!(
        ask(&trusted, "javascript:alert(1)//", "evil.com/<script>").await,
        format!("http://{}", trusted.addr)
    );
}
