//! The administration commands: `migrate`, `user`, `agent`, `connect`, `approvals`,
//! `audit` and `keys`. They open the same database as the server (its data folder or
//! database URL), also while it runs, and act as the first administrator
//! ([`Gate::system_admin`]) through the gate's admin operations, so every rule of the REST
//! API applies here too.
//!
//! Output: what a script consumes (a new key, a connection id, JSON, JSON lines, tables) goes
//! to stdout; messages go to stderr. A running server sees changes made here within its cache
//! TTL (5 s by default).

use std::collections::HashMap;
use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use gate_core::{Caller, Gate, GateError, NewAgentSpec};
use gate_store::{
    Agent, AgentId, ApprovalFilter, ApprovalId, ApprovalStatus, AuditCursor, AuditEvent,
    AuditOrder, AuditQuery, ConnectionId, User,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{ProcessEnv, ResolveOptions, Settings, vars};
use crate::opts::{
    AgentCommand, ApprovalsCommand, AuditCommand, ConnectArgs, KeysCommand, ListArgs,
    NotionUrlArgs, StoreArgs, UserCommand,
};
use crate::setup;

/// Settings for an admin command (the sandbox's emulator URL is the Notion default).
fn settings(store: &StoreArgs, notion: Option<&NotionUrlArgs>) -> Result<Settings> {
    let flags = match notion {
        Some(n) => store.flags_with(n),
        None => store.flags(),
    };
    Settings::resolve(
        &flags,
        &ProcessEnv,
        ResolveOptions {
            sandbox_notion_url: true,
        },
    )
}

/// An open gate for one admin command; [`Admin::close`] flushes and closes.
struct Admin {
    gate: Gate,
    settings: Settings,
}

impl Admin {
    async fn open(store: &StoreArgs, notion: Option<&NotionUrlArgs>) -> Result<Self> {
        let settings = settings(store, notion)?;
        let gate = setup::open_gate(&settings, &settings.notion_url).await?;
        Ok(Self { gate, settings })
    }

    /// The first administrator, or a message saying how to create one.
    async fn actor(&self) -> Result<Caller> {
        match self.gate.system_admin().await {
            Ok(c) => Ok(c),
            Err(GateError::NotFound { .. }) => bail!(
                "there is no administrator in {} yet: run `notion-gate serve` once (it creates \
                 one) or `notion-gate user add NAME --admin`",
                self.settings.database_display()
            ),
            Err(e) => Err(e.into()),
        }
    }

    async fn user_named(&self, actor: &Caller, name: &str) -> Result<User> {
        let users = self.gate.list_users(actor).await?;
        users
            .into_iter()
            .find(|u| u.name == name || u.id.to_string() == name.trim())
            .ok_or_else(|| anyhow!("no user named {name:?} (see `notion-gate user list`)"))
    }

    /// An agent by id, or by name (which must be unambiguous).
    async fn agent_named(&self, actor: &Caller, which: &str) -> Result<Agent> {
        if let Ok(id) = which.parse::<AgentId>() {
            return Ok(self.gate.get_agent(actor, id).await?);
        }
        let mut found: Vec<Agent> = self
            .gate
            .list_agents(actor)
            .await?
            .into_iter()
            .filter(|a| a.name == which)
            .collect();
        match found.len() {
            0 => bail!("no agent named {which:?} (see `notion-gate agent list`)"),
            1 => Ok(found.remove(0)),
            n => bail!("{n} agents are named {which:?}: give the agent's id instead"),
        }
    }

    async fn user_names(&self, actor: &Caller) -> Result<HashMap<gate_store::UserId, String>> {
        Ok(self
            .gate
            .list_users(actor)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect())
    }

    async fn close(self) {
        self.gate.shutdown().await;
        self.gate.store().close().await;
    }
}

/// Runs `body` on an open admin gate and closes it whatever the outcome.
macro_rules! with_admin {
    ($store:expr, $notion:expr, |$admin:ident| $body:expr) => {{
        let $admin = Admin::open($store, $notion).await?;
        let result: Result<()> = async { $body }.await;
        $admin.close().await;
        result
    }};
}

fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("write to stdout")
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).context("encode JSON")?;
    text.push('\n');
    print_stdout(&text)
}

