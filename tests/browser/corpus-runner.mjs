// Runs the expression conformance corpus (tests/data/expressions.json) against the
// JavaScript evaluator (web/expr.js). Used in node (expr.test.mjs) and inside Chromium
// (app.test.mjs loads this file in the page), so both runtimes are held to the corpus.
//
// The rules are those of the Rust runner (tests/expressions.rs): parse, then static check
// against the case's types, then evaluate; a case passes when the value equals `expect`
// or when the first error met has the code `error` (and column `column`).

/**
 * @param {object} corpus the parsed expressions.json
 * @param {object} E the web/expr.js module
 * @returns {{total: number, passed: number, failures: string[]}}
 */
export function runCorpus(corpus, E) {
  const defaults = corpus.defaults ?? {};
  const failures = [];
  const ids = new Set();
  corpus.cases.forEach((c, index) => {
    try {
      if (ids.has(c.id)) throw new Error(`duplicate id ${c.id}`);
      ids.add(c.id);
      runCase(c, defaults, E);
    } catch (e) {
      failures.push(`case ${index} ${c.id} \`${c.expr}\`: ${e.message}`);
    }
  });
  return { total: corpus.cases.length, passed: corpus.cases.length - failures.length, failures };
}

const STATIC_TYPES = { boolean: 'bool', number: 'number', any: 'any' };

function collectVars(types, rosters, vars) {
  for (const [name, decl] of Object.entries(types)) {
    if (typeof decl === 'string') {
      const ty = STATIC_TYPES[decl] ?? null;
      const qty = ty ?? (() => {
        const t = ({ text: 'text', select_one: 'text', integer: 'number', decimal: 'number', select_multiple: 'multi', date: 'date', datetime: 'datetime', geopoint: 'geo' })[decl];
        if (!t) throw new Error(`unknown type ${decl}`);
        return t;
      })();
      vars.set(name, { ty: qty, decl, rosters, isRoster: false });
    } else if (decl && typeof decl === 'object' && decl.roster) {
      vars.set(name, { ty: 'roster', decl: 'roster', rosters, isRoster: true });
      collectVars(decl.roster, [...rosters, name], vars);
    } else throw new Error(`bad type for ${name}`);
  }
}

function decodeRow(obj, vars, roster, E) {
  const row = {};
  for (const [key, json] of Object.entries(obj)) {
    const v = vars.get(key);
    if (!v || (v.rosters[v.rosters.length - 1] ?? null) !== roster)
      throw new Error(`answer ${key} has no declared type at this level`);
    if (v.isRoster) {
      if (json === null) continue;
      if (!Array.isArray(json)) throw new Error(`${key}: roster must be an array`);
      row[key] = json.map((r) => decodeRow(r, vars, key, E));
    } else {
      const value = E.decodeAnswer(v.decl, json);
      if (value !== null) row[key] = value;
    }
  }
  return row;
}

function expectedValue(json, E) {
  if (json === null) return E.EMPTY;
  if (typeof json === 'boolean') return E.bool(json);
  if (typeof json === 'number') return { k: 'num', v: json };
  if (typeof json === 'string') return { k: 'text', v: json };
  if (json.date !== undefined) return E.parseDate(json.date);
  if (json.datetime !== undefined) return E.parseDateTime(json.datetime);
  if (json.multi !== undefined) return { k: 'multi', v: json.multi };
  throw new Error(`unknown expect encoding ${JSON.stringify(json)}`);
}

function sameValue(a, b) {
  if (a.k !== b.k) return false;
  switch (a.k) {
    case 'empty':
      return true;
    case 'num':
      return a.v === b.v || Math.abs(a.v - b.v) <= 1e-9 * Math.max(Math.abs(b.v), 1);
    case 'datetime':
      return a.ms === b.ms;
    case 'date':
      return a.days === b.days;
    case 'multi':
      return a.v.length === b.v.length && a.v.every((x, i) => x === b.v[i]);
    default:
      return a.v === b.v;
  }
}

const show = (v) => JSON.stringify(v);

function runCase(c, defaults, E) {
  const types = { ...(defaults.types ?? {}), ...(c.types ?? {}) };
  const answers = { ...(defaults.answers ?? {}), ...(c.answers ?? {}) };
  const vars = new Map();
  collectVars(types, [], vars);
  const root = decodeRow(answers, vars, null, E);
  const today = E.parseDate(c.today ?? defaults.today ?? '2026-03-01');
  const ctx = c.context ?? {};
  const context = [];
  for (let i = 0; i < (ctx.row ?? []).length; i += 2) context.push([ctx.row[i], ctx.row[i + 1]]);
  let dotType = null;
  let dot = E.EMPTY;
  if (ctx.dot_type) {
    dotType = STATIC_TYPES[ctx.dot_type] ?? E.typeOfQuestionType(ctx.dot_type);
    if (ctx.dot !== undefined) dot = E.decodeAnswer(ctx.dot_type, ctx.dot) ?? E.EMPTY;
  }
  const choice = ctx.choice ? { value: ctx.choice.value, columns: ctx.choice.columns ?? {} } : null;
  // choice-label(): the case's choice lists (merged like types) in its interview language.
  const choices = { ...(defaults.choices ?? {}), ...(c.choices ?? {}) };
  const fallbackLang = (defaults.languages ?? ['en'])[0];
  const lang = c.language ?? defaults.language ?? fallbackLang;
  const wantError = c.error ?? null;
  const wantColumn = c.column ?? null;

  let parsed;
  try {
    parsed = E.parse(c.expr);
  } catch (e) {
    if (!(e instanceof E.ExprError)) throw e;
    if (wantError === e.code) {
      if (wantColumn !== null && wantColumn !== e.column)
        throw new Error(`error column ${e.column} (want ${wantColumn}): ${e.message}`);
      return;
    }
    throw new Error(`parse failed: [${e.code}] ${e.message}`);
  }
  const diagnostics = E.check(parsed, E.makeTreeSymbols({ vars, context, dotType, choice }));
  if (c.warning && !diagnostics.some((d) => d.severity === 'warning' && d.code === c.warning))
    throw new Error(`expected a ${c.warning} warning, got ${show(diagnostics)}`);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    const first = errors[0];
    if (wantError === null) throw new Error(`check error [${first.code}] ${first.message}`);
    if (first.code !== wantError) throw new Error(`check error [${first.code}] ${first.message} (want ${wantError})`);
    if (wantColumn !== null && wantColumn !== first.column)
      throw new Error(`check error at column ${first.column} (want ${wantColumn}): ${first.message}`);
    return;
  }
  const scope = E.makeTreeScope({ vars, root, context, today, dot, choice, choices, lang, fallbackLang });
  let actual;
  try {
    actual = E.evaluate(parsed, scope);
  } catch (e) {
    if (!(e instanceof E.EvalError)) throw e;
    if (wantError === e.code) return;
    throw new Error(`evaluate: ${e.message}`);
  }
  if (wantError !== null) throw new Error(`expected error ${wantError}, evaluated to ${show(actual)}`);
  if (!('expect' in c)) throw new Error('case has neither expect nor error');
  const expected = expectedValue(c.expect, E);
  if (!sameValue(actual, expected)) throw new Error(`got ${show(actual)}, want ${show(expected)}`);
  if (E.evaluateBool(parsed, scope) !== E.toBool(actual)) throw new Error('evaluateBool disagrees');
}
