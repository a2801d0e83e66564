// Test harness for the browser tests: a tiny static file server over the repository
// (bound to 127.0.0.1:0) with an optional mock of the server API, and a headless Chromium
// from the Debian package (never a downloaded browser).

import http from 'node:http';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
};

/**
 * Starts the static server (on `port`, default any free port). `api(request)` may answer
 * /api/ requests: it returns {status, json}, 'drop' (close the connection) or null (404).
 * `overrides` (a Map from a path such as '/web/app.js' to its content) replaces files
 * while the server runs, e.g. to deploy a new version of the app. Resolves to
 * {url, close, requests}.
 */
export async function startServer({ api = null, port: wanted = 0, overrides = null } = {}) {
  const requests = [];
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    try {
      if (url.pathname.startsWith('/api/')) {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = raw ? JSON.parse(raw) : null;
        requests.push({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, body });
        const answer = api ? await api({ method: req.method, path: url.pathname, query: url.searchParams, headers: req.headers, body }) : null;
        if (answer === 'drop') {
          req.socket.destroy();
          return;
        }
        const { status = 404, json = { error: { code: 'not_found', message: 'no such endpoint' } } } = answer ?? {};
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(json));
        return;
      }
      if (overrides?.has(url.pathname)) {
        const type = TYPES[path.extname(url.pathname)] ?? 'application/octet-stream';
        res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
        res.end(overrides.get(url.pathname));
        return;
      }
      let file = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname)));
      if (!file.startsWith(ROOT + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      if (url.pathname.endsWith('/')) file = path.join(file, 'index.html');
      const data = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
      res.end(data);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(wanted, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with a fresh profile directory. */
export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/test.sh (apt-get install -y chromium)`);
  const { chromium } = await import('playwright-core');
  const profile = await mkdtemp(path.join(os.tmpdir(), 'chainsurvey-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1024, height: 1366 },
    locale: 'en-GB',
    // Viet Nam's offset, so datetime answers carry +07:00 as on an enumerator's tablet.
    timezoneId: 'Asia/Ho_Chi_Minh',
  });
  // The machine running the tests may be busy (shared build machines): generous waits.
  context.setDefaultTimeout(90_000);
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * On the home screen, starts an interview on the first assignment listed and finishes it
 * at once (interview type 1, consent refused: the shortest complete worker interview).
 * Waits until it is listed with `status` and returns its instance id.
 */
export async function shortInterview(page, status) {
  await page.click('.list-item button.btn-primary');
  await page.waitForSelector('#section-title');
  const instance = await page.evaluate(() => window.chainsurvey.interview.instance_id);
  await page.check('#in-interview_type-0');
  await page.check('#in-consent-1');
  await page.click('.chip[data-section="12"]');
  await page.click('#btn-finish');
  await page.waitForSelector(`[data-instance="${instance}"][data-status="${status}"]`);
  return instance;
}

/** Opens the app in practice mode (shipped questionnaires, no server). */
export async function openPractice(page, base) {
  await page.goto(`${base}/web/index.html#/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.click('#btn-practice');
  await page.waitForSelector('[data-new="dwscs-worker"]');
}

/**
 * Runs the chainsurvey CLI through cargo (`cargo run -q -- ARGS`) and returns its stdout
 * parsed as JSON. The CLI exits 1 when it finds errors; its report is returned either way.
 */
export async function rustCli(args) {
  const { execFileSync } = await import('node:child_process');
  const full = ['run', '-q', '--', ...args];
  let out;
  try {
    out = execFileSync('cargo', full, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (e) {
    if (!e.stdout) throw new Error(`cargo ${full.join(' ')} failed: ${e.stderr}`);
    out = e.stdout;
  }
  return JSON.parse(out);
}

/** Writes `value` as JSON to a fresh temporary file; returns its path. */
export async function tempJson(name, value) {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chainsurvey-'));
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** Validates answers with the Rust engine and returns its JSON report. */
export async function rustValidate(definitionPath, answers) {
  const file = await tempJson('answers.json', answers);
  try {
    return await rustCli(['questionnaire', 'validate', definitionPath, file, '--format', 'json']);
  } finally {
    await rm(path.dirname(file), { recursive: true, force: true });
  }
}
