//! OpenAPI links: a response value that feeds the next operation (schemathesis follows them in
//! its stateful phase: create a cart → add an item → check out → read the order).

use utoipa::openapi::Paths;
use utoipa::openapi::RefOr;
use utoipa::openapi::link::LinkBuilder;

/// `from` (operation id) answering `status` links to `to` (operation id) with `parameters`
/// (`path.id`, `header.X-Cart-Token` → a runtime expression such as `$response.body#/id`).
#[derive(Clone, Debug)]
pub struct Link {
    /// The link's name in the response.
    pub name: &'static str,
    /// Operation id of the answering operation.
    pub from: &'static str,
    /// The status whose response holds the link.
    pub status: &'static str,
    /// Operation id of the linked operation.
    pub to: &'static str,
    /// Parameter → runtime expression.
    pub parameters: &'static [(&'static str, &'static str)],
    /// The linked operation's body, when it is a runtime expression or template.
    pub request_body: Option<serde_json::Value>,
}

impl Link {
    /// A link named after its target, from `from`'s `status` answer to `to`, with `parameters`
    /// and no body.
    pub const fn to(
        from: &'static str,
        status: &'static str,
        to: &'static str,
        parameters: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { name: to, from, status, to, parameters, request_body: None }
    }
}

/// Writes `links` into the responses of their `from` operations (unknown ids are ignored here
/// and caught by the drift test, which checks every link's ends exist).
pub(super) fn apply(paths: &mut Paths, links: &[Link]) {
    for item in paths.paths.values_mut() {
        for op in super::operations_mut(item) {
            let id = op.operation_id.clone().unwrap_or_default();
            for link in links.iter().filter(|l| l.from == id) {
                let Some(RefOr::T(response)) = op.responses.responses.get_mut(link.status) else { continue };
                let mut builder = LinkBuilder::new().operation_id(link.to);
                for (name, value) in link.parameters {
                    builder = builder.parameter(*name, *value);
                }
                if let Some(body) = &link.request_body {
                    builder = builder.request_body(Some(body.clone()));
                }
                response.links.insert(link.name.to_owned(), RefOr::T(builder.build()));
            }
        }
    }
}
