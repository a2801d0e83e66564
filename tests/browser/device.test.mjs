// The enumerator app on a shared device and across deploys, in a real headless Chromium:
// - a second enumerator signing in on the same browser neither sees nor sends the first
//   one's queued interviews or assignments, and the first one's are sent when they sign
//   in again, with their own token;
// - a new version of the app (any file of web/) runs on the first load after the deploy:
//   the service worker's version changes with the files, the new worker activates at once
//   and the page reloads itself into the new files;
// - web/sw.js carries the version of the current files (so a deploy is always noticed).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, launch, shortInterview, ROOT } from './harness.mjs';
import { webVersion, swVersion, withVersion } from './web-version.mjs';

const worker = JSON.parse(readFileSync(path.join(ROOT, 'questionnaires/worker.json'), 'utf8'));

let browser;

// A mock server API with one token per user and one assignment per enumerator.
function mockServer() {
  const state = { submissions: [], accept: true };
  const assignment = (user, seq) => ({
    seq, at: '2026-03-01T02:00:00Z', actor: 'manager', kind: 'assignment.created', subject: `a-${user}`,
    data: { id: `a-${user}`, questionnaire: 'dwscs-worker', allowed_versions: ['2026.1'], enumerator: user, target: { name: `Enterprise of ${user}` }, quantity: 5, submitted: 0, status: 'assigned' },
  });
  const api = async ({ method, path: p, body, headers, query }) => {
    if (method === 'POST' && p === '/api/v1/login') {
      if (body?.password !== 'secret') return { status: 401, json: { error: { code: 'unauthorized', message: 'wrong name or password' } } };
      return { status: 200, json: { token: `tok-${body.name}`, user: { name: body.name, role: 'enumerator' } } };
    }
    const user = (headers.authorization ?? '').replace(/^Bearer tok-/, '');
    if (!['lan', 'minh'].includes(user)) return { status: 401, json: { error: { code: 'unauthorized', message: 'no token' } } };
    if (method === 'GET' && p === '/api/v1/sync') {
      // Each user's feed holds only their own assignment (as the real server's does).
      const since = Number(query.get('since') ?? 0);
      const mine = since < 1 ? [assignment(user, 1)] : [];
      return { status: 200, json: { changes: mine, next: 1, more: false } };
    }
    if (method === 'GET' && p === '/api/v1/questionnaires/dwscs-worker/versions/2026.1') {
      return { status: 200, json: { id: 'dwscs-worker', version: '2026.1', hash: 'x', definition: worker } };
    }
    if (method === 'POST' && p === '/api/v1/submissions') {
      state.submissions.push({ user, instance_id: body.instance_id, assignment_id: body.assignment_id });
      if (!state.accept) return { status: 503, json: { error: { code: 'unavailable', message: 'try later' } } };
      return { status: 201, json: { instance_id: body.instance_id, revision: 1, status: 'completed', replayed: false, warnings: [] } };
    }
    return null;
  };
  return { state, api };
}

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/**
 * Runs `body({mock, overrides, server, page})` on a fresh origin (so a fresh service worker
 * and IndexedDB) with its own mock server; fails on any page error; always cleans up.
 */
async function onFreshDevice(body) {
  const mock = mockServer();
  const overrides = new Map();
  const server = await startServer({ api: mock.api, overrides });
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await body({ mock, overrides, server, page });
    assert.deepEqual(errors, []);
  } finally {
    await browser.context.setOffline(false);
    await page.close();
    await server.close();
  }
}

/** Serves a new version of the app: app.js marks the page with `build`, sw.js has `version`. */
function deploy(overrides, build, version) {
  const appJs = readFileSync(path.join(ROOT, 'web/app.js'), 'utf8');
  const swJs = readFileSync(path.join(ROOT, 'web/sw.js'), 'utf8');
  overrides.set('/web/app.js', `${appJs}\ndocument.body.dataset.build = '${build}';\n`);
  overrides.set('/web/sw.js', withVersion(swJs, version));
}

async function signIn(page, name) {
  await page.waitForSelector('#login-name');
  await page.fill('#login-name', name);
  await page.fill('#login-password', 'secret');
  await page.click('.signin button[type="submit"]');
  await page.waitForSelector('#btn-sync');
}

async function signOut(page) {
  await page.click('#btn-signout');
  await page.waitForSelector('#login-name');
}

test('web/sw.js carries the version of the current app files', () => {
  assert.equal(
    swVersion(),
    webVersion(),
    'an app file changed: run `node tests/browser/web-version.mjs --write` so browsers pick up the new version',
  );
});

