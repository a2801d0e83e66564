// The form's logic (web/runner.js) against the DW-SCS example submissions that the Rust
// validator is tested on (tests/data/examples/): valid examples give the same answers
// object back with no errors and exactly the expected warnings; invalid ones give every
// expected finding that a form can meet. Codes that only a hand-written JSON can cause
// (unknown fields, answers to non-relevant questions, wrong JSON types, malformed
// missing states) are the server validator's job: the form cannot produce them, because
// it leaves skipped answers out and only stores typed-checked values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import * as R from '../../web/runner.js';
import { ROOT, rustValidate } from './harness.mjs';

const SETS = [
  ['worker', 'dwscs-worker'],
  ['enterprise', 'dwscs-enterprise'],
  ['household_unit', 'dwscs-household-unit'],
];
const STRUCTURAL = new Set(['unknown_field', 'not_relevant', 'wrong_type', 'invalid_missing', 'calculation_submitted', 'duplicate_choice']);
const TODAY = R.todayValue(new Date(2026, 2, 1));
const read = (p) => JSON.parse(readFileSync(p, 'utf8'));
const asList = (x) => (Array.isArray(x) ? x : [x]);
const pathOf = (key) => `/${key.replaceAll('.', '/')}`;

function run(cq, answers) {
  const state = R.evaluateState(cq, answers, TODAY);
  return { state, findings: R.findings(cq, answers, state, TODAY) };
}

for (const [file, dir] of SETS) {
  const cq = R.compile(read(path.join(ROOT, 'questionnaires', `${file}.json`)));

  test(`${file}: valid examples round-trip with the expected warnings only`, () => {
    assert.deepEqual(cq.problems, []);
    const folder = path.join(ROOT, 'tests/data/examples', dir, 'valid');
    const files = readdirSync(folder).filter((f) => f.endsWith('.json') && !f.endsWith('.expect.json'));
    assert.ok(files.length >= 3);
    for (const f of files) {
      const answers = read(path.join(folder, f));
      const { state, findings } = run(cq, answers);
      assert.deepEqual(R.submissionAnswers(cq, answers, state), answers, `${f}: answers object`);
      const errors = findings.filter((x) => x.severity === 'error');
      assert.deepEqual(errors, [], `${f}: no errors`);
      const expectFile = path.join(folder, f.replace('.json', '.expect.json'));
      if (existsSync(expectFile)) {
        const got = findings.map((x) => `${x.code} ${pathOf(x.key)}`);
        for (const e of asList(read(expectFile))) assert.ok(got.includes(`${e.code} ${e.path}`), `${f}: expected ${e.code} at ${e.path}, got ${got}`);
      }
    }
  });

  test(`${file}: invalid examples give their expected findings`, () => {
    const folder = path.join(ROOT, 'tests/data/examples', dir, 'invalid');
    const files = readdirSync(folder).filter((f) => f.endsWith('.json') && !f.endsWith('.expect.json'));
    let checked = 0;
    for (const f of files) {
      const expected = asList(read(path.join(folder, f.replace('.json', '.expect.json'))));
      const answers = read(path.join(folder, f));
      const { findings } = run(cq, answers);
      const got = findings.map((x) => `${x.code === 'invalid_choice' ? 'choice' : x.code} ${pathOf(x.key)} ${x.severity}`);
      for (const e of expected) {
        if (STRUCTURAL.has(e.code)) continue;
        // The form reports a choice outside the list or outside the filter at the question.
        const code = e.code === 'invalid_choice' || e.code === 'choice_filtered' ? 'choice' : e.code;
        const at = code === 'choice' ? e.path.replace(/\/\d+$/, '') : e.path;
        assert.ok(got.includes(`${code} ${at} ${e.severity}`), `${f}: expected ${e.code} at ${e.path}; got ${got.join(', ')}`);
        checked++;
      }
    }
    assert.ok(checked >= 10, `${checked} findings checked`);
  });
}

