//! Column lists and row decoders shared by both backends.

use crate::audit::{
    AuditCall, AuditDecision, AuditEvent, AuditIntent, AuditRecord, CallerKind, Outcome, Surface,
};
use crate::error::{Result, StoreError};
use crate::ids::{
    AgentId, ApiKeyId, ApprovalId, AuditEventId, ConnectionId, IntentId, TokenHash, UserId, from_ms,
};
use crate::models::{
    Agent, ApiKey, ApiKeyKind, Approval, ApprovalRequest, ApprovalStatus, Connection,
    ConnectionKind, NotionBot, OAuthState, RequesterKind, User,
};
use crate::vault::KeyId;

pub(crate) const USER_COLS: &str = "id, name, is_admin, disabled, created_at";
pub(crate) const API_KEY_COLS: &str =
    "id, kind, user_id, agent_id, public_id, label, created_at, last_used_at, revoked_at";
pub(crate) const AGENT_COLS: &str =
    "id, owner_id, name, maturity, connection_id, disabled, version, created_at, updated_at";
pub(crate) const CONNECTION_COLS: &str = "id, owner_id, workspace_id, workspace_name, \
     workspace_icon, bot_id, owner_json, kind, token_expires_at, key_id, revoked, needs_reauth, \
     revocation_failed, created_at, updated_at";
pub(crate) const OAUTH_STATE_COLS: &str =
    "state_hash, user_id, redirect_to, created_at, expires_at, used_at";
pub(crate) const CONSOLE_SESSION_COLS: &str = "id, user_id, key_hash, user_agent, client_addr, \
     created_at, expires_at, last_seen_at, revoked_at";
pub(crate) const APPROVAL_COLS: &str = "id, requester_kind, requester_user_id, agent_id, \
     connection_id, operation, action_class, request_json, request_hash, status, created_at, \
     expires_at, decided_by, decided_at, finished_at, result_json, result_status, decision_note";
pub(crate) const AUDIT_COLS: &str = "id, at, request_id, caller_kind, user_id, agent_id, \
     connection_id, surface, action_class, operation, target_ids, decision, reason, outcome, \
     upstream_status, duration_ms, args_summary, intent_id";
/// The audit columns an insert sets (all but `id`).
pub(crate) const AUDIT_INSERT_COLS: &str = "at, request_id, caller_kind, user_id, agent_id, \
     connection_id, surface, action_class, operation, target_ids, decision, reason, outcome, \
     upstream_status, duration_ms, args_summary, intent_id";
/// The columns of an audit intent an insert sets (all but the settlement claim).
pub(crate) const INTENT_INSERT_COLS: &str = "id, at, request_id, caller_kind, user_id, \
     agent_id, connection_id, surface, action_class, operation, target_ids, request_hash, \
     markers, owner";

/// One bound value of an audit insert, for either driver (`sqlx` or the call path's
/// synchronous SQLite connection).
pub(crate) enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

/// How many columns [`AUDIT_INSERT_COLS`] names.
pub(crate) const AUDIT_CELLS: usize = 17;

/// How many columns a spool line written before audit intents holds (no `intent_id`).
const AUDIT_CELLS_V1: usize = 16;

/// How many columns [`INTENT_INSERT_COLS`] names.
pub(crate) const INTENT_CELLS: usize = 14;

/// The positions of [`INTENT_INSERT_COLS`] that hold integers (`at`).
const INTENT_INT_CELLS: [usize; 1] = [1];

/// The positions of [`INTENT_INSERT_COLS`] that are `NOT NULL`.
const INTENT_REQUIRED_CELLS: [usize; 9] = [0, 1, 2, 3, 7, 9, 10, 11, 13];

/// The first element of an intent's spool line (a record's line starts with a number).
pub(crate) const INTENT_TAG: &str = "intent";

/// The positions of [`AUDIT_INSERT_COLS`] that hold integers (`at`, `upstream_status`,
/// `duration_ms`); every other one holds text.
const AUDIT_INT_CELLS: [usize; 3] = [0, 13, 14];

