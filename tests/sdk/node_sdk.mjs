// Real-client test of the Notion-compatible proxy with Notion's JavaScript SDK
// (`@notionhq/client`, npm): for an intern, a supervised and an autonomous agent it searches,
// reads a page with 250 children across pagination, queries a data source with a filter,
// creates a page, appends blocks, uploads a 30 MB file in parts (SDK `fileUploads`) and attaches
// it, and tries to trash a page, and asserts what the SDK saw.
//
// Environment: GATEWAY_URL (http://127.0.0.1:PORT), NG_KEY_INTERN, NG_KEY_SUPERVISED,
// NG_KEY_AUTONOMOUS (agent keys), NOTION_VERSION (default 2025-09-03), NOTION_SDK_NODE_DIR
// (the npm prefix where @notionhq/client is installed; default: resolve normally).
//
// Output: one line per step (`ok` / `FAIL`), then `CALLS <agent>=<n> ... total=<n>` (HTTP
// requests actually sent, counted by a wrapper around fetch, so the SDK's own retries would
// be counted too) and `RESULT <passed> <failed>`. Exit status 0 only if every step passed.

import { createRequire } from "node:module";
import { join } from "node:path";

const sdkDir = process.env.NOTION_SDK_NODE_DIR;
const require = createRequire(sdkDir ? join(sdkDir, "noop.js") : import.meta.url);
const { Client, APIResponseError, APIErrorCode } = require("@notionhq/client");
const SDK_VERSION = require("@notionhq/client/package.json").version;

const GATEWAY = process.env.GATEWAY_URL.replace(/\/+$/, "");
const VERSION = process.env.NOTION_VERSION || "2025-09-03";
const AGENTS = [
  ["intern", process.env.NG_KEY_INTERN],
  ["supervised", process.env.NG_KEY_SUPERVISED],
  ["autonomous", process.env.NG_KEY_AUTONOMOUS],
];
const BIG_PAGE_CHILDREN = 250;
const TASKS_DONE_ROWS = 4; // the demo's Tasks rows 3, 6, 9 and 12 have Done = true

let passed = 0;
let failed = 0;
const calls = {};

class Check extends Error {}
function check(cond, what) {
  if (!cond) throw new Check(what);
}

async function step(agent, name, fn) {
  const t0 = performance.now();
  try {
    const detail = await fn();
    passed += 1;
    const ms = (performance.now() - t0).toFixed(0).padStart(6);
    console.log(`ok    node/${agent.padEnd(10)}   ${name.padEnd(22)} ${ms}ms  ${detail}`);
  } catch (e) {
    failed += 1;
    let msg = e instanceof Check ? e.message : `${e?.name}: ${e?.message}`;
    if (APIResponseError.isAPIResponseError(e)) msg += ` [status ${e.status}, code ${e.code}, body ${e.body}]`;
    console.log(`FAIL  node/${agent.padEnd(10)}   ${name.padEnd(22)} ${msg}`);
    if (!(e instanceof Check) && !APIResponseError.isAPIResponseError(e)) console.log(e?.stack);
  }
}

async function expectRefusal(fn, gatewayCode, { needed, approval } = {}) {
  let e;
  try {
    await fn();
  } catch (err) {
    e = err;
  }
  check(e !== undefined, `expected a restricted_resource refusal (${gatewayCode}), the call succeeded`);
  if (!APIResponseError.isAPIResponseError(e)) throw e;
  check(e instanceof APIResponseError, "not an instance of APIResponseError");
  const body = JSON.parse(e.body);
  const data = e.additional_data || {};
  check(e.status === 403, `status ${e.status}, expected 403 (body ${e.body})`);
  check(e.code === "restricted_resource", `code ${e.code} (body ${e.body})`);
  check(e.code === APIErrorCode.RestrictedResource, "code is not APIErrorCode.RestrictedResource");
  check(body.code === "restricted_resource", `body code ${body.code}`);
  check(data.gateway_code === gatewayCode, `gateway_code ${data.gateway_code}, expected ${gatewayCode} (body ${e.body})`);
  check(body.additional_data?.gateway_code === gatewayCode, "body.additional_data.gateway_code");
  check(e.message.includes(gatewayCode), `message lacks ${gatewayCode}: ${e.message}`);
  let extra = "";
  if (needed !== undefined) {
    check(data.needed_maturity === needed, `needed_maturity ${data.needed_maturity}, expected ${needed}`);
    extra += ` needed=${data.needed_maturity}`;
  }
  if (approval) {
    check(typeof data.approval_id === "string" && data.approval_id.length >= 32, `approval_id missing in ${e.body}`);
    check(e.message.includes(data.approval_id), "message lacks the approval id");
    check(data.status_url === `${GATEWAY}/api/v1/approvals/${data.approval_id}`, `status_url ${data.status_url} (body ${e.body})`);
    extra += ` approval=${data.approval_id}`;
  }
  return `refused: ${e.code}/${data.gateway_code}${extra}`;
}

