// The questionnaire runner's logic, without any DOM: compile a questionnaire definition,
// evaluate relevance and calculations over the interview's answers, check required
// answers, choices, rules and roster sizes, and produce the answers object in the
// documented submission encoding (docs/questionnaire-format.md, "Answers").
//
// It mirrors the Rust validator (src/questionnaire/validate/): a non-relevant item is
// empty for everything that reads it, rules run only on answered questions with `.` as the
// answer, a roster's own rules and count run in the roster's parent context. The answers
// the enumerator typed are kept for items that become non-relevant (so a mistaken tap
// loses nothing) but are left out of the produced answers, which is what the server checks.
//
// form.js renders; this module decides. Both the browser and node tests import it.

import * as E from './expr.js';

/** The text of a bilingual label in `lang`, falling back to the first declared language. */
export function tr(text, lang, fallback = 'en') {
  if (!text) return '';
  if (typeof text === 'string') return text;
  return text[lang] ?? text[fallback] ?? Object.values(text)[0] ?? '';
}

function parseOrNull(src, where, problems) {
  if (src === undefined || src === null || src === '') return null;
  try {
    return E.parse(String(src));
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
    return null;
  }
}

/**
 * Compiles a questionnaire definition: every item with its parsed expressions and the
 * rosters around it. Throws when the definition is not a questionnaire.
 */
export function compile(def) {
  if (!def || typeof def !== 'object' || !Array.isArray(def.items))
    throw new Error('not a questionnaire: it has no items');
  const problems = [];
  const vars = new Map();
  const nodes = [];
  const walk = (items, rosters, parent) =>
    items.map((item) => {
      const where = item.name;
      const node = {
        item,
        kind: item.kind,
        name: item.name,
        type: item.type ?? null,
        rosters,
        parent,
        relevant: parseOrNull(item.relevant, `${where}.relevant`, problems),
        required:
          typeof item.required === 'string' ? parseOrNull(item.required, `${where}.required`, problems) : !!item.required,
        rules: (item.rules ?? []).map((r) => ({
          check: parseOrNull(r.check, `${where}.rules`, problems),
          severity: r.severity === 'warning' ? 'warning' : 'error',
          message: r.message,
        })),
        calculation: parseOrNull(item.calculation, `${where}.calculation`, problems),
        choiceFilter: parseOrNull(item.choice_filter, `${where}.choice_filter`, problems),
        count: parseOrNull(item.count, `${where}.count`, problems),
        choices: item.choices ? def.choice_lists?.[item.choices] ?? [] : null,
        children: [],
      };
      nodes.push(node);
      if (item.kind === 'question') vars.set(item.name, { ty: E.typeOfQuestionType(item.type) ?? 'any', decl: item.type, rosters, isRoster: false, choices: node.choices ?? undefined });
      else if (item.kind === 'calculate') vars.set(item.name, { ty: 'any', decl: 'any', rosters, isRoster: false });
      else if (item.kind === 'roster') vars.set(item.name, { ty: 'roster', decl: 'roster', rosters, isRoster: true });
      if (Array.isArray(item.items)) {
        const inner = item.kind === 'roster' ? [...rosters, item.name] : rosters;
        node.children = walk(item.items, inner, node);
      }
      return node;
    });
  const top = walk(def.items, [], null);
  const languages = Array.isArray(def.languages) && def.languages.length ? def.languages : ['en'];
  // `lang` is the interview language for choice-label(); the form sets it (setLanguage).
  return { def, top, nodes, vars, problems, languages, lang: languages[0], byName: new Map(nodes.map((n) => [n.name, n])) };
}

/** The languages choice-label() reads: the interview's, then the questionnaire's default. */
function languagesOf(cq) {
  return { lang: cq.lang ?? cq.languages[0], fallbackLang: cq.languages[0] };
}

/** An empty answer: absent, null, '' or an empty select_multiple. */
export function isBlank(json) {
  return json === undefined || json === null || json === '' || (Array.isArray(json) && json.length === 0);
}

export function missingState(json) {
  return json && typeof json === 'object' && !Array.isArray(json) ? json.missing ?? null : null;
}

/** Decodes the stored answers of one row into evaluator values (rosters recursively). */
function decodeRow(cq, row, container) {
  const out = {};
  for (const node of container) {
    if (node.kind === 'group') Object.assign(out, decodeRow(cq, row, node.children));
    else if (node.kind === 'question') {
      const json = row[node.name];
      if (isBlank(json)) continue;
      try {
        const v = E.decodeAnswer(node.type, json);
        if (v !== null) out[node.name] = v;
      } catch {
        // A malformed stored answer counts as no answer; the form shows it as invalid.
      }
    } else if (node.kind === 'roster') {
      const rows = Array.isArray(row[node.name]) ? row[node.name] : [];
      out[node.name] = rows.map((r) => decodeRow(cq, r ?? {}, node.children));
    }
  }
  return out;
}

