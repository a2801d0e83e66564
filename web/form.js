// The questionnaire form: renders a compiled questionnaire one section at a time and keeps
// it live — relevance (skip logic), choice filters, calculations, required answers, error
// and warning rules, roster rows — as the enumerator answers.
//
// Rendering builds the DOM of the current section once (and again when rows are added or
// removed); every answer then only updates what changed in place (visibility, messages,
// calculated values), so the input being typed in keeps its focus. The logic lives in
// runner.js; this file only draws and collects answers.

import * as R from './runner.js';
import { t, message } from './i18n.js';
import { el } from './dom.js';

const MANY_CHOICES = 12;


const keyOf = (context, name) => [...context.flat(), name].join('.');

/** `suppliers.0.sup_name` → {context: [['suppliers', 0]], name: 'sup_name'}. */
function splitKey(key) {
  const parts = key.split('.');
  const name = parts.pop();
  const context = [];
  for (let i = 0; i < parts.length; i += 2) context.push([parts[i], Number(parts[i + 1])]);
  return { context, name };
}
const idOf = (key) => `q-${key.replaceAll('.', '-')}`;

/** Splits the top level into sections: each group is one; loose items are gathered. */
function sections(cq) {
  const out = [];
  let loose = null;
  for (const node of cq.top) {
    if (node.kind === 'group') {
      loose = null;
      out.push({ node, items: node.children, label: node.item.label });
    } else {
      if (!loose) {
        loose = { node: null, items: [], label: node.item.label };
        out.push(loose);
      }
      loose.items.push(node);
    }
  }
  return out;
}

/** Parses what was typed into a number question: {value} or {invalid: true} or {} (blank). */
export function parseTyped(type, raw) {
  const s = raw.trim();
  if (s === '') return {};
  if (type === 'integer') return /^-?\d+$/.test(s) && Math.abs(Number(s)) <= 2 ** 53 ? { value: Number(s) } : { invalid: true };
  const normal = s.replace(',', '.');
  return /^-?(\d+(\.\d*)?|\.\d+)$/.test(normal) ? { value: Number(normal) } : { invalid: true };
}

