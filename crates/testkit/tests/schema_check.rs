//! The schema check passes on a faithful `table!` and names every kind of drift.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use testkit::{SchemaCheck, TestDb};

const MIGRATIONS: diesel_migrations::EmbeddedMigrations =
    diesel_migrations::embed_migrations!("tests/migrations");

mod faithful {
    diesel::table! {
        gadgets (id) {
            id -> Int8,
            name -> Varchar,
            note -> Nullable<Text>,
            tags -> Array<Text>,
            created_at -> Timestamptz,
        }
    }
    diesel::table! {
        undeclared (id) {
            id -> Int4,
        }
    }
}

mod drifted {
    diesel::table! {
        gadgets (id) {
            id -> Int4,
            name -> Nullable<Varchar>,
            note -> Nullable<Text>,
            colour -> Text,
            created_at -> Timestamptz,
        }
    }
    diesel::table! {
        gone (id) {
            id -> Int8,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_faithful_schema_passes() {
    let db = TestDb::new("gadgets", MIGRATIONS).await;
    SchemaCheck::new()
        .table::<faithful::gadgets::table>("gadgets")
        .table::<faithful::undeclared::table>("undeclared")
        .assert_matches(&db)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_drift_is_named() {
    let db = TestDb::new("gadgets", MIGRATIONS).await;
    let differences = SchemaCheck::new()
        .table::<drifted::gadgets::table>("gadgets")
        .table::<drifted::gone::table>("gone")
        .differences(&db)
        .await;
    let text = differences.join("\n");
    for expected in [
        "gadgets.id: the database has int8",
        "gadgets.name: the database has NOT NULL, schema.rs declares nullable",
        "gadgets.colour: declared but not in the database",
        "gadgets.tags: in the database but not declared",
        "table gone: declared in schema.rs but not created by the migrations",
        "table undeclared: created by the migrations but not declared in schema.rs",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
    }
    assert_eq!(differences.len(), 6, "{text}");
    let panicked = tokio::spawn(async move {
        SchemaCheck::new().table::<drifted::gadgets::table>("gadgets").assert_matches(&db).await;
    })
    .await;
    assert!(panicked.is_err(), "assert_matches panics on drift");
}