fn time(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

/// Left-aligned columns.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(cell);
            } else {
                l.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

// ---- migrate ----------------------------------------------------------------------------

/// `notion-gate migrate`: opens the database (which applies pending migrations) and exits.
pub async fn migrate(store: StoreArgs) -> Result<()> {
    let settings = settings(&store, None)?;
    let db = setup::open_store(&settings).await?;
    db.close().await;
    eprintln!(
        "database {} is up to date (migrations applied)",
        settings.database_display()
    );
    Ok(())
}

// ---- users ------------------------------------------------------------------------------

/// `notion-gate user …`.
pub async fn user(cmd: UserCommand) -> Result<()> {
    match cmd {
        UserCommand::Add { name, admin, store } => with_admin!(&store, None, |a| {
            let no_users = a.gate.store().list_users().await?.is_empty();
            let (user, key) = if no_users {
                if !admin {
                    bail!(
                        "there are no users yet: the first user must be an administrator \
                         (`notion-gate user add {name} --admin`)"
                    );
                }
                let (user, key) = a.gate.bootstrap_admin(&name).await?;
                (user, key.key)
            } else {
                let actor = a.actor().await?;
                let user = a.gate.create_user(&actor, &name, admin).await?;
                let key = a.gate.issue_user_key(&actor, user.id, Some("cli")).await?;
                (user, key.key)
            };
            print_stdout(&format!("{}\n", key.expose_secret()))?;
            eprintln!(
                "user '{}' added{} (id {}); the key above is shown only once",
                user.name,
                if user.is_admin {
                    " as an administrator"
                } else {
                    ""
                },
                user.id
            );
            Ok(())
        }),
        UserCommand::List(ListArgs { json, store }) => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            let users = a.gate.list_users(&actor).await?;
            if json {
                return print_json(&users);
            }
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        u.name.clone(),
                        yes_no(u.is_admin),
                        yes_no(u.disabled),
                        time(u.created_at),
                        u.id.to_string(),
                    ]
                })
                .collect();
            print_stdout(&table(
                &["NAME", "ADMIN", "DISABLED", "CREATED", "ID"],
                &rows,
            ))
        }),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

// ---- agents -----------------------------------------------------------------------------

