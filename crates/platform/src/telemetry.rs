//! Tracing: JSON (or pretty) logs carrying trace ids, OpenTelemetry spans, W3C trace-context propagation.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Log output format (`LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (default: what log shippers want).
    #[default]
    Json,
    /// Human-readable lines for `make dev`.
    Pretty,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(Self::Json),
            "pretty" => Ok(Self::Pretty),
            _ => Err("expected json or pretty".to_owned()),
        }
    }
}

/// Keeps the tracer provider alive; flushes spans when dropped.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        // Best effort: a failed flush at exit must not turn into a crash.
        let _ = self.provider.shutdown();
    }
}

impl TelemetryGuard {
    /// The provider, for tests that flush before asserting.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }
}

/// Installs the global subscriber. Spans always get real trace ids (so context propagates);
/// they are exported with OTLP/HTTP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
pub fn init(service: &'static str, format: LogFormat) -> TelemetryGuard {
    let exporter =
        std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|v| !v.trim().is_empty()).and_then(|_| {
            opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .build()
                .map_err(|e| eprintln!("OTLP exporter disabled: {e}"))
                .ok()
        });
    let mut builder = SdkTracerProvider::builder().with_resource(resource(service));
    if let Some(exporter) = exporter {
        builder = builder.with_batch_exporter(exporter);
    }
    install(service, format, builder.build())
}

/// Installs the global subscriber with a given exporter (tests use the in-memory one).
pub fn init_with_exporter<E: SpanExporter + 'static>(service: &'static str, exporter: E) -> TelemetryGuard {
    let provider =
        SdkTracerProvider::builder().with_resource(resource(service)).with_simple_exporter(exporter).build();
    install(service, LogFormat::Json, provider)
}

fn resource(service: &'static str) -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder().with_service_name(service).build()
}

fn install(service: &'static str, format: LogFormat, provider: SdkTracerProvider) -> TelemetryGuard {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let tracer = provider.tracer(service);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt_layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    // A second init in one process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt_layer)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init();
    TelemetryGuard { provider }
}

struct MapInjector<'a>(&'a mut HashMap<String, String>);

impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

struct MapExtractor<'a>(&'a HashMap<String, String>);

impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// `traceparent` / `tracestate` of the current tracing span, for an outgoing message or request.
pub fn current_trace_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MapInjector(&mut headers));
    headers
}

/// Makes `span` a child of the trace described by `headers` (no-op when they carry none).
pub fn set_parent_from_headers(span: &tracing::Span, headers: &HashMap<String, String>) {
    let cx = TraceContextPropagator::new().extract(&MapExtractor(headers));
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The 32-hex trace id of the current span, if it has one (for log lines and tests).
pub fn current_trace_id() -> Option<String> {
    let cx = tracing::Span::current().context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
