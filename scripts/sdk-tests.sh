#!/usr/bin/env bash
# Real-client tests of the Notion-compatible proxy (/v1): Notion's own SDKs, pointed at a
# sandbox gateway with agent keys as their tokens.
#
#   scripts/sdk-tests.sh            # build, start a sandbox, run both SDK scenarios, check the audit
#
# Steps: build `notion-gate` (debug; SDK_TESTS_PROFILE=release for a release build; honours
# CARGO_TARGET_DIR), start `notion-gate sandbox --listen 127.0.0.1:0` on a temporary data
# folder, add an intern, a supervised and an autonomous agent with the CLI, install the
# pinned SDKs into ${SDK_CACHE:-/var/tmp/notion-gate-sdk} if they are not there yet, run
# tests/sdk/python_sdk.py (notion-client) and tests/sdk/node_sdk.mjs (@notionhq/client),
# then tests/sdk/python_mcp_tasks.py (the Python MCP SDK `mcp`: a held write as an MCP task,
# approved, denied with a note, cancelled),
# stop the sandbox (SIGTERM; it flushes the audit), then check that `audit export` holds
# exactly one `surface == "proxy"` record per HTTP request each script sent, per agent, with
# the expected refusals. Last, the shared-rate scenario: `notion-emulator --rate 3 --burst 10`
# and `notion-gate serve` in front of it; ten agents with their own Python SDK clients share
# the one connection through the proxy and see no 429 (tests/sdk/python_shared_rate.py), while
# ten SDK clients using the token directly do. The last line is `N passed, M failed`; the exit status is non-zero
# on any failure. SDK_TESTS_KEEP=1 keeps the temporary folder (always kept on failure).
#
# Needs: cargo, python3 with pip, node >= 18 with npm; PyPI and npm reachable on the first run.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

PY_SDK_VERSION=2.7.0      # notion-client: newest 2.x on PyPI
NODE_SDK_VERSION=5.26.0   # @notionhq/client: newest 5.x on npm
MCP_SDK_VERSION=2.3.0     # mcp (the official Python MCP SDK): newest on PyPI
export NOTION_VERSION=2025-09-03
SDK_CACHE=${SDK_CACHE:-/var/tmp/notion-gate-sdk}
PROFILE=${SDK_TESTS_PROFILE:-debug}
PYTHON=${PYTHON:-python3}
AGENTS=(intern supervised autonomous)

# The gateway must see only what this script gives it (no stray database URL, config file,
# local-only switch or Notion token from the caller's environment).
while read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(NOTION_GATE_|NOTION_API_KEY$|NOTION_CLIENT_|NOTION_REDIRECT_URI$|ATOM_LOCAL_ONLY$)')
export NO_COLOR=1 RUST_LOG=info PIP_ROOT_USER_ACTION=ignore

passed=0
failed=0
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
log() { printf '\n==> %s\n' "$*"; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/notion-gate-sdk-tests.XXXXXX")
DATA=$WORK/data
SANDBOX_LOG=$WORK/sandbox.log
SANDBOX_PID=
EMU_PID=
SERVE_PID=

stop_sandbox() {
  [ -n "$SANDBOX_PID" ] || return 0
  kill -TERM "$SANDBOX_PID" 2>/dev/null || { SANDBOX_PID=; return 0; }
  local i
  for i in $(seq 1 150); do
    kill -0 "$SANDBOX_PID" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$SANDBOX_PID" 2>/dev/null; then
    kill -KILL "$SANDBOX_PID" 2>/dev/null
    wait "$SANDBOX_PID" 2>/dev/null
    SANDBOX_PID=
    return 1
  fi
  wait "$SANDBOX_PID"
  local rc=$?
  SANDBOX_PID=
  return $rc
}

finish() {
  stop_sandbox >/dev/null 2>&1
  local p
  for p in $SERVE_PID $EMU_PID; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ "$failed" -eq 0 ] && [ "${SDK_TESTS_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    printf '\n(kept %s: sandbox.log, data/, *.out)\n' "$WORK"
  fi
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [ "$failed" -eq 0 ]
}
trap 'finish; exit $?' EXIT
trap 'fail "interrupted"; exit 130' INT TERM

abort() { fail "$*"; exit 1; }

# --- build --------------------------------------------------------------------------------
log "building notion-gate ($PROFILE)"
build_flags=(-p notion-gate -p notion-emulator --bins)
[ "$PROFILE" = release ] && build_flags+=(--release)
cargo build "${build_flags[@]}" || abort "cargo build ${build_flags[*]}"
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])') \
  || abort "cargo metadata (target directory)"
