//! The send → status → JSON step HTTP tests repeat.

use reqwest::RequestBuilder;
use serde_json::Value;

/// Sends `req`; its status and JSON body (`Value::Null` when the body is not JSON). Panics when
/// the request cannot be sent: that fails the test.
pub async fn send(req: RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("send the request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
