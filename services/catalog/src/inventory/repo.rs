//! The reservation SQL. Every function runs inside the caller's transaction and writes
//! `inventory.changed` for each product whose counters it moved, so the change and its event
//! commit together.
//!
//! The guarantee `reserved_quantity ≤ stock_quantity` under any concurrency comes from
//! [`reserve`]'s single conditional `UPDATE`: PostgreSQL locks the product row, and a waiting
//! update re-checks its `WHERE` against the row as the previous transaction left it, so no
//! two reservations can both take the last unit.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, Queryable,
    QueryableByName, Selectable, SelectableHelper, sql_query,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use domain::events::{Envelope, InventoryChanged};
use domain::ids::{CartId, OrderId, ProductId, Sku};
use domain::inventory::{Reservation, ReservationStatus};
use domain::product::{Availability, ProductStatus};
use platform::sql::{PrepareOnce, greatest, mins, now_plus, text_const};
use uuid::Uuid;

use crate::events::SOURCE;
use crate::schema::{products, reservations};

/// A product's counters after a change.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct Counters {
    /// The product.
    pub id: i64,
    /// Its SKU.
    pub sku: String,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units held.
    pub reserved_quantity: i32,
}

impl Counters {
    /// Units that can be reserved now.
    pub fn available(&self) -> i64 {
        Availability::from_stock(i64::from(self.stock_quantity), i64::from(self.reserved_quantity)).quantity
    }
}

