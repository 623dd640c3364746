#!/usr/bin/env python3
"""Real-client test of MCP tasks for held calls with the official Python MCP SDK (`mcp`,
PyPI), over streamable HTTP at /mcp with the supervised agent's key.

The SDK has no built-in tasks API; it has the extension interface (`ClientExtension` with a
`ResultClaim`), with which this client declares `io.modelcontextprotocol/tasks` (SEP-2663,
what the gateway's rmcp implements), claims tools/call's `resultType: "task"` answer, and
polls `tasks/get` until the task ends. Three held `create_page` calls: approved by a human
(the task completes with the created page's id, which Notion, here the sandbox, then has),
denied with a note (a tool error carrying the note), and cancelled by the agent (the approval
is withdrawn). The human is the administrator's key on the REST API.

Environment: GATEWAY_URL, NG_KEY_SUPERVISED, NG_ADMIN_KEY.

Output: one line per step (`ok` / `FAIL`), then `CALLS total=0` (no proxied calls) and
`RESULT <passed> <failed>`. Exit status 0 only if every step passed.
"""

import asyncio
import os
import sys
import traceback
from importlib.metadata import version as dist_version
from typing import Literal

import httpx2
from mcp.client.client import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict

GATEWAY = os.environ["GATEWAY_URL"].rstrip("/")
KEY = os.environ["NG_KEY_SUPERVISED"]
ADMIN = os.environ["NG_ADMIN_KEY"]
ROOT_PAGE = "1a2b3c4d5e6f8000a000000000000101"  # the demo workspace's root page

passed = 0
failed = 0


class Check(Exception):
    """A failed assertion about what the client saw."""


def check(cond, what):
    if not cond:
        raise Check(what)


def report(name, detail=None, error=None):
    global passed, failed
    if error is None:
        passed += 1
        print(f"ok    mcp-tasks/{name:<24} {detail}", flush=True)
    else:
        failed += 1
        print(f"FAIL  mcp-tasks/{name:<24} {error}", flush=True)


class TaskHandle(Result):
    """tools/call's answer when the gateway made a task (SEP-2663 `CreateTaskResult`)."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"]
    task_id: str
    status: str
    status_message: str | None = None
    ttl_ms: int | None = None


class TaskIdParams(RequestParams):
    task_id: str


class GetTask(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    name_param = "taskId"


class CancelTask(Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    name_param = "taskId"


class AnyResult(Result):
    model_config = ConfigDict(extra="allow")


# What the human does to each task while the client polls: "approve", "deny" or "cancel"
# (the agent itself cancels).
PLAN: list[str] = []
SEEN: dict = {}


async def human(task_id: str, verb: str) -> int:
    async with httpx2.AsyncClient(timeout=30) as http:
        r = await http.post(
            f"{GATEWAY}/api/v1/approvals/{task_id}/{verb}",
            headers={"Authorization": f"Bearer {ADMIN}"},
            json={"note": "not in the team space"} if verb == "deny" else {"note": "ok"},
        )
        return r.status_code


async def resolve(handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
    verb = PLAN.pop(0)
    SEEN["handle"] = handle
    session = ctx.session
    if verb == "cancel":
        await session.send_request(CancelTask(params=TaskIdParams(task_id=handle.task_id)), AnyResult)
    else:
        SEEN["human_status"] = await human(handle.task_id, verb)
    for _ in range(100):
        got = (await session.send_request(GetTask(params=TaskIdParams(task_id=handle.task_id)), AnyResult)).model_extra or {}
        if got.get("status") != "working":
            SEEN["final"] = got
            if got.get("status") == "completed":
                return CallToolResult.model_validate(got["result"])
            return CallToolResult(content=[], is_error=True)
        await asyncio.sleep(0.1)
    raise Check(f"task {handle.task_id} still working after 10 s")


class Tasks(ClientExtension):
    identifier = "io.modelcontextprotocol/tasks"

    def claims(self):
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=resolve)]


async def approval_status(task_id: str) -> str:
    async with httpx2.AsyncClient(timeout=30) as http:
        r = await http.get(f"{GATEWAY}/api/v1/approvals/{task_id}", headers={"Authorization": f"Bearer {KEY}"})
        return r.json().get("status")


async def scenario(client, verb: str, title: str):
    PLAN.append(verb)
    SEEN.clear()
    result = await client.call_tool("create_page", {"parent": {"page_id": ROOT_PAGE}, "title": title})
    handle = SEEN.get("handle")
    check(handle is not None, "tools/call did not answer with a task")
    check(handle.status == "working", f"task status {handle.status}")
    check("human must approve" in (handle.status_message or ""), f"status message {handle.status_message!r}")
    check(handle.ttl_ms == 24 * 3600 * 1000, f"ttlMs {handle.ttl_ms}")
    return handle, result


async def main() -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
    transport = streamable_http_client(f"{GATEWAY}/mcp", http_client=http)
    async with Client(transport, extensions=[Tasks()], mode="2026-07-28") as client:
        try:
            handle, result = await scenario(client, "approve", "Approved from Python")
            page = result.structured_content or {}
            check(not result.is_error, f"tool error {result.structured_content}")
            check(SEEN["final"]["status"] == "completed", f"final {SEEN['final'].get('status')}")
            check(isinstance(page.get("id"), str) and page.get("title") == "Approved from Python", f"result {page}")
            report("approved", f"task {handle.task_id[:8]}… completed: page {page['id']}")
        except Exception as e:  # noqa: BLE001
            report("approved", error=f"{e!r}\n{traceback.format_exc()}")
        try:
            handle, result = await scenario(client, "deny", "Denied from Python")
            reason = result.structured_content or {}
            check(result.is_error, "a denial is a tool error")
            check(reason.get("error") == "denied" and reason.get("note") == "not in the team space", f"reason {reason}")
            report("denied", f"task {handle.task_id[:8]}… completed with the denial: {reason['note']!r}")
        except Exception as e:  # noqa: BLE001
            report("denied", error=f"{e!r}\n{traceback.format_exc()}")
        try:
            handle, result = await scenario(client, "cancel", "Cancelled from Python")
            check(SEEN["final"]["status"] == "cancelled", f"final {SEEN['final'].get('status')}")
            status = await approval_status(handle.task_id)
            check(status == "withdrawn", f"approval {status}")
            check(await human(handle.task_id, "approve") == 409, "a withdrawn approval can still be approved")
            report("cancelled", f"task {handle.task_id[:8]}… cancelled: approval {status}")
        except Exception as e:  # noqa: BLE001
            report("cancelled", error=f"{e!r}\n{traceback.format_exc()}")


try:
    print(f"mcp {dist_version('mcp')} against {GATEWAY}/mcp", flush=True)
    asyncio.run(main())
except Exception as e:  # noqa: BLE001
    report("session", error=f"{e!r}\n{traceback.format_exc()}")
print("CALLS total=0")
print(f"RESULT {passed} {failed}")
sys.exit(0 if failed == 0 else 1)
