//! The HTTP server every service runs: common middleware, health routes, body limits,
//! JSON error shapes, and graceful shutdown on SIGTERM.

use std::net::TcpListener;
use std::time::Duration;

use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol};
use actix_service::{IntoServiceFactory, ServiceFactoryExt, map_config};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server, ServiceRequest, ServiceResponse, fn_service};
use actix_web::middleware::{Next, from_fn};
use actix_web::rt::net::TcpStream;
use actix_web::{App, HttpResponse, web};
use actix_web_prom::PrometheusMetrics;
use tracing_actix_web::TracingLogger;

use super::conn_guard::Guarded;
use super::extract::{
    BodyLimit, DEFAULT_JSON_LIMIT, json_error_handler, path_error_handler, query_error_handler,
};
use super::health::{Readiness, health, ready};
use super::root_span::PlatformRootSpan;
use super::settings::HttpSettings;
use super::{error, request_guard, request_id};
use crate::shutdown::ShutdownTrigger;

/// What every service's server shares.
#[derive(Clone)]
pub struct HttpKit {
    /// Per-route request metrics; serves `/metrics`.
    pub metrics: PrometheusMetrics,
    /// `/ready` state.
    pub readiness: Readiness,
    /// Default body limit in bytes.
    pub body_limit: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_timeout: Duration,
    /// Worker threads (0 = one per core).
    pub workers: usize,
    /// Time-outs and trusted proxies (`HTTP_*_TIMEOUT_MS`, `TRUSTED_PROXIES`).
    pub settings: HttpSettings,
}

impl HttpKit {
    /// A kit with the default body limit, default [`HttpSettings`] and a 25 s shutdown timeout.
    pub fn new(metrics: PrometheusMetrics, readiness: Readiness) -> Self {
        Self {
            metrics,
            readiness,
            body_limit: DEFAULT_JSON_LIMIT,
            shutdown_timeout: Duration::from_secs(25),
            workers: 0,
            settings: HttpSettings::default(),
        }
    }
}

/// Builds the server on `listener`; `routes` adds the service's own routes and app data.
///
/// actix-web's `HttpServer` cannot wrap the accepted socket, so the server is assembled from
/// the same parts (actix-server + actix-http's `HttpService`) with the connection guard
/// ([`super::conn_guard`]) around each socket.
pub fn build_server<F>(listener: TcpListener, kit: HttpKit, routes: F) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
{
    let addr = listener.local_addr()?;
    let mut builder = Server::build().disable_signals().shutdown_timeout(kit.shutdown_timeout.as_secs());
    if kit.workers > 0 {
        builder = builder.workers(kit.workers);
    }
    let graceful = builder.graceful_shutdown_signal();
    let builder = builder.listen("http", listener, move || {
        let kit = kit.clone();
        let settings = kit.settings.clone();
        let head_timeout = settings.head_timeout;
        let graceful = graceful.clone();
        let app = App::new()
            .app_data(web::Data::new(kit.readiness.clone()))
            .app_data(settings.clone())
            .app_data(web::PayloadConfig::new(kit.body_limit))
            .app_data(BodyLimit(kit.body_limit))
            .app_data(web::JsonConfig::default().limit(kit.body_limit).error_handler(json_error_handler))
            .app_data(web::QueryConfig::default().error_handler(query_error_handler))
            .app_data(web::PathConfig::default().error_handler(path_error_handler))
            .route("/health", web::get().to(health))
            .route("/ready", web::get().to(ready))
            // The metrics middleware writes the body; the route keeps the router from 404-ing first.
            .route("/metrics", web::get().to(HttpResponse::Ok))
            .configure(routes.clone())
            .default_service(web::to(error::not_found))
            .wrap(kit.metrics.clone())
            .wrap(TracingLogger::<PlatformRootSpan>::new())
            .wrap(from_fn(request_id::middleware))
            .wrap(from_fn(close_when_draining))
            // Outermost: every request (even `/metrics`, answered by the metrics middleware)
            // tells the connection guard that its head is complete.
            .wrap(from_fn(request_guard::middleware));
        let http = HttpService::<Guarded<TcpStream>, _, _, _, _>::build()
            .keep_alive(settings.idle_timeout)
            // A backstop only: the guard answers first, with a JSON body, on every request.
            .client_request_timeout(head_timeout.saturating_mul(2))
            .local_addr(addr)
            .graceful_shutdown_signal(move || {
                let signal = graceful.clone();
                async move { signal.notified().await }
            })
            .on_connect_ext(|io: &Guarded<TcpStream>, ext| {
                ext.insert(io.phase());
            })
            .finish(map_config(app.into_factory(), |()| AppConfig::default()));
        fn_service(move |io: TcpStream| {
            let _ = io.set_nodelay(true);
            let peer = io.peer_addr().ok();
            std::future::ready(Ok::<_, DispatchError>((
                Guarded::new(io, head_timeout),
                Protocol::Http1,
                peer,
            )))
        })
        .and_then(http)
    })?;
    Ok(builder.run())
}

/// While draining, every answer closes its connection (`Connection: close`), so clients stop
/// reusing kept-alive connections before the listener closes: a request written on an idle
/// kept-alive connection as it closes gets no answer, and a POST is not retried by proxies.
async fn close_when_draining(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = req.app_data::<web::Data<Readiness>>().is_some_and(|r| r.is_draining());
    let mut res = next.call(req).await?;
    if draining {
        res.response_mut().head_mut().set_connection_type(actix_http::ConnectionType::Close);
    }
    Ok(res)
}

/// Runs `server` until SIGTERM or SIGINT; then `/ready` turns 503, background tasks are told
/// to stop, and after `drain_delay` (time for load balancers to notice) in-flight requests finish.
pub async fn run_until_signal(
    server: Server,
    readiness: Readiness,
    trigger: ShutdownTrigger,
    drain_delay: Duration,
) -> std::io::Result<()> {
    let handle = server.handle();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received: draining");
        readiness.set_draining();
        trigger.trigger();
        tokio::time::sleep(drain_delay).await;
        handle.stop(true).await;
    });
    server.await
}

/// Waits for SIGTERM or SIGINT.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
