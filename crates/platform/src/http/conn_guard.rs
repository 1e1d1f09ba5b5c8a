//! The connection guard: a thin wrapper around each accepted socket, under actix-http's
//! dispatcher, for the two things actix-http 3 cannot be configured to do:
//!
//! - **A head time-out for every request**, not only the first: actix arms its request-head
//!   timer once per connection, and its keep-alive timer stops at the first byte of the next
//!   request, so a second head trickled in at one byte a second was never timed out. The guard
//!   starts a deadline at that first byte (and at accept) and ends it when the request reaches
//!   the app ([`ConnPhase::request_started`], called by [`super::request_guard`]).
//! - **JSON bodies on the dispatcher's own errors** (400 malformed head, 408, 431 head too large,
//!   500): actix writes them with empty bodies and has no hook. While no request is in the app
//!   (the head phase), anything the dispatcher writes is one of those; the guard writes the
//!   platform's JSON error with the same status instead, and the connection closes (actix closes
//!   it after each of these anyway).
//!
//! The guard does not parse HTTP: it learns where requests start and end from the middleware.

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::ApiError;

/// Where the connection is; shared by the socket wrapper and the requests it carries (it is
/// connection data: `req.conn_data::<ConnPhase>()`).
#[derive(Debug, Clone)]
pub struct ConnPhase(Rc<Cell<Phase>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: actix's keep-alive timer runs; the first byte starts a head.
    Idle,
    /// Reading a request head: the head deadline runs.
    Head,
    /// A request is in the app (its body is bounded by the request guard).
    InRequest,
    /// The answer went out before the body was read: actix drains it until this deadline.
    Draining(Instant),
}

impl ConnPhase {
    fn new() -> Self {
        Self(Rc::new(Cell::new(Phase::Head)))
    }

    /// A request head was parsed and the request entered the app.
    pub fn request_started(&self) {
        self.0.set(Phase::InRequest);
    }

    /// The app answered. `drain_until`: the body was not read to its end, so the connection
    /// closes after the answer, and the rest of the body may trickle in only until then.
    pub fn request_finished(&self, drain_until: Option<Instant>) {
        self.0.set(drain_until.map_or(Phase::Idle, Phase::Draining));
    }
}

/// A socket with the guard; created per connection by [`super::build_server`].
pub struct Guarded<T> {
    io: T,
    phase: ConnPhase,
    head_timeout: Duration,
    timer: Pin<Box<Sleep>>,
    /// The guard's own answer, and how much of it is written.
    answer: Vec<u8>,
    written: usize,
    /// After the guard answered: reads see end-of-stream and actix's writes are dropped.
    answered: bool,
}

impl<T> Guarded<T> {
    /// Wraps an accepted socket; the first head's deadline starts now.
    pub fn new(io: T, head_timeout: Duration) -> Self {
        Self {
            io,
            phase: ConnPhase::new(),
            head_timeout,
            timer: Box::pin(tokio::time::sleep(head_timeout)),
            answer: Vec::new(),
            written: 0,
            answered: false,
        }
    }

    /// The handle requests use to report where they are.
    pub fn phase(&self) -> ConnPhase {
        self.phase.clone()
    }

    fn answer_with(&mut self, error: &ApiError) {
        let status = actix_web::ResponseError::status_code(error);
        let body = error.json_body();
        let mut out = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(&body);
        self.answer = out;
        self.written = 0;
        self.answered = true;
    }

    fn deadline_passed(&mut self, cx: &mut Context<'_>) -> bool {
        match self.phase.0.get() {
            Phase::Head => self.timer.as_mut().poll(cx).is_ready(),
            Phase::Draining(until) => {
                if self.timer.deadline() != until {
                    self.timer.as_mut().reset(until);
                }
                self.timer.as_mut().poll(cx).is_ready()
            }
            Phase::Idle | Phase::InRequest => false,
        }
    }
}

impl<T: AsyncWrite + Unpin> Guarded<T> {
    /// Writes what is left of the guard's answer.
    fn drive_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.answer.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.answer[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        Poll::Ready(Ok(()))
    }
}

/// The status of a response the dispatcher wrote on its own (no request was in the app).
fn dispatcher_error(buf: &[u8]) -> Option<ApiError> {
    let rest = buf.strip_prefix(b"HTTP/1.1 ").or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let code: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    match StatusCode::from_u16(code).ok()? {
        StatusCode::BAD_REQUEST => Some(ApiError::BadRequest("The request head is malformed".to_owned())),
        StatusCode::REQUEST_TIMEOUT => Some(head_timeout()),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            Some(ApiError::HeaderTooLarge("The request head is too large".to_owned()))
        }
        StatusCode::INTERNAL_SERVER_ERROR => Some(ApiError::internal("dispatcher error")),
        _ => None,
    }
}

fn head_timeout() -> ApiError {
    ApiError::RequestTimeout("The request head was not received in time".to_owned())
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.answered {
            // End of stream: actix stops reading, flushes (our answer) and closes.
            let _ = this.drive_answer(cx);
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && this.phase.0.get() == Phase::Idle {
                    this.phase.0.set(Phase::Head);
                    this.timer.as_mut().reset(Instant::now() + this.head_timeout);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if !this.deadline_passed(cx) {
                    return Poll::Pending;
                }
                if this.phase.0.get() == Phase::Head {
                    this.answer_with(&head_timeout());
                    let _ = this.drive_answer(cx);
                    return Poll::Ready(Ok(()));
                }
                // A drained body ran out of time: the answer is already out, just stop reading.
                Poll::Ready(Err(io::ErrorKind::TimedOut.into()))
            }
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.answered
            && this.phase.0.get() == Phase::Head
            && let Some(error) = dispatcher_error(buf)
        {
            this.answer_with(&error);
        }
        if this.answered {
            // Actix's own bytes for this connection are replaced by the answer.
            let _ = this.drive_answer(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive_answer(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.drive_answer(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_dispatchers_errors_only() {
        let status =
            |b: &[u8]| dispatcher_error(b).map(|e| actix_web::ResponseError::status_code(&e).as_u16());
        assert_eq!(
            status(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n"),
            Some(431)
        );
        assert_eq!(status(b"HTTP/1.1 400 Bad Request\r\n\r\n"), Some(400));
        assert_eq!(status(b"HTTP/1.1 408 Request Timeout\r\n\r\n"), Some(408));
        assert_eq!(status(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(status(b"HTTP/1.1 100 Continue\r\n\r\n"), None);
        assert_eq!(status(b"{\"data\":1}"), None);
    }
}