/// The positions of [`AUDIT_INSERT_COLS`] that are `NOT NULL` (`at`, `request_id`,
/// `caller_kind`, `surface`, `operation`, `target_ids`, `decision`, `outcome`).
const AUDIT_REQUIRED_CELLS: [usize; 8] = [0, 1, 2, 6, 8, 9, 10, 12];

/// A cell in the audit spool's JSON lines: a number, a string or `null`.
impl serde::Serialize for Cell {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Cell::Int(v) => v.serialize(s),
            Cell::Text(v) => v.serialize(s),
        }
    }
}

/// Decodes JSON values into cells: `ints` are the integer positions, every other one text;
/// `None` on a wrong type.
fn cells_from_values(values: Vec<serde_json::Value>, ints: &[usize]) -> Option<Vec<Cell>> {
    use serde_json::Value;
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match (ints.contains(&i), v) {
            (true, Value::Null) => Some(Cell::Int(None)),
            (true, Value::Number(n)) => n.as_i64().map(|n| Cell::Int(Some(n))),
            (false, Value::Null) => Some(Cell::Text(None)),
            (false, Value::String(t)) => Some(Cell::Text(Some(t))),
            _ => None,
        })
        .collect()
}

fn missing(c: &Cell) -> bool {
    matches!(c, Cell::Int(None) | Cell::Text(None))
}

/// One decoded audit spool line.
pub(crate) enum SpoolLine {
    /// A record's cells, in [`AUDIT_INSERT_COLS`] order.
    Record(Box<[Cell; AUDIT_CELLS]>),
    /// An intent's cells, in [`INTENT_INSERT_COLS`] order.
    Intent(Box<[Cell; INTENT_CELLS]>),
}

/// Decodes one audit spool line, or `None` when it is not one: a record is a JSON array in
/// [`AUDIT_INSERT_COLS`] order (16 cells in lines written before intents: no `intent_id`),
/// an intent is `["intent", …]` in [`INTENT_INSERT_COLS`] order; a wrong length, a wrong type
/// in a column or a required column missing is not a line.
pub(crate) fn spool_line_from_json(line: &[u8]) -> Option<SpoolLine> {
    let mut values: Vec<serde_json::Value> = serde_json::from_slice(line).ok()?;
    if values.first().and_then(serde_json::Value::as_str) == Some(INTENT_TAG) {
        values.remove(0);
        let cells: [Cell; INTENT_CELLS] = cells_from_values(values, &INTENT_INT_CELLS)?
            .try_into()
            .ok()?;
        if INTENT_REQUIRED_CELLS.iter().any(|&i| missing(&cells[i])) {
            return None;
        }
        return Some(SpoolLine::Intent(Box::new(cells)));
    }
    if values.len() == AUDIT_CELLS_V1 {
        values.push(serde_json::Value::Null);
    }
    let cells: [Cell; AUDIT_CELLS] = cells_from_values(values, &AUDIT_INT_CELLS)?
        .try_into()
        .ok()?;
    if AUDIT_REQUIRED_CELLS.iter().any(|&i| missing(&cells[i])) {
        return None;
    }
    Some(SpoolLine::Record(Box::new(cells)))
}

/// How many leading columns of [`AUDIT_INSERT_COLS`] hold the call (`at` to `target_ids`);
/// in [`INTENT_INSERT_COLS`] they follow the intent's `id`.
const CALL_CELLS: usize = 10;

/// The values of the call's columns (`at` to `target_ids`), in order.
fn call_cells(c: &AuditCall) -> [Cell; CALL_CELLS] {
    let text = |s: &str| Cell::Text(Some(s.to_owned()));
    [
        Cell::Int(Some(crate::ids::to_ms(c.at))),
        text(&c.request_id),
        text(c.caller_kind.as_str()),
        Cell::Text(c.user_id.map(|v| v.to_string())),
        Cell::Text(c.agent_id.map(|v| v.to_string())),
        Cell::Text(c.connection_id.map(|v| v.to_string())),
        text(c.surface.as_str()),
        Cell::Text(c.action_class.clone()),
        text(&c.operation),
        Cell::Text(Some(
            serde_json::Value::from(c.target_ids.clone()).to_string(),
        )),
    ]
}

