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
//! [`Dialect`] holds what truly differs: which [`Backend`] it is, the rows a statement
//! changed, the migrations, and whether the database announces approval changes (PostgreSQL's
//! `LISTEN`). Connecting differs too (pool sizes, SQLite's pragmas and audit spool,
//! PostgreSQL's audit pool): see `SqlStore::<Sqlite>::connect` and `SqlStore::<Postgres>::connect`.
//! `sqlx::Any` was not used: its rows are converted into its own row type first (a copy per
//! row on the audit path), its `QueryBuilder` writes `?` placeholders (PostgreSQL wants `$n`),
//! and PostgreSQL's `LISTEN` and SQLite's connect options are not reachable through it.

use std::borrow::Cow;
use std::fmt::Write as _;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
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

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(Some(v))
    }
}

impl From<Option<bool>> for Arg {
    fn from(v: Option<bool>) -> Self {
        Arg::Bool(v)
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
    /// number. The dialect writes it when the statement runs ([`Dialect::placeholder`]).
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

    /// The statement as `D` runs it: its text with the pushed placeholders written in, its
    /// arguments, whether it stays prepared.
    fn into_statement<D: Dialect>(self) -> Statement<'q> {
        if self.marks.is_empty() {
            return (self.text, self.args, self.persistent);
        }
        let mut text = String::with_capacity(self.text.len() + 6 * self.marks.len());
        let mut from = 0;
        for &(at, n) in &self.marks {
            text.push_str(&self.text[from..at]);
            D::placeholder(&mut text, n);
            from = at;
        }
        text.push_str(&self.text[from..]);
        (Cow::Owned(text), self.args, self.persistent)
    }

    /// Every row the statement returns.
    pub(crate) async fn fetch_all<D: Dialect>(
        self,
        pool: &Pool<D>,
    ) -> Result<Vec<D::Row>, sqlx::Error> {
        let (text, args, persistent) = self.into_statement::<D>();
        D::fetch_all(pool, &text, args, persistent).await
    }

    /// The first row, if any.
    pub(crate) async fn fetch_optional<D: Dialect>(
        self,
        pool: &Pool<D>,
    ) -> Result<Option<D::Row>, sqlx::Error> {
        let (text, args, persistent) = self.into_statement::<D>();
        D::fetch_optional(pool, &text, args, persistent).await
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
        super::first(self.fetch_all(pool).await?)
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
    pub(crate) async fn execute<D: Dialect>(self, pool: &Pool<D>) -> Result<u64, sqlx::Error> {
        let (text, args, persistent) = self.into_statement::<D>();
        let done = D::execute(pool, &text, args, persistent).await?;
        Ok(D::rows_affected(&done))
    }
}

/// Runs statements in one transaction (a single statement without `BEGIN`/`COMMIT` round
/// trips) and returns the rows of each.
pub(crate) async fn batch<D: Dialect>(
    pool: &Pool<D>,
    statements: Vec<Sql<'_>>,
) -> Result<Vec<Vec<D::Row>>, sqlx::Error> {
    let statements = statements
        .into_iter()
        .map(Sql::into_statement::<D>)
        .collect();
    D::batch(pool, statements).await
}

/// A statement as [`Run`] takes it: text, arguments, kept prepared or not.
type Statement<'q> = (Cow<'q, str>, Vec<Arg>, bool);

