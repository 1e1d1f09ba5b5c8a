//! The request guard (outermost middleware): tells the connection guard where each request
//! starts and ends, and bounds the time a request body may take to arrive (actix has no body
//! time-out). A body still arriving at the deadline is cut: the answer is a 408 in the
//! platform's JSON shape and the connection closes.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{ConnectionType, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage, ResponseError};
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use super::ApiError;
use super::conn_guard::ConnPhase;
use super::settings::HttpSettings;

/// How the body went.
#[derive(Debug, Default)]
struct BodyState {
    finished: Cell<bool>,
    timed_out: Cell<bool>,
}

/// The request body with a deadline for its last byte.
struct TimedBody {
    inner: Payload,
    timer: Pin<Box<Sleep>>,
    state: Rc<BodyState>,
}

impl Stream for TimedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.state.timed_out.get() {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(None) => {
                this.state.finished.set(true);
                Poll::Ready(None)
            }
            Poll::Ready(Some(item)) => Poll::Ready(Some(item)),
            Poll::Pending => {
                if this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.state.timed_out.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "request body time-out",
                )))))
            }
        }
    }
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.trim() != "0")
}

/// An error answer with no body (actix's own 405 of a resource, a bare `HttpResponse::…()`)
/// or with actix's plain-text one (an extractor's default error): clients get JSON only.
fn needs_json_body(res: &ServiceResponse<BoxBody>) -> bool {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    match res.headers().get(header::CONTENT_TYPE) {
        None => matches!(res.response().body().size(), BodySize::None | BodySize::Sized(0)),
        Some(v) => v.to_str().is_ok_and(|v| v.starts_with("text/plain")),
    }
}

/// Gives an empty error answer the platform's JSON body: `{"error": "Method not allowed",
/// "message": "Method not allowed"}` (the status's reason, sentence case).
fn with_json_body(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let reason = res.status().canonical_reason().unwrap_or("Error");
    let mut title = String::with_capacity(reason.len());
    for (i, word) in reason.split(' ').enumerate() {
        if i > 0 {
            title.push(' ');
            title.push_str(&word.to_lowercase());
        } else {
            title.push_str(word);
        }
    }
    let body = serde_json::json!({ "error": title, "message": title }).to_string();
    res.map_body(|head, _| {
        head.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
        BoxBody::new(body)
    })
}

/// The 408 answer for a body that did not arrive in time.
pub fn body_timeout_error() -> ApiError {
    ApiError::RequestTimeout("The request body was not received in time".to_owned())
}

/// Middleware function (use with `actix_web::middleware::from_fn`, outermost).
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let phase = req.conn_data::<ConnPhase>().cloned();
    if let Some(p) = &phase {
        p.request_started();
    }
    let timeout = req
        .app_data::<HttpSettings>()
        .map_or_else(|| HttpSettings::default().body_timeout, |s| s.body_timeout);
    let deadline = Instant::now() + timeout;
    let body = has_body(&req).then(|| {
        let state = Rc::new(BodyState::default());
        let timed = TimedBody {
            inner: req.take_payload(),
            timer: Box::pin(tokio::time::sleep_until(deadline)),
            state: state.clone(),
        };
        req.set_payload(Payload::from(Box::pin(timed) as actix_http::BoxedPayloadStream));
        state
    });
    let result = next.call(req).await;
    let finished = body.as_ref().is_none_or(|b| b.finished.get());
    let timed_out = body.as_ref().is_some_and(|b| b.timed_out.get());
    if let Some(p) = &phase {
        p.request_finished((!finished).then_some(deadline));
    }
    let mut res = match result {
        Ok(res) if timed_out => {
            tracing::info!(status = res.status().as_u16(), "request body time-out: answering 408");
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, body_timeout_error().error_response())
        }
        Ok(res) => res.map_into_boxed_body(),
        Err(e) => return Err(e),
    };
    if needs_json_body(&res) {
        res = with_json_body(res);
    }
    if !finished {
        // The rest of the body is not wanted: close instead of draining it for the next request.
        res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}