/// A reservation row.
#[derive(Debug, QueryableByName, Queryable, Selectable)]
#[diesel(table_name = reservations, check_for_backend(diesel::pg::Pg))]
pub struct ReservationRow {
    id: Uuid,
    product_id: i64,
    quantity: i32,
    status: String,
    cart_id: Option<Uuid>,
    order_id: Option<i64>,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl ReservationRow {
    /// The reservation's id.
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// Whether a keyed request asks for this very reservation (same product, units and owner).
    pub fn answers(&self, new: &NewReservation) -> bool {
        self.product_id == new.product_id.get()
            && self.quantity == new.quantity
            && self.cart_id == new.cart_id.map(|c| c.0)
            && self.order_id == new.order_id.map(OrderId::get)
    }

    /// The API shape, with the product's availability after the change.
    pub fn into_reservation(self, available: i64) -> Reservation {
        Reservation {
            id: self.id,
            product_id: ProductId(self.product_id),
            quantity: i64::from(self.quantity),
            // The column's CHECK allows only the four spellings.
            status: self.status.parse().unwrap_or(ReservationStatus::Active),
            cart_id: self.cart_id.map(CartId),
            order_id: self.order_id.map(OrderId),
            expires_at: self.expires_at,
            created_at: self.created_at,
            available,
        }
    }

    /// Its status.
    pub fn status(&self) -> Option<ReservationStatus> {
        self.status.parse().ok()
    }
}

/// `status` of a reservation that holds units.
const ACTIVE: &str = "active";

const RESERVATION_COLUMNS: &str =
    "r.id, r.product_id, r.quantity, r.status, r.cart_id, r.order_id, r.expires_at, r.created_at";

/// A new reservation.
#[derive(Debug, Clone)]
pub struct NewReservation {
    /// The product.
    pub product_id: ProductId,
    /// Units (> 0).
    pub quantity: i32,
    /// Owner cart.
    pub cart_id: Option<CartId>,
    /// Owner order.
    pub order_id: Option<OrderId>,
    /// Lifetime in minutes.
    pub ttl_minutes: i64,
    /// The caller's key (idempotent while active).
    pub idempotency_key: Option<String>,
}

/// Why [`reserve`] took nothing.
#[derive(Debug, Clone, Copy)]
pub enum ReserveRefused {
    /// No such product, or it is deleted.
    UnknownProduct,
    /// The product is not `active`.
    NotForSale,
    /// Fewer than the requested units are available.
    Insufficient {
        /// Units available now.
        available: i64,
    },
}

/// Reserves units of a product: the conditional update and the reservation row, in one
/// statement, then the event. `Ok(Err(_))` when nothing was reserved.
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    new: NewReservation,
) -> QueryResult<Result<(ReservationRow, Counters), ReserveRefused>> {
    /// A row of expressions: the reservation and its product's counters, joined (each
    /// embedded row is typed on its own).
    #[derive(QueryableByName)]
    struct Reserved {
        #[diesel(embed)]
        reservation: ReservationRow,
        #[diesel(embed)]
        counters: ProductCounters,
    }
    let id = Uuid::now_v7();
    // sql_query: data-modifying CTE (the reservation's guarantee: the conditional update and
    // the row in one statement).
    let rows: Vec<Reserved> = platform::sql::prepared(sql_query(format!(
        "WITH p AS (
             UPDATE products SET reserved_quantity = reserved_quantity + $2
             WHERE id = $1 AND status = 'active' AND deleted_at IS NULL
               AND stock_quantity - reserved_quantity >= $2
             RETURNING id, sku, stock_quantity, reserved_quantity
         ), r AS (
             INSERT INTO reservations (id, product_id, quantity, cart_id, order_id, expires_at, idempotency_key)
             SELECT $3, p.id, $2, $4, $5, now() + make_interval(mins => $6), $7 FROM p
             RETURNING *
         )
         SELECT {RESERVATION_COLUMNS}, p.id AS p_id, p.sku AS p_sku,
                p.stock_quantity AS p_stock, p.reserved_quantity AS p_reserved
         FROM r JOIN p ON p.id = r.product_id"
    ))
    .bind::<BigInt, _>(new.product_id.get())
    .bind::<Integer, _>(new.quantity)
    .bind::<SqlUuid, _>(id)
    .bind::<Nullable<SqlUuid>, _>(new.cart_id.map(|c| c.0))
    .bind::<Nullable<BigInt>, _>(new.order_id.map(OrderId::get))
    .bind::<Integer, _>(i32::try_from(new.ttl_minutes).unwrap_or(i32::MAX))
    .bind::<Nullable<Text>, _>(new.idempotency_key.as_deref()))
    .load(conn)
    .await?;
    if let Some(Reserved { reservation: row, counters }) = rows.into_iter().next() {
        let counters = counters.into_counters();
        inventory_changed(conn, &counters).await?;
        return Ok(Ok((row, counters)));
    }
    Ok(Err(why_refused(conn, new.product_id).await?))
}

/// A row of expressions: product counters under the `p_` aliases of a joined query.
#[derive(Debug, QueryableByName)]
struct ProductCounters {
    #[diesel(sql_type = BigInt, column_name = p_id)]
    id: i64,
    #[diesel(sql_type = Text, column_name = p_sku)]
    sku: String,
    #[diesel(sql_type = Integer, column_name = p_stock)]
    stock: i32,
    #[diesel(sql_type = Integer, column_name = p_reserved)]
    reserved: i32,
}

impl ProductCounters {
    fn into_counters(self) -> Counters {
        Counters { id: self.id, sku: self.sku, stock_quantity: self.stock, reserved_quantity: self.reserved }
    }
}

async fn why_refused(conn: &mut AsyncPgConnection, product_id: ProductId) -> QueryResult<ReserveRefused> {
    let facts = sale_facts(conn, &[product_id.get()]).await?;
    Ok(match facts.into_iter().next() {
        None => ReserveRefused::UnknownProduct,
        Some(f) if !f.is_active() => ReserveRefused::NotForSale,
        Some(f) => ReserveRefused::Insufficient { available: f.available() },
    })
}

