// Differential test: random expressions (fixed seed) checked and evaluated by web/expr.js
// (through web/runner.js) and by the Rust engine (`questionnaire lint` and `questionnaire
// validate`), which must agree on which expressions are errors and on every value. This
// reaches combinations the hand-written corpus does not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as R from '../../web/runner.js';
import * as E from '../../web/expr.js';
import { rustCli, tempJson } from './harness.mjs';

function generator(seed) {
  let state = seed;
  const rnd = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const leaves = ['${a}', '${b}', '${t}', '${d}', '${dt}', '${m}', '${e}', '${dk}', '${rows}', '${qty}', '1', '0', '2.5', '-3', "'7'", "'abc'", "''", "'2026-01-31'", "' 12 '", '0.1', '1000000', "'é'", "'Z'", 'true()'];
  const fns1 = ['int', 'round', 'number', 'string', 'boolean', 'not', 'abs', 'floor', 'ceiling', 'string-length', 'date', 'count-selected', 'count', 'sum', 'is-dont-know'];
  const fns2 = ['round', 'coalesce', 'concat', 'contains', 'starts-with', 'ends-with', 'selected', 'min', 'max', 'regex', 'format-date'];
  const ops = ['+', '-', '*', 'div', 'mod', '=', '!=', '<', '<=', '>', '>=', 'and', 'or'];
  const gen = (depth) => {
    if (depth <= 0 || rnd() < 0.3) return pick(leaves);
    const r = rnd();
    if (r < 0.45) return `(${gen(depth - 1)} ${pick(ops)} ${gen(depth - 1)})`;
    if (r < 0.65) return `${pick(fns1)}(${gen(depth - 1)})`;
    if (r < 0.85) return `${pick(fns2)}(${gen(depth - 1)}, ${gen(depth - 1)})`;
    if (r < 0.92) return `if(${gen(depth - 1)}, ${gen(depth - 1)}, ${gen(depth - 1)})`;
    return `-${gen(depth - 1)}`;
  };
  return gen;
}

function questionnaire(calculations) {
  const q = (name, type, extra = {}) => ({ kind: 'question', name, type, label: { en: name }, ...extra });
  return {
    schema_version: 1, id: 'differential', version: '1', title: { en: 'differential' }, languages: ['en'],
    choice_lists: { c: [{ value: 'x', label: { en: 'x' } }, { value: 'y', label: { en: 'y' } }] },
    items: [
      q('a', 'integer'), q('b', 'decimal'), q('t', 'text'), q('d', 'date'), q('dt', 'datetime'),
      q('m', 'select_multiple', { choices: 'c' }), q('e', 'integer'), q('dk', 'integer', { allow_dont_know: true }),
      { kind: 'roster', name: 'rows', label: { en: 'rows' }, items: [q('qty', 'decimal')] },
      ...calculations.map((calculation, i) => ({ kind: 'calculate', name: `c${i}`, calculation })),
    ],
  };
}

const ANSWERS = {
  a: 7, b: -2.5, t: '12', d: '2024-02-29', dt: '2026-03-01T23:30:00+07:00', m: ['x', 'y'],
  dk: { missing: 'dont_know' }, rows: [{ qty: 1.5 }, { qty: 40 }, {}],
};

function asJson(v) {
  if (!v || v.k === 'empty') return null;
  if (v.k === 'bool' || v.k === 'num' || v.k === 'multi') return v.v;
  return E.toText(v);
}

