#!/usr/bin/env python3
"""Real-client test of the Notion-compatible proxy with the official-community Python SDK
(`notion-client`, PyPI): for an intern, a supervised and an autonomous agent it searches,
reads a page with 250 children across pagination, queries a data source with a filter,
creates a page, appends blocks, uploads a 30 MB file in parts (SDK `file_uploads`) and attaches
it, and tries to trash a page, and asserts what the SDK saw.

Environment: GATEWAY_URL (http://127.0.0.1:PORT), NG_KEY_INTERN, NG_KEY_SUPERVISED,
NG_KEY_AUTONOMOUS (agent keys), NOTION_VERSION (default 2025-09-03).

Output: one line per step (`ok` / `FAIL`), then `CALLS <agent>=<n> ... total=<n>` (HTTP
requests actually sent, counted by an httpx hook, so SDK retries would be counted too) and
`RESULT <passed> <failed>`. Exit status 0 only if every step passed.
"""

import json
import os
import sys
import time
import traceback
from importlib.metadata import version as dist_version

import httpx
from notion_client import APIResponseError, Client

GATEWAY = os.environ["GATEWAY_URL"].rstrip("/")
VERSION = os.environ.get("NOTION_VERSION", "2025-09-03")
AGENTS = [
    ("intern", os.environ["NG_KEY_INTERN"]),
    ("supervised", os.environ["NG_KEY_SUPERVISED"]),
    ("autonomous", os.environ["NG_KEY_AUTONOMOUS"]),
]
BIG_PAGE_CHILDREN = 250
TASKS_DONE_ROWS = 4  # the demo's Tasks rows 3, 6, 9 and 12 have Done = true

passed = 0
failed = 0
calls = {}


class Check(Exception):
    """A failed assertion about what the SDK saw."""


def check(cond, what):
    if not cond:
        raise Check(what)


def step(agent, name, fn):
    """Runs one step; prints `ok`/`FAIL` with a short detail; returns fn's value or None."""
    global passed, failed
    t0 = time.monotonic()
    try:
        detail, value = fn()
        passed += 1
        ms = (time.monotonic() - t0) * 1000
        print(f"ok    python/{agent:<10} {name:<22} {ms:6.0f}ms  {detail}", flush=True)
        return value
    except Exception as e:  # noqa: BLE001 - a step fails on anything
        failed += 1
        kind = "" if isinstance(e, Check) else f"{type(e).__name__}: "
        msg = f"{kind}{e}"
        if isinstance(e, APIResponseError):
            msg += f" [status {e.status}, code {e.code}, body {e.body}]"
        print(f"FAIL  python/{agent:<10} {name:<22} {msg}", flush=True)
        if not isinstance(e, (Check, APIResponseError)):
            traceback.print_exc(file=sys.stdout)
        return None


def expect_refusal(fn, gateway_code, needed=None, approval=False):
    """Calls fn, which must raise APIResponseError restricted_resource with these fields."""
    try:
        fn()
    except APIResponseError as e:
        body = json.loads(e.body)
        data = e.additional_data or {}
        check(e.status == 403, f"status {e.status}, expected 403 (body {e.body})")
        check(e.code == "restricted_resource", f"code {e.code!r} (body {e.body})")
        check(body.get("code") == "restricted_resource", f"body code {body.get('code')!r}")
        check(data.get("gateway_code") == gateway_code,
              f"gateway_code {data.get('gateway_code')!r}, expected {gateway_code!r} (body {e.body})")
        check(gateway_code in str(e), f"message lacks {gateway_code!r}: {e}")
        if needed is not None:
            check("needed_maturity" in e.body, f"needed_maturity not in body {e.body}")
            check(data.get("needed_maturity") == needed,
                  f"needed_maturity {data.get('needed_maturity')!r}, expected {needed!r}")
        if approval:
            check(isinstance(data.get("approval_id"), str) and len(data["approval_id"]) >= 32,
                  f"approval_id missing in {e.body}")
            check(data["approval_id"] in str(e), "message lacks the approval id")
            check(data.get("status_url") == f"{GATEWAY}/api/v1/approvals/{data['approval_id']}",
                  f"status_url {data.get('status_url')!r} (body {e.body})")
        extra = f" needed={data.get('needed_maturity')}" if needed else ""
        extra += f" approval={data.get('approval_id')}" if approval else ""
        return f"refused: {e.code}/{data.get('gateway_code')}{extra}", data
    raise Check(f"expected a restricted_resource refusal ({gateway_code}), the call succeeded")


