//! A fresh PostgreSQL database per test, cloned from a migrated template.
//!
//! The template is built once per distinct set of migrations (its name carries a hash
//! of their SQL), under an advisory lock, so parallel test processes share it safely.
//! Cloning a template is much faster than migrating each test database.
//!
//! The hash is read from the migration files on disk while the SQL that runs is the SQL
//! embedded in the test binary: both agree whenever cargo has rebuilt the tests. A test binary
//! run by hand after editing a migration, without rebuilding, could build a template from the
//! old SQL under the new name; `make clean-test-dbs` removes every test database and template.

use std::path::PathBuf;

use diesel::migration::MigrationSource;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::EmbeddedMigrations;
use platform::db::{self, PgPool, PoolOptions};
use sha2::{Digest, Sha256};

/// Server-level URL used to create and drop databases (`TEST_DATABASE_URL` overrides).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn url_for(database: &str) -> String {
    let admin = admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{database}")
}

/// A database that exists for one test and is dropped with this value.
pub struct TestDb {
    name: String,
    url: String,
    schema: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl TestDb {
    /// Clones a database migrated with `migrations` into schema `schema`.
    pub async fn new(schema: &str, migrations: EmbeddedMigrations) -> TestDb {
        let template = ensure_template(schema, migrations).await;
        let name = format!("tk_{}", uuid::Uuid::new_v4().simple());
        let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect("connect to PostgreSQL");
        let mut attempt = 0;
        loop {
            let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
            match admin.batch_execute(&sql).await {
                Ok(()) => break,
                // Another process may be touching the template for a moment.
                Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        let url = url_for(&name);
        TestDb { name, url, schema: schema.to_owned() }
    }

    /// Connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A pool on this database in the service's schema (async for symmetry with `conn`).
    #[allow(clippy::unused_async)]
    pub async fn pool(&self) -> PgPool {
        db::pool(&self.url, &self.schema, PoolOptions { max_size: 8, ..PoolOptions::default() })
            .expect("pool")
    }

    /// One connection on this database in the service's schema.
    pub async fn conn(&self) -> AsyncPgConnection {
        db::connect(&self.url, &self.schema).await.expect("connect test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async context; use a private runtime on a plain thread.
        let joined = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let mut admin = AsyncPgConnection::establish(&admin_url()).await.ok()?;
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok()
            })
        })
        .join();
        drop(joined);
    }
}

/// Folders holding migration folders: every service's (`migrations/<service>`) and the test
/// crate's own `tests/migrations` (platform's tests), read at run time.
fn migration_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    // cargo and nextest set CARGO_MANIFEST_DIR for the test process too.
    if let Ok(crate_dir) = std::env::var("CARGO_MANIFEST_DIR") {
        dirs.push(PathBuf::from(crate_dir).join("tests/migrations"));
    }
    dirs
}

/// Hash of the schema name and every migration's SQL, so an edited migration makes a new template.
fn fingerprint(schema: &str, migrations: &EmbeddedMigrations) -> String {
    let mut hasher = Sha256::new();
    hasher.update(schema.as_bytes());
    let list = MigrationSource::<diesel::pg::Pg>::migrations(migrations).expect("list migrations");
    let dirs = migration_dirs();
    for m in &list {
        let name = m.name().to_string();
        hasher.update(name.as_bytes());
        for dir in &dirs {
            if let Ok(sql) = std::fs::read(dir.join(&name).join("up.sql")) {
                hasher.update(&sql);
            }
        }
    }
    let digest = hasher.finalize();
    domain::hex::encode(&digest[..8])
}

async fn exists(admin: &mut AsyncPgConnection, name: String) -> bool {
    sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Count>(admin)
        .await
        .expect("query pg_database")
        .n
        > 0
}

async fn ensure_template(schema: &str, migrations: EmbeddedMigrations) -> String {
    let template = format!("tktpl_{schema}_{}", fingerprint(schema, &migrations));
    let mut admin = AsyncPgConnection::establish(&admin_url()).await.expect("connect to PostgreSQL");
    if exists(&mut admin, template.clone()).await {
        return template;
    }
    // Serialise template builds across test processes.
    admin.batch_execute("SELECT pg_advisory_lock(726354)").await.expect("advisory lock");
    if !exists(&mut admin, template.clone()).await {
        let building = format!("{template}_build");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"))
            .await
            .expect("drop stale template build");
        admin.batch_execute(&format!("CREATE DATABASE \"{building}\"")).await.expect("create template");
        db::migrate(&url_for(&building), schema, migrations).await.expect("migrate template");
        // Renaming makes the finished template visible atomically.
        admin
            .batch_execute(&format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""))
            .await
            .expect("publish template");
    }
    admin.batch_execute("SELECT pg_advisory_unlock(726354)").await.expect("advisory unlock");
    template
}