test('random expressions: JS and Rust agree on errors and values', async () => {
  const gen = generator(20260301);
  const exprs = Array.from({ length: 500 }, () => gen(4));
  // 1. Static checks: the same expressions are errors on both sides.
  const all = questionnaire(exprs);
  const lint = await rustCli(['questionnaire', 'lint', await tempJson('all.json', all), '--format', 'json']);
  const rustErrors = new Set();
  for (const d of lint.files[0].diagnostics) {
    const m = /^\/items\/(\d+)\/calculation/.exec(d.path ?? '');
    if (m && d.severity === 'error') rustErrors.add(Number(m[1]) - 9);
  }
  const cq = R.compile(all);
  const jsErrors = new Set();
  exprs.forEach((src, i) => {
    try {
      if (E.check(E.parse(src), E.makeTreeSymbols({ vars: cq.vars })).some((d) => d.severity === 'error')) jsErrors.add(i);
    } catch {
      jsErrors.add(i);
    }
  });
  const disagree = exprs.map((src, i) => [src, jsErrors.has(i), rustErrors.has(i)]).filter(([, j, r]) => j !== r);
  assert.deepEqual(disagree, [], 'expressions flagged by only one side');
  assert.ok(rustErrors.size >= 100 && jsErrors.size === rustErrors.size, `${rustErrors.size} errors`);
  // 2. Values: the valid ones evaluate to the same calculation values.
  const valid = exprs.filter((_, i) => !jsErrors.has(i));
  assert.ok(valid.length >= 150, `${valid.length} valid expressions`);
  const def = questionnaire(valid);
  const report = await rustCli(['questionnaire', 'validate', await tempJson('def.json', def), await tempJson('answers.json', ANSWERS), '--format', 'json']);
  const today = E.parseDate(new Date().toISOString().slice(0, 10));
  const state = R.evaluateState(R.compile(def), ANSWERS, today);
  const mismatches = [];
  valid.forEach((src, i) => {
    const mine = asJson(state.calcs.get(`c${i}`));
    const rust = report.calculations[`c${i}`];
    const same = JSON.stringify(mine) === JSON.stringify(rust)
      || (typeof mine === 'number' && typeof rust === 'number' && Math.abs(mine - rust) <= 1e-9 * Math.max(1, Math.abs(rust)));
    if (!same) mismatches.push(`${src}: JS ${JSON.stringify(mine)} Rust ${JSON.stringify(rust)}`);
  });
  assert.deepEqual(mismatches, []);
});

test('roster rows: position(), format-date() and date min()/max() agree between JS and Rust', async () => {
  const rowCalcs = [
    'position()',
    "concat(position(), '/', count(${rows}))",
    'position() = count(${rows})',
    "format-date(${d} + position(), '%a %e %b %Y')",
    "format-date(${dt} + position() div 24, '%Y-%m-%d %H:%M:%S %a')",
    "max(${d}, date('2024-03-01') - position())",
    'min(${dt}, ${d} + position())',
    'if(position() > 1, ${qty} * position(), 0)',
  ];
  const def = questionnaire([
    "max(${d}, ${dt})",
    "min(${d}, ${dt}, date('2030-01-01'))",
    "format-date(max(${d}, ${dt}), '%y%m%d-%H%M')",
  ]);
  const rows = def.items.find((item) => item.name === 'rows');
  rows.items.push(...rowCalcs.map((calculation, i) => ({ kind: 'calculate', name: `r${i}`, calculation })));
  const report = await rustCli(['questionnaire', 'validate', await tempJson('rows.json', def), await tempJson('answers.json', ANSWERS), '--format', 'json']);
  assert.equal(report.errors, 0, JSON.stringify(report.findings));
  const state = R.evaluateState(R.compile(def), ANSWERS, E.parseDate('2026-03-01'));
  const mismatches = [];
  const compare = (label, mine, rust) => {
    if (JSON.stringify(mine) !== JSON.stringify(rust)) mismatches.push(`${label}: JS ${JSON.stringify(mine)} Rust ${JSON.stringify(rust)}`);
  };
  for (let i = 0; i < 3; i++) compare(`c${i}`, asJson(state.calcs.get(`c${i}`)), report.calculations[`c${i}`]);
  ANSWERS.rows.forEach((_, row) => {
    rowCalcs.forEach((src, i) => compare(`rows/${row} ${src}`, asJson(state.calcs.get(`rows.${row}.r${i}`)), report.calculations.rows[row][`r${i}`]));
  });
  assert.deepEqual(mismatches, []);
  // The values themselves, for the first rows (so agreement is not agreement on nothing).
  assert.deepEqual(report.calculations.rows.map((r) => r.r1), ['1/3', '2/3', '3/3']);
  assert.equal(report.calculations.rows[0].r3, 'Fri 1 Mar 2024');
});
