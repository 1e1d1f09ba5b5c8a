//! What diesel's DSL has no name for, declared once so that statements stay in the DSL
//! (prepared once per connection, checked against `schema.rs`; docs/adr/0005): the database's
//! clock as `timestamptz` (`now() ± interval`) and the few SQL functions the services call.

use diesel::IntoSql;
use diesel::dsl::{AsExprOf, now};
use diesel::pg::Pg;
use diesel::pg::data_types::PgInterval;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Timestamptz};

/// `now()`: the transaction's start on the database's clock, typed `timestamptz`.
pub type DbNow = AsExprOf<now, Timestamptz>;
/// `now() + interval`.
pub type DbNowPlus = diesel::dsl::Add<DbNow, PgInterval>;
/// `now() - interval`.
pub type DbNowMinus = diesel::dsl::Sub<DbNow, PgInterval>;

/// `now()` as a `timestamptz` expression (diesel's `now` is a `timestamp` by default).
pub fn db_now() -> DbNow {
    now.into_sql::<Timestamptz>()
}

/// `now() + interval`, computed by the database (the interval is bound).
pub fn now_plus(interval: PgInterval) -> DbNowPlus {
    db_now() + interval
}

/// `now() - interval`, computed by the database (the interval is bound).
pub fn now_minus(interval: PgInterval) -> DbNowMinus {
    db_now() - interval
}

/// `make_interval(secs => s)`: an interval of `s` seconds, to the microsecond.
pub fn secs(s: f64) -> PgInterval {
    // Saturating float→int: a lease or back-off never comes near the bound.
    #[allow(clippy::cast_possible_truncation)]
    PgInterval::from_microseconds((s * 1_000_000.0).round() as i64)
}

/// `make_interval(mins => m)` of a `ttl_minutes`, saturated at `i32::MAX` minutes.
pub fn mins(m: i64) -> PgInterval {
    let m = i64::from(i32::try_from(m).unwrap_or(i32::MAX));
    PgInterval::from_microseconds(m * 60_000_000)
}

/// `d` as an interval, to the microsecond (saturated).
pub fn duration(d: std::time::Duration) -> PgInterval {
    PgInterval::from_microseconds(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A hand-written statement that diesel prepares once per connection and reuses, as it does
/// a DSL statement ([`prepared`]).
#[derive(Debug, Clone)]
pub struct Prepared<Q>(Q);

/// Marks a `sql_query` as safe to prepare once per connection: its text is a constant (no
/// input in it) and every value is bound. diesel never caches a `sql_query` (the text could
/// be built from input), so each call is parsed and planned again: measured at 0.4 ms per
/// reservation (docs/performance.md). Not for a statement whose best plan depends on the bound
/// values: after five runs PostgreSQL may settle on one generic plan for all of them.
pub fn prepared<Q>(query: Q) -> Prepared<Q> {
    Prepared(query)
}

/// `.prepared()` on a DSL statement diesel would not cache: every `UPDATE` (diesel cannot know
/// that a changeset's SQL is the same each time, so it parses and plans each call again) and
/// inserts of optional columns. The text diesel writes for it binds every value, so it is safe
/// to key by its text ([`prepared`]).
pub trait PrepareOnce: Sized {
    /// This statement, prepared once per connection.
    fn prepared(self) -> Prepared<Self> {
        Prepared(self)
    }
}

impl<Q: QueryFragment<Pg>> PrepareOnce for Q {}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    // No static id: the cache keys the statement by its text and bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

/// A text constant of the code written into the statement instead of bound (`'active'`), so a
/// generic plan still matches a partial index whose predicate names it (`WHERE status =
/// 'active'`): with `$1` the planner cannot prove the predicate without the value.
#[derive(Debug, Clone, Copy)]
pub struct TextConst(&'static str);

/// `'value'` in the statement's text. The value is the code's own constant, never input.
#[must_use]
pub const fn text_const(value: &'static str) -> TextConst {
    TextConst(value)
}

impl diesel::Expression for TextConst {
    type SqlType = diesel::sql_types::Text;
}

impl<QS> diesel::AppearsOnTable<QS> for TextConst {}

impl<QS> diesel::SelectableExpression<QS> for TextConst {}

impl<GB> diesel::expression::ValidGrouping<GB> for TextConst {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for TextConst {
    type QueryId = ();
    // Keyed by the statement's text: two constants must not share a cached statement.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for TextConst {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        if self.0.contains(['\'', '\\']) {
            return Err(diesel::result::Error::QueryBuilderError(
                format!("text constant {:?} needs quoting", self.0).into(),
            ));
        }
        out.push_sql("'");
        out.push_sql(self.0);
        out.push_sql("'");
        Ok(())
    }
}

diesel::define_sql_function! {
    /// `coalesce(a, b)`: `a` unless it is NULL.
    fn coalesce<T: diesel::sql_types::SqlType + diesel::sql_types::SingleValue>(a: T, b: T) -> T;
}

diesel::define_sql_function! {
    /// `greatest(a, b)` of two integers.
    fn greatest(a: Integer, b: Integer) -> Integer;
}

diesel::define_sql_function! {
    /// `lower(s)`.
    fn lower(s: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// `clock_timestamp()`: the wall clock now (not the transaction's start).
    fn clock_timestamp() -> Timestamptz;
}

diesel::define_sql_function! {
    /// `nextval(sequence)`: draws the sequence's next value (the name is resolved on the
    /// connection's `search_path`, as a literal would be).
    fn nextval(sequence: diesel::sql_types::Text) -> diesel::sql_types::BigInt;
}

/// `SELECT 1`: whether the connection answers.
pub async fn ping(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<()> {
    use diesel_async::RunQueryDsl;
    diesel::select(1.into_sql::<Integer>()).execute(conn).await.map(drop)
}
