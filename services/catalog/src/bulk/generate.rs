//! `catalog seed --count N [--seed S]`: realistic products, the same for the same seed.
//!
//! Product `i` depends only on `(seed, i)` (its own SplitMix64 stream), so `--count 1000` is a
//! prefix of `--count 100000`, and nothing depends on a library's RNG algorithm staying put.

use domain::ids::{Sku, Slug};
use domain::money::{Currency, Money};
use domain::product::ProductStatus;
use serde_json::json;

use super::NewProduct;

/// A category: its name, SKU code, what it sells, what it is made of, and sizes.
struct Category {
    name: &'static str,
    items: &'static [(&'static str, &'static str)],
    materials: &'static [&'static str],
    sizes: &'static [&'static str],
    /// Price range in whole currency units.
    price: (i64, i64),
    features: &'static [&'static str],
}

const APPAREL_SIZES: &[&str] = &["XS", "S", "M", "L", "XL", "XXL"];
const SHOE_SIZES: &[&str] = &["6", "7", "8", "9", "10", "11", "12", "13"];
const ONE_SIZE: &[&str] = &["One Size"];

const CATEGORIES: &[Category] = &[
    Category {
        name: "clothing",
        items: &[
            ("T-Shirt", "TSH"),
            ("Hoodie", "HOD"),
            ("Jacket", "JKT"),
            ("Jeans", "JNS"),
            ("Sweater", "SWT"),
            ("Shirt", "SHT"),
            ("Dress", "DRS"),
            ("Shorts", "SHR"),
        ],
        materials: &["Cotton", "Organic Cotton", "Denim", "Wool", "Linen", "Fleece", "Polyester"],
        sizes: APPAREL_SIZES,
        price: (15, 180),
        features: &[
            "Soft and breathable for everyday wear.",
            "Relaxed fit with reinforced seams.",
            "Pre-washed so it keeps its shape.",
            "Tailored cut that layers easily.",
        ],
    },
    Category {
        name: "footwear",
        items: &[
            ("Running Shoes", "RUN"),
            ("Sneakers", "SNK"),
            ("Hiking Boots", "HKB"),
            ("Sandals", "SND"),
            ("Loafers", "LOF"),
            ("Trail Runners", "TRL"),
        ],
        materials: &["Mesh", "Leather", "Suede", "Canvas", "Recycled Knit"],
        sizes: SHOE_SIZES,
        price: (35, 260),
        features: &[
            "Lightweight running comfort with a cushioned sole.",
            "Waterproof upper and a grippy outsole.",
            "Breathable lining for long days on your feet.",
            "Designed for speed and stability.",
        ],
    },
    Category {
        name: "accessories",
        items: &[
            ("Backpack", "BPK"),
            ("Cap", "CAP"),
            ("Scarf", "SCF"),
            ("Belt", "BLT"),
            ("Wallet", "WLT"),
            ("Sunglasses", "SUN"),
            ("Tote Bag", "TOT"),
        ],
        materials: &["Leather", "Canvas", "Nylon", "Wool", "Recycled Polyester"],
        sizes: ONE_SIZE,
        price: (9, 150),
        features: &[
            "Water-resistant and built to last.",
            "Compact, with room for the essentials.",
            "A classic that goes with everything.",
            "Handmade with durable stitching.",
        ],
    },
    Category {
        name: "outdoor",
        items: &[
            ("Rain Jacket", "RJK"),
            ("Tent", "TNT"),
            ("Sleeping Bag", "SLB"),
            ("Trekking Poles", "TPL"),
            ("Headlamp", "HLP"),
        ],
        materials: &["Ripstop Nylon", "Gore-Tex", "Aluminium", "Down", "Polyester"],
        sizes: ONE_SIZE,
        price: (25, 450),
        features: &[
            "Waterproof and windproof for hiking in any weather.",
            "Packs down small for camping trips.",
            "Tested on alpine trails.",
            "Warm, light and quick to set up.",
        ],
    },
    Category {
        name: "home",
        items: &[
            ("Throw Blanket", "BLK"),
            ("Pillow", "PLW"),
            ("Bath Towel", "TWL"),
            ("Coffee Mug", "MUG"),
            ("Candle", "CND"),
        ],
        materials: &["Cotton", "Linen", "Wool", "Ceramic", "Soy Wax", "Bamboo"],
        sizes: ONE_SIZE,
        price: (8, 120),
        features: &[
            "Cozy and soft for slow evenings.",
            "Machine washable and fade resistant.",
            "A thoughtful gift for the home.",
            "Made in small batches.",
        ],
    },
    Category {
        name: "sports",
        items: &[
            ("Yoga Mat", "YGM"),
            ("Water Bottle", "BTL"),
            ("Gym Bag", "GYM"),
            ("Running Shorts", "RSH"),
            ("Training Gloves", "GLV"),
        ],
        materials: &["Natural Rubber", "Stainless Steel", "Nylon", "Polyester", "Cork"],
        sizes: &["S", "M", "L", "One Size"],
        price: (10, 140),
        features: &[
            "Non-slip grip for training and yoga.",
            "Sweat-wicking and quick drying.",
            "Insulated to keep drinks cold for 24 hours.",
            "Built for the gym and the trail.",
        ],
    },
];