def title_of(obj):
    # Databases and data sources carry their title at the top (their `properties` is a schema).
    if obj.get("object") in ("database", "data_source"):
        return "".join(t.get("plain_text", "") for t in obj.get("title", []) or [])
    props = obj.get("properties") or {}
    for p in props.values():
        if isinstance(p, dict) and p.get("type") == "title":
            return "".join(t.get("plain_text", "") for t in p.get("title", []))
    return "".join(t.get("plain_text", "") for t in obj.get("title", []) or [])


def run_agent(agent, key):
    counter = {"n": 0}

    def count(_request):
        counter["n"] += 1

    http = httpx.Client(event_hooks={"request": [count]})
    notion = Client(auth=key, base_url=GATEWAY, notion_version=VERSION, client=http)
    ctx = {}

    def search_big_page():
        r = notion.search(query="Big Page", filter={"property": "object", "value": "page"})
        check(r.get("object") == "list", f"search answered {r.get('object')!r}")
        hits = [p for p in r["results"] if title_of(p) == "Big Page"]
        check(len(hits) == 1, f"{len(hits)} pages titled 'Big Page' in {len(r['results'])} results")
        ctx["big"] = hits[0]["id"]
        parent = hits[0].get("parent", {})
        check(parent.get("type") == "page_id", f"Big Page parent {parent}")
        ctx["root"] = parent["page_id"]
        return f"{len(r['results'])} result(s); Big Page {ctx['big']}", None

    def read_big_page():
        check("big" in ctx, "no Big Page (search failed)")
        page = notion.pages.retrieve(page_id=ctx["big"])
        check(page.get("object") == "page" and title_of(page) == "Big Page", "retrieve: not the Big Page")
        blocks, cursor, requests = [], None, 0
        while True:
            kw = {"block_id": ctx["big"], "page_size": 100}
            if cursor:
                kw["start_cursor"] = cursor
            r = notion.blocks.children.list(**kw)
            requests += 1
            check(len(r["results"]) <= 100, f"page of {len(r['results'])} blocks")
            blocks.extend(r["results"])
            if not r.get("has_more"):
                check(r.get("next_cursor") is None, "has_more false but a next_cursor")
                break
            cursor = r["next_cursor"]
            check(cursor, "has_more without next_cursor")
            check(requests < 10, "pagination does not end")
        texts = ["".join(t["plain_text"] for t in b["paragraph"]["rich_text"])
                 for b in blocks if b.get("type") == "paragraph"]
        check(len(blocks) == BIG_PAGE_CHILDREN, f"{len(blocks)} children, expected {BIG_PAGE_CHILDREN}")
        check(texts == [f"Paragraph {i}" for i in range(1, BIG_PAGE_CHILDREN + 1)],
              "children not 'Paragraph 1..250' in order")
        check(len({b["id"] for b in blocks}) == len(blocks), "duplicate block ids across pages")
        check(requests == 3, f"{requests} list requests, expected 3 (100+100+50)")
        return f"page + {len(blocks)} children in {requests} pages", None

    def find_tasks():
        r = notion.search(query="Tasks", filter={"property": "object", "value": "data_source"})
        hits = [d for d in r["results"] if d.get("object") == "data_source" and title_of(d) == "Tasks"]
        check(len(hits) == 1, f"{len(hits)} data sources titled 'Tasks' in {[title_of(d) for d in r['results']]}")
        ctx["tasks"] = hits[0]["id"]
        return f"Tasks data source {ctx['tasks']}", None

    def query_tasks():
        check("tasks" in ctx, "no Tasks data source (search failed)")
        # 2025-09-03: data sources are queried at /v1/data_sources/{id}/query.
        check(hasattr(notion, "data_sources"), "this SDK has no data_sources endpoint")
        r = notion.data_sources.query(
            data_source_id=ctx["tasks"],
            filter={"property": "Done", "checkbox": {"equals": True}},
        )
        rows = r["results"]
        check(len(rows) == TASKS_DONE_ROWS, f"{len(rows)} rows, expected {TASKS_DONE_ROWS}")
        check(all(p["properties"]["Done"]["checkbox"] is True for p in rows), "a row with Done false")
        check(not r.get("has_more"), "has_more on a 4-row answer")
        return f"{len(rows)} rows with Done=true: {', '.join(title_of(p) for p in rows)}", None

    def create():
        check("root" in ctx, "no parent page (search failed)")
        props = {"title": {"title": [{"text": {"content": f"SDK test: python {agent}"}}]}}
        call = lambda: notion.pages.create(parent={"page_id": ctx["root"]}, properties=props)  # noqa: E731
        if agent == "intern":
            return expect_refusal(call, "forbidden_by_policy", needed="supervised")
        if agent == "supervised":
            return expect_refusal(call, "approval_required", approval=True)
        page = call()
        check(page.get("object") == "page" and title_of(page) == f"SDK test: python {agent}",
              f"created {page.get('object')} {title_of(page)!r}")
        ctx["created"] = page["id"]
        return f"created page {page['id']}", None

    def append():
        target = ctx.get("created") or ctx.get("root")
        check(target, "no target page")
        children = [
            {"object": "block", "type": "paragraph",
             "paragraph": {"rich_text": [{"type": "text", "text": {"content": f"Appended by {agent}"}}]}},
            {"object": "block", "type": "to_do",
             "to_do": {"rich_text": [{"type": "text", "text": {"content": "check the audit"}}], "checked": False}},
        ]
        call = lambda: notion.blocks.children.append(block_id=target, children=children)  # noqa: E731
        if agent == "intern":
            return expect_refusal(call, "forbidden_by_policy", needed="supervised")
        if agent == "supervised":
            return expect_refusal(call, "approval_required", approval=True)
        check("created" in ctx, "no created page to append to")
        r = call()
        got = [b.get("type") for b in r["results"]]
        check(got == ["paragraph", "to_do"], f"append answered {got}")
        listed = notion.blocks.children.list(block_id=ctx["created"])
        check([b["type"] for b in listed["results"]] == ["paragraph", "to_do"],
              f"new page children {[b['type'] for b in listed['results']]}")
        return "appended 2 blocks, read back", None

    def upload():
        # A 30 MB file in Notion's multi-part mode (three parts of 10 MiB, one in memory at a
        # time), completed and attached to the created page as a file block.
        part, parts = 10 * 1024 * 1024, 3
        call = lambda: notion.file_uploads.create(  # noqa: E731
            mode="multi_part", filename="report.bin", number_of_parts=parts,
            content_type="application/octet-stream")
        if agent == "intern":
            return expect_refusal(call, "forbidden_by_policy", needed="supervised")
        if agent == "supervised":
            return expect_refusal(call, "approval_required", approval=True)
        check("created" in ctx, "no created page to attach to")
        up = call()
        check(up.get("status") == "pending", f"created upload {up.get('status')!r}")
        for n in range(1, parts + 1):
            r = notion.file_uploads.send(
                file_upload_id=up["id"],
                file=("report.bin", bytes(part), "application/octet-stream"),
                part_number=str(n))
            check(r["number_of_parts"]["sent"] == n, f"part {n}: {r.get('number_of_parts')}")
        done = notion.file_uploads.complete(file_upload_id=up["id"])
        check(done.get("status") == "uploaded", f"completed upload {done.get('status')!r}")
        check(done.get("content_length") == part * parts, f"content_length {done.get('content_length')}")
        r = notion.blocks.children.append(block_id=ctx["created"], children=[
            {"type": "file", "file": {"type": "file_upload", "file_upload": {"id": up["id"]}}}])
        check(r["results"][0].get("type") == "file", f"attached as {r['results'][0].get('type')!r}")
        return f"30 MB in {parts} parts, attached as a file block", None

    def trash():
        if agent == "autonomous":
            check("created" in ctx, "no created page to trash")
            page = notion.pages.update(page_id=ctx["created"], in_trash=True)
            check(page.get("in_trash") is True, f"in_trash {page.get('in_trash')!r}")
            return f"trashed {page['id']}", None
        check("big" in ctx, "no page to try to trash")
        call = lambda: notion.pages.update(page_id=ctx["big"], in_trash=True)  # noqa: E731
        return expect_refusal(call, "forbidden_by_policy", needed="autonomous")

    step(agent, "search", search_big_page)
    step(agent, "read page + children", read_big_page)
    step(agent, "search data source", find_tasks)
    step(agent, "query data source", query_tasks)
    step(agent, "create page", create)
    step(agent, "append blocks", append)
    step(agent, "upload file", upload)
    step(agent, "trash page", trash)
    http.close()
    calls[agent] = counter["n"]


def main():
    print(f"python notion-client {dist_version('notion-client')}, Notion-Version {VERSION}, gateway {GATEWAY}", flush=True)
    for agent, key in AGENTS:
        run_agent(agent, key)
    total = sum(calls.values())
    print("CALLS " + " ".join(f"{a}={n}" for a, n in calls.items()) + f" total={total}", flush=True)
    print(f"RESULT {passed} {failed}", flush=True)
    sys.exit(0 if failed == 0 else 1)


if __name__ == "__main__":
    main()