/// The active reservation made with `key`, with its product's availability, row-locked.
pub async fn active_by_key(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> QueryResult<Option<(ReservationRow, i64)>> {
    let id: Option<Uuid> = reservations::table
        .filter(reservations::idempotency_key.eq(key))
        .filter(reservations::status.eq(text_const(ACTIVE)))
        .select(reservations::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    match id {
        Some(id) => find(conn, id).await,
        None => Ok(None),
    }
}

/// One reservation, with its product's availability.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<(ReservationRow, i64)>> {
    let found: Option<(ReservationRow, i32, i32)> = reservations::table
        .inner_join(products::table)
        .filter(reservations::id.eq(id))
        .select((ReservationRow::as_select(), products::stock_quantity, products::reserved_quantity))
        .first(conn)
        .await
        .optional()?;
    // Availability clamps at 0 as GREATEST(stock - reserved, 0) did.
    Ok(found.map(|(row, stock, reserved)| {
        (row, Availability::from_stock(i64::from(stock), i64::from(reserved)).quantity)
    }))
}

/// Moves an active reservation to a new expiry (and owner order). `None` when it is not active
/// or already past its expiry (the sweeper may be about to release it).
pub async fn extend(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    ttl_minutes: i64,
    order_id: Option<OrderId>,
) -> QueryResult<Option<ReservationRow>> {
    let live = reservations::table
        .find(id)
        .filter(reservations::status.eq(text_const(ACTIVE)))
        .filter(reservations::expires_at.gt(now));
    let expires = reservations::expires_at.eq(now_plus(mins(ttl_minutes)));
    // A new owner order replaces the old one; none keeps it.
    let updated = match order_id {
        Some(order) => {
            diesel::update(live)
                .set((expires, reservations::order_id.eq(order.get())))
                .returning(ReservationRow::as_returning())
                .prepared()
                .get_result(conn)
                .await
        }
        None => {
            diesel::update(live)
                .set(expires)
                .returning(ReservationRow::as_returning())
                .prepared()
                .get_result(conn)
                .await
        }
    };
    updated.optional()
}

/// [`extend`] for several reservations at once, in one statement (a checkout's lines): the
/// active, unexpired ones among `ids` get the new expiry (and owner order), rows locked in id
/// order; each comes back with its product's availability. An id missing from the answer was
/// not extended (unknown, closed, or past its expiry).
pub async fn extend_many(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    ttl_minutes: i64,
    order_id: Option<OrderId>,
) -> QueryResult<Vec<(ReservationRow, i64)>> {
    /// A row of expressions: the reservation and its product's counters.
    #[derive(QueryableByName)]
    struct Extended {
        #[diesel(embed)]
        reservation: ReservationRow,
        #[diesel(sql_type = Integer)]
        p_stock: i32,
        #[diesel(sql_type = Integer)]
        p_reserved: i32,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // sql_query: locking CTE (rows locked in id order) joined to the products' counters.
    let rows: Vec<Extended> = platform::sql::prepared(
        sql_query(format!(
            "WITH target AS (
                 SELECT id FROM reservations
                 WHERE id = ANY($1) AND status = 'active' AND expires_at > now() ORDER BY id FOR UPDATE
             )
             UPDATE reservations r
             SET expires_at = now() + make_interval(mins => $2), order_id = COALESCE($3, r.order_id)
             FROM target, products p
             WHERE r.id = target.id AND p.id = r.product_id
             RETURNING {RESERVATION_COLUMNS}, p.stock_quantity AS p_stock, p.reserved_quantity AS p_reserved"
        ))
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Integer, _>(i32::try_from(ttl_minutes).unwrap_or(i32::MAX))
        .bind::<Nullable<BigInt>, _>(order_id.map(OrderId::get)),
    )
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let available = Availability::from_stock(i64::from(r.p_stock), i64::from(r.p_reserved)).quantity;
            (r.reservation, available)
        })
        .collect())
}

/// Why [`resize`] changed nothing.
#[derive(Debug)]
pub enum ResizeRefused {
    /// Unknown, no longer active, or past its expiry.
    NotActive,
    /// Growing needs more units than are available (or the product is no longer for sale).
    Insufficient {
        /// Units available now, on top of what the reservation holds.
        available: i64,
    },
}

