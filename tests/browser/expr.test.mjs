// The expression conformance corpus, run against web/expr.js in node.
// Every mismatch is reported at once (like the Rust runner, tests/expressions.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as E from '../../web/expr.js';
import { runCorpus } from './corpus-runner.mjs';

const corpus = JSON.parse(readFileSync(new URL('../data/expressions.json', import.meta.url), 'utf8'));

test('every case of tests/data/expressions.json passes in node', () => {
  const { total, passed, failures } = runCorpus(corpus, E);
  assert.ok(total >= 300, `corpus has ${total} cases`);
  assert.equal(failures.length, 0, `${failures.length} of ${total} cases failed:\n${failures.join('\n')}`);
  assert.equal(passed, total);
});

test('hostile input is a depth error, never a crash', () => {
  const deep = '('.repeat(10 * 1024 * 1024);
  assert.throws(() => E.parse(deep), (e) => e.code === 'depth' && e.column === E.MAX_DEPTH + 1);
  assert.throws(() => E.parse('-'.repeat(100000) + '1'), (e) => e.code === 'depth');
  assert.throws(() => E.parse(Array(100000).fill('1').join(' + ')), (e) => e.code === 'depth');
  const ok = E.parse(`${'('.repeat(E.MAX_DEPTH - 1)}1${')'.repeat(E.MAX_DEPTH - 1)}`);
  assert.equal(E.evaluate(ok, { today: () => E.parseDate('2026-01-01') }).v, 1);
});

test('regex matching stays linear on a catastrophic pattern', () => {
  const r = new E.Regex('^(a+)+$');
  assert.equal(r.isMatch('a'.repeat(5000) + 'b'), false);
  assert.equal(r.isMatch('a'.repeat(5000)), true);
});

test('numbers format like Rust', () => {
  assert.equal(E.formatNumber(1e21), '1000000000000000000000');
  assert.equal(E.formatNumber(1e-7), '0.0000001');
  assert.equal(E.formatNumber(-0), '0');
  assert.equal(E.formatNumber(0.1 + 0.2), '0.30000000000000004');
  assert.equal(E.roundDecimal(1.005, 2), 1.01);
  assert.equal(E.roundDecimal(-2.5, 0), -3);
  assert.equal(E.roundDecimal(500, -3), 1000);
});

test('choice-label() reads a variable\'s own choices when the scope is given no table', () => {
  const choices = [{ value: '1', label: { en: 'Factory', vi: 'Nhà máy' } }, { value: '2', label: { en: 'Shop' } }];
  const vars = new Map([['kind', { ty: 'text', decl: 'select_one', rosters: [], isRoster: false, choices }]]);
  const root = { kind: { k: 'text', v: '1' } };
  const today = E.parseDate('2026-03-01');
  const label = (src, lang, fallbackLang) =>
    E.toText(E.evaluate(E.parse(src), E.makeTreeScope({ vars, root, today, lang, fallbackLang })));
  assert.equal(label('choice-label(${kind}, ${kind})', 'vi', 'en'), 'Nhà máy');
  assert.equal(label("choice-label('2', ${kind})", 'vi', 'en'), 'Shop');
  assert.equal(label("choice-label('3', ${kind})", 'vi', 'en'), '');
  // A scope without choice lists (an app that does not pass them) gives empty, never throws.
  const bare = { value: () => E.EMPTY, today: () => today };
  assert.equal(E.evaluate(E.parse("choice-label('1', ${kind})"), bare).k, 'empty');
  assert.equal(E.evaluate(E.parse('position()'), bare).k, 'empty');
});
