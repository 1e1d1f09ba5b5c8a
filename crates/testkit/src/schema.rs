//! The schema check: a service's `schema.rs` (diesel `table!`) against what its migrations
//! create. Every table of the migrated schema must be declared, every declared column must
//! exist with the declared type family and nullability, and no column may be left undeclared.
//!
//! ```ignore
//! let db = TestDb::new("catalog", catalog::MIGRATIONS).await;
//! SchemaCheck::new()
//!     .table::<schema::products::table>("products")
//!     .table::<schema::outbox::table>("outbox")
//!     .assert_matches(&db)
//!     .await;
//! ```

use std::collections::{BTreeMap, BTreeSet};

use diesel::sql_types::{
    Array, BigInt, Bool, Bytea, Date, Double, Integer, Interval, Json, Jsonb, Nullable, Numeric, SmallInt,
    Text, Timestamp, Timestamptz, Uuid,
};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;

use crate::TestDb;

/// What PostgreSQL may call a diesel SQL type (`information_schema.columns.udt_name`).
///
/// Diesel has one type for `text`, `varchar` and `char(n)` (`Varchar` and `Bpchar` are aliases
/// of `Text`), so those three are one family: the check cannot tell them apart, and diesel does
/// not need it to. A column of a type not listed here does not compile: add the type.
pub trait PgTypeName {
    /// Accepted `udt_name`s.
    const UDT_NAMES: &'static [&'static str];
    /// Whether the declaration allows NULL.
    const NULLABLE: bool = false;
}

macro_rules! pg_type_names {
    ($($ty:ty => [$($name:literal),+];)+) => {
        $(impl PgTypeName for $ty { const UDT_NAMES: &'static [&'static str] = &[$($name),+]; })+
    };
}

pg_type_names! {
    SmallInt => ["int2"];
    Integer => ["int4"];
    BigInt => ["int8"];
    Double => ["float8"];
    Numeric => ["numeric"];
    Bool => ["bool"];
    Bytea => ["bytea"];
    Text => ["text", "varchar", "bpchar"];
    Json => ["json"];
    Jsonb => ["jsonb"];
    Uuid => ["uuid"];
    Date => ["date"];
    Timestamp => ["timestamp"];
    Timestamptz => ["timestamptz"];
    Interval => ["interval"];
    Array<Text> => ["_text", "_varchar", "_bpchar"];
    Array<BigInt> => ["_int8"];
    Array<Integer> => ["_int4"];
    Array<Uuid> => ["_uuid"];
}

impl<T: PgTypeName + diesel::sql_types::SqlType> PgTypeName for Nullable<T> {
    const UDT_NAMES: &'static [&'static str] = T::UDT_NAMES;
    const NULLABLE: bool = true;
}

/// One column as `schema.rs` declares it.
#[derive(Debug, Clone)]
pub struct DeclaredColumn {
    /// Column name.
    pub name: &'static str,
    /// Accepted `udt_name`s.
    pub udt_names: &'static [&'static str],
    /// Declared `Nullable<_>`.
    pub nullable: bool,
}

/// A table's `AllColumns` tuple, listed.
pub trait DeclaredColumns {
    /// The columns in declaration order.
    fn declared() -> Vec<DeclaredColumn>;
}

macro_rules! declared_columns_for_tuples {
    ($first:ident $(, $rest:ident)*) => {
        impl<$first $(, $rest)*> DeclaredColumns for ($first, $($rest,)*)
        where
            $first: diesel::Column, <$first as diesel::Expression>::SqlType: PgTypeName,
            $($rest: diesel::Column, <$rest as diesel::Expression>::SqlType: PgTypeName,)*
        {
            fn declared() -> Vec<DeclaredColumn> {
                vec![
                    column::<$first>(),
                    $(column::<$rest>(),)*
                ]
            }
        }
        declared_columns_for_tuples!($($rest),*);
    };
    () => {};
}

declared_columns_for_tuples!(
    C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, C18, C19, C20, C21, C22, C23,
    C24, C25, C26, C27, C28, C29, C30, C31, C32
);

fn column<C>() -> DeclaredColumn
where
    C: diesel::Column,
    <C as diesel::Expression>::SqlType: PgTypeName,
{
    DeclaredColumn {
        name: C::NAME,
        udt_names: <<C as diesel::Expression>::SqlType as PgTypeName>::UDT_NAMES,
        nullable: <<C as diesel::Expression>::SqlType as PgTypeName>::NULLABLE,
    }
}

#[derive(QueryableByName)]
struct ActualColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// The declared tables, checked against a migrated database.
#[derive(Debug, Default)]
pub struct SchemaCheck {
    tables: BTreeMap<&'static str, Vec<DeclaredColumn>>,
}

impl SchemaCheck {
    /// An empty check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `T` (a `table!`'s `table` type) under its SQL name.
    #[must_use]
    pub fn table<T>(mut self, name: &'static str) -> Self
    where
        T: diesel::Table,
        T::AllColumns: DeclaredColumns,
    {
        self.tables.insert(name, T::AllColumns::declared());
        self
    }

    /// Every difference between the declarations and the database's current schema, one line
    /// each; empty when they agree.
    pub async fn differences(&self, db: &TestDb) -> Vec<String> {
        let mut conn = db.conn().await;
        let rows: Vec<ActualColumn> = sql_query(
            "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                    c.udt_name::text AS udt_name, (c.is_nullable = 'YES') AS nullable
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
               AND c.table_name <> '__diesel_schema_migrations'
             ORDER BY c.table_name, c.ordinal_position",
        )
        .load(&mut conn)
        .await
        .expect("read information_schema.columns");
        let mut actual: BTreeMap<String, BTreeMap<String, ActualColumn>> = BTreeMap::new();
        for row in rows {
            actual.entry(row.table_name.clone()).or_default().insert(row.column_name.clone(), row);
        }
        let mut out = Vec::new();
        for (table, columns) in &actual {
            let Some(declared) = self.tables.get(table.as_str()) else {
                out.push(format!("table {table}: created by the migrations but not declared in schema.rs"));
                continue;
            };
            let names: BTreeSet<&str> = declared.iter().map(|c| c.name).collect();
            for column in columns.keys().filter(|c| !names.contains(c.as_str())) {
                out.push(format!("{table}.{column}: in the database but not declared"));
            }
        }
        for (table, declared) in &self.tables {
            let Some(columns) = actual.get(*table) else {
                out.push(format!("table {table}: declared in schema.rs but not created by the migrations"));
                continue;
            };
            for d in declared {
                let Some(a) = columns.get(d.name) else {
                    out.push(format!("{table}.{}: declared but not in the database", d.name));
                    continue;
                };
                if !d.udt_names.contains(&a.udt_name.as_str()) {
                    out.push(format!(
                        "{table}.{}: the database has {}, schema.rs declares one of {:?}",
                        d.name, a.udt_name, d.udt_names
                    ));
                }
                if d.nullable != a.nullable {
                    let says = |n: bool| if n { "nullable" } else { "NOT NULL" };
                    out.push(format!(
                        "{table}.{}: the database has {}, schema.rs declares {}",
                        d.name,
                        says(a.nullable),
                        says(d.nullable)
                    ));
                }
            }
        }
        out
    }

    /// Panics with every difference, if there is any.
    pub async fn assert_matches(&self, db: &TestDb) {
        let differences = self.differences(db).await;
        assert!(
            differences.is_empty(),
            "schema.rs and the migrations disagree:\n  {}",
            differences.join("\n  ")
        );
    }
}
