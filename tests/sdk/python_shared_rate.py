"""Ten agents, each with its own notion-client (the official Python SDK), share one Notion
connection through the gateway's proxy while the emulator enforces 3 requests/s with a burst
of 10 for that connection's token. None of them may see a 429. Then ten SDK clients go to the
emulator directly with the token itself: they do see 429s (the SDK does not retry them).

Environment: GATEWAY_URL, EMULATOR_URL, NOTION_TOKEN, AGENT_KEYS (comma-separated),
PAGE_ID, READS_PER_AGENT (default 3). Prints `ok`/`FAIL` lines, then `CALLS total=N` (requests
sent through the proxy) and `RESULT passed failed`.
"""

import os
import sys
import threading
import time

from notion_client import APIErrorCode, APIResponseError, Client

GATEWAY = os.environ["GATEWAY_URL"]
EMULATOR = os.environ["EMULATOR_URL"]
TOKEN = os.environ["NOTION_TOKEN"]
KEYS = [k for k in os.environ["AGENT_KEYS"].split(",") if k]
PAGE = os.environ["PAGE_ID"]
READS = int(os.environ.get("READS_PER_AGENT", "3"))

passed = failed = 0


def check(good, msg):
    global passed, failed
    if good:
        passed += 1
        print("ok    " + msg)
    else:
        failed += 1
        print("FAIL  " + msg)


def run(base_url, tokens):
    """Each token gets its own SDK client on its own thread, reading PAGE READS times."""
    lock = threading.Lock()
    seen = {"ok": 0, "rate_limited": 0, "other": []}

    def agent(token):
        client = Client(auth=token, base_url=base_url, timeout_ms=120_000)
        for _ in range(READS):
            try:
                page = client.pages.retrieve(page_id=PAGE)
                assert page["object"] == "page"
                outcome = "ok"
            except APIResponseError as e:
                outcome = "rate_limited" if e.code == APIErrorCode.RateLimited else f"{e.code}: {e}"
            except Exception as e:  # noqa: BLE001 - report anything else as a failure
                outcome = f"{type(e).__name__}: {e}"
            with lock:
                if outcome in ("ok", "rate_limited"):
                    seen[outcome] += 1
                else:
                    seen["other"].append(outcome)

    threads = [threading.Thread(target=agent, args=(t,)) for t in tokens]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen, time.monotonic() - t0


check(len(KEYS) == 10, f"{len(KEYS)} agent keys")
via, took = run(GATEWAY, KEYS)
total = len(KEYS) * READS
check(via["rate_limited"] == 0, f"proxy: no agent saw a 429 ({via['rate_limited']} seen)")
check(not via["other"], f"proxy: no other error ({via['other'][:3]})")
check(via["ok"] == total, f"proxy: {via['ok']}/{total} reads succeeded in {took:.1f} s")

time.sleep(4)  # let the emulator's bucket refill, so the direct run starts from a full burst
direct, took = run(EMULATOR, [TOKEN] * len(KEYS))
check(direct["rate_limited"] > 0,
      f"direct: ten SDKs sharing the token saw {direct['rate_limited']} 429s "
      f"({direct['ok']} ok) in {took:.1f} s")
check(not direct["other"], f"direct: only 429s go wrong ({direct['other'][:3]})")

print(f"CALLS total={total}")
print(f"RESULT {passed} {failed}")
sys.exit(1 if failed else 0)
