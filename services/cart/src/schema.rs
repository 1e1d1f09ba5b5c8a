//! Diesel table definitions for every table of `migrations/cart`.

diesel::table! {
    /// Customers' carts (guest carts live in Redis only).
    carts (id) {
        /// Cart id (UUID v4).
        id -> Uuid,
        /// JWT subject of the owner; unique.
        customer_id -> Text,
        /// ISO currency code.
        currency -> Bpchar,
        /// Checkout lock holder.
        locked_by -> Nullable<Text>,
        /// When the checkout lock lapses.
        lock_expires_at -> Nullable<Timestamptz>,
        /// The order the lock is for, once named.
        checkout_order_id -> Nullable<Int8>,
        /// Bumped on every change.
        version -> Int8,
        /// Last change by the customer.
        last_activity_at -> Timestamptz,
        /// Creation time.
        created_at -> Timestamptz,
        /// Last change.
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// The lines of customers' carts.
    cart_items (id) {
        /// Line id.
        id -> Uuid,
        /// The cart.
        cart_id -> Uuid,
        /// Catalog product id.
        product_id -> Int8,
        /// Its SKU.
        sku -> Text,
        /// Units (1 to 99).
        quantity -> Int4,
        /// Options picked (flat object).
        selected_attributes -> Jsonb,
        /// Catalog reservation holding the units.
        reservation_id -> Nullable<Uuid>,
        /// When that reservation lapses.
        reserved_until -> Nullable<Timestamptz>,
        /// Order of addition.
        position -> Int4,
        /// Creation time.
        created_at -> Timestamptz,
        /// Last change.
        updated_at -> Timestamptz,
    }
}

platform::outbox_table!();
platform::processed_events_table!();

diesel::joinable!(cart_items -> carts (cart_id));
diesel::allow_tables_to_appear_in_same_query!(carts, cart_items);
