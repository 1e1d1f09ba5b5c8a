//! `/metrics`: request counts and latency histograms per route (actix-web-prom), plus pool and outbox gauges.

use std::time::Duration;

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use prometheus::{IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

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

#[derive(QueryableByName)]
struct Pending {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Registers `db_pool_connections{state}` and `outbox_pending` and refreshes them every few seconds.
pub fn spawn_db_gauges(
    registry: &Registry,
    pool: PgPool,
    with_outbox: bool,
    mut shutdown: Shutdown,
) -> Result<(), prometheus::Error> {
    let conns = IntGaugeVec::new(
        Opts::new("db_pool_connections", "PostgreSQL pool connections by state"),
        &["state"],
    )?;
    let pending = IntGauge::new("outbox_pending", "Outbox rows not yet published")?;
    registry.register(Box::new(conns.clone()))?;
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
            if with_outbox
                && let Ok(mut conn) = pool.get().await
                && let Ok(row) =
                    diesel::sql_query("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
                        .get_result::<Pending>(&mut *conn)
                        .await
            {
                pending.set(row.n);
            }
        }
    });
    Ok(())
}