const keyOf = (context, name) => [...context.flat(), name].join('.');

/**
 * Evaluates relevance and calculations to a fixed point and returns
 * {relevant: Map key→bool, calcs: Map key→value, tree}, where a key is the instance path
 * (`age`, `suppliers.0.sup_name`) and `tree` holds the effective values (non-relevant
 * answers removed, calculations filled in) that every expression sees.
 */
export function evaluateState(cq, answers, today) {
  const decoded = decodeRow(cq, answers, cq.top);
  let relevant = new Map();
  let calcs = new Map();
  let tree = decoded;
  for (let pass = 0; pass < 64; pass++) {
    tree = effectiveTree(cq, decoded, relevant, calcs);
    const nextRelevant = new Map();
    const nextCalcs = new Map();
    const visit = (container, context, parentRelevant) => {
      for (const node of container) {
        const key = keyOf(context, node.name);
        const scope = E.makeTreeScope({ ...languagesOf(cq), vars: cq.vars, root: tree, context, today });
        let rel = parentRelevant;
        if (rel && node.relevant) rel = safeBool(node.relevant, scope);
        nextRelevant.set(key, rel);
        if (rel && node.kind === 'calculate' && node.calculation) nextCalcs.set(key, safeValue(node.calculation, scope));
        if (node.kind === 'group') visit(node.children, context, rel);
        else if (node.kind === 'roster') {
          const rows = rowsAt(tree, context, node.name);
          rows.forEach((_, i) => visit(node.children, [...context, [node.name, i]], rel));
        }
      }
    };
    visit(cq.top, [], true);
    const stable = sameMap(relevant, nextRelevant, (a, b) => a === b) && sameMap(calcs, nextCalcs, sameValue);
    relevant = nextRelevant;
    calcs = nextCalcs;
    if (stable) break;
  }
  tree = effectiveTree(cq, decoded, relevant, calcs);
  return { relevant, calcs, tree };
}

function sameValue(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameMap(a, b, eq) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.has(k) || !eq(v, b.get(k))) return false;
  return true;
}

function safeBool(expr, scope) {
  try {
    return E.evaluateBool(expr, scope);
  } catch {
    return false;
  }
}

function safeValue(expr, scope) {
  try {
    return E.evaluate(expr, scope);
  } catch {
    return E.EMPTY;
  }
}

function rowsAt(tree, context, name) {
  let row = tree;
  for (const [roster, i] of context) row = row?.[roster]?.[i];
  const rows = row?.[name];
  return Array.isArray(rows) ? rows : [];
}

/** The decoded tree with non-relevant answers removed and calculations filled in. */
function effectiveTree(cq, decoded, relevant, calcs) {
  const build = (container, src, context, out) => {
    for (const node of container) {
      const key = keyOf(context, node.name);
      const rel = relevant.has(key) ? relevant.get(key) : true;
      if (node.kind === 'group') {
        if (rel) build(node.children, src, context, out);
      } else if (node.kind === 'question') {
        if (rel && src[node.name]) out[node.name] = src[node.name];
      } else if (node.kind === 'calculate') {
        if (rel && calcs.has(key)) out[node.name] = calcs.get(key);
      } else if (node.kind === 'roster') {
        const rows = rel && Array.isArray(src[node.name]) ? src[node.name] : [];
        out[node.name] = rows.map((r, i) => build(node.children, r, [...context, [node.name, i]], {}));
      }
    }
    return out;
  };
  return build(cq.top, decoded, [], {});
}

/** The value of an expression in a row context of an evaluated state (for counts, filters). */
export function evaluateIn(cq, state, expr, context, today, extra = {}) {
  const scope = E.makeTreeScope({ ...languagesOf(cq), vars: cq.vars, root: state.tree, context, today, ...extra });
  return safeValue(expr, scope);
}

/**
 * The number of rows a roster's `count` asks for in this context: a whole number ≥ 0, or
 * null when the count is empty (its question not answered yet) or not a whole number —
 * then it does not constrain the rows, as in the validator.
 */
export function rosterTarget(cq, state, node, context, today) {
  if (!node.count) return null;
  const n = E.toNumber(evaluateIn(cq, state, node.count, context, today));
  return n !== null && n >= 0 && Number.isInteger(n) ? n : null;
}

/** Whether a question is required in this context (`required` may be an expression). */
export function isRequired(cq, state, node, context, today) {
  if (node.required === true || node.required === false) return node.required;
  const scope = E.makeTreeScope({ ...languagesOf(cq), vars: cq.vars, root: state.tree, context, today });
  return safeBool(node.required, scope);
}

/** The choices of a select question shown in this context (after its choice_filter). */
export function visibleChoices(cq, state, node, context, today) {
  const list = node.choices ?? [];
  if (!node.choiceFilter) return list;
  return list.filter((choice) => {
    const scope = E.makeTreeScope({
      ...languagesOf(cq), vars: cq.vars, root: state.tree, context, today, choice: { value: choice.value, columns: choice.columns ?? {} },
    });
    return safeBool(node.choiceFilter, scope);
  });
}