test('a second enumerator on the same browser neither sees nor sends the first one\'s outbox', () => onFreshDevice(async ({ mock, server, page }) => {
    await page.goto(`${server.url}/web/index.html#/`);
    await signIn(page, 'lan');
    assert.match(await page.textContent('main'), /Enterprise of lan/);
    // Lan interviews; the server is unavailable, so the interview stays queued.
    mock.state.accept = false;
    const instance = await shortInterview(page, 'queued');
    assert.ok(mock.state.submissions.every((s) => s.user === 'lan'));
    await signOut(page);
    // The sign-in screen says that someone's interviews wait, without showing them.
    assert.match(await page.textContent('#others-waiting'), /1 interview\(s\) of other users/);
    assert.equal(await page.$(`[data-instance="${instance}"]`), null);

    // Minh signs in on the same browser, with the server back.
    mock.state.accept = true;
    const before = mock.state.submissions.length;
    await signIn(page, 'minh');
    const main = await page.textContent('main');
    assert.match(main, /Enterprise of minh/);
    assert.doesNotMatch(main, /Enterprise of lan/, "lan's assignment is not minh's to see");
    assert.equal(await page.$(`[data-instance="${instance}"]`), null, "lan's interview is not listed");
    assert.equal(await page.$('#pending-count'), null, 'nothing of minh waits');
    const sent = await page.evaluate(async () => (await import('/web/outbox.js')).flush({ force: true }));
    assert.deepEqual(sent, { sent: 0, rejected: 0, waiting: 0 });
    assert.equal(mock.state.submissions.length, before, "minh's session sends nothing of lan's");
    // Not even by its address.
    await page.evaluate((id) => { location.hash = `#/interview/${id}`; }, instance);
    await page.waitForSelector('#btn-sync');
    assert.equal(await page.$('#section-title'), null);
    // Minh's own interview is his, and goes out with his token.
    const minhs = await shortInterview(page, 'sent');
    assert.deepEqual(mock.state.submissions.slice(before).map((s) => [s.user, s.instance_id]), [['minh', minhs]]);
    await signOut(page);

    // Lan signs in again: her interview is there and is sent with her token.
    await signIn(page, 'lan');
    await page.waitForSelector(`[data-instance="${instance}"][data-status="sent"]`);
    assert.equal(await page.$(`[data-instance="${minhs}"]`), null, "minh's interview is not lan's to see");
    const lans = mock.state.submissions.filter((s) => s.instance_id === instance);
    assert.ok(lans.length >= 1 && lans.every((s) => s.user === 'lan'));
    assert.ok(mock.state.submissions.filter((s) => s.instance_id === minhs).every((s) => s.user === 'minh'));
}));

test('a deployed new version runs on the first load after the deploy', () => onFreshDevice(async ({ overrides, server, page }) => {
    await page.goto(`${server.url}/web/index.html#/`);
    await page.waitForSelector('body[data-ready="true"]');
    // The first visit installs the worker, which takes control without a reload.
    await page.waitForFunction(() => !!navigator.serviceWorker.controller);
    const oldCaches = await page.evaluate(() => caches.keys());
    assert.deepEqual(oldCaches, [`chainsurvey-${swVersion()}`]);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.evaluate(() => document.body.dataset.build ?? null), null);

    // Deploy: a changed app file, and with it a new sw.js version.
    deploy(overrides, 'v2', 'feedfacefeedface');

    // One load by the user: the old files start, the new worker installs and takes over,
    // and the page reloads itself into the new files.
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.build === 'v2', null, { timeout: 60_000 });
    await page.waitForSelector('body[data-ready="true"]');
    assert.deepEqual(await page.evaluate(() => caches.keys()), ['chainsurvey-feedfacefeedface'], 'the old cache is dropped');
    // And the new files are what the cache serves from now on (offline included).
    await browser.context.setOffline(true);
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.build === 'v2');
}));

test('a new version found during an interview waits until the enumerator is back on the list', () => onFreshDevice(async ({ overrides, server, page }) => {
    await page.goto(`${server.url}/web/index.html#/`);
    await page.waitForSelector('#btn-practice');
    await page.waitForFunction(() => !!navigator.serviceWorker.controller);
    await page.click('#btn-practice');
    await page.click('[data-new="dwscs-worker"]');
    await page.waitForSelector('#section-title');
    const instance = await page.evaluate(() => window.chainsurvey.interview.instance_id);

    deploy(overrides, 'v3', 'abcdabcdabcdabcd');
    // The enumerator reloads in the middle of the interview: the new version installs, but
    // the page is not reloaded under their fingers.
    await page.reload();
    await page.waitForSelector('#section-title');
    await page.waitForFunction(() => document.body.dataset.update === 'ready', null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.build ?? null), null);
    await page.check('#in-interview_type-0');
    assert.equal(await page.evaluate(() => window.chainsurvey.interview.instance_id), instance);
    // Back on the list, the new version runs, and the answer typed is kept.
    await page.click('#btn-home');
    await page.waitForFunction(() => document.body.dataset.build === 'v3', null, { timeout: 60_000 });
    await page.waitForSelector(`[data-instance="${instance}"]`);
    const stored = await page.evaluate(async (id) => (await import('/web/store.js')).get('interviews', id), instance);
    assert.equal(stored.answers.interview_type, '1');
}));
