//! `/metrics`: request counts and latency histograms per route (actix-web-prom), plus pool and outbox gauges.

use std::time::Duration;

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{Counter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::db::PgPool;
use crate::shutdown::Shutdown;

/// Builds the per-route request middleware; it also serves `GET /metrics` from `registry`.
pub fn middleware(service: &str, registry: Registry) -> Result<PrometheusMetrics, String> {
    let namespace = service.replace('-', "_");
    PrometheusMetricsBuilder::new(&namespace)
        .registry(registry)
        .endpoint("/metrics")
        .exclude("/health")
        .mask_unmatched_patterns("UNMATCHED")
        .buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
        .build()
        .map_err(|e| e.to_string())
}

/// A counter with one label, registered on `registry` (a service feature's own counters).
pub fn labeled_counter(
    registry: &Registry,
    name: &str,
    help: &str,
    label: &str,
) -> prometheus::Result<IntCounterVec> {
    let counter = IntCounterVec::new(Opts::new(name, help), &[label])?;
    registry.register(Box::new(counter.clone()))?;
    Ok(counter)
}

/// The pool's waits, from bb8's cumulative statistics: how often a request had to wait for a
/// connection (or gave up), and for how long in all — the signal that a pool is too small.
struct PoolWaits {
    gets: IntCounterVec,
    wait: Counter,
    pending: IntGauge,
    seen: (u64, u64, u64, Duration),
}

impl PoolWaits {
    fn register(registry: &Registry, max: u32) -> Result<Self, prometheus::Error> {
        let gets = IntCounterVec::new(
            Opts::new(
                "db_pool_gets_total",
                "Connections taken from the PostgreSQL pool, by whether they waited",
            ),
            &["outcome"],
        )?;
        let wait = Counter::new(
            "db_pool_get_wait_seconds_total",
            "Time requests spent waiting for a pooled connection",
        )?;
        let pending = IntGauge::new("db_pool_pending_gets", "Requests waiting for a pooled connection now")?;
        let size = IntGauge::new("db_pool_max_connections", "The pool's size (DB_POOL_SIZE)")?;
        size.set(i64::from(max));
        for c in [
            Box::new(gets.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(wait.clone()),
            Box::new(pending.clone()),
            Box::new(size),
        ] {
            registry.register(c)?;
        }
        Ok(Self { gets, wait, pending, seen: (0, 0, 0, Duration::ZERO) })
    }

    fn update(&mut self, stats: &bb8::Statistics) {
        let (direct, waited, timed_out, wait) = self.seen;
        self.gets.with_label_values(&["direct"]).inc_by(stats.get_direct.saturating_sub(direct));
        self.gets.with_label_values(&["waited"]).inc_by(stats.get_waited.saturating_sub(waited));
        self.gets.with_label_values(&["timed_out"]).inc_by(stats.get_timed_out.saturating_sub(timed_out));
        self.wait.inc_by(stats.get_wait_time.saturating_sub(wait).as_secs_f64());
        self.pending.set(i64::try_from(stats.pending_gets()).unwrap_or(i64::MAX));
        self.seen = (stats.get_direct, stats.get_waited, stats.get_timed_out, stats.get_wait_time);
    }
}

/// Registers `db_pool_connections{state}`, the pool's waits (`db_pool_gets_total{outcome}`,
/// `db_pool_get_wait_seconds_total`, `db_pool_pending_gets`, `db_pool_max_connections`) and
/// `outbox_pending`, and refreshes them every few seconds.
pub fn spawn_db_gauges(
    registry: &Registry,
    pool: PgPool,
    max_size: u32,
    with_outbox: bool,
    mut shutdown: Shutdown,
) -> Result<(), prometheus::Error> {
    let conns = IntGaugeVec::new(
        Opts::new("db_pool_connections", "PostgreSQL pool connections by state"),
        &["state"],
    )?;
    let pending = IntGauge::new("outbox_pending", "Outbox rows not yet published")?;
    registry.register(Box::new(conns.clone()))?;
    let mut waits = PoolWaits::register(registry, max_size)?;
    if with_outbox {
        registry.register(Box::new(pending.clone()))?;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                () = shutdown.wait() => return,
                _ = tick.tick() => {}
            }
            let state = pool.state();
            conns.with_label_values(&["open"]).set(i64::from(state.connections));
            conns.with_label_values(&["idle"]).set(i64::from(state.idle_connections));
            waits.update(&state.statistics);
            if with_outbox
                && let Ok(mut conn) = pool.get().await
                && let Ok(n) = crate::events::pending_count(&mut conn).await
            {
                pending.set(n);
            }
        }
    });
    Ok(())
}