/** datetime-local input value + the device's offset → RFC 3339. */
function toRfc3339(local) {
  if (!local) return null;
  const withSeconds = local.length === 16 ? `${local}:00` : local;
  const d = new Date(withSeconds);
  if (Number.isNaN(d.getTime())) return null;
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${withSeconds.slice(0, 19)}${off === 0 ? 'Z' : `${sign}${hh}:${mm}`}`;
}

function fromRfc3339(value) {
  return typeof value === 'string' ? value.slice(0, 19) : '';
}

export class Form {
  /**
   * @param {HTMLElement} root where to draw
   * @param {object} options {definition, answers, lang, today, onChange(answers), onFinish(result), section}
   */
  constructor(root, options) {
    this.root = root;
    this.cq = R.compile(options.definition);
    this.answers = options.answers ?? {};
    this.lang = options.lang ?? this.cq.languages[0];
    this.cq.lang = this.lang;
    this.today = options.today ?? R.todayValue();
    this.onChange = options.onChange ?? (() => {});
    this.onFinish = options.onFinish ?? (() => {});
    this.onSection = options.onSection ?? (() => {});
    // Notes from elsewhere: the server's findings on a rejected submission, or a
    // supervisor's comments. {path (JSON pointer into the answers), text, kind: 'server'|'review'}.
    this.notes = options.notes ?? [];
    this.readOnly = !!options.readOnly;
    // Answers preloaded by the assignment and protected: shown, not editable.
    this.locked = new Set(options.locked ?? []);
    this.sections = sections(this.cq);
    this.current = Math.min(options.section ?? 0, this.sections.length - 1);
    this.invalid = new Map(); // key → raw text that is not a valid answer
    this.state = null;
    this.findings = [];
    this.showAll = false;
    this.render();
    // A returned interview opens where the first comment or finding points.
    const first = this.notes.find((n) => n.path);
    if (first) this.goToFinding({ key: this.keyOfPath(first.path) });
  }

  label(text) {
    return R.tr(text, this.lang, this.cq.languages[0]);
  }

  setLanguage(lang) {
    this.lang = lang;
    this.cq.lang = lang;
    this.render();
  }

  // ----- answers -----------------------------------------------------------------------

  rowAt(context, create = false) {
    let row = this.answers;
    for (const [roster, i] of context) {
      if (!Array.isArray(row[roster])) {
        if (!create) return null;
        row[roster] = [];
      }
      while (create && row[roster].length <= i) row[roster].push({});
      row = row[roster][i];
      if (!row) return null;
    }
    return row;
  }

  getAnswer(context, name) {
    return this.rowAt(context)?.[name];
  }

  setAnswer(context, name, value) {
    const row = this.rowAt(context, true);
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) delete row[name];
    else row[name] = value;
    this.changed();
  }

  changed() {
    this.warningsSeen = false;
    const structural = this.evaluate();
    if (structural) this.render();
    else this.update();
    this.onChange(this.answers);
  }

  /** Evaluates; resizes rosters whose `count` changed. Returns whether rows changed. */
  evaluate() {
    let resized = false;
    for (let round = 0; round < 5; round++) {
      this.state = R.evaluateState(this.cq, this.answers, this.today);
      if (!this.fitCountedRosters()) break;
      resized = true;
    }
    this.findings = R.findings(this.cq, this.answers, this.state, this.today);
    for (const [key] of this.invalid) {
      const node = this.cq.byName.get(key.split('.').pop());
      this.findings.push({ key, severity: 'error', code: 'wrong_type', message: { key: node?.type === 'integer' ? 'invalidNumber' : 'invalidDecimal' } });
    }
    return resized;
  }

  fitCountedRosters() {
    let changed = false;
    const visit = (container, context) => {
      for (const node of container) {
        const key = keyOf(context, node.name);
        if (!this.state.relevant.get(key)) continue;
        if (node.kind === 'group') visit(node.children, context);
        if (node.kind !== 'roster') continue;
        const row = this.rowAt(context);
        if (node.count && row) {
          const want = R.rosterTarget(this.cq, this.state, node, context, this.today);
          const cap = Math.min(Number.isInteger(node.item.max) ? node.item.max : 500, 500);
          if (want !== null && want <= cap) {
            const rows = Array.isArray(row[node.name]) ? row[node.name] : [];
            if (rows.length !== want) {
              while (rows.length < want) rows.push({});
              rows.length = want;
              row[node.name] = rows;
              changed = true;
            }
          }
        }
        const rows = Array.isArray(row?.[node.name]) ? row[node.name] : [];
        rows.forEach((_, i) => visit(node.children, [...context, [node.name, i]]));
      }
    };
    visit(this.cq.top, []);
    return changed;
  }

  // ----- drawing -----------------------------------------------------------------------

  render() {
    if (!this.state) this.evaluate();
    // Re-drawing replaces the inputs: keep the focus and the caret where the enumerator is typing.
    const active = document.activeElement;
    const focusId = active?.id;
    let caret = null;
    try {
      caret = typeof active?.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
    } catch {
      caret = null;
    }
    const section = this.sections[this.current];
    this.root.replaceChildren(...[
      el('div', { class: 'form-head' },
        el('h1', { class: 'form-title', text: this.label(this.cq.def.title) }),
        el('p', { class: 'muted', text: `${this.cq.def.id} · ${this.cq.def.version}` })),
      this.renderServerFindings(),
      this.renderNav(),
      el('section', { class: 'section', 'aria-labelledby': 'section-title' },
        el('h2', { id: 'section-title', tabindex: '-1', text: this.label(section.label) }),
        el('p', { class: 'muted section-count', text: t('sectionOf', { i: this.current + 1, n: this.sections.length }) }),
        ...this.renderItems(section.items, [])),
      this.renderFooter(),
    ].filter(Boolean));
    this.update();
    for (const key of this.locked) {
      this.root.querySelectorAll(`[data-key="${CSS.escape(key)}"] input, [data-key="${CSS.escape(key)}"] select, [data-key="${CSS.escape(key)}"] .btn-missing`)
        .forEach((n) => { n.disabled = true; });
    }
    if (this.readOnly) {
      this.root.querySelectorAll('.section input, .section select, .section textarea, .section .btn-missing, .section .btn-add, .section .btn-danger, #btn-finish')
        .forEach((n) => { n.disabled = true; });
    }
    const again = focusId ? document.getElementById(focusId) : null;
    if (again) {
      again.focus();
      if (caret) {
        try {
          again.setSelectionRange(caret[0], caret[1]);
        } catch {
          // Inputs such as type=date have no caret.
        }
      }
    }
  }

  renderServerFindings() {
    if (!this.notes.length) return null;
    const review = this.notes.every((n) => n.kind === 'review');
    return el('div', { class: `banner ${review ? 'banner-review' : 'banner-error'}`, role: 'alert', id: 'notes' },
      el('strong', { text: review ? t('reviewComment') : t('serverFindings') }),
      el('ul', {}, this.notes.map((n) => el('li', {},
        n.path ? el('button', { type: 'button', class: 'linkish', onclick: () => this.goToFinding({ key: this.keyOfPath(n.path) }), text: `${this.labelOfKey(this.keyOfPath(n.path))}: ` }) : null,
        n.text))));
  }

  /** The item key of a JSON pointer into the answers (a select_multiple element → its question). */
  keyOfPath(pointer) {
    const parts = pointer.replace(/^\//, '').split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (parts.length > 1 && /^\d+$/.test(parts.at(-1)) && this.cq.byName.get(parts.at(-2))?.kind === 'question') parts.pop();
    return parts.join('.');
  }

  renderNav() {
    const nav = el('nav', { class: 'section-nav', 'aria-label': t('sectionOf', { i: this.current + 1, n: this.sections.length }) });
    this.sections.forEach((s, i) => {
      const b = el('button', {
        type: 'button', class: 'chip', 'data-section': String(i), 'aria-current': i === this.current ? 'step' : null,
        onclick: () => this.go(i),
      }, el('span', { class: 'chip-label', text: this.label(s.label) }), el('span', { class: 'chip-badge', 'aria-hidden': 'true' }));
      nav.append(b);
    });
    return nav;
  }

  renderFooter() {
    const last = this.current === this.sections.length - 1;
    return el('div', { class: 'form-foot' },
      el('div', { class: 'summary', id: 'form-summary', 'aria-live': 'polite' }),
      el('div', { class: 'foot-buttons' },
        el('button', { type: 'button', class: 'btn', id: 'btn-prev', disabled: this.current === 0, onclick: () => this.go(this.current - 1), text: `← ${t('previous')}` }),
        last
          ? el('button', { type: 'button', class: 'btn btn-primary', id: 'btn-finish', onclick: () => this.finish(), text: t('finish') })
          : el('button', { type: 'button', class: 'btn btn-primary', id: 'btn-next', onclick: () => this.go(this.current + 1), text: `${t('next')} →` })),
    );
  }

  go(i) {
    if (i < 0 || i >= this.sections.length) return;
    this.current = i;
    this.render();
    this.onSection(i);
    this.root.querySelector('#section-title')?.focus();
    window.scrollTo?.(0, 0);
  }

  renderItems(items, context) {
    return items.map((node) => this.renderItem(node, context)).filter(Boolean);
  }

  renderItem(node, context) {
    const key = keyOf(context, node.name);
    switch (node.kind) {
      case 'group':
        return el('fieldset', { class: 'group', 'data-key': key, id: idOf(key) },
          el('legend', { text: this.label(node.item.label) }),
          ...this.renderItems(node.children, context),
          el('ul', { class: 'msgs', 'data-msgs': key }));
      case 'note':
        return el('div', { class: 'note', 'data-key': key, id: idOf(key), role: 'note' }, el('p', { text: this.label(node.item.label) }));
      case 'calculate':
        // Only labelled calculations are meant for the enumerator; the others are internal.
        if (!node.item.label) return null;
        return el('div', { class: 'calc', 'data-key': key, id: idOf(key), hidden: true },
          el('span', { class: 'calc-label', text: `${t('calculated')}: ${this.label(node.item.label)}` }),
          el('output', { class: 'calc-value', 'data-calc': key }));
      case 'roster':
        return this.renderRoster(node, context, key);
      default:
        return this.renderQuestion(node, context, key);
    }
  }

  renderRoster(node, context, key) {
    const rows = this.getAnswer(context, node.name);
    const list = Array.isArray(rows) ? rows : [];
    const limits = [];
    if (Number.isInteger(node.item.min)) limits.push(t('min', { n: node.item.min }));
    if (Number.isInteger(node.item.max)) limits.push(t('max', { n: node.item.max }));
    const counted = !!node.count;
    const box = el('section', { class: 'roster', 'data-key': key, id: idOf(key), 'aria-label': this.label(node.item.label) },
      el('h3', { class: 'roster-title' }, this.label(node.item.label),
        el('span', { class: 'roster-count', 'data-rowcount': key, text: ` · ${t('rows', { n: list.length })}${limits.length ? ` (${limits.join(', ')})` : ''}` })));
    list.forEach((_, i) => {
      const rowContext = [...context, [node.name, i]];
      box.append(el('div', { class: 'roster-row', 'data-row': keyOf(rowContext, '').slice(0, -1) },
        el('div', { class: 'row-head' },
          el('span', { class: 'row-title', text: t('row', { i: i + 1 }) }),
          counted ? null : el('button', {
            type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `${t('removeRow')} ${i + 1}`,
            onclick: () => this.removeRow(context, node.name, i), text: t('removeRow'),
          })),
        ...this.renderItems(node.children, rowContext)));
    });
    if (!counted) {
      box.append(el('button', {
        type: 'button', class: 'btn btn-add', 'data-add': key,
        disabled: Number.isInteger(node.item.max) && list.length >= node.item.max,
        onclick: () => this.addRow(context, node.name), text: `+ ${t('addRow')}`,
      }));
    }
    box.append(el('ul', { class: 'msgs', 'data-msgs': key }));
    return box;
  }

  addRow(context, name) {
    const row = this.rowAt(context, true);
    if (!Array.isArray(row[name])) row[name] = [];
    row[name].push({});
    this.evaluate();
    this.render();
    this.onChange(this.answers);
    const rows = this.root.querySelectorAll(`[data-key="${keyOf(context, name)}"] > .roster-row`);
    rows[rows.length - 1]?.querySelector('input, select, textarea')?.focus();
  }

  removeRow(context, name, i) {
    if (typeof confirm === 'function' && !confirm(t('confirmRemoveRow'))) return;
    const row = this.rowAt(context);
    if (!row || !Array.isArray(row[name])) return;
    row[name].splice(i, 1);
    const prefix = `${keyOf(context, name)}.`;
    for (const k of [...this.invalid.keys()]) if (k.startsWith(prefix)) this.invalid.delete(k);
    this.evaluate();
    this.render();
    this.onChange(this.answers);
  }

  renderQuestion(node, context, key) {
    const item = node.item;
    const inputId = `in-${key.replaceAll('.', '-')}`;
    const labelId = `lb-${key.replaceAll('.', '-')}`;
    const hintId = `hn-${key.replaceAll('.', '-')}`;
    const msgId = `ms-${key.replaceAll('.', '-')}`;
    const grouped = node.type === 'select_one' || node.type === 'select_multiple' || node.type === 'geopoint';
    const labelText = [this.label(item.label)];
    const mark = item.required ? el('span', { class: 'req', 'data-req': key, title: t('requiredMark'), text: ' *' }) : null;
    const head = grouped
      ? el('div', { class: 'q-label', id: labelId }, ...labelText, mark)
      : el('label', { class: 'q-label', id: labelId, for: inputId }, ...labelText, mark);
    const described = [item.hint ? hintId : null, msgId].filter(Boolean).join(' ');
    const box = el('div', { class: `q q-${node.type}`, 'data-key': key, id: idOf(key), role: grouped ? 'group' : null, 'aria-labelledby': grouped ? labelId : null },
      head,
      item.hint ? el('p', { class: 'hint', id: hintId, text: this.label(item.hint) }) : null,
      this.renderInput(node, context, key, inputId, described),
      this.renderMissingButtons(node, context, key),
      el('ul', { class: 'msgs', id: msgId, 'data-msgs': key, 'aria-live': 'polite' }));
    return box;
  }

  renderMissingButtons(node, context, key) {
    const item = node.item;
    if (!item.allow_dont_know && !item.allow_refused) return null;
    const current = R.missingState(this.getAnswer(context, node.name));
    const button = (state, label) => el('button', {
      type: 'button', class: 'btn btn-missing', 'data-missing': state, 'aria-pressed': current === state ? 'true' : 'false',
      onclick: () => {
        const now = R.missingState(this.getAnswer(context, node.name));
        this.invalid.delete(key);
        this.setAnswer(context, node.name, now === state ? null : { missing: state });
        this.render();
      },
      text: label,
    });
    return el('div', { class: 'missing-buttons' },
      item.allow_dont_know ? button('dont_know', t('dontKnow')) : null,
      item.allow_refused ? button('refused', t('refused')) : null);
  }

  renderInput(node, context, key, inputId, described) {
    const value = this.getAnswer(context, node.name);
    const missing = R.missingState(value);
    const plain = missing ? undefined : value;
    const common = { id: inputId, 'aria-describedby': described, 'data-input': key };
    switch (node.type) {
      case 'integer':
      case 'decimal': {
        const raw = this.invalid.get(key) ?? (typeof plain === 'number' ? String(plain) : '');
        return el('input', {
          ...common, type: 'text', class: 'input input-number', inputmode: node.type === 'integer' ? 'numeric' : 'decimal',
          autocomplete: 'off', value: raw,
          oninput: (e) => {
            const parsed = parseTyped(node.type, e.target.value);
            if (parsed.invalid) this.invalid.set(key, e.target.value);
            else this.invalid.delete(key);
            this.setAnswer(context, node.name, parsed.value ?? null);
            this.syncMissingButtons(key, null);
          },
        });
      }
      case 'text':
        return el('input', {
          ...common, type: 'text', class: 'input', autocomplete: 'off', value: typeof plain === 'string' ? plain : '',
          oninput: (e) => {
            this.setAnswer(context, node.name, e.target.value === '' ? null : e.target.value);
            this.syncMissingButtons(key, null);
          },
        });
      case 'date':
        return el('input', {
          ...common, type: 'date', class: 'input input-date', value: typeof plain === 'string' ? plain : '',
          onchange: (e) => this.setAnswer(context, node.name, e.target.value || null),
          oninput: (e) => this.setAnswer(context, node.name, e.target.value || null),
        });
      case 'datetime':
        return el('input', {
          ...common, type: 'datetime-local', step: '1', class: 'input input-date', value: fromRfc3339(plain),
          onchange: (e) => this.setAnswer(context, node.name, toRfc3339(e.target.value)),
        });
      case 'geopoint':
        return this.renderGeopoint(node, context, key, plain);
      case 'select_one':
      case 'select_multiple':
        return this.renderChoices(node, context, key, plain, inputId);
      default:
        return el('p', { class: 'muted', text: `(${node.type})` });
    }
  }

  renderChoices(node, context, key, plain, inputId) {
    const choices = node.choices ?? [];
    const multi = node.type === 'select_multiple';
    if (!multi && choices.length > MANY_CHOICES) {
      const select = el('select', {
        id: inputId, class: 'input input-select', 'data-input': key,
        onchange: (e) => {
          this.setAnswer(context, node.name, e.target.value || null);
          this.syncMissingButtons(key, null);
        },
      }, el('option', { value: '', text: t('chooseOne') }),
      choices.map((c) => el('option', { value: c.value, 'data-choice': c.value, selected: plain === c.value, text: this.label(c.label) })));
      return select;
    }
    const chosen = multi ? (Array.isArray(plain) ? plain : []) : [plain];
    return el('div', { class: 'choices', 'data-input': key },
      choices.map((c, i) => {
        const id = `${inputId}-${i}`;
        const input = el('input', {
          type: multi ? 'checkbox' : 'radio', id, name: inputId, value: c.value, checked: chosen.includes(c.value),
          onchange: () => {
            if (multi) {
              const now = this.getAnswer(context, node.name);
              const list = Array.isArray(now) ? now.slice() : [];
              const at = list.indexOf(c.value);
              if (input.checked && at < 0) list.push(c.value);
              if (!input.checked && at >= 0) list.splice(at, 1);
              this.setAnswer(context, node.name, list);
            } else this.setAnswer(context, node.name, c.value);
            this.syncMissingButtons(key, null);
          },
        });
        return el('label', { class: 'choice', for: id, 'data-choice': c.value }, input,
          el('span', { class: 'choice-text', text: this.label(c.label) }));
      }));
  }

  renderGeopoint(node, context, key, plain) {
    const point = plain && typeof plain === 'object' ? plain : {};
    const fields = [['lat', 'latitude'], ['lon', 'longitude'], ['alt', 'altitude'], ['accuracy', 'accuracy']];
    const inputs = {};
    const collect = () => {
      const out = {};
      for (const [f] of fields) {
        const parsed = parseTyped('decimal', inputs[f].value);
        if (parsed.value !== undefined) out[f] = parsed.value;
      }
      const valid = out.lat !== undefined && out.lon !== undefined && Math.abs(out.lat) <= 90 && Math.abs(out.lon) <= 180;
      this.setAnswer(context, node.name, valid ? out : null);
      this.syncMissingButtons(key, null);
    };
    const status = el('p', { class: 'muted geo-status', 'aria-live': 'polite' });
    const grid = el('div', { class: 'geo-grid' }, fields.map(([f, label]) => {
      const id = `geo-${key.replaceAll('.', '-')}-${f}`;
      inputs[f] = el('input', { id, type: 'text', inputmode: 'decimal', class: 'input', value: point[f] ?? '', oninput: collect });
      return el('div', { class: 'geo-field' }, el('label', { for: id, text: t(label) }), inputs[f]);
    }));
    const locate = el('button', {
      type: 'button', class: 'btn', text: t('useLocation'),
      onclick: () => {
        if (!navigator.geolocation) {
          status.textContent = t('locationFailed', { msg: 'no geolocation' });
          return;
        }
        status.textContent = t('locating');
        navigator.geolocation.getCurrentPosition(
          (pos) => {
            const c = pos.coords;
            inputs.lat.value = c.latitude;
            inputs.lon.value = c.longitude;
            inputs.alt.value = c.altitude ?? '';
            inputs.accuracy.value = c.accuracy != null ? Math.round(c.accuracy * 10) / 10 : '';
            status.textContent = '';
            collect();
          },
          (err) => {
            status.textContent = t('locationFailed', { msg: err.message });
          },
          { enableHighAccuracy: true, timeout: 30000, maximumAge: 60000 },
        );
      },
    });
    return el('div', { class: 'geo', 'data-input': key }, locate, status, grid);
  }

  /** After typing an answer, the DK/refused buttons are no longer pressed. */
  syncMissingButtons(key, state) {
    const box = this.root.querySelector(`[data-key="${CSS.escape(key)}"]`);
    box?.querySelectorAll('[data-missing]').forEach((b) => b.setAttribute('aria-pressed', b.dataset.missing === state ? 'true' : 'false'));
  }

  // ----- live updates ------------------------------------------------------------------

  update() {
    const { relevant, calcs } = this.state;
    const byKey = new Map();
    for (const f of this.findings) {
      if (!byKey.has(f.key)) byKey.set(f.key, []);
      byKey.get(f.key).push(f);
    }
    for (const box of this.root.querySelectorAll('[data-key]')) {
      const key = box.dataset.key;
      const rel = relevant.get(key) !== false;
      if (box.classList.contains('calc')) {
        const text = R.calculationText(calcs.get(key));
        box.hidden = !rel || text === '';
        box.querySelector('output').textContent = text;
      } else box.hidden = !rel;
    }
    for (const list of this.root.querySelectorAll('[data-msgs]')) {
      const key = list.dataset.msgs;
      const box = list.closest('[data-key]');
      const mine = (byKey.get(key) ?? []).filter((f) => this.showAll || f.code !== 'required_missing' || this.touched(key));
      const notes = this.notes.filter((n) => n.path && this.keyOfPath(n.path) === key);
      list.replaceChildren(
        ...mine.map((f) => el('li', { class: `msg msg-${f.severity}`, 'data-code': f.code },
          el('span', { class: 'msg-icon', 'aria-hidden': 'true', text: f.severity === 'error' ? '!' : '?' }),
          el('span', { text: message(f.message, this.lang) }))),
        ...notes.map((n) => el('li', { class: `msg msg-note msg-${n.kind}` },
          el('span', { class: 'msg-icon', 'aria-hidden': 'true', text: 'i' }),
          el('span', { text: `${n.kind === 'review' ? t('reviewComment') : t('serverFindings')} ${n.text}` }))));
      box?.classList.toggle('has-error', mine.some((f) => f.severity === 'error'));
      box?.classList.toggle('has-warning', mine.some((f) => f.severity === 'warning'));
      const input = box?.querySelector(`[data-input="${CSS.escape(key)}"]`);
      input?.setAttribute('aria-invalid', mine.some((f) => f.severity === 'error') ? 'true' : 'false');
    }
    this.updateChoiceFilters();
    this.updateRequiredMarks();
    this.updateNav();
  }

  touched(key) {
    const { context, name } = splitKey(key);
    // A required question shows its message once the enumerator has moved past it: when
    // anything after it in the section has been answered, or on finishing.
    return this.getAnswer(context, name) !== undefined || this.laterAnswered(key);
  }

  laterAnswered(key) {
    const boxes = [...this.root.querySelectorAll('.q[data-key]')];
    const at = boxes.findIndex((b) => b.dataset.key === key);
    if (at < 0) return false;
    return boxes.slice(at + 1).some((b) => {
      const { context, name } = splitKey(b.dataset.key);
      return !b.hidden && this.getAnswer(context, name) !== undefined;
    });
  }

  updateChoiceFilters() {
    for (const node of this.cq.nodes) {
      if (!node.choiceFilter) continue;
      for (const box of this.root.querySelectorAll(`.q[data-key$="${CSS.escape(node.name)}"]`)) {
        const { context, name } = splitKey(box.dataset.key);
        if (name !== node.name) continue;
        const allowed = new Set(R.visibleChoices(this.cq, this.state, node, context, this.today).map((c) => c.value));
        box.querySelectorAll('[data-choice]').forEach((opt) => {
          const hide = !allowed.has(opt.dataset.choice);
          opt.hidden = hide;
          if (opt.tagName === 'OPTION') opt.disabled = hide;
        });
      }
    }
  }

  updateRequiredMarks() {
    for (const mark of this.root.querySelectorAll('[data-req]')) {
      const { context, name } = splitKey(mark.dataset.req);
      const node = this.cq.byName.get(name);
      if (node && node.required !== true) mark.hidden = !R.isRequired(this.cq, this.state, node, context, this.today);
    }
  }

  updateNav() {
    const counts = this.sections.map(() => ({ errors: 0, warnings: 0 }));
    const sectionOfKey = new Map();
    this.sections.forEach((s, i) => {
      const walk = (items, prefix) => items.forEach((n) => {
        sectionOfKey.set(n.name, i);
        if (n.children.length) walk(n.children, prefix);
      });
      walk(s.items, '');
      if (s.node) sectionOfKey.set(s.node.name, i);
    });
    for (const f of this.findings) {
      if (f.code === 'required_missing' && !this.showAll) continue;
      const i = sectionOfKey.get(f.key.split('.').filter((p) => !/^\d+$/.test(p))[0]);
      if (i === undefined) continue;
      if (f.severity === 'error') counts[i].errors++;
      else counts[i].warnings++;
    }
    this.root.querySelectorAll('.section-nav [data-section]').forEach((b) => {
      const c = counts[Number(b.dataset.section)];
      const badge = b.querySelector('.chip-badge');
      badge.textContent = c.errors ? String(c.errors) : c.warnings ? '!' : '';
      b.classList.toggle('chip-error', c.errors > 0);
      b.classList.toggle('chip-warning', !c.errors && c.warnings > 0);
    });
    const errors = this.findings.filter((f) => f.severity === 'error').length;
    const warnings = this.findings.length - errors;
    const summary = this.root.querySelector('#form-summary');
    if (summary && this.showAll) {
      summary.textContent = errors ? t('errorsLeft', { n: errors }) : warnings ? t('warningsLeft', { n: warnings }) : t('noProblems');
      if (!errors && warnings) {
        summary.append(el('ul', { class: 'msgs' }, this.findings.filter((f) => f.severity === 'warning').map((f) =>
          el('li', { class: 'msg msg-warning' },
            el('span', { class: 'msg-icon', 'aria-hidden': 'true', text: '?' }),
            el('button', { type: 'button', class: 'linkish', onclick: () => this.goToFinding(f), text: `${this.labelOfKey(f.key)}: ${message(f.message, this.lang)}` })))));
      }
    }
  }

  labelOfKey(key) {
    const node = this.cq.byName.get(splitKey(key).name);
    return node?.item.label ? this.label(node.item.label) : key;
  }

  /** Tries to finish: blocked by any error (shown, first one focused); warnings allowed. */
  finish() {
    this.showAll = true;
    this.evaluate();
    const errors = this.findings.filter((f) => f.severity === 'error');
    this.update();
    if (errors.length) {
      this.warningsSeen = false;
      this.goToFinding(errors[0]);
      return { ok: false, errors };
    }
    const warnings = this.findings.filter((f) => f.severity === 'warning');
    if (warnings.length && !this.warningsSeen) {
      // Soft rules do not block, but the enumerator sees them once more before finishing.
      this.warningsSeen = true;
      const button = this.root.querySelector('#btn-finish');
      if (button) button.textContent = t('confirmFinish');
      this.root.querySelector('#form-summary')?.scrollIntoView?.({ block: 'center' });
      return { ok: false, warnings };
    }
    const result = {
      ok: true,
      answers: R.submissionAnswers(this.cq, this.answers, this.state),
      warnings: this.findings.filter((f) => f.severity === 'warning'),
    };
    this.onFinish(result);
    return result;
  }

  goToFinding(f) {
    const top = f.key.split('.')[0];
    const i = this.sections.findIndex((s) => {
      const names = new Set();
      const walk = (items) => items.forEach((n) => {
        names.add(n.name);
        walk(n.children);
      });
      walk(s.items);
      if (s.node) names.add(s.node.name);
      return names.has(top);
    });
    if (i >= 0 && i !== this.current) {
      this.current = i;
      this.render();
    }
    const box = this.root.querySelector(`[data-key="${CSS.escape(f.key)}"]`);
    box?.scrollIntoView?.({ block: 'center' });
    (box?.querySelector('input, select, button') ?? box)?.focus?.();
  }

  /** The produced answers object (relevant answers only), without finishing. */
  currentAnswers() {
    return R.submissionAnswers(this.cq, this.answers, this.state);
  }
}
