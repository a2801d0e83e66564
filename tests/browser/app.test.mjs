// The enumerator app in a real headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core), served by a tiny static server over the repository.
//
// What is checked: the worker questionnaire renders in English and Vietnamese; skip logic
// hides and shows items; a hard rule blocks finishing with its message and a soft rule
// warns; roster rows are added and removed; don't know is recorded; a scripted interview
// (a valid example submission replayed through the UI) produces exactly that answers
// object, which the Rust engine validates with no errors; the expression corpus passes
// inside the page; the outbox retries with the same instance id and shows server findings;
// offline, the app reloads from the service worker and an interview is completed and queued.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import os from 'node:os';
import { startServer, launch, openPractice, rustValidate, shortInterview, ROOT } from './harness.mjs';

const worker = JSON.parse(readFileSync(path.join(ROOT, 'questionnaires/worker.json'), 'utf8'));
const EXAMPLE = 'tests/data/examples/dwscs-worker/valid/female_assembler_bac_ninh.json';
const example = JSON.parse(readFileSync(path.join(ROOT, EXAMPLE), 'utf8'));
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'chainsurvey-shots-'));

let server;
let browser;
// The mock server API: records submissions and answers as the test wants.
const mock = { submissions: [], plan: [] };

const mockApi = async ({ method, path: p, body, headers }) => {
  if (method === 'POST' && p === '/api/v1/login') {
    if (body?.password !== 'secret') return { status: 401, json: { error: { code: 'unauthorized', message: 'wrong name or password' } } };
    return { status: 200, json: { token: 'tok-123', user: { name: body.name, role: 'enumerator' } } };
  }
  if (headers.authorization !== 'Bearer tok-123') return { status: 401, json: { error: { code: 'unauthorized', message: 'no token' } } };
  if (method === 'GET' && p === '/api/v1/sync') {
    return { status: 200, json: mock.sync ?? { changes: [], next: 0, more: false } };
  }
  if (method === 'GET' && p === '/api/v1/questionnaires/dwscs-worker/versions/2026.1') {
    return { status: 200, json: { id: 'dwscs-worker', version: '2026.1', hash: 'x', definition: worker } };
  }
  if (method === 'POST' && p === '/api/v1/submissions') {
    mock.submissions.push(body);
    const next = mock.plan.shift() ?? 'accept';
    if (next === 'drop') return 'drop';
    if (next === '503') return { status: 503, json: { error: { code: 'unavailable', message: 'store refusing writes' } } };
    if (next === '422')
      return {
        status: 422,
        json: { error: { code: 'invalid_submission', message: 'the submission has errors', details: { findings: [{ severity: 'error', code: 'rule_failed', path: '/age', message: 'Age must be 15–99 (server)' }] } } },
      };
    return { status: 201, json: { instance_id: body.instance_id, revision: 1, status: 'completed', replayed: false, warnings: [] } };
  }
  return null;
};