BIN=$TARGET_DIR/$PROFILE/notion-gate
[ -x "$BIN" ] || abort "no binary at $BIN"
EMU_BIN=$TARGET_DIR/$PROFILE/notion-emulator
[ -x "$EMU_BIN" ] || abort "no binary at $EMU_BIN"
pass "built $BIN and $EMU_BIN"

# --- SDKs ----------------------------------------------------------------------------------
log "SDKs (cache: $SDK_CACHE)"
mkdir -p "$SDK_CACHE" || abort "cannot create $SDK_CACHE"
# pip_cached DIR NAME VERSION: NAME==VERSION installed into DIR once (`.complete` marks a
# finished install; a half-done one is never left at DIR).
pip_cached() {
  local dir=$1 name=$2 version=$3 tmp
  [ -f "$dir/.complete" ] && return 0
  tmp=$(mktemp -d "$SDK_CACHE/.$name.XXXXXX")
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$tmp" "$name==$version" \
    || { rm -rf "$tmp"; abort "pip install $name==$version"; }
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"   # a concurrent run may have won
}
PY_DIR=$SDK_CACHE/python-notion-client-$PY_SDK_VERSION
pip_cached "$PY_DIR" notion-client "$PY_SDK_VERSION"
MCP_DIR=$SDK_CACHE/python-mcp-$MCP_SDK_VERSION
pip_cached "$MCP_DIR" mcp "$MCP_SDK_VERSION"
NODE_DIR=$SDK_CACHE/node-notionhq-client-$NODE_SDK_VERSION
if [ ! -f "$NODE_DIR/.complete" ]; then
  tmp=$(mktemp -d "$SDK_CACHE/.node.XXXXXX")
  npm install --prefix "$tmp" --no-audit --no-fund --no-save --loglevel=error \
    "@notionhq/client@$NODE_SDK_VERSION" >/dev/null \
    || { rm -rf "$tmp"; abort "npm install @notionhq/client@$NODE_SDK_VERSION"; }
  touch "$tmp/.complete"
  rm -rf "$NODE_DIR"
  mv -T "$tmp" "$NODE_DIR" 2>/dev/null || rm -rf "$tmp"
fi
pass "notion-client $PY_SDK_VERSION in $PY_DIR; mcp $MCP_SDK_VERSION in $MCP_DIR; @notionhq/client $NODE_SDK_VERSION in $NODE_DIR"

# --- sandbox -------------------------------------------------------------------------------
log "starting the sandbox"
mkdir -p "$DATA"
"$BIN" sandbox --listen 127.0.0.1:0 --data-dir "$DATA" >"$SANDBOX_LOG" 2>&1 &
SANDBOX_PID=$!
GATEWAY=
for _ in $(seq 1 300); do
  GATEWAY=$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$SANDBOX_LOG" | head -n1 | sed 's/^listening on //')
  [ -n "$GATEWAY" ] && break
  kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$SANDBOX_LOG"; SANDBOX_PID=; abort "the sandbox exited before listening"; }
  sleep 0.1
done
[ -n "$GATEWAY" ] || { cat "$SANDBOX_LOG"; abort "the sandbox did not log its address within 30 s"; }
ready=
for _ in $(seq 1 100); do
  if "$PYTHON" -c 'import sys,urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1]+"/readyz", timeout=2).status != 200)' "$GATEWAY" 2>/dev/null; then
    ready=1; break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { cat "$SANDBOX_LOG"; abort "$GATEWAY/readyz never answered 200"; }
[ -s "$DATA/sandbox-admin.key" ] || abort "no $DATA/sandbox-admin.key"
pass "sandbox ready at $GATEWAY (pid $SANDBOX_PID)"

for a in "${AGENTS[@]}"; do
  key=$("$BIN" agent add "sdk-$a" --maturity "$a" --data-dir "$DATA" 2>"$WORK/agent-$a.err") \
    || { cat "$WORK/agent-$a.err"; abort "agent add sdk-$a --maturity $a"; }
  [[ "$key" =~ ^nga_[^[:space:]]+$ ]] || abort "agent add sdk-$a printed '$key', not a key"
  export "NG_KEY_${a^^}=$key"
done
"$BIN" agent list --json --data-dir "$DATA" >"$WORK/agents.json" 2>"$WORK/agents.err" \
  || { cat "$WORK/agents.err"; abort "agent list --json"; }
pass "agents added: ${AGENTS[*]}"
export GATEWAY_URL=$GATEWAY

