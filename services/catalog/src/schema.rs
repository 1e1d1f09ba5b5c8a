//! Diesel table definitions for the catalog schema (see migrations/catalog).

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
    }
}