const ADJECTIVES: &[&str] = &[
    "Premium",
    "Classic",
    "Lightweight",
    "Vintage",
    "Essential",
    "Performance",
    "Everyday",
    "Rugged",
    "Slim",
    "Cozy",
    "Urban",
    "Heritage",
];
const COLORS: &[(&str, &str)] = &[
    ("black", "BLK"),
    ("white", "WHT"),
    ("navy", "NVY"),
    ("grey", "GRY"),
    ("red", "RED"),
    ("green", "GRN"),
    ("blue", "BLU"),
    ("beige", "BGE"),
    ("brown", "BRN"),
    ("olive", "OLV"),
    ("pink", "PNK"),
    ("yellow", "YLW"),
];

/// SplitMix64: tiny, well-mixed, and fixed forever (unlike a library RNG's default).
struct Rng(u64);

impl Rng {
    fn for_product(seed: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant for sample data).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[i.min(items.len() - 1)]
    }
    fn percent(&mut self) -> u64 {
        self.below(100)
    }
}

/// Product number `index` (1-based) of the catalog generated from `seed`.
pub fn product(seed: u64, index: u64) -> NewProduct {
    let mut rng = Rng::for_product(seed, index);
    let cat = rng.pick(CATEGORIES);
    let (item, item_code) = *rng.pick(cat.items);
    let material = *rng.pick(cat.materials);
    let (color, color_code) = *rng.pick(COLORS);
    let adjective = *rng.pick(ADJECTIVES);
    let size = *rng.pick(cat.sizes);
    let feature = *rng.pick(cat.features);
    let name = format!("{adjective} {material} {item} - {}", capitalize(color));
    let description = format!(
        "{adjective} {} made of {}, in {color}. {feature}",
        item.to_lowercase(),
        material.to_lowercase()
    );
    let (low, high) = cat.price;
    let units = low + i64::try_from(rng.below(u64::try_from(high - low).unwrap_or(1))).unwrap_or(0);
    // Shop prices end in .99, .49 or .00.
    let cents = units * 100 + [99, 49, 0][usize::try_from(rng.below(3)).unwrap_or(0)];
    let stock: i32 = if rng.percent() < 8 { 0 } else { 1 + i32::try_from(rng.below(500)).unwrap_or(0) };
    let reserved = if stock > 0 && rng.percent() < 20 {
        i32::try_from(rng.below(u64::try_from(stock.min(10)).unwrap_or(1) + 1)).unwrap_or(0)
    } else {
        0
    };
    let status = match rng.percent() {
        0..=2 => ProductStatus::Draft,
        3..=4 => ProductStatus::Discontinued,
        _ => ProductStatus::Active,
    };
    let sku = format!("{item_code}-{color_code}-{index:07}");
    let slug =
        format!("{}-{index}", Slug::from_name(&name).map(|s| s.as_str().to_owned()).unwrap_or_default());
    NewProduct {
        // Both are built from fixed ASCII parts above; the fallbacks only satisfy the types.
        sku: Sku::parse(&sku).unwrap_or_else(|_| fallback_sku(index)),
        slug: Slug::parse(&slug).unwrap_or_else(|_| fallback_slug(index)),
        name,
        description: Some(description),
        price: Money::new(cents, Currency::Usd),
        attributes: json!({"category": cat.name, "color": color, "size": size, "material": material.to_lowercase()}),
        stock_quantity: stock,
        reserved_quantity: reserved,
        status,
    }
}

fn fallback_sku(index: u64) -> Sku {
    Sku::parse(&format!("GEN-{index}")).unwrap_or_else(|_| unreachable!("digits make a SKU"))
}

fn fallback_slug(index: u64) -> Slug {
    Slug::parse(&format!("product-{index}"))
        .unwrap_or_else(|_| unreachable!("letters and digits make a slug"))
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_products_and_prefixes() {
        let a: Vec<_> = (1..=200).map(|i| product(7, i)).collect();
        let b: Vec<_> = (1..=200).map(|i| product(7, i)).collect();
        assert_eq!(a, b);
        let other: Vec<_> = (1..=200).map(|i| product(8, i)).collect();
        assert_ne!(a, other, "another seed, another catalog");
        let skus: std::collections::HashSet<_> = a.iter().map(|p| p.sku.clone()).collect();
        let slugs: std::collections::HashSet<_> = a.iter().map(|p| p.slug.clone()).collect();
        assert_eq!((skus.len(), slugs.len()), (200, 200), "unique keys");
    }

    #[test]
    fn products_are_plausible() {
        for i in 1..=2_000 {
            let p = product(42, i);
            assert!(p.price.cents() > 0);
            assert!(p.reserved_quantity >= 0 && p.reserved_quantity <= p.stock_quantity);
            assert!(p.attributes["category"].is_string() && p.attributes["size"].is_string());
            assert!(p.description.as_deref().unwrap().contains(p.attributes["color"].as_str().unwrap()));
        }
        // A fixed point: the generator's output must not drift between versions.
        let p = product(1, 1);
        assert_eq!(p.sku.as_str(), "RUN-BGE-0000001");
        assert_eq!(p.name, "Classic Leather Running Shoes - Beige");
        assert_eq!(p.slug.as_str(), "classic-leather-running-shoes-beige-1");
        assert_eq!((p.price.cents(), p.stock_quantity, p.reserved_quantity), (14749, 376, 10));
    }
}