# --- the SDK scenarios ---------------------------------------------------------------------
run_sdk() { # name, command...
  local name=$1; shift
  log "$name"
  local t0=$SECONDS
  "$@" >"$WORK/$name.out" 2>&1
  local rc=$?
  cat "$WORK/$name.out"
  local result
  result=$(grep -E '^RESULT [0-9]+ [0-9]+$' "$WORK/$name.out" | tail -n1)
  if [ -z "$result" ]; then
    fail "$name: no RESULT line (exit $rc)"
    return
  fi
  read -r _ p f <<<"$result"
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail "$name exited $rc"; fi
  grep -qE '^CALLS ' "$WORK/$name.out" || fail "$name: no CALLS line"
  printf '(%s: %d passed, %d failed, %ds)\n' "$name" "$p" "$f" $((SECONDS - t0))
}
PYTHONPATH=$PY_DIR${PYTHONPATH:+:$PYTHONPATH} run_sdk python "$PYTHON" tests/sdk/python_sdk.py
NOTION_SDK_NODE_DIR=$NODE_DIR run_sdk node node tests/sdk/node_sdk.mjs
NG_ADMIN_KEY=$(cat "$DATA/sandbox-admin.key") PYTHONPATH=$MCP_DIR${PYTHONPATH:+:$PYTHONPATH} \
  run_sdk python-mcp-tasks "$PYTHON" tests/sdk/python_mcp_tasks.py

# --- stop, then the audit ------------------------------------------------------------------
log "stopping the sandbox"
if stop_sandbox; then
  pass "sandbox stopped on SIGTERM (exit 0)"
else
  fail "sandbox did not exit cleanly on SIGTERM (see $SANDBOX_LOG)"
  tail -n 20 "$SANDBOX_LOG"
fi

log "audit"
if "$BIN" audit export --data-dir "$DATA" --out "$WORK/audit.jsonl" 2>"$WORK/audit.err"; then
  "$PYTHON" - "$WORK" >"$WORK/audit-check.out" 2>&1 <<'PY'
import collections, json, re, sys
work = sys.argv[1]
agents = {a["name"]: a["id"] for a in json.load(open(f"{work}/agents.json"))}
def calls(name):
    for line in open(f"{work}/{name}.out"):
        if line.startswith("CALLS "):
            return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    return {}
made = {"python": calls("python"), "node": calls("node")}
events = [json.loads(l) for l in open(f"{work}/audit.jsonl") if l.strip()]
proxy = [e for e in events if e.get("surface") == "proxy"]
ok = True
def report(good, msg):
    global ok
    ok &= good
    print(("ok    " if good else "FAIL  ") + msg)
want_total = sum(c.get("total", 0) for c in made.values())
report(len(proxy) == want_total and want_total > 0,
       f"audit: {len(proxy)} proxy records for {want_total} proxied calls "
       f"(python {made['python'].get('total')}, node {made['node'].get('total')}); {len(events)} records in all")
# Refusals the scenario expects, per agent and script: intern create/append/upload/trash
# denied; supervised create/append/upload held for approval, trash denied.
want_refusals = {"sdk-intern": {"deny": 4}, "sdk-supervised": {"needs_approval": 3, "deny": 1}, "sdk-autonomous": {}}
for short in ("intern", "supervised", "autonomous"):
    name = f"sdk-{short}"
    aid = agents.get(name)
    mine = [e for e in proxy if e.get("agent_id") == aid]
    want = sum(c.get(short, 0) for c in made.values())
    decisions = collections.Counter(str(e.get("decision")) for e in mine)
    report(len(mine) == want, f"audit: {name}: {len(mine)} proxy records, {want} calls made; decisions {dict(decisions)}")
    refused = {k: v for k, v in decisions.items() if k != "allow"}
    expected = {k: v * 2 for k, v in want_refusals[name].items()}
    report(refused == expected, f"audit: {name}: refusals {refused}, expected {expected}")
    bad = [(e.get("operation"), e.get("outcome"), e.get("upstream_status")) for e in mine
           if e.get("decision") == "allow" and (e.get("outcome") != "ok" or e.get("upstream_status") != 200)]
    report(not bad, f"audit: {name}: every allowed call ran with Notion answering 200" + (f"; not: {bad}" if bad else ""))
