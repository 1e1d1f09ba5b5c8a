//! Webhook endpoints through Stripe's own API (`/v1/webhook_endpoints`), as the Stripe CLI and
//! dashboards create them, besides the control API and `STRIPE_WEBHOOK_URL`.

use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ids;
use crate::params::Params;
use crate::store::{Ctx, Endpoint, Store};

impl Store {
    /// Adds an endpoint; without a secret one is generated.
    pub fn add_endpoint(
        &mut self,
        url: &str,
        secret: Option<String>,
        enabled_events: Vec<String>,
        now: i64,
    ) -> Endpoint {
        let endpoint = Endpoint {
            id: ids::new("we"),
            url: url.to_owned(),
            secret: secret.unwrap_or_else(ids::webhook_secret),
            enabled_events,
            created: now,
            description: None,
        };
        self.endpoints.push(endpoint.clone());
        endpoint
    }

    /// `POST /v1/webhook_endpoints`: answers the object with its `secret`, which Stripe shows
    /// only here.
    pub fn create_webhook_endpoint(&mut self, ctx: &Ctx, params: &Params) -> Result<Value, ApiError> {
        params.only(&[
            "url",
            "enabled_events",
            "description",
            "metadata",
            "api_version",
            "connect",
            "expand",
        ])?;
        let url = params.non_empty("url")?.ok_or_else(|| ApiError::missing("url"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ApiError::invalid("url_invalid", format!("Invalid URL: {url}")).with_param("url"));
        }
        let events = params.str_list("enabled_events")?.filter(|e| !e.is_empty());
        let events = events.ok_or_else(|| ApiError::missing("enabled_events"))?;
        if let Some(bad) = events.iter().find(|e| *e != "*" && !e.contains('.')) {
            return Err(ApiError::invalid_uncoded(format!(
                "Invalid enabled_events: unknown event type {bad}"
            ))
            .with_param("enabled_events"));
        }
        let description = params.str("description")?;
        let mut endpoint = self.add_endpoint(&url, None, events, ctx.now);
        if let Some(stored) = self.endpoints.last_mut() {
            stored.description.clone_from(&description);
        }
        endpoint.description = description;
        let mut object = endpoint_object(&endpoint);
        object["secret"] = json!(endpoint.secret);
        Ok(object)
    }

    /// `GET /v1/webhook_endpoints/{id}` (without the secret, as Stripe).
    pub fn retrieve_webhook_endpoint(&self, id: &str) -> Result<Value, ApiError> {
        let endpoint = self
            .endpoints
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| ApiError::no_such("webhook endpoint", id, "id"))?;
        Ok(endpoint_object(endpoint))
    }

    /// `DELETE /v1/webhook_endpoints/{id}`: nothing more is delivered there.
    pub fn delete_webhook_endpoint(&mut self, id: &str) -> Result<Value, ApiError> {
        let before = self.endpoints.len();
        self.endpoints.retain(|e| e.id != id);
        if self.endpoints.len() == before {
            return Err(ApiError::no_such("webhook endpoint", id, "id"));
        }
        Ok(json!({"id": id, "object": "webhook_endpoint", "deleted": true}))
    }
}

fn endpoint_object(e: &Endpoint) -> Value {
    json!({
        "id": e.id,
        "object": "webhook_endpoint",
        "api_version": null,
        "application": null,
        "created": e.created,
        "description": e.description,
        "enabled_events": e.enabled_events,
        "livemode": false,
        "metadata": {},
        "status": "enabled",
        "url": e.url,
    })
}
