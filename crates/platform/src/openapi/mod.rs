//! Routes and their OpenAPI 3.1 document from one declaration (docs/adr/0074).
//!
//! A handler carries `#[utoipa::path(post, path = "/api/v1/...", ...)]`; a service lists each
//! one once, `Api::new(..).op(__path_handler, handler)`, and [`Api::configure`] registers the
//! actix routes from the method and path the attribute names while [`Api::document`] builds the
//! document from the same attribute. A route cannot exist without its entry, nor the reverse.

mod errors;
mod links;
pub mod params;

use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{HttpResponse, Responder, web};
use utoipa::openapi::path::{Operation, PathItem, Paths};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Info, OpenApi, OpenApiBuilder, RefOr, Schema};
use utoipa_actix_web::OpenApiFactory;

pub use errors::{ErrorBody, InsufficientStockBody, ValidationErrorBody};
pub use links::Link;

/// Where every service serves its own document.
pub const DOCUMENT_PATH: &str = "/openapi.json";
/// Security scheme of customer and admin JWTs (`Authorization: Bearer <jwt>`).
pub const BEARER: &str = "bearer";
/// Security scheme of `/internal/v1` calls (`Authorization: Bearer <INTERNAL_TOKEN>`).
pub const INTERNAL: &str = "internal";

type Register = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;
type Schemas = Vec<(String, RefOr<Schema>)>;

/// One documented operation: its method, path and how to register its handler.
#[derive(Clone)]
struct Op {
    method: Method,
    path: String,
    register: Register,
}

/// A service's documented routes.
#[derive(Clone)]
pub struct Api {
    title: &'static str,
    description: &'static str,
    ops: Vec<Op>,
    paths: Paths,
    schemas: Schemas,
    links: Vec<Link>,
}

impl Api {
    /// No routes yet; `title` is the service's name.
    pub fn new(title: &'static str, description: &'static str) -> Self {
        Self {
            title,
            description,
            ops: Vec::new(),
            paths: Paths::new(),
            schemas: Vec::new(),
            links: Vec::new(),
        }
    }

    /// Registers `handler` on the method(s) and path of its `#[utoipa::path]` (`doc`, the
    /// `__path_<handler>` type the attribute generates) and documents it.
    #[must_use]
    #[allow(clippy::needless_pass_by_value)] // `.op(__path_h, h)` reads best by value
    pub fn op<D, F, Args>(mut self, doc: D, handler: F) -> Self
    where
        D: OpenApiFactory,
        F: actix_web::Handler<Args> + Send + Sync,
        Args: actix_web::FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let paths = doc.paths();
        doc.schemas(&mut self.schemas);
        for (path, item) in &paths.paths {
            for (method, _) in operations(item) {
                let handler = handler.clone();
                let (route_path, route_method) = (path.clone(), method.clone());
                let register: Register = Arc::new(move |cfg: &mut web::ServiceConfig| {
                    cfg.route(&route_path, web::method(route_method.clone()).to(handler.clone()));
                });
                self.ops.push(Op { method, path: path.clone(), register });
            }
        }
        self.paths.merge(paths);
        self
    }

    /// Adds every operation of `other` (a feature's own routes).
    #[must_use]
    pub fn merge(mut self, other: Api) -> Self {
        self.ops.extend(other.ops);
        self.paths.merge(other.paths);
        self.schemas.extend(other.schemas);
        self.links.extend(other.links);
        self
    }

    /// Adds an OpenAPI link (a response value feeding the next operation: stateful tests).
    #[must_use]
    pub fn link(mut self, link: Link) -> Self {
        self.links.push(link);
        self
    }

    /// How many links were declared (the drift test finds each in the document).
    pub fn link_count(&self) -> usize {
        self.links.len()
    }

    /// Every documented `(method, path)`, in declaration order.
    pub fn routes(&self) -> Vec<(Method, String)> {
        self.ops.iter().map(|op| (op.method.clone(), op.path.clone())).collect()
    }

    /// A service's routes for the runner: `state` as `web::Data` app data, then [`Api::configure`].
    pub fn with_state<S: Send + Sync + 'static>(
        self,
        state: S,
    ) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + Sync + 'static {
        let state = web::Data::new(state);
        let api = Arc::new(self);
        move |cfg: &mut web::ServiceConfig| {
            cfg.app_data(state.clone());
            api.configure(cfg);
        }
    }

    /// Registers every operation, a 405 with `Allow` for the other methods on each path, and
    /// `GET /openapi.json` (the document, no auth).
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        for op in &self.ops {
            (op.register)(cfg);
        }
        // After the operations: a route without a method guard takes what they did not.
        let mut paths: Vec<&str> = self.ops.iter().map(|op| op.path.as_str()).collect();
        paths.sort_unstable();
        paths.dedup();
        for path in paths {
            let allow: Vec<&str> =
                self.ops.iter().filter(|op| op.path == path).map(|op| op.method.as_str()).collect();
            cfg.route(path, web::route().to(method_not_allowed(allow.join(", "))));
        }
        let body = web::Bytes::from(serde_json::to_vec(&self.document()).unwrap_or_default());
        cfg.route(
            DOCUMENT_PATH,
            web::get().to(move || {
                let body = body.clone();
                async move { HttpResponse::Ok().content_type("application/json").body(body) }
            }),
        );
    }

    /// The OpenAPI 3.1 document: the operations, their schemas, the shared error shapes (every
    /// operation answers errors as [`ErrorBody`] by default), the security schemes and links.
    pub fn document(&self) -> OpenApi {
        let mut paths = self.paths.clone();
        for item in paths.paths.values_mut() {
            for op in operations_mut(item) {
                errors::add_default_error(op);
            }
        }
        links::apply(&mut paths, &self.links);
        let mut info = Info::new(self.title, env!("CARGO_PKG_VERSION"));
        info.description = Some(self.description.to_owned());
        let mut doc = OpenApiBuilder::new().info(info).paths(paths).build();
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, schema) in self.schemas.iter().cloned().chain(errors::schemas()) {
            components.schemas.entry(name).or_insert(schema);
        }
        let bearer = |desc: &str| {
            let mut http = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build();
            http.description = Some(desc.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(BEARER, bearer("A customer's or admin's JWT (role claim `admin`)"));
        let mut internal = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        internal.description = Some("The shared INTERNAL_TOKEN of service-to-service calls".to_owned());
        components.add_security_scheme(INTERNAL, SecurityScheme::Http(internal));
        doc
    }
}

/// A handler answering 405 in the error shape, naming the allowed methods.
fn method_not_allowed(allow: String) -> impl Fn() -> std::future::Ready<HttpResponse> + Clone + 'static {
    move || {
        let body = serde_json::json!({
            "error": "Method not allowed",
            "message": format!("This path answers {allow}"),
        });
        std::future::ready(
            HttpResponse::MethodNotAllowed().insert_header(("Allow", allow.clone())).json(body),
        )
    }
}

/// The operations a path item holds, with their actix methods.
fn operations(item: &PathItem) -> Vec<(Method, &Operation)> {
    let all = [
        (Method::GET, item.get.as_ref()),
        (Method::POST, item.post.as_ref()),
        (Method::PUT, item.put.as_ref()),
        (Method::PATCH, item.patch.as_ref()),
        (Method::DELETE, item.delete.as_ref()),
    ];
    all.into_iter().filter_map(|(m, op)| op.map(|op| (m, op))).collect()
}

/// The operations of a path item, to amend.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete]
        .into_iter()
        .filter_map(Option::as_mut)
}
