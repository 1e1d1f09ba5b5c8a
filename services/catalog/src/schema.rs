//! Diesel table definitions of every table the catalog migrations create (migrations/catalog).
//! `tests/schema.rs` fails when this file and the migrations disagree.

diesel::table! {
    /// Products, as in the seed (money in minor units).
    products (id) {
        /// Identity.
        id -> Int8,
        /// Stock keeping unit, unique.
        sku -> Varchar,
        /// Display name.
        name -> Varchar,
        /// Long description.
        description -> Nullable<Text>,
        /// URL slug, unique.
        slug -> Varchar,
        /// Price in minor units.
        price_cents -> Int8,
        /// ISO currency code.
        currency -> Bpchar,
        /// Free-form attributes (category, color, size, ...).
        attributes -> Jsonb,
        /// Units on hand.
        stock_quantity -> Int4,
        /// Units held by carts and unpaid orders.
        reserved_quantity -> Int4,
        /// draft / active / discontinued.
        status -> Varchar,
        /// Creation time.
        created_at -> Timestamptz,
        /// Last change.
        updated_at -> Timestamptz,
        /// Soft-delete marker.
        deleted_at -> Nullable<Timestamptz>,
        /// Lower-cased space-separated runs of name and description (kept by a trigger; search).
        search_tokens -> Nullable<Array<Text>>,
    }
}

diesel::table! {
    /// Every run any product's name or description has had: the search vocabulary.
    search_words (word) {
        /// A lower-cased run, or a pair or triple of consecutive runs (space-separated).
        word -> Text,
        /// Storefront-visible products with it, without the unfolded deltas.
        n -> Int8,
        /// How many runs it spans (generated: 1, 2 or 3).
        arity -> Nullable<Int2>,
    }
}

diesel::table! {
    /// Changes to `search_words.n` not folded yet (appended by triggers, folded by the compactor).
    search_word_deltas (word) {
        /// The run.
        word -> Text,
        /// Signed change.
        n -> Int8,
    }
}

diesel::table! {
    /// Stock reservations: units held by a cart or an order until committed, released or expired.
    reservations (id) {
        /// UUID v7, made by catalog.
        id -> Uuid,
        /// The product held.
        product_id -> Int8,
        /// Units held (> 0).
        quantity -> Int4,
        /// Owner cart.
        cart_id -> Nullable<Uuid>,
        /// Owner order.
        order_id -> Nullable<Int8>,
        /// active / committed / released / expired.
        status -> Varchar,
        /// When an active reservation lapses.
        expires_at -> Timestamptz,
        /// Creation time.
        created_at -> Timestamptz,
        /// Last change.
        updated_at -> Timestamptz,
        /// When it stopped being active.
        closed_at -> Nullable<Timestamptz>,
        /// The caller's key: a retried reserve finds the active reservation it made.
        idempotency_key -> Nullable<Text>,
    }
}

diesel::table! {
    /// Storefront-visible products per (category, in stock), kept by triggers (docs/adr/0013).
    listing_counts (category, in_stock) {
        /// `attributes.category`, or '' when there is none.
        category -> Text,
        /// Stock beyond reservations.
        in_stock -> Bool,
        /// Active, not deleted products of the pair.
        n -> Int8,
    }
}

diesel::table! {
    /// Signed changes to `listing_counts` not folded in yet (no key: appended by triggers).
    listing_count_deltas (category, in_stock, n) {
        /// As in `listing_counts`.
        category -> Text,
        /// As in `listing_counts`.
        in_stock -> Bool,
        /// +1 / -1 per moved row, or a statement's aggregate.
        n -> Int8,
    }
}

diesel::joinable!(reservations -> products (product_id));
diesel::allow_tables_to_appear_in_same_query!(
    products,
    reservations,
    listing_counts,
    listing_count_deltas,
    search_words
);

platform::outbox_table!();
platform::processed_events_table!();