/// `notion-gate agent …`.
pub async fn agent(cmd: AgentCommand) -> Result<()> {
    match cmd {
        AgentCommand::Add {
            name,
            maturity,
            user,
            connection,
            store,
        } => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            let owner = match &user {
                Some(n) => a.user_named(&actor, n).await?,
                None => a.gate.store().get_user(actor.user_id).await?,
            };
            let mut spec = NewAgentSpec::new(name, maturity).owner(owner.id);
            if let Some(c) = &connection {
                let id = c.parse::<ConnectionId>().map_err(|_| {
                    anyhow!("invalid --connection {c:?}: expected a connection id (a UUID)")
                })?;
                spec = spec.connection(id);
            }
            let agent = a.gate.create_agent(&actor, spec).await.map_err(|e| match e {
                GateError::Invalid {
                    field: "maturity", ..
                } => anyhow!(
                    "invalid --maturity: expected one of student, intern, supervised, autonomous"
                ),
                e => e.into(),
            })?;
            let key = a.gate.issue_agent_key(&actor, agent.id, None).await?;
            print_stdout(&format!("{}\n", key.key.expose_secret()))?;
            match agent.connection_id {
                Some(c) => eprintln!(
                    "agent '{}' ({}) added for user '{}' on connection {c} (id {}); the key above \
                     is shown only once",
                    agent.name, agent.maturity, owner.name, agent.id
                ),
                None => eprintln!(
                    "agent '{}' ({}) added for user '{}' (id {}), but '{}' has no Notion \
                     connection yet: its calls fail until `notion-gate connect --user {}` (or \
                     OAuth) adds one",
                    agent.name, agent.maturity, owner.name, agent.id, owner.name, owner.name
                ),
            }
            Ok(())
        }),
        AgentCommand::List(ListArgs { json, store }) => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            let agents = a.gate.list_agents(&actor).await?;
            if json {
                return print_json(&agents);
            }
            let names = a.user_names(&actor).await?;
            let rows: Vec<Vec<String>> = agents
                .iter()
                .map(|g| {
                    vec![
                        g.name.clone(),
                        names.get(&g.owner_id).cloned().unwrap_or_default(),
                        g.maturity.clone(),
                        yes_no(g.disabled),
                        g.connection_id
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "-".to_owned()),
                        g.id.to_string(),
                    ]
                })
                .collect();
            print_stdout(&table(
                &["NAME", "USER", "MATURITY", "DISABLED", "CONNECTION", "ID"],
                &rows,
            ))
        }),
        AgentCommand::SetMaturity {
            agent,
            maturity,
            store,
        } => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            let found = a.agent_named(&actor, &agent).await?;
            let changed = a
                .gate
                .set_agent_maturity(&actor, found.id, &maturity)
                .await
                .map_err(|e| match e {
                    GateError::Invalid { .. } => anyhow!(
                        "invalid LEVEL {maturity:?}: expected one of student, intern, supervised, autonomous"
                    ),
                    e => e.into(),
                })?;
            eprintln!(
                "agent '{}' is now {} (was {}); a running server applies it within its cache TTL",
                changed.name, changed.maturity, found.maturity
            );
            Ok(())
        }),
        AgentCommand::Disable { agent, store } => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            let found = a.agent_named(&actor, &agent).await?;
            let changed = a.gate.disable_agent(&actor, found.id).await?;
            eprintln!(
                "agent '{}' disabled: every later call is denied and audited",
                changed.name
            );
            Ok(())
        }),
    }
}

// ---- connect ----------------------------------------------------------------------------

/// `notion-gate connect --token TOKEN [--user NAME]`: checks the token with Notion
/// (`GET /v1/users/me` through `--notion-url`) and stores it encrypted; prints the
/// connection id.
pub async fn connect(args: ConnectArgs) -> Result<()> {
    let token = args
        .token
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or_else(|| std::env::var(vars::NOTION_API_KEY).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| {
            anyhow!(
                "no Notion token: pass --token TOKEN (an internal integration's ntn_… token) or \
                 set {} or {}",
                vars::NOTION_TOKEN,
                vars::NOTION_API_KEY
            )
        })?;
    with_admin!(&args.store, Some(&args.notion), |a| {
        let actor = a.actor().await?;
        let owner = match &args.user {
            Some(n) => a.user_named(&actor, n).await?,
            None => a.gate.store().get_user(actor.user_id).await?,
        };
        let c = a
            .gate
            .add_token_connection(&actor, Some(owner.id), token)
            .await
            .map_err(|e| match e {
                GateError::Invalid { .. } => anyhow!(
                    "Notion at {} refused the token (401): check --token",
                    a.settings.notion_url
                ),
                GateError::Upstream { status: None, .. } => anyhow!(
                    "could not reach Notion at {} ({}): {e}",
                    a.settings.notion_url,
                    a.settings.notion_url_origin
                ),
                e => anyhow!("connecting through {} failed: {e}", a.settings.notion_url),
            })?;
        print_stdout(&format!("{}\n", c.id))?;
        eprintln!(
            "connected workspace '{}' for user '{}' (bot {}); agents of '{}' without a connection \
             of their own use their user's first connection",
            c.bot.workspace_name.as_deref().unwrap_or("(unnamed)"),
            owner.name,
            c.bot.bot_id,
            owner.name
        );
        Ok(())
    })
}

