//! A tiny in-memory cart and catalog inventory API on one random port, speaking the shared
//! contracts (`domain::checkout_lock` for cart, `domain::inventory` for catalog), so it
//! cannot drift from the real services.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::{DateTime, Duration, Utc};
use domain::checkout_lock::{CartSnapshot, CartSnapshotItem, CheckoutLockRequest, UnlockQuery};
use domain::ids::{CartId, OrderId, ProductId, Sku};
use domain::inventory::{
    ExtendManyRequest, InsufficientStock, LookupRequest, LookupResponse, Reservation, ReservationStatus,
    ReserveRequest,
};
use domain::money::{Currency, Money};
use domain::product::{ProductStatus, ProductSummary};
use serde_json::{Value, json};
use uuid::Uuid;

pub const TOKEN: &str = testkit::INTERNAL_TOKEN;

#[derive(Debug, Clone)]
pub struct Product {
    pub sku: String,
    pub price_cents: i64,
    pub stock: i64,
    pub reserved: i64,
}

#[derive(Debug, Clone)]
pub struct Res {
    pub product_id: i64,
    pub quantity: i64,
    pub status: ReservationStatus,
    pub order_id: Option<i64>,
    pub cart_id: Option<CartId>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub id: Uuid,
    pub product_id: i64,
    pub quantity: i64,
    pub reservation_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Cart {
    pub customer_id: Option<String>,
    pub token: String,
    pub lines: Vec<Line>,
    pub lock: Option<(String, DateTime<Utc>)>,
}

#[derive(Default)]
pub struct Store {
    pub products: HashMap<i64, Product>,
    pub reservations: HashMap<Uuid, Res>,
    pub carts: HashMap<Uuid, Cart>,
    /// Requests seen, by route name (for "called once" checks).
    pub calls: HashMap<&'static str, usize>,
    /// Each counted request's route name, `traceparent` and `x-request-id`, in order.
    pub headers: Vec<(&'static str, Option<String>, Option<String>)>,
    next_product: i64,
}

pub type Shared = Arc<Mutex<Store>>;

impl Store {
    pub fn add_product(&mut self, sku: &str, price_cents: i64, stock: i64) -> i64 {
        self.next_product += 1;
        let id = self.next_product;
        self.products.insert(id, Product { sku: sku.to_owned(), price_cents, stock, reserved: 0 });
        id
    }

    /// Reserves like catalog: never more than in stock.
    pub fn reserve(
        &mut self,
        product_id: i64,
        quantity: i64,
        order: Option<i64>,
        cart: Option<CartId>,
        ttl_min: i64,
    ) -> Result<Uuid, i64> {
        let p = self.products.get_mut(&product_id).ok_or(0)?;
        let available = p.stock - p.reserved;
        if available < quantity {
            return Err(available);
        }
        p.reserved += quantity;
        let id = Uuid::now_v7();
        self.reservations.insert(
            id,
            Res {
                product_id,
                quantity,
                status: ReservationStatus::Active,
                order_id: order,
                cart_id: cart,
                expires_at: Utc::now() + Duration::minutes(ttl_min),
            },
        );
        Ok(id)
    }

    /// Closes an active reservation (release or expiry gives the units back).
    pub fn close(&mut self, id: Uuid, to: ReservationStatus) -> bool {
        let Some(r) = self.reservations.get_mut(&id) else { return false };
        if r.status != ReservationStatus::Active {
            return false;
        }
        r.status = to;
        if let Some(p) = self.products.get_mut(&r.product_id) {
            p.reserved -= r.quantity;
            if to == ReservationStatus::Committed {
                p.stock -= r.quantity;
            }
        }
        true
    }

    fn reservation_json(&self, id: Uuid) -> Value {
        let r = &self.reservations[&id];
        let p = &self.products[&r.product_id];
        serde_json::to_value(Reservation {
            id,
            product_id: ProductId(r.product_id),
            quantity: r.quantity,
            status: r.status,
            cart_id: r.cart_id,
            order_id: r.order_id.map(OrderId),
            expires_at: r.expires_at,
            created_at: Utc::now(),
            available: p.stock - p.reserved,
        })
        .unwrap()
    }