/// Sets an active reservation's quantity and pushes its expiry out. Growing takes only the
/// difference from stock, under the same conditional update as [`reserve`]; shrinking gives
/// the difference back. Run it inside a transaction (the reservation row is locked first).
pub async fn resize(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    quantity: i32,
    ttl_minutes: i64,
) -> QueryResult<Result<ReservationRow, ResizeRefused>> {
    let held: Option<(i64, i32)> = reservations::table
        .find(id)
        .filter(reservations::status.eq(text_const(ACTIVE)))
        .filter(reservations::expires_at.gt(now))
        .select((reservations::product_id, reservations::quantity))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((held_product, held_quantity)) = held else { return Ok(Err(ResizeRefused::NotActive)) };
    let delta = quantity - held_quantity;
    if delta != 0 {
        // Shrinking always succeeds; growing only while the product is on sale and has the units.
        let counters = take_units(conn, held_product, delta).await?;
        let Some(counters) = counters else {
            let available = match why_refused(conn, ProductId(held_product)).await? {
                ReserveRefused::Insufficient { available } => available,
                ReserveRefused::UnknownProduct | ReserveRefused::NotForSale => 0,
            };
            return Ok(Err(ResizeRefused::Insufficient { available }));
        };
        inventory_changed(conn, &counters).await?;
    }
    let row = diesel::update(reservations::table.find(id))
        .set((reservations::quantity.eq(quantity), reservations::expires_at.eq(now_plus(mins(ttl_minutes)))))
        .returning(ReservationRow::as_returning())
        .prepared()
        .get_result(conn)
        .await?;
    Ok(Ok(row))
}

/// Moves `delta` units of a product into (or, negative, out of) its reservations. Shrinking
/// always succeeds; growing only while the product is on sale and has the units. `None` when
/// the condition fails.
async fn take_units(conn: &mut AsyncPgConnection, product: i64, delta: i32) -> QueryResult<Option<Counters>> {
    let set = products::reserved_quantity.eq(greatest(products::reserved_quantity + delta, 0));
    let target = products::table.find(product);
    let changed = if delta < 0 {
        diesel::update(target).set(set).returning(Counters::as_returning()).prepared().get_result(conn).await
    } else {
        let on_sale = products::status
            .eq(ProductStatus::Active.as_str())
            .and(products::deleted_at.is_null())
            .and((products::stock_quantity - products::reserved_quantity).ge(delta));
        diesel::update(target.filter(on_sale))
            .set(set)
            .returning(Counters::as_returning())
            .prepared()
            .get_result(conn)
            .await
    };
    changed.optional()
}

/// How an active reservation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// Paid: stock and reserved both go down.
    Commit,
    /// Given back: reserved goes down.
    Release,
    /// Lapsed: reserved goes down (the sweeper).
    Expire,
}

impl Close {
    fn status(self) -> ReservationStatus {
        match self {
            Close::Commit => ReservationStatus::Committed,
            Close::Release => ReservationStatus::Released,
            Close::Expire => ReservationStatus::Expired,
        }
    }
}

/// A reservation a statement closed.
#[derive(QueryableByName)]
#[diesel(table_name = crate::schema::reservations, check_for_backend(diesel::pg::Pg))]
struct Closed {
    id: Uuid,
    product_id: i64,
    quantity: i32,
    status: String,
}

/// `(product, quantity)` of each closed reservation.
fn units(closed: &[Closed]) -> Vec<(i64, i32)> {
    closed.iter().map(|c| (c.product_id, c.quantity)).collect()
}

