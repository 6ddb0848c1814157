// Drives Debian's chromium for tests/web: one browser, commands as JSON lines on stdin,
// one JSON line back on stdout per command ({"ok": true, "result": ...} or {"ok": false, "error": ...}).
// Usage: node driver.mjs USER_DATA_DIR
import { createRequire } from "node:module";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "node", "package.json"));
const { chromium } = require("playwright-core");

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"];

const context = await chromium.launchPersistentContext(process.argv[2], {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true, args: FLAGS, viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || await context.newPage();
const errors = [];
page.on("pageerror", e => errors.push(String(e)));

const ops = {
  goto: async a => { const r = await page.goto(a.url, { waitUntil: "load" }); return { status: r && r.status(), url: page.url() }; },
  text: async a => { await page.waitForSelector(a.sel, { timeout: a.ms || 10000 }); return page.textContent(a.sel); },
  // Waits (on animation frames) until `js` — a function's source, called with `arg` — is truthy.
  wait_fn: async a => (await page.waitForFunction(([src, arg]) => (0, eval)("(" + src + ")")(arg),
    [a.js, a.arg === undefined ? null : a.arg], { timeout: a.ms || 10000, polling: "raf" })).jsonValue(),
  // `js` is an expression, or a function's source called with `arg`.
  eval: async a => page.evaluate(([src, arg]) => {
    const v = (0, eval)("(" + src + ")");
    return typeof v === "function" ? v(arg) : v;
  }, [a.js, a.arg === undefined ? null : a.arg]),
  click: async a => { await page.click(a.sel, { timeout: a.ms || 10000 }); return null; },
  fill: async a => { await page.fill(a.sel, a.value, { timeout: a.ms || 10000 }); return null; },
  screenshot: async a => {
    if (a.sel) await page.locator(a.sel).first().screenshot({ path: a.path });
    else await page.screenshot({ path: a.path, fullPage: !!a.full });
    return a.path;
  },
  clear_cookies: async () => { await context.clearCookies(); return null; },
  errors: async () => errors.splice(0),
  close: async () => { await context.close(); process.exit(0); },
};

process.stdout.write(JSON.stringify({ ok: true, result: "ready" }) + "\n");
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let reply;
  try {
    const cmd = JSON.parse(line);
    const result = await ops[cmd.op](cmd);
    reply = { ok: true, result: result === undefined ? null : result };
  } catch (e) {
    reply = { ok: false, error: String(e && e.message || e).slice(0, 2000) };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
await context.close();
