//! [`ServiceSpec`]: what a service is made of, as data the runner runs.

use std::future::Future;
use std::sync::Arc;

use actix_web::web;

use super::{Resources, ServiceInfo, TaskFn};
use crate::events::{Consumer, ConsumerOptions, EventHandler, RelayOptions};
use crate::http::ReadyCheck;
use crate::http::health::{PostgresCheck, RabbitMqCheck, RedisCheck, Reported};
use crate::shutdown::Shutdown;

type Routes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;
type ConsumerFn = Box<dyn FnOnce(&Resources) -> TaskFn + Send>;

/// A service's routes, consumers, background tasks and readiness checks.
pub struct ServiceSpec {
    routes: Routes,
    consumers: Vec<(&'static str, ConsumerFn)>,
    queues: Vec<String>,
    tasks: Vec<(&'static str, TaskFn)>,
    checks: Option<Vec<Box<dyn ReadyCheck>>>,
    extra_checks: Vec<Box<dyn ReadyCheck>>,
    redis_gates: bool,
    relay: Option<RelayOptions>,
}

/// A spec resolved against the resources, for the runner.
pub(super) struct Parts {
    pub routes: Routes,
    pub tasks: Vec<(&'static str, TaskFn)>,
    /// The consumer queues' full names (for their depth gauges).
    pub queues: Vec<String>,
    pub checks: Vec<Box<dyn ReadyCheck>>,
    pub relay: Option<RelayOptions>,
}

impl ServiceSpec {
    /// No routes or workers yet; the outbox relay on; `/ready` is gated by PostgreSQL and
    /// reports RabbitMQ and (when the service uses it) Redis without being gated by them.
    pub fn new(info: &ServiceInfo) -> Self {
        let _ = info;
        Self {
            routes: Arc::new(|_| {}),
            consumers: Vec::new(),
            queues: Vec::new(),
            tasks: Vec::new(),
            checks: None,
            extra_checks: Vec::new(),
            redis_gates: false,
            relay: Some(RelayOptions::default()),
        }
    }

    /// The service's routes and app data.
    #[must_use]
    pub fn routes(mut self, f: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static) -> Self {
        self.routes = Arc::new(f);
        self
    }

    /// Consumes `options.queue` (prefixed with `AMQP_QUEUE_PREFIX`) with `handler`.
    #[must_use]
    pub fn consumer<H: EventHandler>(mut self, options: ConsumerOptions, handler: H) -> Self {
        let name = "consumer";
        self.queues.push(options.queue.clone());
        self.consumers.push((
            name,
            Box::new(move |res: &Resources| {
                let mut options = options;
                options.queue = format!("{}{}", res.base.amqp_queue_prefix, options.queue);
                if let Some(expires) = res.base.amqp_queue_expires {
                    options.queue_options.expires = Some(expires);
                }
                let consumer = Consumer::new(res.pool.clone(), res.broker.clone(), options);
                let task: TaskFn = Box::new(move |stop| Box::pin(consumer.run(handler, stop)));
                task
            }),
        ));
        self
    }

    /// A background task (a sweeper, a reconciler): runs until its [`Shutdown`] fires, and is
    /// stopped with the consumers.
    #[must_use]
    pub fn task<F, Fut>(mut self, name: &'static str, f: F) -> Self
    where
        F: FnOnce(Shutdown) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push((name, Box::new(move |stop| Box::pin(f(stop)))));
        self
    }

    /// Adds a readiness check to the defaults (wrap it in `Reported` to report without gating).
    #[must_use]
    pub fn ready_check(mut self, check: impl ReadyCheck + 'static) -> Self {
        self.extra_checks.push(Box::new(check));
        self
    }

    /// Redis gates readiness (a service whose data lives there, not a cache).
    #[must_use]
    pub fn redis_required(mut self) -> Self {
        self.redis_gates = true;
        self
    }

    /// Replaces the default readiness checks (e.g. a service that keeps accepting while the
    /// broker is away).
    #[must_use]
    pub fn readiness_only(mut self, checks: Vec<Box<dyn ReadyCheck>>) -> Self {
        self.checks = Some(checks);
        self
    }

    /// Tunes the outbox relay.
    #[must_use]
    pub fn relay_options(mut self, options: RelayOptions) -> Self {
        self.relay = Some(options);
        self
    }

    /// No outbox relay (a service that publishes nothing).
    #[must_use]
    pub fn without_relay(mut self) -> Self {
        self.relay = None;
        self
    }

    pub(super) fn into_parts(self, res: &Resources, uses_redis: bool) -> Parts {
        // PostgreSQL gates readiness; Redis (unless the service says it cannot serve without it)
        // and RabbitMQ (the outbox holds events while it is away) are reported only.
        let redis_gates = self.redis_gates;
        let mut checks = self.checks.unwrap_or_else(|| {
            let mut c: Vec<Box<dyn ReadyCheck>> = vec![Box::new(PostgresCheck(res.pool.clone()))];
            if uses_redis && redis_gates {
                c.push(Box::new(RedisCheck(res.redis.clone())));
            } else if uses_redis {
                c.push(Box::new(Reported(RedisCheck(res.redis.clone()))));
            }
            c.push(Box::new(Reported(RabbitMqCheck(res.broker.clone()))));
            c
        });
        checks.extend(self.extra_checks);
        let mut tasks: Vec<(&'static str, TaskFn)> =
            self.consumers.into_iter().map(|(name, make)| (name, make(res))).collect();
        tasks.extend(self.tasks);
        let queues = self.queues.iter().map(|q| format!("{}{q}", res.base.amqp_queue_prefix)).collect();
        Parts { routes: self.routes, tasks, queues, checks, relay: self.relay }
    }
}
