//! The admin's view of a product: the storefront item plus description, status, counters and times.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::repo::AdminRow;
use crate::listing::response::Item;

/// `{"data": {...}}` of every admin answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Wrapped {
    /// The product.
    pub data: AdminProduct,
}

/// One product, as admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminProduct {
    /// The storefront's fields.
    #[serde(flatten)]
    pub item: Item,
    /// Description.
    pub description: Option<String>,
    /// draft / active / discontinued.
    pub status: String,
    /// Units on hand.
    pub stock_quantity: i32,
    /// Units reserved.
    pub reserved_quantity: i32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl AdminProduct {
    /// The answer body for `row`.
    pub fn wrap(row: AdminRow) -> Wrapped {
        let (stock_quantity, reserved_quantity, created_at) =
            (row.item.stock_quantity, row.item.reserved_quantity, row.item.created_at);
        Wrapped {
            data: AdminProduct {
                item: Item::from(row.item),
                description: row.description,
                status: row.status,
                stock_quantity,
                reserved_quantity,
                created_at,
                updated_at: row.updated_at,
            },
        }
    }
}