/// Running a statement on a pool: the one place that binds [`Arg`]s to a sqlx query, for
/// every sqlx database that can bind them (both of ours, through the blanket impl below).
pub(crate) trait Run: sqlx::Database + sqlx::database::HasStatementCache {
    /// A sqlx query of `text` with `args` bound in order.
    fn prepare(
        text: &str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> sqlx::query::Query<'_, Self, Self::Arguments<'_>>;

    fn fetch_all<'a>(
        pool: &'a Pool<Self>,
        text: &'a str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> BoxFuture<'a, Result<Vec<Self::Row>, sqlx::Error>>;

    fn fetch_optional<'a>(
        pool: &'a Pool<Self>,
        text: &'a str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> BoxFuture<'a, Result<Option<Self::Row>, sqlx::Error>>;

    fn execute<'a>(
        pool: &'a Pool<Self>,
        text: &'a str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> BoxFuture<'a, Result<Self::QueryResult, sqlx::Error>>;

    /// See [`batch`].
    fn batch<'a>(
        pool: &'a Pool<Self>,
        statements: Vec<Statement<'a>>,
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
    fn prepare(
        text: &str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> sqlx::query::Query<'_, Self, Self::Arguments<'_>> {
        let q = sqlx::query(text).persistent(persistent);
        args.into_iter().fold(q, |q, arg| match arg {
            Arg::Int(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
        })
    }

    fn fetch_all<'a>(
        pool: &'a Pool<Self>,
        text: &'a str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> BoxFuture<'a, Result<Vec<Self::Row>, sqlx::Error>> {
        pool.fetch_all(Self::prepare(text, args, persistent))
    }

    fn fetch_optional<'a>(
        pool: &'a Pool<Self>,
        text: &'a str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> BoxFuture<'a, Result<Option<Self::Row>, sqlx::Error>> {
        pool.fetch_optional(Self::prepare(text, args, persistent))
    }

    fn execute<'a>(
        pool: &'a Pool<Self>,
        text: &'a str,
        args: Vec<Arg>,
        persistent: bool,
    ) -> BoxFuture<'a, Result<Self::QueryResult, sqlx::Error>> {
        pool.execute(Self::prepare(text, args, persistent))
    }

    fn batch<'a>(
        pool: &'a Pool<Self>,
        statements: Vec<Statement<'a>>,
    ) -> BoxFuture<'a, Result<Vec<Vec<Self::Row>>, sqlx::Error>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(statements.len());
            if statements.len() < 2 {
                for (text, args, persistent) in statements {
                    out.push(
                        pool.fetch_all(Self::prepare(&text, args, persistent))
                            .await?,
                    );
                }
                return Ok(out);
            }
            let mut tx = pool.begin().await?;
            for (text, args, persistent) in statements {
                let q = Self::prepare(&text, args, persistent);
                out.push((&mut *tx).fetch_all(q).await?);
            }
            tx.commit().await?;
            Ok(out)
        })
    }
}

/// What differs between SQLite and PostgreSQL, beside connecting.
pub(crate) trait Dialect: Run<Row: RowExt> + Sync {
    /// Which backend this is.
    const BACKEND: Backend;

    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;

    /// Writes the placeholder of argument `n` (from 1) of a built statement.
    fn placeholder(text: &mut String, n: usize);

    /// Applies the embedded migrations that have not run yet.
    fn migrate(pool: &Pool<Self>) -> BoxFuture<'_, Result<()>>;

    /// Ids of approvals whose status changes from now on, when the database announces them.
    fn approval_changes(
        pool: &Pool<Self>,
    ) -> BoxFuture<'_, Result<Option<BoxStream<'static, ApprovalId>>>>;
}

impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }

    /// `?`: SQLite numbers them in order. A named `$n` would be looked up by name among the
    /// statement's others when it is parsed, a quadratic cost for an audit batch's 8,500.
    fn placeholder(text: &mut String, _n: usize) {
        text.push('?');
    }

    fn migrate(pool: &Pool<Self>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            super::migrations::sqlite().await?.run(pool).await?;
            Ok(())
        })
    }

    /// SQLite cannot announce changes to other processes.
    fn approval_changes(
        _pool: &Pool<Self>,
    ) -> BoxFuture<'_, Result<Option<BoxStream<'static, ApprovalId>>>> {
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// The PostgreSQL channel announcing approval changes (migration 0007's trigger).
const APPROVAL_CHANNEL: &str = "notion_gate_approvals";

impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }

    fn placeholder(text: &mut String, n: usize) {
        // Writing to a `String` cannot fail.
        let _ = write!(text, "${n}");
    }

    fn migrate(pool: &Pool<Self>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            super::migrations::postgres().await?.run(pool).await?;
            Ok(())
        })
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
