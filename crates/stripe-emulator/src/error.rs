//! Stripe's error object, `{"error": {"type", "code", "message", "param", ...}}`, with the
//! status codes Stripe documents: 400 invalid request, 401 bad key, 402 card error,
//! 404 missing resource, 409 idempotency conflict.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

/// One Stripe API error, ready to be rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `invalid_request_error`, `card_error`, `idempotency_error`, `api_error`.
    pub kind: &'static str,
    /// Stripe's error code (`card_declined`, `parameter_missing`, ...), if any.
    pub code: Option<&'static str>,
    /// Human-readable message.
    pub message: String,
    /// The parameter at fault, if any.
    pub param: Option<String>,
    /// Further fields of the error object (`decline_code`, `payment_intent`, `charge`).
    pub extra: Map<String, Value>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.kind, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: Option<&'static str>, message: String) -> Self {
        Self { status, kind, code, message, param: None, extra: Map::new() }
    }

    /// 400 `invalid_request_error` with a code.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", Some(code), message.into())
    }

    /// 400 `invalid_request_error` without a code (Stripe gives none for some).
    pub fn invalid_uncoded(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", None, message.into())
    }

    /// 400 `parameter_missing`.
    pub fn missing(param: &str) -> Self {
        Self::invalid("parameter_missing", format!("Missing required param: {param}.")).with_param(param)
    }

    /// 400 `parameter_unknown`.
    pub fn unknown_param(param: &str) -> Self {
        Self::invalid("parameter_unknown", format!("Received unknown parameter: {param}")).with_param(param)
    }

    /// 404 `resource_missing`: "No such payment_intent: 'pi_...'".
    pub fn no_such(what: &str, id: &str, param: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            Some("resource_missing"),
            format!("No such {what}: '{id}'"),
        )
        .with_param(param)
    }

    /// 404 for a path that is not part of the emulated API.
    pub fn unrecognized_url(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            None,
            format!(
                "Unrecognized request URL ({method}: {path}). This emulator answers only the part of Stripe's API the platform uses."
            ),
        )
    }

    /// 401 with Stripe's message for a missing or unusable key.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_request_error", None, message.into())
    }

    /// 402 `card_error`.
    pub fn card(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYMENT_REQUIRED, "card_error", Some(code), message.into())
    }

    /// 400 `idempotency_error` (different parameters under a used key).
    pub fn idempotency(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "idempotency_error", None, message.into())
    }

    /// Names the parameter at fault.
    #[must_use]
    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_owned());
        self
    }

    /// Adds a field to the error object.
    #[must_use]
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// The JSON body, `{"error": {...}}`.
    pub fn body(&self) -> Value {
        let mut error = Map::new();
        error.insert("type".into(), json!(self.kind));
        if let Some(code) = self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-"))),
            );
        }
        error.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        for (k, v) in &self.extra {
            error.insert(k.clone(), v.clone());
        }
        json!({ "error": error })
    }
}