/// `cells` as an array of `N`: the lists below are exactly `N` long (see the test
/// `cell_lists_fill_their_columns`); a missing cell would be `NULL`.
fn cell_array<const N: usize>(cells: impl IntoIterator<Item = Cell>) -> [Cell; N] {
    let mut cells = cells.into_iter();
    std::array::from_fn(|_| cells.next().unwrap_or(Cell::Text(None)))
}

/// The values of [`INTENT_INSERT_COLS`], in order.
pub(crate) fn intent_cells(i: &AuditIntent) -> [Cell; INTENT_CELLS] {
    let text = |s: &str| Cell::Text(Some(s.to_owned()));
    let head = [text(&i.id.to_string())];
    let tail = [
        text(&i.request_hash),
        Cell::Text(i.markers.as_ref().map(|m| m.to_string())),
        text(&i.owner),
    ];
    cell_array(head.into_iter().chain(call_cells(&i.call)).chain(tail))
}

/// The values of [`AUDIT_INSERT_COLS`], in order.
pub(crate) fn audit_cells(r: &AuditRecord) -> [Cell; AUDIT_CELLS] {
    let text = |s: &str| Cell::Text(Some(s.to_owned()));
    let tail = [
        text(r.decision.as_str()),
        Cell::Text(r.reason.clone()),
        text(r.outcome.as_str()),
        Cell::Int(r.upstream_status.map(i64::from)),
        Cell::Int(r.duration_ms.map(|d| i64::try_from(d).unwrap_or(i64::MAX))),
        Cell::Text(r.args_summary.as_ref().map(|a| a.to_string())),
        Cell::Text(r.intent_id.map(|v| v.to_string())),
    ];
    cell_array(call_cells(&r.call).into_iter().chain(tail))
}

/// Typed column access on either backend's rows, with decode errors turned into
/// [`StoreError::Corrupt`].
pub(crate) trait RowExt {
    fn text(&self, col: &str) -> Result<String>;
    fn opt_text(&self, col: &str) -> Result<Option<String>>;
    fn int(&self, col: &str) -> Result<i64>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>>;
    fn flag(&self, col: &str) -> Result<bool>;
}

impl<R> RowExt for R
where
    R: sqlx::Row,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn text(&self, col: &str) -> Result<String> {
        self.try_get::<String, _>(col).map_err(|e| bad(col, &e))
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.try_get::<Option<String>, _>(col)
            .map_err(|e| bad(col, &e))
    }
    fn int(&self, col: &str) -> Result<i64> {
        self.try_get::<i64, _>(col).map_err(|e| bad(col, &e))
    }
    fn opt_int(&self, col: &str) -> Result<Option<i64>> {
        self.try_get::<Option<i64>, _>(col)
            .map_err(|e| bad(col, &e))
    }
    fn flag(&self, col: &str) -> Result<bool> {
        self.try_get::<bool, _>(col).map_err(|e| bad(col, &e))
    }
}

fn bad(col: &str, e: &sqlx::Error) -> StoreError {
    StoreError::corrupt(format!("column {col}: {e}"))
}

pub(crate) fn time(row: &impl RowExt, col: &str) -> Result<time::OffsetDateTime> {
    from_ms(row.int(col)?)
}

pub(crate) fn opt_time(row: &impl RowExt, col: &str) -> Result<Option<time::OffsetDateTime>> {
    row.opt_int(col)?.map(from_ms).transpose()
}

pub(crate) fn opt_u16(row: &impl RowExt, col: &str) -> Result<Option<u16>> {
    row.opt_int(col)?
        .map(|v| u16::try_from(v).map_err(|_| StoreError::corrupt(format!("column {col}: {v}"))))
        .transpose()
}

fn opt_json(row: &impl RowExt, col: &str) -> Result<Option<serde_json::Value>> {
    row.opt_text(col)?
        .map(|s| {
            serde_json::from_str(&s)
                .map_err(|_| StoreError::corrupt(format!("column {col}: not JSON")))
        })
        .transpose()
}

