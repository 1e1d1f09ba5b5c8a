//! Current prices from catalog's batch look-up, cached in-process for a few seconds
//! (`CART_PRICE_CACHE_SECONDS`): a busy cart page costs catalog one call per product per window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use domain::ids::{ProductId, Sku};
use domain::inventory::LookupRequest;
use domain::product::ProductSummary;
use platform::clients::catalog::{CatalogClient, CatalogError};

/// Entries kept before the cache is swept of stale ones.
const SWEEP_AT: usize = 10_000;
/// Most ids in one look-up (catalog's limit).
const BATCH: usize = 100;

/// Price and availability of products, by id; `None` for a product catalog does not know.
pub type Summaries = HashMap<ProductId, Option<ProductSummary>>;

/// The cache.
pub struct PriceBook {
    client: CatalogClient,
    ttl: Duration,
    entries: Mutex<HashMap<ProductId, (Instant, Option<ProductSummary>)>>,
}

impl PriceBook {
    /// A cache in front of `client`; `ttl` zero disables it.
    pub fn new(client: CatalogClient, ttl: Duration) -> Self {
        Self { client, ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn fresh(&self, ids: &[ProductId], into: &mut Summaries) -> Vec<ProductId> {
        let now = Instant::now();
        let Ok(entries) = self.entries.lock() else { return ids.to_vec() };
        let mut missing = Vec::new();
        for id in ids {
            match entries.get(id) {
                Some((at, summary)) if now.duration_since(*at) < self.ttl => {
                    into.insert(*id, summary.clone());
                }
                _ => missing.push(*id),
            }
        }
        missing
    }

    fn remember(&self, found: &[(ProductId, Option<ProductSummary>)]) {
        if self.ttl.is_zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() > SWEEP_AT {
            let now = Instant::now();
            entries.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
        }
        let now = Instant::now();
        for (id, summary) in found {
            entries.insert(*id, (now, summary.clone()));
        }
    }

    /// Summaries of `ids` (deduplicated), from the cache or one look-up per 100 ids.
    pub async fn summaries(&self, ids: &[ProductId]) -> Result<Summaries, CatalogError> {
        let mut out = Summaries::with_capacity(ids.len());
        let mut missing = self.fresh(ids, &mut out);
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(BATCH) {
            let answer =
                self.client.lookup(&LookupRequest { product_ids: chunk.to_vec(), skus: Vec::new() }).await?;
            let mut found: Vec<(ProductId, Option<ProductSummary>)> =
                answer.data.into_iter().map(|s| (s.id, Some(s))).collect();
            found.extend(answer.missing.into_iter().map(|id| (id, None)));
            self.remember(&found);
            out.extend(found);
        }
        Ok(out)
    }

    /// One product by id.
    pub async fn by_id(&self, id: ProductId) -> Result<Option<ProductSummary>, CatalogError> {
        Ok(self.summaries(&[id]).await?.remove(&id).flatten())
    }

    /// One product by SKU (always asks catalog; the answer fills the id cache).
    pub async fn by_sku(&self, sku: &Sku) -> Result<Option<ProductSummary>, CatalogError> {
        let answer =
            self.client.lookup(&LookupRequest { product_ids: Vec::new(), skus: vec![sku.clone()] }).await?;
        let found = answer.data.into_iter().find(|s| &s.sku == sku);
        if let Some(s) = &found {
            self.remember(&[(s.id, Some(s.clone()))]);
        }
        Ok(found)
    }
}
