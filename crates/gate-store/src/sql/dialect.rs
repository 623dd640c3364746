//! What differs between the two databases, and the one way the store runs SQL on either.
//!
//! The store ([`super::SqlStore`]) is ordinary generic code over a [`Dialect`]: every query is
//! written once, with `$n` placeholders (PostgreSQL's; sqlx's SQLite driver reads `$n` as the
//! n-th argument too), and built as an [`Sql`]: its text and its arguments as [`Arg`]s. The
//! store only ever binds integers (times are milliseconds), text (ids, JSON) and booleans, so
//! an `Arg` is one of those three; binding them to a real sqlx query happens in one place,
//! [`Run`], which sqlx databases have through one blanket impl. That keeps sqlx's generic
//! bounds (`for<'c> &'c mut DB::Connection: Executor<'c>`, `Encode`/`Type` per bound type)
//! out of the store's code, where they would have to be repeated on every `impl` block.
//!
//! [`Dialect`] holds what truly differs: which [`Backend`] it is (which also picks the
//! migration folder), the placeholders of a statement built piece by piece (`?` or `$n`), the
//! rows a statement changed, and whether the database announces approval changes
//! (PostgreSQL's `LISTEN`). Connecting differs too (pool sizes, SQLite's pragmas and audit
//! spool, PostgreSQL's audit pool): see `SqliteStore::connect` and `PgStore::connect`.
//!
//! `sqlx::Any` was not used: each of its rows is converted into its own row type first (a
//! copy per row, on the audit path too), its `QueryBuilder` writes `?` placeholders for every
//! driver (PostgreSQL wants `$n`), and PostgreSQL's `LISTEN` and SQLite's connect options are
//! not reachable through it.

use std::borrow::Cow;
use std::fmt::Write as _;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use sqlx::migrate::Migrate;
use sqlx::{Executor as _, Pool, Postgres, Sqlite};

use super::rows::{Cell, RowExt};
use crate::error::Result;
use crate::ids::ApprovalId;
use crate::store::Backend;

/// One bound value: the three types the store binds.
#[derive(Debug)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
}

/// A type the store binds: which [`Arg`] holds it.
pub(crate) trait Value: Sized {
    const ARG: fn(Option<Self>) -> Arg;
}

impl Value for i64 {
    const ARG: fn(Option<i64>) -> Arg = Arg::Int;
}

impl Value for String {
    const ARG: fn(Option<String>) -> Arg = Arg::Text;
}

impl Value for bool {
    const ARG: fn(Option<bool>) -> Arg = Arg::Bool;
}

impl<T: Value> From<T> for Arg {
    fn from(v: T) -> Self {
        T::ARG(Some(v))
    }
}

impl<T: Value> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Self {
        T::ARG(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<Cell> for Arg {
    fn from(c: Cell) -> Self {
        match c {
            Cell::Int(v) => Arg::Int(v),
            Cell::Text(v) => Arg::Text(v),
        }
    }
}

/// A statement and its arguments: written with its `$n` placeholders and [`Sql::bind`], or
/// built piece by piece with [`Sql::push`] and [`Sql::push_bind`] (which numbers the
/// placeholder itself).
#[derive(Debug)]
pub(crate) struct Sql<'q> {
    text: Cow<'q, str>,
    args: Vec<Arg>,
    /// Where [`Sql::push_bind`] put a placeholder: the offset in `text` and the argument's
    /// number. The dialect writes it when the statement runs ([`Dialect::NUMBERED`]).
    marks: Vec<(usize, usize)>,
    persistent: bool,
}

/// A statement to run; see [`Sql`].
pub(crate) fn query<'q>(text: impl Into<Cow<'q, str>>) -> Sql<'q> {
    Sql {
        text: text.into(),
        args: Vec::new(),
        marks: Vec::new(),
        persistent: true,
    }
}

impl<'q> Sql<'q> {
    /// Binds the next `$n`.
    pub(crate) fn bind(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.to_mut().push_str(text);
        self
    }

    /// Appends the next placeholder and binds it (not to be mixed with [`Sql::bind`]'s
    /// hand-numbered `$n` in one statement).
    pub(crate) fn push_bind(&mut self, value: impl Into<Arg>) -> &mut Self {
        self.args.push(value.into());
        self.marks.push((self.text.len(), self.args.len()));
        self
    }