// ---- approvals --------------------------------------------------------------------------

/// `notion-gate approvals …`.
pub async fn approvals(cmd: ApprovalsCommand) -> Result<()> {
    match cmd {
        ApprovalsCommand::List { all, json, store } => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            let mut filter = ApprovalFilter::default();
            if !all {
                filter.status = Some(ApprovalStatus::Pending);
            }
            let list = a.gate.list_approvals(&actor, filter).await?;
            if json {
                return print_json(&list);
            }
            let agents: HashMap<AgentId, String> = a
                .gate
                .list_agents(&actor)
                .await?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect();
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.status.to_string(),
                        p.request
                            .agent_id
                            .and_then(|id| agents.get(&id).cloned())
                            .unwrap_or_else(|| "-".to_owned()),
                        p.request.action_class.clone(),
                        p.request.operation.clone(),
                        time(p.created_at),
                    ]
                })
                .collect();
            if rows.is_empty() {
                eprintln!("no {}approvals", if all { "" } else { "pending " });
                return Ok(());
            }
            print_stdout(&table(
                &["ID", "STATUS", "AGENT", "CLASS", "OPERATION", "CREATED"],
                &rows,
            ))
        }),
        ApprovalsCommand::Approve {
            id,
            note,
            store,
            notion,
        } => {
            let id = approval_id(&id)?;
            with_admin!(&store, Some(&notion), |a| {
                let actor = a.actor().await?;
                let done = a.gate.approve(&actor, id, note.as_deref()).await?;
                eprintln!(
                    "approval {} approved and run: {}{}",
                    done.id,
                    done.status,
                    done.result_status
                        .map(|s| format!(" (Notion answered {s})"))
                        .unwrap_or_default()
                );
                Ok(())
            })
        }
        ApprovalsCommand::Deny { id, note, store } => {
            let id = approval_id(&id)?;
            with_admin!(&store, None, |a| {
                let actor = a.actor().await?;
                let done = a.gate.deny(&actor, id, note.as_deref()).await?;
                eprintln!("approval {} denied", done.id);
                Ok(())
            })
        }
    }
}

fn approval_id(s: &str) -> Result<ApprovalId> {
    s.parse::<ApprovalId>().map_err(|_| {
        anyhow!("invalid approval ID {s:?}: expected a UUID (see `notion-gate approvals list`)")
    })
}

// ---- audit ------------------------------------------------------------------------------

/// `notion-gate audit …`.
pub async fn audit(cmd: AuditCommand) -> Result<()> {
    match cmd {
        AuditCommand::Tail {
            lines,
            follow,
            store,
        } => with_admin!(&store, None, |a| tail(&a, lines, follow).await),
        AuditCommand::Export { out, store } => with_admin!(&store, None, |a| {
            let actor = a.actor().await?;
            // Through the gate's audit access check, then the store's paging export.
            a.gate
                .query_audit(&actor, AuditQuery::new().limit(1))
                .await?;
            let query = AuditQuery::new();
            let written = match &out {
                Some(path) => {
                    let mut file = tokio::fs::File::create(path)
                        .await
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    a.gate.store().export_audit_jsonl(&query, &mut file).await?
                }
                None => {
                    let mut stdout = tokio::io::stdout();
                    a.gate
                        .store()
                        .export_audit_jsonl(&query, &mut stdout)
                        .await?
                }
            };
            eprintln!("{written} audit event(s) exported");
            Ok(())
        }),
    }
}

struct Names {
    users: HashMap<gate_store::UserId, String>,
    agents: HashMap<AgentId, String>,
}

impl Names {
    async fn load(a: &Admin, actor: &Caller) -> Result<Self> {
        Ok(Self {
            users: a.user_names(actor).await?,
            agents: a
                .gate
                .list_agents(actor)
                .await?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect(),
        })
    }

