//! Small helpers around AMQP properties and headers.

use std::collections::HashMap;
use std::time::Duration;

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation};

use super::EventsError;

/// Trace-context headers carried on messages.
const TRACE_HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// How long a publish may wait for the broker's confirm.
pub(crate) const CONFIRM_TIMEOUT: Duration = Duration::from_secs(15);

/// A checked AMQP short string (at most 255 bytes).
pub(crate) fn short(s: &str) -> Result<ShortString, EventsError> {
    ShortString::try_new(s).map_err(|_| EventsError::InvalidName(truncate(s, 64)))
}

/// `s` cut to at most `max` bytes on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

/// The string value of header `key`, if present and textual.
pub(crate) fn header_str(props: &BasicProperties, key: &str) -> Option<String> {
    match props.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// The integer value of header `key`, if present and numeric.
pub(crate) fn header_int(props: &BasicProperties, key: &str) -> Option<i64> {
    match props.headers().as_ref()?.inner().get(key)? {
        AMQPValue::ShortShortInt(v) => Some((*v).into()),
        AMQPValue::ShortShortUInt(v) => Some((*v).into()),
        AMQPValue::ShortInt(v) => Some((*v).into()),
        AMQPValue::ShortUInt(v) => Some((*v).into()),
        AMQPValue::LongInt(v) => Some((*v).into()),
        AMQPValue::LongUInt(v) => Some((*v).into()),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}

/// `traceparent` / `tracestate` from a message's headers.
pub(crate) fn trace_headers(props: &BasicProperties) -> HashMap<String, String> {
    TRACE_HEADERS.iter().filter_map(|k| header_str(props, k).map(|v| ((*k).to_owned(), v))).collect()
}

/// Puts a text header into `table` (long strings: no length limit on the value).
pub(crate) fn set_str(table: &mut FieldTable, key: &'static str, value: &str) {
    table.insert(ShortString::from(key), AMQPValue::LongString(LongString::from(value.as_bytes())));
}

/// Puts an integer header into `table`.
pub(crate) fn set_int(table: &mut FieldTable, key: &'static str, value: i64) {
    table.insert(ShortString::from(key), AMQPValue::LongLongInt(value));
}

/// A copy of `table` without `keys`.
pub(crate) fn without(table: Option<&FieldTable>, keys: &[&str]) -> FieldTable {
    let mut out = FieldTable::default();
    if let Some(table) = table {
        for (k, v) in table {
            if !keys.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Adds the trace headers of `map` to `table`.
pub(crate) fn set_trace(table: &mut FieldTable, map: &HashMap<String, String>) {
    for key in TRACE_HEADERS {
        if let Some(v) = map.get(key) {
            set_str(table, key, v);
        }
    }
}

/// Publishes and waits for the broker's confirm (the channel must be in confirm mode).
pub(crate) async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    props: BasicProperties,
) -> Result<(), EventsError> {
    let confirm = channel
        .basic_publish(short(exchange)?, short(routing_key)?, BasicPublishOptions::default(), body, props)
        .await?;
    match tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await {
        Err(_) => Err(EventsError::Timeout("publisher confirm")),
        Ok(Err(e)) => Err(e.into()),
        Ok(Ok(Confirmation::Nack(_))) => Err(EventsError::Nacked),
        Ok(Ok(_)) => Ok(()),
    }
}

/// The message's properties minus `expiration`.
pub(crate) fn without_expiration(props: &BasicProperties) -> BasicProperties {
    let mut out = BasicProperties::default();
    if let Some(v) = props.content_type() {
        out = out.with_content_type(v.clone());
    }
    if let Some(v) = props.content_encoding() {
        out = out.with_content_encoding(v.clone());
    }
    if let Some(v) = props.headers() {
        out = out.with_headers(v.clone());
    }
    if let Some(v) = props.delivery_mode() {
        out = out.with_delivery_mode(*v);
    }
    if let Some(v) = props.correlation_id() {
        out = out.with_correlation_id(v.clone());
    }
    if let Some(v) = props.message_id() {
        out = out.with_message_id(v.clone());
    }
    if let Some(v) = props.timestamp() {
        out = out.with_timestamp(*v);
    }
    if let Some(v) = props.kind() {
        out = out.with_type(v.clone());
    }
    if let Some(v) = props.app_id() {
        out = out.with_app_id(v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip() {
        let mut t = FieldTable::default();
        set_str(&mut t, "x-error", "boom");
        set_int(&mut t, "x-attempts", 3);
        set_str(&mut t, "traceparent", "00-abc-def-01");
        let props = BasicProperties::default().with_headers(t.clone());
        assert_eq!(header_str(&props, "x-error").as_deref(), Some("boom"));
        assert_eq!(header_int(&props, "x-attempts"), Some(3));
        assert_eq!(header_int(&props, "x-error"), None);
        assert_eq!(trace_headers(&props).len(), 1);
        let stripped = without(Some(&t), &["x-error"]);
        assert!(!stripped.contains_key("x-error") && stripped.contains_key("x-attempts"));
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
        assert!(short(&"x".repeat(300)).is_err());
    }
}