    /// Appends ` VALUES (…), (…)`, a tuple per row.
    pub(crate) fn push_values<R, A>(&mut self, rows: impl IntoIterator<Item = R>)
    where
        R: IntoIterator<Item = A>,
        A: Into<Arg>,
    {
        self.push(" VALUES ");
        for (i, row) in rows.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_tuple(row);
        }
    }

    /// Appends `($a, $b, …)` binding each value.
    pub(crate) fn push_tuple<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(v);
        }
        self.push(")");
    }

    /// Whether the driver keeps the statement prepared (the default): a text that changes
    /// with every call (a multi-row insert) should not be.
    pub(crate) fn persistent(mut self, yes: bool) -> Self {
        self.persistent = yes;
        self
    }

    /// Writes `D`'s placeholders where [`Sql::push_bind`] put one.
    fn render<D: Dialect>(&mut self) {
        if self.marks.is_empty() {
            return;
        }
        let mut text = String::with_capacity(self.text.len() + 6 * self.marks.len());
        let mut from = 0;
        for &(at, n) in &self.marks {
            text.push_str(&self.text[from..at]);
            if D::NUMBERED {
                // Writing to a `String` cannot fail.
                let _ = write!(text, "${n}");
            } else {
                text.push('?');
            }
            from = at;
        }
        text.push_str(&self.text[from..]);
        self.text = Cow::Owned(text);
        self.marks.clear();
    }

    /// Every row the statement returns.
    pub(crate) async fn fetch_all<D: Dialect>(mut self, pool: &Pool<D>) -> Rows<D> {
        self.render::<D>();
        D::fetch_all(pool, &mut self).await
    }

    /// The first row, if any (the statement runs to its end: an `UPDATE … RETURNING`
    /// updates every row it names).
    pub(crate) async fn fetch_optional<D: Dialect>(
        self,
        pool: &Pool<D>,
    ) -> Result<Option<D::Row>, sqlx::Error> {
        Ok(super::first(self.fetch_all(pool).await?))
    }

    /// The first row; none is [`sqlx::Error::RowNotFound`].
    pub(crate) async fn fetch_one<D: Dialect>(self, pool: &Pool<D>) -> Result<D::Row, sqlx::Error> {
        self.fetch_optional(pool)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }

    /// Every row the statement returns, decoded.
    pub(crate) async fn fetch_rows<D: Dialect, T>(
        self,
        pool: &Pool<D>,
        decode: impl Fn(&D::Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.fetch_all(pool).await?.iter().map(decode).collect()
    }

    /// The first row the statement returns (a lookup by a key, or a conditional update's
    /// `RETURNING`), decoded; none is `None`. The statement runs to its end.
    pub(crate) async fn fetch_first<D: Dialect, T>(
        self,
        pool: &Pool<D>,
        decode: impl Fn(&D::Row) -> Result<T>,
    ) -> Result<Option<T>> {
        self.fetch_optional(pool)
            .await?
            .map(|row| decode(&row))
            .transpose()
    }

    /// [`Sql::fetch_first`], where none is [`StoreError::NotFound`] of `what`.
    pub(crate) async fn fetch_found<D: Dialect, T>(
        self,
        pool: &Pool<D>,
        what: &'static str,
        decode: impl Fn(&D::Row) -> Result<T>,
    ) -> Result<T> {
        super::found(self.fetch_all(pool).await?, what, decode)
    }

    /// The count a `SELECT COUNT(*) AS n` returns.
    pub(crate) async fn fetch_count<D: Dialect>(self, pool: &Pool<D>) -> Result<u64> {
        let n = self.fetch_one(pool).await?.int("n")?;
        u64::try_from(n).map_err(|_| crate::error::StoreError::corrupt("negative count"))
    }

    /// Runs the statement; returns how many rows it changed.
    pub(crate) async fn execute<D: Dialect>(mut self, pool: &Pool<D>) -> Result<u64, sqlx::Error> {
        self.render::<D>();
        let done = D::execute(pool, &mut self).await?;
        Ok(D::rows_affected(&done))
    }
}

/// Runs statements in one transaction (a single statement without `BEGIN`/`COMMIT` round
/// trips) and returns the rows of each.
pub(crate) async fn batch<D: Dialect>(
    pool: &Pool<D>,
    mut statements: Vec<Sql<'_>>,
) -> Result<Vec<Vec<D::Row>>, sqlx::Error> {
    statements.iter_mut().for_each(Sql::render::<D>);
    D::batch(pool, statements).await
}

/// The rows of a statement.
type Rows<D> = Result<Vec<<D as sqlx::Database>::Row>, sqlx::Error>;

/// What a statement changed.
type Done<D> = Result<<D as sqlx::Database>::QueryResult, sqlx::Error>;

/// Running a statement (rendered: see [`Sql::render`]) on a pool: the one place that binds
/// [`Arg`]s to a sqlx query, for every sqlx database that can bind them (both of ours,
/// through the blanket impl below).
pub(crate) trait Run: sqlx::Database + sqlx::database::HasStatementCache {
    /// A sqlx query of the statement, with its arguments (taken from it) bound in order.
    fn prepare<'a>(s: &'a mut Sql<'_>) -> sqlx::query::Query<'a, Self, Self::Arguments<'a>>;

    fn fetch_all<'a>(pool: &'a Pool<Self>, s: &'a mut Sql<'_>) -> BoxFuture<'a, Rows<Self>>;

    fn execute<'a>(pool: &'a Pool<Self>, s: &'a mut Sql<'_>) -> BoxFuture<'a, Done<Self>>;

    /// See [`batch`].
    fn batch<'a>(
        pool: &'a Pool<Self>,
        all: Vec<Sql<'a>>,
    ) -> BoxFuture<'a, Result<Vec<Vec<Self::Row>>, sqlx::Error>>;
}

