//! `catalog seed --count` and `catalog import` against a real PostgreSQL: line-numbered
//! rejections, summaries, exit codes, `--strict`, upserts that update instead of duplicating,
//! and a generator that gives the same catalog for the same seed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::{Command, Output};

use catalog::bulk::import::{self, ImportOptions, Rejection};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use domain::money::Currency;
use testkit::TestDb;

#[derive(QueryableByName, Debug, PartialEq)]
struct Product {
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    description: Option<String>,
    #[diesel(sql_type = Text)]
    slug: String,
    #[diesel(sql_type = BigInt)]
    price_cents: i64,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = Text)]
    attributes: String,
    #[diesel(sql_type = Integer)]
    stock_quantity: i32,
    #[diesel(sql_type = Integer)]
    reserved_quantity: i32,
    #[diesel(sql_type = Text)]
    status: String,
}

async fn products(db: &TestDb) -> Vec<Product> {
    let mut conn = db.conn().await;
    sql_query(
        "SELECT sku, name, description, slug, price_cents, currency::text AS currency, attributes::text AS attributes,
                stock_quantity, reserved_quantity, status FROM products ORDER BY sku",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

async fn db() -> TestDb {
    TestDb::new("catalog", catalog::MIGRATIONS).await
}

fn catalog_bin(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_catalog"));
    cmd.env_clear().env("DATABASE_URL", db.url()).env("RUST_LOG", "warn");
    cmd
}

/// A JSON Lines file for one test, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(lines: &[&str]) -> Self {
        let path =
            std::env::temp_dir().join(format!("catalog-import-{}.jsonl", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

const GOOD_1: &str = r#"{"sku":"TSHIRT-BLK-M","name":"Premium Cotton T-Shirt - Black","description":"Soft cotton.","slug":"premium-cotton-tshirt-black","price_cents":2999,"currency":"USD","attributes":{"category":"clothing","color":"black"},"stock_quantity":150,"reserved_quantity":5,"status":"active"}"#;
const BAD_PRICE: &str = r#"{"sku":"FREE-1","name":"Free Thing","price_cents":0}"#;
const GOOD_2: &str =
    r#"{"sku":"JEANS-DNM-32","name":"Classic Denim Jeans","price":"79.99","stock_quantity":85}"#;
const NOT_JSON: &str = r#"{"sku":"BROKEN", "name": "#;
const BAD_RESERVED: &str = r#"{"sku":"MUG-1","name":"Mug","price_cents":900,"stock_quantity":1,"reserved_quantity":2,"currency":"JPY"}"#;
const GOOD_3: &str = r#"{"sku":"SNKR-RUN-10","name":"Performance Running Shoes","price_cents":12999,"currency":"EUR","stock_quantity":42,"status":"draft"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_bad_lines_by_number_and_loads_the_rest() {
    let db = db().await;
    let file = TempFile::new(&[GOOD_1, BAD_PRICE, GOOD_2, "", NOT_JSON, BAD_RESERVED, GOOD_3]);
    let out = catalog_bin(&db).arg("import").arg(&file.0).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "rejected lines give exit code 3\n{stdout}\n{stderr}");
    assert!(stderr.contains("line 2: The price cents field must be greater than 0."), "{stderr}");
    assert!(stderr.contains("line 5: not valid JSON"), "{stderr}");
    assert!(stderr.contains("line 6: The selected currency is invalid (USD, EUR, GBP or CAD)."), "{stderr}");
    assert!(
        stderr.contains("line 6:")
            && stderr.contains("The reserved quantity field must not be greater than the stock quantity.")
    );
    assert!(
        stdout.contains("imported 6 line(s)")
            && stdout.contains("3 inserted, 0 updated, 0 unchanged, 3 rejected"),
        "{stdout}"
    );

    let rows = products(&db).await;
    assert_eq!(
        rows.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(),
        ["JEANS-DNM-32", "SNKR-RUN-10", "TSHIRT-BLK-M"]
    );
    let jeans = &rows[0];
    assert_eq!(
        (jeans.price_cents, jeans.currency.as_str()),
        (7999, "USD"),
        "price parsed exactly, default currency"
    );
    assert_eq!(jeans.slug, "classic-denim-jeans", "slug made from the name");
    assert_eq!(
        (jeans.status.as_str(), jeans.attributes.as_str(), jeans.description.as_deref()),
        ("active", "{}", None)
    );
    assert_eq!((rows[1].currency.as_str(), rows[1].status.as_str()), ("EUR", "draft"));
    let shirt = &rows[2];
    assert_eq!((shirt.stock_quantity, shirt.reserved_quantity, shirt.price_cents), (150, 5, 2999));
    assert_eq!(shirt.attributes, r#"{"color": "black", "category": "clothing"}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_import_stops_at_the_first_bad_line_and_keeps_nothing() {
    let db = db().await;
    // Small batches: the good line before the bad one was already written when it is found.
    let file = TempFile::new(&[GOOD_1, GOOD_2, BAD_PRICE, GOOD_3]);
    let out =
        catalog_bin(&db).args(["import", "--strict", "--batch-size", "1"]).arg(&file.0).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("line 3: The price cents field must be greater than 0. (--strict: nothing imported)"),
        "{stderr}"
    );
    assert!(products(&db).await.is_empty(), "one transaction: nothing kept");

    let file = TempFile::new(&[GOOD_1, GOOD_2]);
    let out = catalog_bin(&db).args(["import", "--strict"]).arg(&file.0).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert_eq!(products(&db).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reimport_updates_instead_of_duplicating() {
    let db = db().await;
    let mut conn = db.conn().await;
    // Two writers: the parallel path.
    let writers = async || vec![db.conn().await, db.conn().await];
    let mut rejected = Vec::new();
    let mut report = |r: &Rejection| rejected.push(r.clone());
    let first = [GOOD_1, GOOD_2].join("\n");
    let summary = import::import(
        writers().await,
        first.as_bytes(),
        None,
        ImportOptions::new(Currency::Usd),
        &mut report,
    )
    .await
    .unwrap();
    assert_eq!((summary.counts.inserted, summary.counts.updated, summary.rejected), (2, 0, 0));

    // Live reservations own reserved_quantity: an import does not overwrite it on existing rows.
    sql_query("UPDATE products SET reserved_quantity = 7 WHERE sku = 'TSHIRT-BLK-M'")
        .execute(&mut conn)
        .await
        .unwrap();
    let changed =
        GOOD_1.replace("2999", "3499").replace(r#""stock_quantity":150"#, r#""stock_quantity":160"#);
    let second = [changed.as_str(), GOOD_2, GOOD_3].join("\n");
    let summary = import::import(
        writers().await,
        second.as_bytes(),
        None,
        ImportOptions::new(Currency::Usd),
        &mut report,
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.counts.inserted, summary.counts.updated, summary.counts.unchanged, summary.rejected),
        (1, 1, 1, 0)
    );
    let rows = products(&db).await;
    assert_eq!(rows.len(), 3, "no duplicates");
    let shirt = rows.iter().find(|p| p.sku == "TSHIRT-BLK-M").unwrap();
    assert_eq!((shirt.price_cents, shirt.stock_quantity, shirt.reserved_quantity), (3499, 160, 7));
    assert!(rejected.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slug_clashes_and_repeated_skus_are_pinned_to_their_line() {
    let db = db().await;
    let mut conn = db.conn().await;
    sql_query(
        "INSERT INTO products (sku, name, slug, price_cents) VALUES ('OLD-1', 'Green Mug', 'green-mug', 500)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    // Line 2 takes line 1's slug under another SKU (found while reading, whichever writer
    // would get there first); line 3 takes a slug an existing product holds (the database
    // refuses the batch, then each row is tried alone); line 5 repeats line 4's SKU: the later
    // line wins, as line by line.
    let mut lines = vec![
        r#"{"sku":"A-1","name":"Red Mug","price_cents":900}"#.to_owned(),
        r#"{"sku":"B-2","name":"Red Mug","price_cents":950}"#.to_owned(),
        r#"{"sku":"G-9","name":"Green Mug","price_cents":990}"#.to_owned(),
        r#"{"sku":"C-3","name":"Blue Mug","price_cents":1000,"stock_quantity":1}"#.to_owned(),
        r#"{"sku":"C-3","name":"Blue Mug","price_cents":1100,"stock_quantity":4}"#.to_owned(),
    ];
    // Enough other SKUs that both writers get several batches of 2.
    lines.extend((0..40).map(|i| format!(r#"{{"sku":"X-{i}","name":"Mug {i}","price_cents":100}}"#)));
    let mut rejected = Vec::new();
    let mut report = |r: &Rejection| rejected.push(r.clone());
    let options = ImportOptions { batch_size: 2, ..ImportOptions::new(Currency::Usd) };
    let writers = vec![db.conn().await, db.conn().await];
    let summary =
        import::import(writers, lines.join("\n").as_bytes(), None, options, &mut report).await.unwrap();
    rejected.sort_by_key(|r| r.line);
    assert_eq!(
        rejected,
        [
            Rejection { line: 2, reason: "slug: already used by line 1 (another SKU)".to_owned() },
            Rejection { line: 3, reason: "slug: already used by another product".to_owned() },
        ]
    );
    assert_eq!((summary.counts.inserted, summary.counts.updated, summary.rejected), (42, 1, 2));
    let rows = products(&db).await;
    assert_eq!(rows.len(), 43);
    let c3 = rows.iter().find(|p| p.sku == "C-3").unwrap();
    assert_eq!((c3.price_cents, c3.stock_quantity), (1100, 4));
    assert!(!rows.iter().any(|p| p.sku == "B-2" || p.sku == "G-9"));
}

#[derive(QueryableByName)]
struct Settled {
    #[diesel(sql_type = BigInt)]
    word_deltas: i64,
    #[diesel(sql_type = BigInt)]
    count_deltas: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    vacuumed: bool,
}

/// Delta rows left, and whether the word deltas' table has been vacuumed.
async fn settled(db: &TestDb) -> (i64, i64, bool) {
    let s: Settled = sql_query(
        "SELECT (SELECT count(*) FROM search_word_deltas) AS word_deltas,
                (SELECT count(*) FROM listing_count_deltas) AS count_deltas,
                (SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables
                 WHERE schemaname = 'catalog' AND relname = 'search_word_deltas') AS vacuumed",
    )
    .get_result(&mut db.conn().await)
    .await
    .unwrap();
    (s.word_deltas, s.count_deltas, s.vacuumed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_gives_the_same_catalog_for_the_same_seed() {
    let (a, b) = (db().await, db().await);
    for db in [&a, &b] {
        let out = catalog_bin(db).args(["seed", "--count", "300", "--seed", "9"]).output().unwrap();
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains("seeded 300 generated product(s) with seed 9: 300 inserted"), "{stdout}");
        // The load's count deltas are folded and the count tables vacuumed before it returns.
        assert!(stderr.contains("count delta(s) and vacuumed"), "{stderr}");
        assert_eq!(settled(db).await, (0, 0, true));
    }
    let rows = products(&a).await;
    assert_eq!(rows, products(&b).await, "same seed, same products");
    assert_eq!(rows.len(), 300);
    assert!(rows.iter().all(|p| p.reserved_quantity <= p.stock_quantity && p.price_cents > 0));
    let categories: std::collections::HashSet<_> = rows
        .iter()
        .map(|p| serde_json::from_str::<serde_json::Value>(&p.attributes).unwrap()["category"].clone())
        .collect();
    assert!(categories.len() >= 5, "varied categories: {categories:?}");
    assert!(rows.iter().any(|p| p.description.as_deref().is_some_and(|d| d.contains("running"))));

    // Again: an idempotent upsert that rewrites nothing; a larger count extends the same catalog.
    let out = catalog_bin(&a).args(["seed", "--count", "350", "--seed", "9"]).output().unwrap();
    assert!(text(&out).0.contains("50 inserted, 0 updated, 300 unchanged"), "{:?}", text(&out));
    let more = products(&a).await;
    assert!(rows.iter().all(|p| more.contains(p)));

    let out = catalog_bin(&b).args(["seed", "--count", "300", "--seed", "10"]).output().unwrap();
    assert!(out.status.success());
    assert_ne!(products(&b).await[..300], rows[..], "another seed, another catalog");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_and_importing_the_seeds_jsonl_give_the_same_catalog() {
    let (seeded, imported) = (db().await, db().await);
    let out = catalog_bin(&seeded).args(["seed", "--count", "500", "--seed", "4"]).output().unwrap();
    assert!(out.status.success(), "{:?}", text(&out));
    let out =
        catalog_bin(&seeded).args(["seed", "--count", "500", "--seed", "4", "--jsonl"]).output().unwrap();
    assert!(out.status.success());
    let jsonl = String::from_utf8(out.stdout).unwrap();
    assert_eq!(jsonl.lines().count(), 500);
    let file = TempFile::new(&jsonl.lines().collect::<Vec<_>>());
    // Small batches over the default two connections: the parallel writers.
    let out = catalog_bin(&imported).args(["import", "--batch-size", "64"]).arg(&file.0).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("500 inserted, 0 updated, 0 unchanged, 0 rejected"), "{stdout}");
    assert_eq!(products(&seeded).await, products(&imported).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reads_standard_input_and_names_a_missing_file() {
    use std::io::Write;
    use std::process::Stdio;

    let db = db().await;
    let mut child = catalog_bin(&db)
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all([GOOD_1, GOOD_2].join("\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    assert!(text(&out).0.contains("2 inserted, 0 updated, 0 unchanged, 0 rejected"));
    assert_eq!(products(&db).await.len(), 2);

    let out = catalog_bin(&db).args(["import", "/nonexistent/products.jsonl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("cannot open /nonexistent/products.jsonl"), "{:?}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_gin_indexes_are_rebuilt_as_they_were() {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Index {
        #[diesel(sql_type = Text)]
        indexdef: String,
    }
    async fn gin_indexes(db: &TestDb) -> Vec<Index> {
        let mut conn = db.conn().await;
        sql_query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'products' AND indexdef LIKE '% USING gin %' \
             ORDER BY indexname",
        )
        .load(&mut conn)
        .await
        .unwrap()
    }
    let db = db().await;
    let before = gin_indexes(&db).await;
    assert!(!before.is_empty(), "the attributes index at least");
    let out = catalog_bin(&db)
        .args(["seed", "--count", "300", "--seed", "5", "--defer-gin-indexes"])
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("300 inserted") && stderr.contains("if the load is interrupted, run: CREATE INDEX")
    );
    assert!(stderr.contains(&format!("rebuilt {} GIN index(es)", before.len())), "{stderr}");
    assert_eq!(gin_indexes(&db).await, before);

    let file = TempFile::new(&[GOOD_1, BAD_PRICE]);
    let out = catalog_bin(&db).args(["import", "--defer-gin-indexes"]).arg(&file.0).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{:?}", text(&out));
    assert_eq!(gin_indexes(&db).await, before, "rebuilt after an import with rejected lines too");
}