/// Closes the active reservations among `ids` and gives their units back (or takes them out of
/// stock, for a commit), writing one `inventory.changed` per product touched. Reservations that
/// are unknown or no longer active are left alone: that is what makes the event consumers
/// tolerant of duplicates and of events arriving out of order. Returns the ids closed.
///
/// Rows are locked in id order (reservations, then products through the aggregate), so two
/// transactions closing overlapping sets wait for each other instead of deadlocking.
pub async fn close(conn: &mut AsyncPgConnection, ids: &[Uuid], how: Close) -> QueryResult<Vec<Uuid>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // sql_query: locking CTE (rows locked in id order, so overlapping closes never deadlock).
    let closed: Vec<Closed> = platform::sql::prepared(
        sql_query(
            "WITH target AS (
             SELECT id FROM reservations WHERE id = ANY($1) AND status = 'active' ORDER BY id FOR UPDATE
         )
         UPDATE reservations r SET status = $2, closed_at = now()
         FROM target WHERE r.id = target.id
         RETURNING r.id, r.product_id, r.quantity, r.status",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .bind::<Text, _>(how.status().as_str()),
    )
    .load(conn)
    .await?;
    give_back(conn, &units(&closed), how).await?;
    Ok(closed.into_iter().map(|c| c.id).collect())
}

/// What [`commit_order`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Reservations committed (their units left stock).
    pub committed: Vec<Uuid>,
    /// Lapsed reservations of the order that the event did not name: expired, never committed.
    pub expired: Vec<Uuid>,
}

/// Commits a paid order's stock: the active reservations the event lists, plus the order's own
/// active ones that have not lapsed. An order's reservation past `expires_at` that the event
/// does not name is one the order replaced (a late payment reserves again and lists the new
/// ids), so it is expired here — whether or not the sweeper got to it — never committed: the
/// units would be taken twice. A listed one is committed even if it lapsed a moment ago: while
/// it is `active` its units never left, and the paid order owns them.
pub async fn commit_order(
    conn: &mut AsyncPgConnection,
    order: OrderId,
    listed: &[Uuid],
) -> QueryResult<Committed> {
    // sql_query: locking CTE (rows locked in id order) that also decides each row's new status.
    let closed: Vec<Closed> = platform::sql::prepared(
        sql_query(
            "WITH target AS (
             SELECT id, (id = ANY($1) OR expires_at > now()) AS keep FROM reservations
             WHERE (id = ANY($1) OR order_id = $2) AND status = 'active' ORDER BY id FOR UPDATE
         )
         UPDATE reservations r
         SET status = CASE WHEN target.keep THEN 'committed' ELSE 'expired' END, closed_at = now()
         FROM target WHERE r.id = target.id
         RETURNING r.id, r.product_id, r.quantity, r.status",
        )
        .bind::<Array<SqlUuid>, _>(listed)
        .bind::<BigInt, _>(order.get()),
    )
    .load(conn)
    .await?;
    let (kept, lapsed): (Vec<Closed>, Vec<Closed>) =
        closed.into_iter().partition(|c| c.status == "committed");
    give_back(conn, &units(&kept), Close::Commit).await?;
    give_back(conn, &units(&lapsed), Close::Expire).await?;
    Ok(Committed {
        committed: kept.into_iter().map(|c| c.id).collect(),
        expired: lapsed.into_iter().map(|c| c.id).collect(),
    })
}

/// Applies closed reservations' quantities to their products, one product at a time in id
/// order, and writes `inventory.changed` for each.
async fn give_back(conn: &mut AsyncPgConnection, closed: &[(i64, i32)], how: Close) -> QueryResult<()> {
    let mut per_product: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (product, quantity) in closed {
        *per_product.entry(*product).or_default() += i64::from(*quantity);
    }
    for (product, quantity) in per_product {
        let quantity = i32::try_from(quantity).unwrap_or(i32::MAX);
        // A commit takes the units out of stock too. GREATEST: an admin may have set stock
        // below what was reserved; the CHECK (stock ≥ 0) must not turn a payment into an error.
        let stock_delta = if how == Close::Commit { quantity } else { 0 };
        let counters = diesel::update(products::table.find(product))
            .set((
                products::reserved_quantity.eq(greatest(products::reserved_quantity - quantity, 0)),
                products::stock_quantity.eq(greatest(products::stock_quantity - stock_delta, 0)),
            ))
            .returning(Counters::as_returning())
            .prepared()
            .get_result(conn)
            .await?;
        inventory_changed(conn, &counters).await?;
    }
    Ok(())
}

