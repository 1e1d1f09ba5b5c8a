//! Drift checks between a service's routes and its OpenAPI document (docs/adr/0074).

use std::collections::BTreeSet;

use actix_web::{App, HttpResponse, test, web};
use platform::openapi::{Api, DOCUMENT_PATH};
use serde_json::Value;

/// Header the check's default service sets: the router matched no route.
const UNROUTED: &str = "x-test-unrouted";

/// Fails unless the document names exactly the routes `api` registers, each of them reachable
/// in the app (answered by its handler, not the router's 404), every operation has a unique
/// `operationId` and a success response, every link names an existing operation, and
/// `GET /openapi.json` serves the document.
pub async fn assert_no_drift(api: &Api) {
    let doc = serde_json::to_value(api.document()).expect("document serialises");
    let documented = documented_routes(&doc);
    let registered: BTreeSet<(String, String)> =
        api.routes().into_iter().map(|(m, p)| (m.as_str().to_ascii_lowercase(), p)).collect();
    assert_eq!(documented, registered, "documented operations differ from the registered routes");

    let app = test::init_service(App::new().configure(|cfg| api.configure(cfg)).default_service(web::to(
        || async { HttpResponse::NotFound().insert_header((UNROUTED, "1")).finish() },
    )))
    .await;
    for (method, path) in api.routes() {
        let uri = fill_path_params(&path);
        let req = test::TestRequest::default().method(method.clone()).uri(&uri).to_request();
        let res = test::call_service(&app, req).await;
        assert!(res.headers().get(UNROUTED).is_none(), "{method} {uri}: documented but not routed");
    }
    let req = test::TestRequest::get().uri(DOCUMENT_PATH).to_request();
    let served: Value = test::call_and_read_body_json(&app, req).await;
    assert_eq!(served, doc, "{DOCUMENT_PATH} serves another document");

    let mut ids = BTreeSet::new();
    for op in operations(&doc) {
        let id = op["operationId"].as_str().expect("every operation has an operationId");
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.keys().any(|s| s.starts_with('2')), "{id} documents no success response");
    }
    let mut links = 0;
    for op in operations(&doc) {
        for response in op["responses"].as_object().into_iter().flat_map(|r| r.values()) {
            for link in response["links"].as_object().into_iter().flat_map(|l| l.values()) {
                let to = link["operationId"].as_str().unwrap_or_default();
                assert!(ids.contains(to), "a link names {to:?}, which is no operation");
                links += 1;
            }
        }
    }
    // A link whose answering operation or status does not exist is dropped: count them.
    assert_eq!(links, api.link_count(), "declared links missing from the document");
}

/// `(method, path)` of every operation in `doc`.
fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            out.insert((method.clone(), path.clone()));
        }
    }
    out
}

fn operations(doc: &Value) -> impl Iterator<Item = &Value> {
    doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
        .flat_map(|item| item.as_object().into_iter().flat_map(|m| m.values()))
}

/// `/a/{id}/b` → `/a/1/b`: a value every path parameter's extractor accepts.
fn fill_path_params(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push('1');
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}