macro_rules! opt_id {
    ($row:expr, $col:literal, $ty:ty) => {
        $row.opt_text($col)?
            .map(|s| <$ty>::parse_stored(&s))
            .transpose()?
    };
}

pub(crate) fn user(row: &impl RowExt) -> Result<User> {
    Ok(User {
        id: UserId::parse_stored(&row.text("id")?)?,
        name: row.text("name")?,
        is_admin: row.flag("is_admin")?,
        disabled: row.flag("disabled")?,
        created_at: time(row, "created_at")?,
    })
}

pub(crate) fn api_key(row: &impl RowExt) -> Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId::parse_stored(&row.text("id")?)?,
        kind: ApiKeyKind::parse_stored(&row.text("kind")?)?,
        user_id: UserId::parse_stored(&row.text("user_id")?)?,
        agent_id: opt_id!(row, "agent_id", AgentId),
        public_id: row.text("public_id")?,
        label: row.opt_text("label")?,
        created_at: time(row, "created_at")?,
        last_used_at: opt_time(row, "last_used_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}

pub(crate) fn agent(row: &impl RowExt) -> Result<Agent> {
    Ok(Agent {
        id: AgentId::parse_stored(&row.text("id")?)?,
        owner_id: UserId::parse_stored(&row.text("owner_id")?)?,
        name: row.text("name")?,
        maturity: row.text("maturity")?,
        connection_id: opt_id!(row, "connection_id", ConnectionId),
        disabled: row.flag("disabled")?,
        version: row.int("version")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn connection(row: &impl RowExt) -> Result<Connection> {
    Ok(Connection {
        id: ConnectionId::parse_stored(&row.text("id")?)?,
        owner_id: UserId::parse_stored(&row.text("owner_id")?)?,
        bot: NotionBot {
            workspace_id: row.text("workspace_id")?,
            workspace_name: row.opt_text("workspace_name")?,
            workspace_icon: row.opt_text("workspace_icon")?,
            bot_id: row.text("bot_id")?,
            owner: opt_json(row, "owner_json")?,
        },
        kind: ConnectionKind::parse_stored(&row.text("kind")?)?,
        token_expires_at: opt_time(row, "token_expires_at")?,
        key_id: KeyId::new(row.text("key_id")?),
        revoked: row.flag("revoked")?,
        needs_reauth: row.flag("needs_reauth")?,
        revocation_failed: row.flag("revocation_failed")?,
        created_at: time(row, "created_at")?,
        updated_at: time(row, "updated_at")?,
    })
}

pub(crate) fn oauth_state(row: &impl RowExt) -> Result<OAuthState> {
    Ok(OAuthState {
        state_hash: TokenHash::from_hex(&row.text("state_hash")?)
            .map_err(|_| StoreError::corrupt("oauth state hash"))?,
        user_id: UserId::parse_stored(&row.text("user_id")?)?,
        redirect_to: row.opt_text("redirect_to")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        used_at: opt_time(row, "used_at")?,
    })
}

pub(crate) fn console_session(row: &impl RowExt) -> Result<crate::sessions::ConsoleSession> {
    Ok(crate::sessions::ConsoleSession {
        id: crate::ids::ConsoleSessionId::parse_stored(&row.text("id")?)?,
        user_id: UserId::parse_stored(&row.text("user_id")?)?,
        key_hash: TokenHash::from_hex(&row.text("key_hash")?)
            .map_err(|_| StoreError::corrupt("console session key hash"))?,
        user_agent: row.opt_text("user_agent")?,
        client_addr: row.opt_text("client_addr")?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        last_seen_at: time(row, "last_seen_at")?,
        revoked_at: opt_time(row, "revoked_at")?,
    })
}

pub(crate) fn approval(row: &impl RowExt) -> Result<Approval> {
    Ok(Approval {
        id: ApprovalId::parse_stored(&row.text("id")?)?,
        request: ApprovalRequest {
            requester_kind: RequesterKind::parse_stored(&row.text("requester_kind")?)?,
            requester_user_id: opt_id!(row, "requester_user_id", UserId),
            agent_id: opt_id!(row, "agent_id", AgentId),
            connection_id: opt_id!(row, "connection_id", ConnectionId),
            operation: row.text("operation")?,
            action_class: row.text("action_class")?,
            request_json: row.text("request_json")?,
        },
        request_hash: row.text("request_hash")?,
        status: ApprovalStatus::parse_stored(&row.text("status")?)?,
        created_at: time(row, "created_at")?,
        expires_at: time(row, "expires_at")?,
        decided_by: opt_id!(row, "decided_by", UserId),
        decided_at: opt_time(row, "decided_at")?,
        finished_at: opt_time(row, "finished_at")?,
        result_json: row.opt_text("result_json")?,
        result_status: opt_u16(row, "result_status")?,
        decision_note: row.opt_text("decision_note")?,
    })
}

/// The call's columns of an audit event or intent (`at` to `target_ids`).
fn audit_call(row: &impl RowExt) -> Result<AuditCall> {
    let target_ids: Vec<String> = serde_json::from_str(&row.text("target_ids")?)
        .map_err(|_| StoreError::corrupt("column target_ids: not a JSON array of strings"))?;
    Ok(AuditCall {
        at: time(row, "at")?,
        request_id: row.text("request_id")?,
        caller_kind: CallerKind::parse_stored(&row.text("caller_kind")?)?,
        user_id: opt_id!(row, "user_id", UserId),
        agent_id: opt_id!(row, "agent_id", AgentId),
        connection_id: opt_id!(row, "connection_id", ConnectionId),
        surface: Surface::parse_stored(&row.text("surface")?)?,
        action_class: row.opt_text("action_class")?,
        operation: row.text("operation")?,
        target_ids,
    })
}

pub(crate) fn audit_event(row: &impl RowExt) -> Result<AuditEvent> {
    let duration_ms = row
        .opt_int("duration_ms")?
        .map(|v| u64::try_from(v).map_err(|_| StoreError::corrupt(format!("duration_ms {v}"))))
        .transpose()?;
    Ok(AuditEvent {
        id: AuditEventId(row.int("id")?),
        record: AuditRecord {
            call: audit_call(row)?,
            decision: AuditDecision::parse_stored(&row.text("decision")?)?,
            reason: row.opt_text("reason")?,
            outcome: Outcome::parse_stored(&row.text("outcome")?)?,
            upstream_status: opt_u16(row, "upstream_status")?,
            duration_ms,
            args_summary: opt_json(row, "args_summary")?,
            intent_id: opt_id!(row, "intent_id", IntentId),
        },
    })
}

pub(crate) fn intent(row: &impl RowExt) -> Result<AuditIntent> {
    Ok(AuditIntent {
        id: IntentId::parse_stored(&row.text("id")?)?,
        call: audit_call(row)?,
        request_hash: row.text("request_hash")?,
        markers: opt_json(row, "markers")?,
        owner: row.text("owner")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditIntent;

    fn columns(list: &str) -> usize {
        list.split(',').count()
    }

    #[test]
    fn cell_lists_fill_their_columns() {
        assert_eq!(columns(AUDIT_INSERT_COLS), AUDIT_CELLS);
        assert_eq!(columns(INTENT_INSERT_COLS), INTENT_CELLS);
        let call = AuditCall::new("r", CallerKind::Agent, Surface::Rest, "op");
        let intent = AuditIntent::new(call.clone(), "hash", "owner");
        let record = AuditRecord::new(call, AuditDecision::Allow, Outcome::Ok).intent(intent.id);
        // The last cell of each list is its own (not a filler `NULL`).
        let id = intent.id.to_string();
        assert!(matches!(&audit_cells(&record)[AUDIT_CELLS - 1], Cell::Text(Some(s)) if *s == id));
        assert!(
            matches!(&intent_cells(&intent)[INTENT_CELLS - 1], Cell::Text(Some(s)) if s == "owner")
        );
        assert!(matches!(&intent_cells(&intent)[0], Cell::Text(Some(s)) if *s == id));
    }
}