    fn line(&self, e: &AuditEvent) -> String {
        let r = &e.record;
        let who = match (r.call.agent_id, r.call.user_id) {
            (Some(id), _) => format!(
                "agent:{}",
                self.agents
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            ),
            (None, Some(id)) => format!(
                "{}:{}",
                r.call.caller_kind,
                self.users
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            ),
            (None, None) => r.call.caller_kind.to_string(),
        };
        let mut line = format!(
            "{}  {:<5} {:<16} {:<18} {:<6} {}/{}",
            time(r.call.at),
            r.call.surface.as_str(),
            who,
            r.call.operation,
            r.call.action_class.as_deref().unwrap_or("-"),
            r.decision,
            r.outcome
        );
        if let Some(s) = r.upstream_status {
            line.push_str(&format!(" {s}"));
        }
        if let Some(ms) = r.duration_ms {
            line.push_str(&format!(" {ms}ms"));
        }
        if let Some(reason) = &r.reason {
            line.push_str(&format!(" ({reason})"));
        }
        if r.outcome == gate_store::Outcome::Unknown {
            line.push_str("  RESULT UNKNOWN: this write may or may not have happened in Notion");
        }
        let recovered = r
            .args_summary
            .as_ref()
            .and_then(|a| a.get("recovered"))
            .and_then(serde_json::Value::as_bool)
            == Some(true);
        if recovered {
            line.push_str("  [settled after its process stopped]");
        }
        line.push('\n');
        line
    }
}

async fn tail(a: &Admin, lines: u32, follow: bool) -> Result<()> {
    let actor = a.actor().await?;
    let mut names = Names::load(a, &actor).await?;
    let page = a
        .gate
        .query_audit(
            &actor,
            AuditQuery::new()
                .order(AuditOrder::NewestFirst)
                .limit(lines.max(1)),
        )
        .await?;
    let mut last = page.events.first().map(|e| e.id);
    let mut text = String::new();
    for e in page.events.iter().rev().take(lines as usize) {
        text.push_str(&names.line(e));
    }
    print_stdout(&text)?;
    if !follow {
        return Ok(());
    }
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let page = a
            .gate
            .query_audit(
                &actor,
                AuditQuery::new()
                    .order(AuditOrder::OldestFirst)
                    .cursor(last.map(AuditCursor::after))
                    .limit(500),
            )
            .await?;
        if page.events.is_empty() {
            continue;
        }
        let unknown = page.events.iter().any(|e| {
            e.record
                .call
                .agent_id
                .is_some_and(|id| !names.agents.contains_key(&id))
                || e.record
                    .call
                    .user_id
                    .is_some_and(|id| !names.users.contains_key(&id))
        });
        if unknown {
            names = Names::load(a, &actor).await?;
        }
        let mut text = String::new();
        for e in &page.events {
            text.push_str(&names.line(e));
            last = Some(e.id);
        }
        print_stdout(&text)?;
    }
}

// ---- keys -------------------------------------------------------------------------------

/// `notion-gate keys rotate`: every stored token re-encrypted with the first vault key.
pub async fn keys(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Rotate { store } => with_admin!(&store, None, |a| {
            a.actor().await?;
            let vault = setup::open_vault(&a.settings)?;
            let report = a.gate.store().reencrypt_all(&vault).await?;
            print_stdout(&format!(
                "re-encrypted {} token(s) with key {}; {} already used it; {} undecryptable\n",
                report.rewritten,
                vault.primary_key_id().as_str(),
                report.unchanged,
                report.undecryptable.len()
            ))?;
            if !report.undecryptable.is_empty() {
                let ids: Vec<String> = report.undecryptable.iter().map(|c| c.to_string()).collect();
                bail!(
                    "{} connection(s) could not be decrypted with any configured key and must be \
                     reconnected: {}",
                    ids.len(),
                    ids.join(", ")
                );
            }
            Ok(())
        }),
    }
}