others = [e for e in proxy if e.get("agent_id") not in agents.values()]
report(not others, f"audit: {len(others)} proxy records from other callers")
sys.exit(0 if ok else 1)
PY
  cat "$WORK/audit-check.out"
  while read -r line; do
    case $line in
      "ok    "*) passed=$((passed + 1)) ;;
      "FAIL  "*) failed=$((failed + 1)) ;;
    esac
  done <"$WORK/audit-check.out"
  grep -qE '^(ok|FAIL)  ' "$WORK/audit-check.out" || fail "audit check crashed"
else
  cat "$WORK/audit.err"
  fail "notion-gate audit export"
fi

# --- shared rate: ten agents, one connection, Notion's rate ---------------------------------
log "shared rate: ten agents through the proxy vs ten direct SDKs (emulator at 3 req/s, burst 10)"
RATE=$WORK/rate
mkdir -p "$RATE/data"
RATE_TOKEN="ntn_shared_rate_$$_$RANDOM"
# first_url LOG PATTERN: the first http://127.0.0.1:PORT on a log line matching PATTERN.
first_url() { grep -E "$2" "$1" 2>/dev/null | grep -oE 'http://127\.0\.0\.1:[0-9]+' | head -n1; }
"$EMU_BIN" --listen 127.0.0.1:0 --rate 3 --burst 10 --token "$RATE_TOKEN" >"$RATE/emulator.log" 2>&1 &
EMU_PID=$!
EMU_URL=
for _ in $(seq 1 100); do EMU_URL=$(first_url "$RATE/emulator.log" listening); [ -n "$EMU_URL" ] && break; sleep 0.1; done
PAGE_ID=$(grep -oE 'root_page: "[0-9a-f-]+"' "$RATE/emulator.log" | head -n1 | grep -oE '[0-9a-f-]{36}')
if [ -z "$EMU_URL" ] || [ -z "$PAGE_ID" ]; then
  cat "$RATE/emulator.log"; fail "notion-emulator did not start (url '$EMU_URL', page '$PAGE_ID')"
else
  "$BIN" serve --listen 127.0.0.1:0 --data-dir "$RATE/data" --notion-url "$EMU_URL" >"$RATE/serve.log" 2>&1 &
  SERVE_PID=$!
  SERVE_URL=
  for _ in $(seq 1 300); do SERVE_URL=$(first_url "$RATE/serve.log" 'listening on'); [ -n "$SERVE_URL" ] && break; sleep 0.1; done
  keys=
  if [ -z "$SERVE_URL" ]; then
    cat "$RATE/serve.log"; fail "notion-gate serve did not start"
  elif ! "$BIN" connect --token "$RATE_TOKEN" --notion-url "$EMU_URL" --data-dir "$RATE/data" >"$RATE/connect.out" 2>"$RATE/connect.err"; then
    cat "$RATE/connect.err"; fail "notion-gate connect --token (emulator at 3 req/s)"
  else
    for i in $(seq 1 10); do
      k=$("$BIN" agent add "reader-$i" --maturity intern --data-dir "$RATE/data" 2>>"$RATE/agents.err") \
        || { cat "$RATE/agents.err"; fail "agent add reader-$i"; keys=; break; }
      keys="$keys${keys:+,}$k"
    done
  fi
  if [ -n "$keys" ]; then
    sleep 4   # the connection check spent one request: start the run from a full bucket
    GATEWAY_URL=$SERVE_URL EMULATOR_URL=$EMU_URL NOTION_TOKEN=$RATE_TOKEN AGENT_KEYS=$keys PAGE_ID=$PAGE_ID \
      PYTHONPATH=$PY_DIR${PYTHONPATH:+:$PYTHONPATH} run_sdk python-shared-rate "$PYTHON" tests/sdk/python_shared_rate.py
    # The gateway's own view: no upstream 429 while the agents read.
    if curl -fsS "$SERVE_URL/metrics" >"$RATE/metrics.txt" 2>/dev/null; then
      if grep -E '^notion_upstream_requests_total\{[^}]*status="429"' "$RATE/metrics.txt" | grep -vqE ' 0$'; then
        fail "gateway metrics: Notion answered 429s: $(grep -E 'status="429"' "$RATE/metrics.txt")"
      elif ! grep -qE '^notion_upstream_requests_total\{[^}]*status="200"' "$RATE/metrics.txt"; then
        fail "gateway metrics: no notion_upstream_requests_total series for status 200"
      else
        pass "gateway metrics: no 429 from Notion; $(grep -E '^notion_upstream_requests_total' "$RATE/metrics.txt" | tr '\n' ' ')"
      fi
    else
      fail "GET $SERVE_URL/metrics"
    fi
  fi
fi