/// The active reservations of an order (for events that name the order only).
pub async fn active_of_order(conn: &mut AsyncPgConnection, order_id: OrderId) -> QueryResult<Vec<Uuid>> {
    reservations::table
        .filter(reservations::order_id.eq(order_id.get()))
        .filter(reservations::status.eq(text_const(ACTIVE)))
        .select(reservations::id)
        .load(conn)
        .await
}

/// Expires up to `limit` active reservations past their expiry that no other transaction has
/// locked (`SKIP LOCKED`: several replicas sweep without waiting for each other); returns how
/// many it expired.
pub async fn expire_due(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<usize> {
    // sql_query: FOR UPDATE SKIP LOCKED inside a CTE (sweepers never wait for each other).
    let closed: Vec<Closed> = platform::sql::prepared(
        sql_query(
            "WITH due AS (
             SELECT id FROM reservations
             WHERE status = 'active' AND expires_at <= now()
             ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
         )
         UPDATE reservations r SET status = 'expired', closed_at = now()
         FROM due WHERE r.id = due.id
         RETURNING r.id, r.product_id, r.quantity, r.status",
        )
        .bind::<BigInt, _>(limit),
    )
    .load(conn)
    .await?;
    give_back(conn, &units(&closed), Close::Expire).await?;
    Ok(closed.len())
}

/// Writes `inventory.changed` with these counters to the outbox, without `NOTIFY`: notifying
/// transactions commit one at a time (docs/adr/0021), so the caller wakes the relay after its
/// commit ([`crate::state::AppState::wake_relay`]) or notifies inside a background transaction.
async fn inventory_changed(conn: &mut AsyncPgConnection, c: &Counters) -> QueryResult<()> {
    // SKUs in the table passed the domain rules on the way in; a bad one would be a bug.
    let sku = Sku::parse(&c.sku).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let body = InventoryChanged::new(
        ProductId(c.id),
        sku,
        i64::from(c.stock_quantity),
        i64::from(c.reserved_quantity),
    );
    let envelope = Envelope::new(SOURCE, &body, None)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    platform::events::enqueue_without_notify(conn, &envelope).await
}

/// A product's sale facts: what the look-up answers and why a reserve was refused.
#[derive(Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub struct SaleFacts {
    pub(super) id: i64,
    pub(super) sku: String,
    pub(super) name: String,
    pub(super) price_cents: i64,
    pub(super) currency: String,
    pub(super) status: String,
    pub(super) stock_quantity: i32,
    pub(super) reserved_quantity: i32,
    pub(super) attributes: serde_json::Value,
}

/// The sale facts of the non-deleted products among `ids`, in no particular order.
pub async fn sale_facts(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<SaleFacts>> {
    sale_facts_by(conn, ids, &[]).await
}

/// The sale facts of the non-deleted products whose id is in `ids` or SKU in `skus`.
pub async fn sale_facts_by(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
    skus: &[String],
) -> QueryResult<Vec<SaleFacts>> {
    products::table
        .filter(products::id.eq_any(ids).or(products::sku.eq_any(skus)))
        .filter(products::deleted_at.is_null())
        .select(SaleFacts::as_select())
        .load(conn)
        .await
}

impl SaleFacts {
    /// Whether the product is on sale (`active`).
    pub fn is_active(&self) -> bool {
        self.status == ProductStatus::Active.as_str()
    }

    /// Units that can be reserved now.
    pub fn available(&self) -> i64 {
        Availability::from_stock(i64::from(self.stock_quantity), i64::from(self.reserved_quantity)).quantity
    }
}