function titleOf(obj) {
  // Databases and data sources carry their title at the top (their `properties` is a schema).
  if (obj.object === "database" || obj.object === "data_source") return (obj.title || []).map((t) => t.plain_text).join("");
  for (const p of Object.values(obj.properties || {})) {
    if (p && p.type === "title") return p.title.map((t) => t.plain_text).join("");
  }
  return (obj.title || []).map((t) => t.plain_text).join("");
}

async function runAgent(agent, key) {
  let n = 0;
  const countingFetch = (url, init) => {
    n += 1;
    return fetch(url, init);
  };
  const notion = new Client({
    auth: key,
    baseUrl: GATEWAY,
    notionVersion: VERSION,
    fetch: countingFetch,
    logger: () => {},
  });
  const ctx = {};

  await step(agent, "search", async () => {
    const r = await notion.search({ query: "Big Page", filter: { property: "object", value: "page" } });
    check(r.object === "list", `search answered ${r.object}`);
    const hits = r.results.filter((p) => titleOf(p) === "Big Page");
    check(hits.length === 1, `${hits.length} pages titled 'Big Page' in ${r.results.length} results`);
    ctx.big = hits[0].id;
    check(hits[0].parent?.type === "page_id", `Big Page parent ${JSON.stringify(hits[0].parent)}`);
    ctx.root = hits[0].parent.page_id;
    return `${r.results.length} result(s); Big Page ${ctx.big}`;
  });

  await step(agent, "read page + children", async () => {
    check(ctx.big, "no Big Page (search failed)");
    const page = await notion.pages.retrieve({ page_id: ctx.big });
    check(page.object === "page" && titleOf(page) === "Big Page", "retrieve: not the Big Page");
    const blocks = [];
    let cursor;
    let requests = 0;
    for (;;) {
      const r = await notion.blocks.children.list({ block_id: ctx.big, page_size: 100, start_cursor: cursor });
      requests += 1;
      check(r.results.length <= 100, `page of ${r.results.length} blocks`);
      blocks.push(...r.results);
      if (!r.has_more) {
        check(r.next_cursor === null, "has_more false but a next_cursor");
        break;
      }
      cursor = r.next_cursor;
      check(cursor, "has_more without next_cursor");
      check(requests < 10, "pagination does not end");
    }
    const texts = blocks.filter((b) => b.type === "paragraph").map((b) => b.paragraph.rich_text.map((t) => t.plain_text).join(""));
    check(blocks.length === BIG_PAGE_CHILDREN, `${blocks.length} children, expected ${BIG_PAGE_CHILDREN}`);
    const want = Array.from({ length: BIG_PAGE_CHILDREN }, (_, i) => `Paragraph ${i + 1}`);
    check(JSON.stringify(texts) === JSON.stringify(want), "children not 'Paragraph 1..250' in order");
    check(new Set(blocks.map((b) => b.id)).size === blocks.length, "duplicate block ids across pages");
    check(requests === 3, `${requests} list requests, expected 3 (100+100+50)`);
    return `page + ${blocks.length} children in ${requests} pages`;
  });

  await step(agent, "search data source", async () => {
    const r = await notion.search({ query: "Tasks", filter: { property: "object", value: "data_source" } });
    const hits = r.results.filter((d) => d.object === "data_source" && titleOf(d) === "Tasks");
    check(hits.length === 1, `${hits.length} data sources titled 'Tasks' in ${JSON.stringify(r.results.map(titleOf))}`);
    ctx.tasks = hits[0].id;
    return `Tasks data source ${ctx.tasks}`;
  });

  await step(agent, "query data source", async () => {
    check(ctx.tasks, "no Tasks data source (search failed)");
    check(typeof notion.dataSources?.query === "function", "this SDK has no dataSources.query");
    const r = await notion.dataSources.query({
      data_source_id: ctx.tasks,
      filter: { property: "Done", checkbox: { equals: true } },
    });
    check(r.results.length === TASKS_DONE_ROWS, `${r.results.length} rows, expected ${TASKS_DONE_ROWS}`);
    check(r.results.every((p) => p.properties.Done.checkbox === true), "a row with Done false");
    check(!r.has_more, "has_more on a 4-row answer");
    return `${r.results.length} rows with Done=true: ${r.results.map(titleOf).join(", ")}`;
  });

  await step(agent, "create page", async () => {
    check(ctx.root, "no parent page (search failed)");
    const title = `SDK test: node ${agent}`;
    const call = () =>
      notion.pages.create({
        parent: { page_id: ctx.root },
        properties: { title: { title: [{ text: { content: title } }] } },
      });
    if (agent === "intern") return expectRefusal(call, "forbidden_by_policy", { needed: "supervised" });
    if (agent === "supervised") return expectRefusal(call, "approval_required", { approval: true });
    const page = await call();
    check(page.object === "page" && titleOf(page) === title, `created ${page.object} '${titleOf(page)}'`);
    ctx.created = page.id;
    return `created page ${page.id}`;
  });

  await step(agent, "append blocks", async () => {
    const target = ctx.created || ctx.root;
    check(target, "no target page");
    const children = [
      { object: "block", type: "paragraph", paragraph: { rich_text: [{ type: "text", text: { content: `Appended by ${agent}` } }] } },
      { object: "block", type: "to_do", to_do: { rich_text: [{ type: "text", text: { content: "check the audit" } }], checked: false } },
    ];
    const call = () => notion.blocks.children.append({ block_id: target, children });
    if (agent === "intern") return expectRefusal(call, "forbidden_by_policy", { needed: "supervised" });
    if (agent === "supervised") return expectRefusal(call, "approval_required", { approval: true });
    check(ctx.created, "no created page to append to");
    const r = await call();
    const got = r.results.map((b) => b.type);
    check(JSON.stringify(got) === '["paragraph","to_do"]', `append answered ${got}`);
    const listed = await notion.blocks.children.list({ block_id: ctx.created });
    const types = listed.results.map((b) => b.type);
    check(JSON.stringify(types) === '["paragraph","to_do"]', `new page children ${types}`);
    return "appended 2 blocks, read back";
  });

  await step(agent, "upload file", async () => {
    // A 30 MB file in Notion's multi-part mode (three parts of 10 MiB, one in memory at a
    // time), completed and attached to the created page as a file block.
    const part = 10 * 1024 * 1024;
    const parts = 3;
    const call = () =>
      notion.fileUploads.create({
        mode: "multi_part",
        filename: "report.bin",
        number_of_parts: parts,
        content_type: "application/octet-stream",
      });
    if (agent === "intern") return expectRefusal(call, "forbidden_by_policy", { needed: "supervised" });
    if (agent === "supervised") return expectRefusal(call, "approval_required", { approval: true });
    check(ctx.created, "no created page to attach to");
    const up = await call();
    check(up.status === "pending", `created upload ${up.status}`);
    for (let i = 1; i <= parts; i++) {
      const r = await notion.fileUploads.send({
        file_upload_id: up.id,
        file: { data: new Blob([new Uint8Array(part)]), filename: "report.bin" },
        part_number: String(i),
      });
      check(r.number_of_parts?.sent === i, `part ${i}: ${JSON.stringify(r.number_of_parts)}`);
    }
    const done = await notion.fileUploads.complete({ file_upload_id: up.id });
    check(done.status === "uploaded", `completed upload ${done.status}`);
    check(done.content_length === part * parts, `content_length ${done.content_length}`);
    const r = await notion.blocks.children.append({
      block_id: ctx.created,
      children: [{ type: "file", file: { type: "file_upload", file_upload: { id: up.id } } }],
    });
    check(r.results[0]?.type === "file", `attached as ${r.results[0]?.type}`);
    return `30 MB in ${parts} parts, attached as a file block`;
  });

  await step(agent, "trash page", async () => {
    if (agent === "autonomous") {
      check(ctx.created, "no created page to trash");
      const page = await notion.pages.update({ page_id: ctx.created, in_trash: true });
      check(page.in_trash === true, `in_trash ${page.in_trash}`);
      return `trashed ${page.id}`;
    }
    check(ctx.big, "no page to try to trash");
    return expectRefusal(() => notion.pages.update({ page_id: ctx.big, in_trash: true }), "forbidden_by_policy", {
      needed: "autonomous",
    });
  });

  calls[agent] = n;
}

console.log(`node @notionhq/client ${SDK_VERSION}, Notion-Version ${VERSION}, gateway ${GATEWAY}`);
for (const [agent, key] of AGENTS) await runAgent(agent, key);
const total = Object.values(calls).reduce((a, b) => a + b, 0);
console.log(`CALLS ${Object.entries(calls).map(([a, c]) => `${a}=${c}`).join(" ")} total=${total}`);
console.log(`RESULT ${passed} ${failed}`);
process.exit(failed === 0 ? 0 : 1);
