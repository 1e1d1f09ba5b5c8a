//! Hostile request parts for "no 5xx, whatever the input" tests: values that have broken
//! services before (NUL, control characters, huge, non-UTF-8), random bytes, and a raw HTTP/1.1
//! client that can put any of them in a path or header (reqwest refuses most of them).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One raw request: method, target, headers, body.
pub type Case<'a> = (&'static str, String, Vec<(&'static str, Vec<u8>)>, &'a [u8]);

/// Fixed hostile values, each once.
pub fn samples() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = [
        &b"\0"[..],
        b"a\0b",
        b"ORD-\0AAAAAAAAAAA",
        b"\x01\x02\x1b[31m",
        b"\x7f",
        b"\xff\xfe",
        b"\xc3\x28",
        b"%00",
        b"..",
        b"../../etc/passwd",
        b"' OR '1'='1",
        b"\xe2\x80\xae",
        b"00000000-0000-0000-0000-000000000000",
        b"-1",
        b"99999999999999999999999999",
        b"Bearer ",
        b" ",
    ]
    .iter()
    .map(|b| b.to_vec())
    .collect();
    out.push(vec![b'a'; 10_000]);
    out.push("é".repeat(3_000).into_bytes());
    out
}

/// Random bytes of up to `max` length from a seeded generator (xorshift: reproducible without
/// a dependency), `n` of them.
pub fn random(seed: u64, n: usize, max: usize) -> Vec<Vec<u8>> {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = usize::try_from(next() % (max as u64 + 1)).unwrap_or(0);
            (0..len).map(|_| (next() & 0xff) as u8).collect()
        })
        .collect()
}

/// `bytes` percent-encoded for one path segment (every byte outside unreserved characters).
pub fn path_segment(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `bytes` made into something a header value can carry on the wire: CR and LF would end the
/// header (that is request smuggling, not a value), so they become spaces; everything else,
/// NUL and non-UTF-8 included, is sent as is.
pub fn header_bytes(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }).collect()
}

/// Sends one raw HTTP/1.1 request and returns the answer's status, or `None` when the server
/// closed the connection without a status line.
pub async fn raw_status(
    addr: &str,
    method: &str,
    target: &str,
    headers: &[(&str, Vec<u8>)],
    body: &[u8],
) -> Option<u16> {
    let mut req = format!("{method} {target} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n").into_bytes();
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() {
        req.extend_from_slice(b"content-type: application/json\r\n");
    }
    req.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    req.extend_from_slice(body);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(&req).await.ok()?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        while !head.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()?;
    let line = String::from_utf8_lossy(&head);
    line.split(' ').nth(1)?.parse().ok()
}

/// Sends every case and notes in `failures` each one answered 5xx or not at all (`value` names
/// the hostile value in the note).
pub async fn check(addr: &str, value: &[u8], cases: Vec<Case<'_>>, failures: &mut Vec<String>) {
    for (method, target, headers, body) in cases {
        let status = raw_status(addr, method, &target, &headers, body).await;
        if status.is_none_or(|s| s >= 500) {
            let shown = String::from_utf8_lossy(&value[..value.len().min(40)]).into_owned();
            failures.push(format!("{method} {target} {shown:?} -> {status:?}"));
        }
    }
}

/// Fails the test listing every noted failure.
pub fn assert_none(failures: &[String], values: usize) {
    assert!(
        failures.is_empty(),
        "{} requests over {values} values broke a route:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