    fn cart_json(&self, id: Uuid) -> CartSnapshot {
        let c = &self.carts[&id];
        CartSnapshot {
            id: CartId(id),
            customer_id: c.customer_id.clone(),
            currency: "USD".to_owned(),
            locked_by: c.lock.as_ref().map(|l| l.0.clone()),
            lock_expires_at: c.lock.as_ref().map(|l| l.1),
            items: c
                .lines
                .iter()
                .map(|l| CartSnapshotItem {
                    id: l.id,
                    product_id: ProductId(l.product_id),
                    sku: self.products[&l.product_id].sku.clone(),
                    quantity: i32::try_from(l.quantity).unwrap(),
                    selected_attributes: serde_json::Map::new(),
                    reservation_id: l.reservation_id,
                    reservation_expires_at: l.reservation_id.map(|r| self.reservations[&r].expires_at),
                })
                .collect(),
        }
    }
}

fn authorized(req: &actix_web::HttpRequest) -> bool {
    req.headers().get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {TOKEN}"))
}

fn count(store: &Shared, name: &'static str, req: &actix_web::HttpRequest) {
    let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut s = store.lock().unwrap();
    *s.calls.entry(name).or_default() += 1;
    s.headers.push((name, header("traceparent"), header("x-request-id")));
}

async fn lock(
    req: actix_web::HttpRequest,
    store: web::Data<Shared>,
    id: web::Path<Uuid>,
    body: web::Json<CheckoutLockRequest>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    count(&store, "cart.lock", &req);
    let mut s = store.lock().unwrap();
    let Some(cart) = s.carts.get_mut(&id) else {
        return HttpResponse::NotFound().json(json!({"error": "Not found"}));
    };
    let owner_ok = match &cart.customer_id {
        Some(owner) => body.customer_id.as_deref() == Some(owner.as_str()),
        None => body.cart_token.as_deref() == Some(cart.token.as_str()),
    };
    if !owner_ok {
        return HttpResponse::NotFound().json(json!({"error": "Not found"}));
    }
    if let Some((holder, until)) = &cart.lock
        && holder != &body.holder
        && *until > Utc::now()
    {
        return HttpResponse::Conflict().json(json!({"error": "Checkout in progress"}));
    }
    cart.lock = Some((body.holder.clone(), Utc::now() + Duration::seconds(body.ttl_seconds)));
    HttpResponse::Ok().json(s.cart_json(*id))
}

async fn unlock(
    req: actix_web::HttpRequest,
    store: web::Data<Shared>,
    id: web::Path<Uuid>,
    q: web::Query<UnlockQuery>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    count(&store, "cart.unlock", &req);
    let mut s = store.lock().unwrap();
    if let Some(cart) = s.carts.get_mut(&id)
        && cart.lock.as_ref().map(|l| &l.0) == Some(&q.holder)
    {
        cart.lock = None;
    }
    HttpResponse::NoContent().finish()
}

async fn lookup(
    req: actix_web::HttpRequest,
    store: web::Data<Shared>,
    body: web::Json<LookupRequest>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    count(&store, "catalog.lookup", &req);
    let s = store.lock().unwrap();
    let mut data = Vec::new();
    let mut missing = Vec::new();
    for id in &body.product_ids {
        match s.products.get(&id.0) {
            Some(p) => data.push(ProductSummary {
                id: *id,
                sku: Sku::parse(&p.sku).unwrap(),
                name: format!("Product {}", p.sku),
                price: Money::new(p.price_cents, Currency::Usd),
                status: ProductStatus::Active,
                available_quantity: p.stock - p.reserved,
                attributes: serde_json::Map::new(),
            }),
            None => missing.push(*id),
        }
    }
    HttpResponse::Ok().json(LookupResponse { data, missing, missing_skus: Vec::new() })
}

async fn reserve(
    req: actix_web::HttpRequest,
    store: web::Data<Shared>,
    body: web::Json<ReserveRequest>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    count(&store, "catalog.reserve", &req);
    let mut s = store.lock().unwrap();
    match s.reserve(
        body.product_id.0,
        body.quantity,
        body.order_id.map(|o| o.0),
        body.cart_id,
        body.ttl_minutes.unwrap_or(15),
    ) {
        Ok(id) => HttpResponse::Created().json(s.reservation_json(id)),
        Err(available) => HttpResponse::Conflict().json(InsufficientStock::new(available, "short")),
    }
}

async fn extend_many(
    req: actix_web::HttpRequest,
    store: web::Data<Shared>,
    body: web::Json<ExtendManyRequest>,
) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    count(&store, "catalog.extend", &req);
    let mut s = store.lock().unwrap();
    let mut data = Vec::new();
    for id in &body.reservation_ids {
        let Some(r) = s.reservations.get_mut(id) else { continue };
        if r.status != ReservationStatus::Active || r.expires_at <= Utc::now() {
            continue;
        }
        r.expires_at = Utc::now() + Duration::minutes(body.ttl_minutes.unwrap_or(15));
        if let Some(order) = body.order_id {
            r.order_id = Some(order.0);
        }
        data.push(s.reservation_json(*id));
    }
    HttpResponse::Ok().json(json!({ "data": data }))
}

async fn release(req: actix_web::HttpRequest, store: web::Data<Shared>, id: web::Path<Uuid>) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().finish();
    }
    let mut s = store.lock().unwrap();
    if !s.reservations.contains_key(&id) {
        return HttpResponse::NotFound().finish();
    }
    s.close(*id, ReservationStatus::Released);
    HttpResponse::Ok().json(s.reservation_json(*id))
}

/// Starts the fakes; returns the shared store and the base URL.
pub fn start() -> (Shared, String) {
    let store: Shared = Arc::default();
    let data = web::Data::new(store.clone());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/internal/v1/carts/{id}/checkout-lock", web::post().to(lock))
            .route("/internal/v1/carts/{id}/checkout-lock", web::delete().to(unlock))
            .route("/internal/v1/products/lookup", web::post().to(lookup))
            .route("/internal/v1/reservations", web::post().to(reserve))
            .route("/internal/v1/reservations/extend", web::post().to(extend_many))
            .route("/internal/v1/reservations/{id}/release", web::post().to(release))
    })
    .workers(2)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (store, format!("http://{addr}"))
}