impl<D> Run for D
where
    D: sqlx::Database + sqlx::database::HasStatementCache,
    for<'c> &'c mut D::Connection: sqlx::Executor<'c, Database = D>,
    for<'q> D::Arguments<'q>: sqlx::IntoArguments<'q, D>,
    for<'q> Option<i64>: sqlx::Encode<'q, D> + sqlx::Type<D>,
    for<'q> Option<String>: sqlx::Encode<'q, D> + sqlx::Type<D>,
    for<'q> Option<bool>: sqlx::Encode<'q, D> + sqlx::Type<D>,
{
    fn prepare<'a>(s: &'a mut Sql<'_>) -> sqlx::query::Query<'a, Self, Self::Arguments<'a>> {
        let args = std::mem::take(&mut s.args);
        let q = sqlx::query(&s.text).persistent(s.persistent);
        args.into_iter().fold(q, |q, arg| match arg {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
        })
    }

    fn fetch_all<'a>(pool: &'a Pool<Self>, s: &'a mut Sql<'_>) -> BoxFuture<'a, Rows<Self>> {
        pool.fetch_all(Self::prepare(s))
    }

    fn execute<'a>(pool: &'a Pool<Self>, s: &'a mut Sql<'_>) -> BoxFuture<'a, Done<Self>> {
        pool.execute(Self::prepare(s))
    }

    fn batch<'a>(
        pool: &'a Pool<Self>,
        mut all: Vec<Sql<'a>>,
    ) -> BoxFuture<'a, Result<Vec<Vec<Self::Row>>, sqlx::Error>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(all.len());
            if let [one] = all.as_mut_slice() {
                out.push(pool.fetch_all(Self::prepare(one)).await?);
                return Ok(out);
            }
            if all.is_empty() {
                return Ok(out);
            }
            let mut tx = pool.begin().await?;
            for s in &mut all {
                out.push((&mut *tx).fetch_all(Self::prepare(s)).await?);
            }
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// What differs between SQLite and PostgreSQL, beside connecting.
pub(crate) trait Dialect: Run<Row: RowExt, Connection: Migrate> + Sync {
    /// Which backend this is.
    const BACKEND: Backend;

    /// Whether a built statement's placeholders are numbered (`$n`, PostgreSQL) or not (`?`,
    /// SQLite, which numbers them in order; a named `$n` would be looked up by name among
    /// the statement's others when it is parsed, a quadratic cost for an audit batch's
    /// 8,500).
    const NUMBERED: bool;

    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// Ids of approvals whose status changes from now on, when the database announces them
    /// (SQLite cannot announce changes to other processes).
    fn approval_changes(
        _pool: &Pool<Self>,
    ) -> BoxFuture<'_, Result<Option<BoxStream<'static, ApprovalId>>>> {
        Box::pin(std::future::ready(Ok(None)))
    }
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;
    const NUMBERED: bool = false;

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

/// The PostgreSQL channel announcing approval changes (migration 0007's trigger).
const APPROVAL_CHANNEL: &str = "notion_gate_approvals";

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;
    const NUMBERED: bool = true;

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }

    /// `LISTEN` on the channel migration 0007's trigger notifies with each changed approval's
    /// id. The stream ends at the first error of its connection (changes until the caller
    /// listens again are missed, which the waiters' occasional re-read covers).
    fn approval_changes(
        pool: &Pool<Self>,
    ) -> BoxFuture<'_, Result<Option<BoxStream<'static, ApprovalId>>>> {
        use futures::StreamExt as _;
        Box::pin(async move {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen(APPROVAL_CHANNEL).await?;
            let ids = listener.into_stream().filter_map(|n| {
                std::future::ready(match n {
                    Ok(n) => ApprovalId::parse_stored(n.payload()).ok(),
                    Err(e) => {
                        tracing::debug!(error = %e, "approval change listener: connection lost; reconnecting");
                        None
                    }
                })
            });
            Ok(Some(ids.boxed()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built() -> Sql<'static> {
        let mut q = query("SELECT 1 FROM t WHERE a = ");
        q.push_bind(1_i64).push(" AND b IN ");
        q.push_tuple(["x", "y"]);
        q.push_values([[Some(2_i64)], [None]]);
        q
    }

    fn rendered<D: Dialect>(mut q: Sql<'_>) -> (String, usize) {
        q.render::<D>();
        assert!(q.marks.is_empty());
        (q.text.into_owned(), q.args.len())
    }

    #[test]
    fn built_placeholders_follow_the_dialect() {
        assert_eq!(
            rendered::<Sqlite>(built()),
            (
                "SELECT 1 FROM t WHERE a = ? AND b IN (?, ?) VALUES (?), (?)".to_owned(),
                5
            )
        );
        assert_eq!(
            rendered::<Postgres>(built()),
            (
                "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3) VALUES ($4), ($5)".to_owned(),
                5
            )
        );
    }

    #[test]
    fn hand_numbered_text_is_left_alone() {
        let q = query("UPDATE t SET a = $2 WHERE id = $1")
            .bind("id")
            .bind(Some(true));
        assert_eq!(
            rendered::<Sqlite>(q),
            ("UPDATE t SET a = $2 WHERE id = $1".to_owned(), 2)
        );
    }
}