/**
 * Every finding of the interview: [{key, severity, code, message (text object or string)}].
 * `key` is the instance path of the question, roster or group.
 */
export function findings(cq, answers, state, today) {
  const out = [];
  const visit = (container, src, context) => {
    for (const node of container) {
      const key = keyOf(context, node.name);
      if (!state.relevant.get(key)) continue;
      const scope = (dot = E.EMPTY) => E.makeTreeScope({ ...languagesOf(cq), vars: cq.vars, root: state.tree, context, today, dot });
      if (node.kind === 'group') {
        ruleFindings(node, key, scope(), out);
        visit(node.children, src, context);
      } else if (node.kind === 'question') {
        questionFindings(cq, state, node, key, src[node.name], context, scope, today, out);
      } else if (node.kind === 'roster') {
        const rows = Array.isArray(src[node.name]) ? src[node.name] : [];
        const n = rows.length;
        if (node.count) {
          const want = E.toNumber(safeValue(node.count, scope()));
          if (want !== null && want >= 0 && Number.isInteger(want) && want !== n)
            out.push({ key, severity: 'error', code: 'roster_count', message: { key: 'rosterCount', n: want } });
        }
        if (Number.isInteger(node.item.min) && n < node.item.min)
          out.push({ key, severity: 'error', code: 'roster_min', message: { key: 'rosterMin', n: node.item.min } });
        if (Number.isInteger(node.item.max) && n > node.item.max)
          out.push({ key, severity: 'error', code: 'roster_max', message: { key: 'rosterMax', n: node.item.max } });
        ruleFindings(node, key, scope(), out);
        rows.forEach((row, i) => visit(node.children, row ?? {}, [...context, [node.name, i]]));
      }
    }
  };
  visit(cq.top, answers, []);
  return out;
}

function ruleFindings(node, key, scope, out) {
  for (const rule of node.rules) {
    if (rule.check && !safeBool(rule.check, scope))
      out.push({ key, severity: rule.severity, code: 'rule_failed', message: rule.message });
  }
}

function questionFindings(cq, state, node, key, json, context, scope, today, out) {
  const missing = missingState(json);
  if (isBlank(json)) {
    const required = node.required === true || (node.required && safeBool(node.required, scope()));
    if (required)
      out.push({ key, severity: 'error', code: 'required_missing', message: node.item.required_message ?? { key: 'required' } });
    return;
  }
  if (missing === 'dont_know') {
    if (!node.item.allow_dont_know) out.push({ key, severity: 'error', code: 'dont_know_not_allowed', message: { key: 'dkNotAllowed' } });
    return;
  }
  if (missing === 'refused') {
    if (!node.item.allow_refused) out.push({ key, severity: 'error', code: 'refused_not_allowed', message: { key: 'refusedNotAllowed' } });
    return;
  }
  let value;
  try {
    value = E.decodeAnswer(node.type, json);
    if (node.type === 'integer' && !Number.isInteger(json)) throw new Error('not an integer');
  } catch {
    out.push({ key, severity: 'error', code: 'wrong_type', message: { key: 'invalidValue' } });
    return;
  }
  if (node.choices) {
    const allowed = new Set(visibleChoices(cq, state, node, context, today).map((c) => c.value));
    const chosen = node.type === 'select_multiple' ? json : [json];
    if (chosen.some((v) => !allowed.has(v)))
      out.push({ key, severity: 'error', code: 'invalid_choice', message: { key: 'invalidChoice' } });
  }
  ruleFindings(node, key, scope(value), out);
}

/**
 * The answers object to submit: relevant, non-blank answers only, groups flattened,
 * rosters as arrays of rows, DK/refused as {"missing": …}, calculations left out.
 */
export function submissionAnswers(cq, answers, state) {
  const build = (container, src, context, out) => {
    for (const node of container) {
      const key = keyOf(context, node.name);
      if (!state.relevant.get(key)) continue;
      if (node.kind === 'group') build(node.children, src, context, out);
      else if (node.kind === 'question') {
        const json = src[node.name];
        if (!isBlank(json)) out[node.name] = structuredClone(json);
      } else if (node.kind === 'roster') {
        const rows = Array.isArray(src[node.name]) ? src[node.name] : [];
        if (rows.length)
          out[node.name] = rows.map((r, i) => build(node.children, r ?? {}, [...context, [node.name, i]], {}));
      }
    }
    return out;
  };
  return build(cq.top, answers, [], {});
}

/** The calculations of an evaluated state as JSON (for display and paradata). */
export function calculationText(value) {
  return value && value.k !== 'empty' ? E.toText(value) : '';
}

/** Today's date (in the device's time zone) as an evaluator date value. */
export function todayValue(now = new Date()) {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, '0');
  const d = String(now.getDate()).padStart(2, '0');
  return E.parseDate(`${y}-${m}-${d}`);
}