test('nested rosters: scope, counts, sums and the answers object', () => {
  const def = {
    schema_version: 1, id: 'nested', version: '1', title: { en: 'n' }, languages: ['en'],
    choice_lists: {},
    items: [
      { kind: 'question', name: 'n_sup', type: 'integer', label: { en: 'n' } },
      {
        kind: 'roster', name: 'sup', label: { en: 's' }, count: '${n_sup}',
        rules: [{ check: 'sum(${qty}) <= 100', severity: 'error', message: { en: 'too many' } }],
        items: [
          { kind: 'question', name: 'sup_name', type: 'text', label: { en: 'n' }, required: true },
          {
            kind: 'roster', name: 'items', label: { en: 'i' }, max: 2,
            items: [
              { kind: 'question', name: 'qty', type: 'integer', label: { en: 'q' }, rules: [{ check: '. > 0', severity: 'error', message: { en: 'positive' } }] },
              { kind: 'question', name: 'why', type: 'text', label: { en: 'w' }, relevant: '${qty} > 50 and ${sup_name} != \'\'' },
            ],
          },
          { kind: 'calculate', name: 'sup_total', calculation: 'sum(${qty})' },
        ],
      },
      { kind: 'calculate', name: 'all_items', calculation: 'count(${items})' },
    ],
  };
  const cq = R.compile(def);
  const answers = {
    n_sup: 2,
    sup: [
      { sup_name: 'A', items: [{ qty: 60, why: 'big' }, { qty: 0 }] },
      { items: [{ qty: 70, why: 'dropped: not relevant without a name' }, { qty: 1 }, { qty: 2 }] },
    ],
  };
  const { state, findings } = run(cq, answers);
  assert.equal(state.calcs.get('sup.0.sup_total').v, 60);
  assert.equal(state.calcs.get('sup.1.sup_total').v, 73);
  assert.equal(state.calcs.get('all_items').v, 5);
  assert.equal(state.relevant.get('sup.0.items.0.why'), true);
  assert.equal(state.relevant.get('sup.1.items.0.why'), false);
  const codes = findings.map((f) => `${f.code} ${f.key}`).sort();
  assert.deepEqual(codes, [
    'required_missing sup.1.sup_name',
    'roster_max sup.1.items',
    'rule_failed sup',
    'rule_failed sup.0.items.1.qty',
  ]);
  const out = R.submissionAnswers(cq, answers, state);
  assert.equal(out.sup[1].items[0].why, undefined);
  assert.equal(out.sup[0].items[0].why, 'big');
});

test('every question type: the runner and the Rust engine agree on findings and calculations', async () => {
  const defPath = 'tests/browser/fixtures/all-types.json';
  const cq = R.compile(read(path.join(ROOT, defPath)));
  const good = read(path.join(ROOT, 'tests/browser/fixtures/all-types.answers.json'));
  // A second answers object with problems of every kind the form can show.
  const bad = structuredClone(good);
  bad.age = 14;
  bad.visit_date = '2099-01-01';
  bad.province = '79';
  bad.fruits = ['mango', 'lychee', 'durian'];
  delete bad.kids_note;
  bad.members[1].jobs = [{ job_hours: 1 }, { job_hours: 2 }, { job_hours: 3 }, { job_hours: 4 }];
  delete bad.members[0].m_name;
  for (const answers of [good, bad]) {
    const { state, findings } = run(cq, answers);
    const report = await rustValidate(defPath, answers);
    const mine = findings.map((f) => `${f.severity} ${f.code === 'invalid_choice' ? 'choice' : f.code} ${pathOf(f.key)}`).sort();
    const rust = report.findings
      .map((f) => `${f.severity} ${f.code === 'invalid_choice' || f.code === 'choice_filtered' ? 'choice' : f.code} ${f.path}`)
      .sort();
    assert.deepEqual(mine, rust);
    assert.deepEqual(R.submissionAnswers(cq, answers, state), answers);
    assert.equal(state.calcs.get('total_hours').v, report.calculations.total_hours);
    report.calculations.members.forEach((row, i) => assert.equal(state.calcs.get(`members.${i}.m_hours`).v, row.m_hours));
  }
});

test('choice-label() in a form reads the question choices in the interview language', () => {
  const def = {
    schema_version: 1, id: 'labels', version: '1', title: { en: 'l', vi: 'l' }, languages: ['en', 'vi'],
    choice_lists: { sex: [{ value: '1', label: { en: 'Male', vi: 'Nam' } }, { value: '2', label: { en: 'Female', vi: 'Nữ' } }] },
    items: [
      { kind: 'question', name: 'sex', type: 'select_one', choices: 'sex', label: { en: 's', vi: 's' } },
      { kind: 'calculate', name: 'sex_label', calculation: 'choice-label(${sex}, ${sex})' },
    ],
  };
  const cq = R.compile(def);
  assert.equal(run(cq, { sex: '2' }).state.calcs.get('sex_label').v, 'Female');
  cq.lang = 'vi';
  assert.equal(run(cq, { sex: '2' }).state.calcs.get('sex_label').v, 'Nữ');
  // A language without a label falls back to the questionnaire's first language.
  cq.lang = 'fr';
  assert.equal(run(cq, { sex: '1' }).state.calcs.get('sex_label').v, 'Male');
});