before(async () => {
  server = await startServer({ api: mockApi });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function newPage() {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  return page;
}

/** The home screen in practice mode, whatever an earlier test left signed in. */
async function practiceHome(page) {
  await page.goto(`${server.url}/web/index.html#/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.evaluate(async () => {
    const store = await import('/web/store.js');
    await store.setMeta('token', null);
    await store.setMeta('practice', false);
    await store.setMeta('lang', 'en');
  });
  await page.reload();
  await page.waitForSelector('#btn-practice');
  await page.click('#btn-practice');
  await page.waitForSelector('[data-new="dwscs-worker"]');
}

/** Fresh practice session with a new worker interview open. */
async function workerInterview(page) {
  await practiceHome(page);
  await page.click('[data-new="dwscs-worker"]');
  await page.waitForSelector('#section-title');
}

const visible = (page, key) => page.isVisible(`[data-key="${key}"]`);

/** Every question of the worker questionnaire, in order, with its section index. */
function questionsInOrder(def) {
  const out = [];
  const sections = [];
  let loose = false;
  for (const item of def.items) {
    if (item.kind === 'group') {
      sections.push(item);
      loose = false;
    } else if (!loose) {
      sections.push(null);
      loose = true;
    }
    const walk = (it) => {
      if (it.kind === 'question') out.push({ item: it, section: sections.length - 1 });
      (it.items ?? []).forEach(walk);
    };
    walk(item);
  }
  return out;
}

/** Types one answer into the form the way an enumerator would. */
async function answer(page, item, value) {
  const key = item.name;
  if (value && typeof value === 'object' && !Array.isArray(value) && value.missing) {
    await page.click(`[data-key="${key}"] [data-missing="${value.missing}"]`);
    return;
  }
  const choices = item.choices ? worker.choice_lists[item.choices] : null;
  switch (item.type) {
    case 'select_one':
      if (choices.length > 12) await page.selectOption(`#in-${key}`, value);
      else await page.check(`#in-${key}-${choices.findIndex((c) => c.value === value)}`);
      break;
    case 'select_multiple':
      for (const v of value) await page.check(`#in-${key}-${choices.findIndex((c) => c.value === v)}`);
      break;
    default:
      await page.fill(`#in-${key}`, String(value));
  }
}

test('the expression corpus passes inside Chromium', async () => {
  const page = await newPage();
  await page.goto(`${server.url}/web/index.html`);
  const result = await page.evaluate(async () => {
    const E = await import('/web/expr.js');
    const { runCorpus } = await import('/tests/browser/corpus-runner.mjs');
    const corpus = await (await fetch('/tests/data/expressions.json')).json();
    return runCorpus(corpus, E);
  });
  assert.ok(result.total >= 300);
  assert.deepEqual(result.failures, [], `${result.failures.length} of ${result.total} failed in Chromium`);
  console.log(`# corpus in Chromium: ${result.passed}/${result.total}`);
  await page.close();
});

test('the worker questionnaire renders in English and Vietnamese', async () => {
  const page = await newPage();
  await workerInterview(page);
  assert.equal(await page.textContent('#section-title'), worker.items[0].label.en);
  assert.equal((await page.textContent('[data-key="consent"] .q-label')).replace(' *', ''), 'Do you agree to be interviewed?');
  await page.click('[data-lang="vi"]');
  assert.equal(await page.textContent('#section-title'), worker.items[0].label.vi);
  assert.match(await page.textContent('[data-key="consent"] .q-label'), /Anh\/chị có đồng ý tham gia phỏng vấn không\?/);
  assert.equal(await page.textContent('[data-key="consent"] label.choice:first-of-type .choice-text'), 'Có');
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  assert.equal(await page.textContent('#btn-home'), '← Về danh sách');
  // The chips name every section in Vietnamese.
  const chips = await page.$$eval('.section-nav .chip-label', (n) => n.map((x) => x.textContent));
  assert.equal(chips.length, 13);
  assert.equal(chips[1], worker.items[1].label.vi);
  await page.check('#in-interview_type-0');
  await page.check('#in-consent-0');
  await page.fill('#in-age', '31');
  const shot = path.join(SCREENSHOT_DIR, 'worker-vi.png');
  await page.screenshot({ path: shot });
  console.log(`# screenshot: ${shot}`);
  await page.click('[data-lang="en"]');
  assert.equal(await page.textContent('#section-title'), worker.items[0].label.en);
  // Every control of every section has an accessible name (a <label> or aria-label).
  for (let i = 0; i < chips.length; i++) {
    await page.click(`.chip[data-section="${i}"]`);
    const unnamed = await page.$$eval('main input, main select, main button, main textarea', (nodes) =>
      nodes.filter((n) => !(n.labels?.length || n.getAttribute('aria-label') || n.textContent.trim())).map((n) => n.id || n.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, [], `section ${i}`);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('every shipped questionnaire opens and every section renders', async () => {
  const page = await newPage();
  await practiceHome(page);
  for (const [id, file] of [['dwscs-worker', 'worker'], ['dwscs-enterprise', 'enterprise'], ['dwscs-household-unit', 'household_unit']]) {
    const def = JSON.parse(readFileSync(path.join(ROOT, `questionnaires/${file}.json`), 'utf8'));
    await page.click('#brand-home').catch(() => page.goto(`${server.url}/web/index.html#/`));
    await page.waitForSelector(`[data-new="${id}"]`);
    await page.click(`[data-new="${id}"]`);
    await page.waitForSelector('#section-title');
    const chips = await page.$$('.section-nav .chip');
    assert.ok(chips.length >= 5, `${id}: ${chips.length} sections`);
    for (let i = 0; i < chips.length; i++) {
      await page.click(`.chip[data-section="${i}"]`);
      assert.ok((await page.textContent('#section-title')).length > 0);
    }
    assert.equal(await page.textContent('.form-title'), def.title.en);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('skip logic hides and shows items live', async () => {
  const page = await newPage();
  await workerInterview(page);
  assert.equal(await visible(page, 'interview_private'), false);
  assert.equal(await visible(page, 'w0_end_refused'), false);
  await page.check('#in-interview_type-0');
  await page.check('#in-consent-0');
  assert.equal(await visible(page, 'interview_private'), true);
  assert.equal(await visible(page, 'age'), true);
  await page.check('#in-consent-1');
  assert.equal(await visible(page, 'interview_private'), false);
  assert.equal(await visible(page, 'age'), false);
  assert.equal(await visible(page, 'w0_end_refused'), true);
  // The answers object leaves out what is skipped.
  const answers = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.deepEqual(answers, { interview_type: '1', consent: '2' });
  await page.close();
});

test('a hard rule blocks finishing with its message; a soft rule warns', async () => {
  const page = await newPage();
  await workerInterview(page);
  await page.check('#in-interview_type-0');
  await page.check('#in-consent-0');
  await page.check('#in-interview_private-0');
  await page.fill('#in-age', '120');
  const ageRule = worker.items[0].items.find((i) => i.name === 'age').rules[0].message.en;
  assert.equal(await page.textContent('[data-key="age"] .msg-error span:last-child'), ageRule);
  assert.equal(await page.getAttribute('#in-age', 'aria-invalid'), 'true');
  // Finishing is refused: the interview stays a draft and the form returns to the error.
  await page.click('.chip[data-section="12"]');
  await page.click('#btn-finish');
  await page.waitForSelector('#section-title');
  assert.equal(await page.textContent('#section-title'), worker.items[0].label.en);
  assert.match(await page.textContent('#form-summary'), /error\(s\) must be fixed/);
  const status = await page.evaluate(() => window.chainsurvey.interview.status);
  assert.equal(status, 'draft');
  await page.fill('#in-age', '35');
  assert.equal(await page.$('[data-key="age"] .msg-error'), null);
  // Soft rule: more than 84 usual hours warns but is not an error.
  await page.click('.chip[data-section="5"]');
  await page.fill('#in-usual_hours', '90');
  const warning = await page.textContent('[data-key="usual_hours"] .msg-warning');
  assert.match(warning, /84/);
  assert.equal(await page.$('[data-key="usual_hours"] .msg-error'), null);
  // Out of range is the hard rule of the same question.
  await page.fill('#in-usual_hours', '130');
  assert.match(await page.textContent('[data-key="usual_hours"] .msg-error'), /112/);
  // Typed text that is not a number is an input error, not an answer.
  await page.fill('#in-usual_hours', '5x');
  assert.ok(await page.$('[data-key="usual_hours"] .msg-error'));
  assert.equal(await page.evaluate(() => window.chainsurvey.form.currentAnswers().usual_hours), undefined);
  await page.fill('#in-usual_hours', '52,5');
  assert.equal(await page.evaluate(() => window.chainsurvey.form.currentAnswers().usual_hours), 52.5);
  await page.close();
});

test("don't know is recorded as {missing: dont_know}", async () => {
  const page = await newPage();
  await workerInterview(page);
  await page.check('#in-interview_type-0');
  await page.check('#in-consent-0');
  await page.click('.chip[data-section="1"]');
  await page.fill('#in-birth_year', '1990');
  await page.click('[data-key="birth_year"] [data-missing="dont_know"]');
  assert.equal(await page.getAttribute('[data-key="birth_year"] [data-missing="dont_know"]', 'aria-pressed'), 'true');
  assert.equal(await page.inputValue('#in-birth_year'), '');
  let answers = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.deepEqual(answers.birth_year, { missing: 'dont_know' });
  // Typing an answer replaces the don't know.
  await page.fill('#in-birth_year', '1991');
  answers = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.equal(answers.birth_year, 1991);
  assert.equal(await page.getAttribute('[data-key="birth_year"] [data-missing="dont_know"]', 'aria-pressed'), 'false');
  // Saved to IndexedDB as typed.
  await page.waitForFunction(() => document.getElementById('save-status').textContent !== '');
  await page.close();
});

test('a roster adds and removes rows; a counted roster follows its count', async () => {
  const page = await newPage();
  await workerInterview(page);
  await page.click('#btn-home');
  await page.waitForSelector('[data-new="dwscs-enterprise"]');
  await page.click('[data-new="dwscs-enterprise"]');
  await page.waitForSelector('#section-title');
  const enterprise = JSON.parse(readFileSync(path.join(ROOT, 'questionnaires/enterprise.json'), 'utf8'));
  const sectionIndex = (name) => enterprise.items.findIndex((i) => i.name === name);
  await page.check('#in-consent-0');
  await page.click(`.chip[data-section="${sectionIndex('h_suppliers')}"]`);
  assert.equal(await page.isVisible('[data-key="suppliers"]'), false);
  await page.check('#in-has_domestic_suppliers-0');
  const roster = '[data-key="suppliers"]';
  assert.equal(await page.isVisible(roster), true);
  assert.equal(await page.$$eval(`${roster} > .roster-row`, (r) => r.length), 0);
  await page.click(`${roster} [data-add="suppliers"]`);
  await page.click(`${roster} [data-add="suppliers"]`);
  assert.equal(await page.$$eval(`${roster} > .roster-row`, (r) => r.length), 2);
  await page.fill('#in-suppliers-1-sup_name', 'Công ty TNHH Linh kiện Bắc Ninh');
  let answers = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.equal(answers.suppliers.length, 2);
  assert.equal(answers.suppliers[1].sup_name, 'Công ty TNHH Linh kiện Bắc Ninh');
  page.once('dialog', (d) => d.accept());
  await page.click(`${roster} > .roster-row:first-of-type .btn-danger`);
  answers = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.equal(answers.suppliers.length, 1);
  assert.equal(answers.suppliers[0].sup_name, 'Công ty TNHH Linh kiện Bắc Ninh');
  // A roster with a count expression gets exactly that many rows, without add/remove buttons.
  await page.click(`.chip[data-section="${sectionIndex('c_workforce')}"]`);
  await page.fill('#in-workers_male', '2');
  await page.fill('#in-workers_female', '1');
  await page.click(`.chip[data-section="${sectionIndex('k_worker_selection')}"]`);
  await page.check('#in-k_listing_method-0');
  const listed = '[data-key="worker_list"]';
  assert.equal(await page.$$eval(`${listed} > .roster-row`, (r) => r.length), 3);
  assert.equal(await page.$(`${listed} [data-add]`), null);
  await page.click(`.chip[data-section="${sectionIndex('c_workforce')}"]`);
  // Typed key by key: the rows change under the input after each digit, the caret stays.
  await page.fill('#in-workers_female', '');
  await page.click('#in-workers_female');
  await page.keyboard.type('3');
  await page.click(`.chip[data-section="${sectionIndex('k_worker_selection')}"]`);
  assert.equal(await page.$$eval(`${listed} > .roster-row`, (r) => r.length), 5);
  assert.match(await page.textContent(`${listed} .roster-count`), /5 row/);
  await page.click(`.chip[data-section="${sectionIndex('c_workforce')}"]`);
  await page.click('#in-workers_female');
  await page.keyboard.press('End');
  await page.keyboard.type('1');
  assert.equal(await page.inputValue('#in-workers_female'), '31');
  await page.keyboard.press('Backspace');
  assert.equal(await page.inputValue('#in-workers_female'), '3');
  await page.click(`.chip[data-section="${sectionIndex('k_worker_selection')}"]`);
  // Clearing the count keeps the rows (an empty count does not constrain them).
  await page.fill('#in-worker_list-0-wl_name', 'Hoa');
  await page.click(`.chip[data-section="${sectionIndex('c_workforce')}"]`);
  await page.fill('#in-workers_female', '');
  await page.click(`.chip[data-section="${sectionIndex('k_worker_selection')}"]`);
  assert.equal(await page.$$eval(`${listed} > .roster-row`, (r) => r.length), 5);
  assert.equal(await page.inputValue('#in-worker_list-0-wl_name'), 'Hoa');
  const shot = path.join(SCREENSHOT_DIR, 'enterprise-roster.png');
  await page.screenshot({ path: shot, fullPage: true });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a scripted interview produces the expected answers, which the Rust engine accepts', async () => {
  const page = await newPage();
  await workerInterview(page);
  const instance = await page.evaluate(() => window.chainsurvey.interview.instance_id);
  let section = 0;
  for (const { item, section: s } of questionsInOrder(worker)) {
    if (!(item.name in example)) continue;
    if (s !== section) {
      await page.click(`.chip[data-section="${s}"]`);
      section = s;
    }
    await answer(page, item, example[item.name]);
  }
  const produced = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.deepEqual(produced, example);
  await page.click(`.chip[data-section="${questionsInOrder(worker).at(-1).section}"]`);
  await page.click('#btn-finish');
  await page.waitForSelector(`[data-instance="${instance}"]`);
  const stored = await page.evaluate(async (id) => {
    const store = await import('/web/store.js');
    return store.get('interviews', id);
  }, instance);
  assert.equal(stored.status, 'practice', 'a practice interview is kept, never queued for sending');
  assert.deepEqual(stored.submitted_answers, example);
  assert.ok(stored.started_at && stored.ended_at);
  // Cross-check with the Rust engine: the produced answers validate with no errors.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chainsurvey-answers-'));
  const file = path.join(dir, 'answers.json');
  writeFileSync(file, JSON.stringify(stored.submitted_answers));
  let out;
  try {
    out = execFileSync('cargo', ['run', '-q', '--', 'questionnaire', 'validate', 'questionnaires/worker.json', file, '--format', 'json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    assert.fail(`the Rust engine rejected the answers: ${e.stdout}${e.stderr}`);
  }
  const report = JSON.parse(out);
  assert.equal(report.errors, 0, JSON.stringify(report.findings));
  assert.equal(report.valid, true);
  // The calculations the page showed agree with the engine's.
  await page.close();
});

test('every question type: date, datetime, geopoint, filters, nested rosters, refused', async () => {
  const defPath = 'tests/browser/fixtures/all-types.json';
  const def = JSON.parse(readFileSync(path.join(ROOT, defPath), 'utf8'));
  const expected = JSON.parse(readFileSync(path.join(ROOT, 'tests/browser/fixtures/all-types.answers.json'), 'utf8'));
  await browser.context.grantPermissions(['geolocation'], { origin: server.url });
  await browser.context.setGeolocation({ latitude: 21.0285, longitude: 105.8542, accuracy: 5 });
  const page = await newPage();
  await practiceHome(page);
  await page.evaluate(async (d) => (await import('/web/store.js')).saveQuestionnaire(d), def);
  await page.reload();
  await page.click('[data-new="web-all-types"]');
  await page.waitForSelector('#section-title');
  await page.fill('#in-full_name', expected.full_name);
  await page.fill('#in-age', '14');
  assert.match(await page.textContent('[data-key="age"] .msg-error'), /At least 15/);
  await page.click('[data-key="age"] [data-missing="dont_know"]');
  assert.equal(await page.$('[data-key="age"] .msg-error'), null);
  await page.click('[data-key="income"] [data-missing="refused"]');
  await page.fill('#in-visit_date', '2099-01-01');
  assert.match(await page.textContent('[data-key="visit_date"] .msg-error'), /Not in the future/);
  await page.fill('#in-visit_date', expected.visit_date);
  await page.fill('#in-visit_start', '2026-02-27T09:30');
  await page.click('[data-key="location"] button');
  await page.waitForFunction(() => window.chainsurvey.form.currentAnswers().location);
  // The choice filter shows only the provinces of the chosen region.
  await page.check('#in-region-1');
  assert.deepEqual(await page.$$eval('[data-key="province"] [data-choice]:not([hidden])', (n) => n.map((x) => x.dataset.choice)), ['79']);
  await page.check('#in-region-0');
  assert.deepEqual(await page.$$eval('[data-key="province"] [data-choice]:not([hidden])', (n) => n.map((x) => x.dataset.choice)), ['01', '27']);
  await page.check('#in-province-1');
  for (const f of ['mango', 'lychee', 'durian']) await page.check(`[data-key="fruits"] input[value="${f}"]`);
  assert.match(await page.textContent('[data-key="fruits"] .msg-warning'), /More than two/);
  await page.uncheck('[data-key="fruits"] input[value="durian"]');
  // A required-when expression: the mark appears with its condition.
  assert.equal(await page.isVisible('[data-req="kids_note"]'), false);
  await page.check('#in-has_kids-0');
  assert.equal(await page.isVisible('[data-req="kids_note"]'), true);
  await page.fill('#in-kids_note', expected.kids_note);
  await page.click('#btn-next');
  await page.fill('#in-n_members', '2');
  assert.equal(await page.$$eval('[data-key="members"] > .roster-row', (r) => r.length), 2);
  await page.fill('#in-members-0-m_name', 'Minh');
  await page.fill('#in-members-1-m_name', 'Lan');
  await page.click('[data-add="members.0.jobs"]');
  await page.click('[data-add="members.0.jobs"]');
  await page.fill('#in-members-0-jobs-0-job_title', 'Lắp ráp');
  await page.fill('#in-members-0-jobs-0-job_hours', '48');
  await page.fill('#in-members-0-jobs-1-job_title', 'Bán hàng');
  await page.fill('#in-members-0-jobs-1-job_hours', '10,5');
  assert.equal(await page.textContent('[data-calc="members.0.m_hours"]'), '58.5');
  assert.equal(await page.textContent('[data-calc="total_hours"]'), '58.5');
  const produced = await page.evaluate(() => window.chainsurvey.form.currentAnswers());
  assert.deepEqual(produced, expected);
  const report = await rustValidate(defPath, produced);
  assert.equal(report.errors, 0, JSON.stringify(report.findings));
  assert.equal(report.calculations.total_hours, 58.5);
  // A warning does not block finishing, but it is listed once before the interview closes.
  await page.click('.chip[data-section="0"]');
  await page.check('[data-key="fruits"] input[value="durian"]');
  await page.click('.section-nav .chip:last-child');
  await page.click('#btn-finish');
  assert.match(await page.textContent('#form-summary'), /1 warning\(s\)/);
  assert.match(await page.textContent('#form-summary'), /Fruits grown: More than two: confirm/);
  assert.equal(await page.textContent('#btn-finish'), 'Finish and queue for sending');
  const instance = await page.evaluate(() => window.chainsurvey.interview.instance_id);
  await page.click('#btn-finish');
  await page.waitForSelector(`[data-instance="${instance}"][data-status="practice"]`);
  const stored = await page.evaluate(async (id) => (await import('/web/store.js')).get('interviews', id), instance);
  assert.deepEqual(stored.submitted_answers, { ...expected, fruits: ['mango', 'lychee', 'durian'] });
  assert.equal(stored.warnings, 1);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the outbox retries with the same instance id and shows server findings', async () => {
  const page = await newPage();
  await practiceHome(page);
  await page.click('#btn-signout');
  await page.waitForSelector('#login-name');
  await page.fill('#login-name', 'lan');
  await page.fill('#login-password', 'wrong');
  await page.click('.signin button[type="submit"]');
  await page.waitForFunction(() => document.getElementById('login-status')?.textContent.includes('wrong name or password'));
  mock.sync = {
    changes: [{
      seq: 1, at: '2026-03-01T02:00:00Z', actor: 'manager', kind: 'assignment.created', subject: 'a-1',
      data: { id: 'a-1', questionnaire: 'dwscs-worker', allowed_versions: ['2026.1'], enumerator: 'lan', target: { name: 'Công ty Điện tử Bắc Ninh' }, preload: { interview_type: '1' }, preload_protected: true, quantity: 2, submitted: 0, status: 'assigned' },
    }],
    next: 1,
    more: false,
  };
  mock.submissions.length = 0;
  await page.fill('#login-password', 'secret');
  await page.click('.signin button[type="submit"]');
  await page.waitForSelector('#btn-sync');
  assert.deepEqual(mock.submissions, [], 'practice interviews made earlier on this device are never sent');
  assert.match(await page.textContent('main'), /Công ty Điện tử Bắc Ninh/);
  // A short interview (consent refused) on the assignment.
  await page.click('.list-item button.btn-primary');
  await page.waitForSelector('#section-title');
  const instance = await page.evaluate(() => window.chainsurvey.interview.instance_id);
  // The assignment's protected preload is filled in and cannot be changed.
  assert.equal(await page.isChecked('#in-interview_type-0'), true);
  assert.equal(await page.isDisabled('#in-interview_type-1'), true);
  await page.check('#in-consent-1');
  mock.plan = ['drop', '503', '422'];
  mock.submissions.length = 0;
  await page.click('.chip[data-section="12"]');
  await page.click('#btn-finish');
  await page.waitForSelector(`[data-instance="${instance}"]`);
  // First attempt: the connection drops. Still queued.
  await page.waitForFunction(() => document.querySelector('[data-status]'));
  // An automatic retry waits for its backoff; "Send now" (force) tries at once. (Chromium
  // itself may resend a POST whose connection dropped: same body, so still idempotent.)
  const attempts = mock.submissions.length;
  assert.ok(attempts >= 1);
  const waiting = await page.evaluate(async () => (await import('/web/outbox.js')).flush());
  assert.equal(waiting.sent + waiting.rejected, 0);
  assert.equal(mock.submissions.length, attempts, 'no automatic retry before the backoff wait');
  await page.evaluate(async () => (await import('/web/outbox.js')).flush({ force: true }));
  await page.evaluate(async () => (await import('/web/outbox.js')).flush({ force: true }));
  const ids = mock.submissions.map((s) => s.instance_id);
  assert.ok(ids.length >= 3, `three attempts, got ${ids.length}`);
  assert.ok(ids.every((id) => id === instance), 'every retry carries the same instance id');
  assert.deepEqual(mock.submissions.at(-1).answers, { interview_type: '1', consent: '2' });
  assert.equal(mock.submissions.at(-1).assignment_id, 'a-1');
  assert.equal(mock.submissions.at(-1).questionnaire, 'dwscs-worker');
  assert.equal(mock.submissions.at(-1).version, '2026.1');
  const paradata = mock.submissions.at(-1).paradata;
  assert.ok(paradata.started_at && paradata.ended_at && paradata.device_id && paradata.app_version);
  assert.equal(paradata.language, 'en');
  // After the 422 the interview is rejected and the server's finding is shown.
  await page.evaluate(() => { location.hash = '#/x'; location.hash = '#/'; });
  await page.waitForSelector(`[data-instance="${instance}"][data-status="rejected"]`);
  assert.match(await page.textContent(`[data-instance="${instance}"]`), /Age must be 15–99 \(server\)/);
  // Fixed and finished again: accepted.
  mock.plan = ['accept'];
  await page.click(`[data-instance="${instance}"] .actions .btn`);
  await page.waitForSelector('#section-title');
  assert.match(await page.textContent('.banner-error'), /Age must be 15–99 \(server\)/);
  await page.click('.chip[data-section="12"]');
  await page.click('#btn-finish');
  await page.waitForSelector(`[data-instance="${instance}"][data-status="sent"]`);
  assert.equal(mock.submissions.at(-1).instance_id, instance);
  // A supervisor's rejection arrives through sync.
  mock.sync = {
    changes: [{ seq: 2, at: '2026-03-02T02:00:00Z', actor: 'sup', kind: 'review.decided', subject: instance, data: { interview: {}, decision: { instance_id: instance, verdict: 'reject', comment: 'Kiểm tra lại tuổi', revision: 1, question_comments: [{ path: '/consent', comment: 'Hỏi lại người lao động' }] } } }],
    next: 2,
    more: false,
  };
  await page.click('#btn-sync');
  await page.waitForSelector(`[data-instance="${instance}"][data-status="review_rejected"]`);
  assert.match(await page.textContent(`[data-instance="${instance}"]`), /Kiểm tra lại tuổi/);
  // Opened again, the form shows the comment and the per-question comment at its question.
  await page.click(`[data-instance="${instance}"] .actions .btn`);
  await page.waitForSelector('#notes');
  assert.match(await page.textContent('#notes'), /Kiểm tra lại tuổi/);
  assert.match(await page.textContent('[data-key="consent"] .msg-review'), /Hỏi lại người lao động/);
  await page.click('#btn-home');
  const syncCalls = server.requests.filter((r) => r.path === '/api/v1/sync').map((r) => r.search);
  assert.equal(syncCalls.at(-1), '?since=1');
  await page.click('#btn-signout');
  await page.close();
});

test('offline: the app reloads from the service worker; an interview is queued, then sent when back online', async () => {
  // Its own server (its own origin, so a fresh device), shut down to prove that nothing
  // comes from the network, then started again on the same port.
  let own = await startServer({ api: mockApi });
  const port = Number(new URL(own.url).port);
  mock.sync = {
    changes: [{
      seq: 1, at: '2026-03-01T02:00:00Z', actor: 'manager', kind: 'assignment.created', subject: 'a-9',
      data: { id: 'a-9', questionnaire: 'dwscs-worker', allowed_versions: ['2026.1'], enumerator: 'lan', target: { name: 'Công ty Nhựa Hải Phòng' }, quantity: 1, submitted: 0, status: 'assigned' },
    }],
    next: 1,
    more: false,
  };
  mock.plan = [];
  const page = await newPage();
  try {
    await page.goto(`${own.url}/web/index.html#/`);
    await page.waitForSelector('#login-name');
    await page.fill('#login-name', 'lan');
    await page.fill('#login-password', 'secret');
    await page.click('.signin button[type="submit"]');
    await page.waitForSelector('#btn-sync');
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    // Reload once so the page is controlled by the worker, then cut the network.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => !!navigator.serviceWorker.controller);
    await browser.context.setOffline(true);
    await own.close();
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.textContent('#net-status'), 'Offline');
    assert.match(await page.textContent('main'), /Công ty Nhựa Hải Phòng/);
    const instance = await shortInterview(page, 'queued');
    assert.match(await page.textContent(`[data-instance="${instance}"]`), /Waiting to send/);
    assert.match(await page.textContent('#pending-count'), /1 waiting to send/);
    // Reload again offline: the queued interview is still there (IndexedDB).
    await page.reload();
    await page.waitForSelector(`[data-instance="${instance}"][data-status="queued"]`);
    // Back online: the outbox sends it on its own, with its instance id.
    mock.submissions.length = 0;
    own = await startServer({ api: mockApi, port });
    await browser.context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForFunction(() => document.querySelector('[data-status="sent"]'));
    assert.deepEqual(mock.submissions.map((x) => x.instance_id), [instance]);
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.context.setOffline(false);
    await page.close();
    await own.close();
  }
});
