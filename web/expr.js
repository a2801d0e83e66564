// The questionnaire expression language, in the browser.
//
// This is the JavaScript twin of the Rust engine (src/questionnaire/expr/): same lexer,
// parser, static checks and evaluator, with the semantics of docs/questionnaire-format.md,
// "Expressions". Server and client must never disagree, so this file follows the Rust code
// step by step rather than leaning on JavaScript's own coercions; the conformance corpus
// tests/data/expressions.json is run against it in node and in Chromium
// (tests/browser/expr.test.mjs, tests/browser/app.test.mjs).
//
// Values are small tagged objects:
//   EMPTY, {k:'bool', v}, {k:'num', v}, {k:'text', v} (never ''), {k:'date', days},
//   {k:'datetime', ms, off} (UTC milliseconds and offset in minutes), {k:'multi', v:[…]}
//   (never empty), {k:'geo', lat, lon, alt, accuracy}.
// Answers handed to the evaluator by a scope may also be DONT_KNOW or REFUSED, which are
// empty everywhere except in is-dont-know() / is-refused().
//
// What this module deliberately does not do: it knows nothing of the questionnaire model;
// the form runner (form.js) builds scopes over its answers with makeTreeScope().

export const MAX_DEPTH = 256;

export const EMPTY = Object.freeze({ k: 'empty' });
export const DONT_KNOW = Object.freeze({ k: 'dk' });
export const REFUSED = Object.freeze({ k: 'refused' });

/** An expression problem: a stable code, a message and a 1-based column (in characters). */
export class ExprError extends Error {
  constructor(code, message, start, src) {
    super(`column ${columnOf(src, start)}: ${message}`);
    this.code = code;
    this.detail = message;
    this.start = start;
    this.column = columnOf(src, start);
  }
}

/** 1-based column, counted in Unicode code points, of UTF-16 offset `offset` in `src`. */
export function columnOf(src, offset) {
  let column = 1;
  const end = Math.min(offset, src.length);
  for (let i = 0; i < end; i++) {
    const c = src.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) i++;
    column++;
  }
  return column;
}

// ---------------------------------------------------------------------------------------
// Characters.
// ---------------------------------------------------------------------------------------

const UNICODE_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
  0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f,
  0x3000,
]);

/** Rust's char::is_whitespace (the Unicode White_Space property). */
function isSpaceCp(cp) {
  return UNICODE_SPACE.has(cp);
}

/** Rust's str::trim. */
function trimUnicode(s) {
  let a = 0;
  let b = s.length;
  while (a < b && isSpaceCp(s.charCodeAt(a))) a++;
  while (b > a && isSpaceCp(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Rust's str::split_whitespace. */
function splitWhitespace(s) {
  const out = [];
  let cur = '';
  for (const ch of s) {
    if (isSpaceCp(ch.codePointAt(0))) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

const isDigit = (c) => c >= '0' && c <= '9';
const isAlpha = (c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isNameStart = (c) => isAlpha(c) || c === '_';
const isNameChar = (c) => isAlpha(c) || isDigit(c) || c === '_';
const isBlank = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/** Compares two strings by Unicode code points (Rust's str ordering). */
function cmpCodePoints(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i].codePointAt(0);
    const q = y[i].codePointAt(0);
    if (p !== q) return p < q ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

// ---------------------------------------------------------------------------------------
// Numbers.
// ---------------------------------------------------------------------------------------

/** Parses an XPath number: optional ASCII-blank surroundings, optional '-', digits[.digits] or .digits. */
export function parseNumber(text) {
  let a = 0;
  let b = text.length;
  while (a < b && isBlank(text[a])) a++;
  while (b > a && isBlank(text[b - 1])) b--;
  const trimmed = text.slice(a, b);
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(trimmed)) return null;
  const x = Number(trimmed);
  return Number.isFinite(x) ? x : null;
}

/** The shortest decimal that reads back to the same float, never with an exponent. */
export function formatNumber(x) {
  if (x === 0) return '0';
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s;
  let mantissa = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  let sign = '';
  if (mantissa[0] === '-') {
    sign = '-';
    mantissa = mantissa.slice(1);
  }
  const [ip, fp = ''] = mantissa.split('.');
  const digits = ip + fp;
  const point = ip.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** round(x, digits): half away from zero on the shortest decimal form of x. */
export function roundDecimal(x, digits) {
  if (!(digits >= -20 && digits <= 20)) return digits > 0 ? x : 0;
  const text = formatNumber(Math.abs(x));
  const dot = text.indexOf('.');
  const intPart = dot < 0 ? text : text.slice(0, dot);
  const fracPart = dot < 0 ? '' : text.slice(dot + 1);
  const all = Array.from(intPart + fracPart, (c) => c.charCodeAt(0) - 48);
  let point = intPart.length;
  const keep = point + digits;
  if (keep >= all.length) return x;
  if (keep < 0) return 0;
  const roundUp = all[keep] >= 5;
  all.length = keep;
  if (roundUp) {
    let i = keep;
    for (;;) {
      if (i === 0) {
        all.unshift(1);
        break;
      }
      i -= 1;
      if (all[i] === 9) all[i] = 0;
      else {
        all[i] += 1;
        break;
      }
    }
  }
  point += all.length - keep;
  let result = '';
  for (let i = 0; i < all.length; i++) {
    if (i === point) result += '.';
    result += String(all[i]);
  }
  for (let i = all.length; i < point; i++) result += '0';
  const magnitude = Number(result) || 0;
  return x < 0 ? -magnitude : magnitude;
}

/** Rust's f64::round (half away from zero), exact. */
function roundHalfAway(x) {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

// ---------------------------------------------------------------------------------------
// Dates (proleptic Gregorian, days since 1970-01-01, years 1..9999).
// ---------------------------------------------------------------------------------------

const divEuclid = (a, b) => Math.floor(a / b);

function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = divEuclid(y, 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days) {
  const z = days + 719468;
  const era = divEuclid(z, 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
function daysInMonth(y, m) {
  if (m === 2) return isLeap(y) ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** A date value from a day number, or null outside 0001-01-01…9999-12-31. */
export function dateFromDays(days) {
  if (!Number.isFinite(days)) return null;
  const [y] = civilFromDays(days);
  return y >= 1 && y <= 9999 ? { k: 'date', days } : null;
}

function dateFromYmd(y, m, d) {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d === 0) return null;
  if (d > daysInMonth(y, m)) return null;
  return dateFromDays(daysFromCivil(y, m, d));
}

function digitsAt(s, a, b) {
  if (b > s.length) return null;
  let v = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** Parses exactly `YYYY-MM-DD` into a date value, or null. */
export function parseDate(text) {
  if (text.length !== 10 || text[4] !== '-' || text[7] !== '-') return null;
  const y = digitsAt(text, 0, 4);
  const m = digitsAt(text, 5, 7);
  const d = digitsAt(text, 8, 10);
  if (y === null || m === null || d === null) return null;
  return dateFromYmd(y, m, d);
}

/** Parses an RFC 3339 date-time (offset required) into a datetime value, or null. */
export function parseDateTime(text) {
  if (text.length < 17 || !'Tt '.includes(text[10]) || text[13] !== ':') return null;
  const date = parseDate(text.slice(0, 10));
  if (!date) return null;
  const hour = digitsAt(text, 11, 13);
  const minute = digitsAt(text, 14, 16);
  if (hour === null || minute === null) return null;
  let pos = 16;
  let second = 0;
  let millis = 0;
  if (text[pos] === ':') {
    second = digitsAt(text, pos + 1, pos + 3);
    if (second === null) return null;
    pos += 3;
    if (text[pos] === '.') {
      pos += 1;
      const start = pos;
      while (pos < text.length && isDigit(text[pos])) pos++;
      if (pos === start) return null;
      let scale = 100;
      for (let i = start; i < Math.min(pos, start + 3); i++) {
        millis += (text.charCodeAt(i) - 48) * scale;
        scale /= 10;
      }
    }
  }
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offset;
  const c = text[pos];
  if (c === undefined) return null;
  if ((c === 'Z' || c === 'z') && pos + 1 === text.length) offset = 0;
  else if ((c === '+' || c === '-') && pos + 6 === text.length && text[pos + 3] === ':') {
    const oh = digitsAt(text, pos + 1, pos + 3);
    const om = digitsAt(text, pos + 4, pos + 6);
    if (oh === null || om === null || oh > 23 || om > 59) return null;
    offset = (c === '-' ? -1 : 1) * (oh * 60 + om);
  } else return null;
  const local = date.days * 86400 + hour * 3600 + minute * 60 + second;
  return { k: 'datetime', ms: (local - offset * 60) * 1000 + millis, off: offset };
}

const pad = (n, w) => String(n).padStart(w, '0');

export function formatDate(days) {
  const [y, m, d] = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

export function formatDateTime(t) {
  const local = t.ms + t.off * 60000;
  const days = divEuclid(local, 86400000);
  const inDay = local - days * 86400000;
  const h = Math.floor(inDay / 3600000);
  const mi = Math.floor(inDay / 60000) % 60;
  const s = Math.floor(inDay / 1000) % 60;
  const ms = inDay % 1000;
  let out = `${formatDate(days)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
  if (ms !== 0) out += `.${pad(ms, 3)}`;
  if (t.off === 0) return `${out}Z`;
  const abs = Math.abs(t.off);
  return `${out}${t.off < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
}

function localDate(t) {
  return dateFromDays(divEuclid(t.ms + t.off * 60000, 86400000));
}

// ---------------------------------------------------------------------------------------
// Values and conversions.
// ---------------------------------------------------------------------------------------

export function num(x) {
  if (!Number.isFinite(x)) return EMPTY;
  return { k: 'num', v: x === 0 ? 0 : x };
}
export function text(s) {
  return s === '' ? EMPTY : { k: 'text', v: s };
}
export const bool = (b) => ({ k: 'bool', v: b });

/** An answer as the evaluator sees it: DK/refused become empty, '' and [] too. */
export function toVal(ref) {
  if (!ref) return EMPTY;
  switch (ref.k) {
    case 'dk':
    case 'refused':
      return EMPTY;
    case 'num':
      return num(ref.v);
    case 'text':
      return text(ref.v);
    case 'multi':
      return ref.v.length === 0 ? EMPTY : ref;
    default:
      return ref;
  }
}

export function isEmpty(v) {
  return toVal(v).k === 'empty';
}

export function toBool(v) {
  switch (v.k) {
    case 'empty':
    case 'dk':
    case 'refused':
      return false;
    case 'bool':
      return v.v;
    case 'num':
      return v.v !== 0;
    default:
      return true;
  }
}

export function toNumber(v) {
  switch (v.k) {
    case 'bool':
      return v.v ? 1 : 0;
    case 'num':
      return v.v;
    case 'text':
      return parseNumber(v.v);
    case 'date':
      return v.days;
    case 'datetime':
      return v.ms / 86400000;
    default:
      return null;
  }
}

export function toText(v) {
  switch (v.k) {
    case 'bool':
      return v.v ? 'true' : 'false';
    case 'num':
      return formatNumber(v.v);
    case 'text':
      return v.v;
    case 'date':
      return formatDate(v.days);
    case 'datetime':
      return formatDateTime(v);
    case 'multi':
      return v.v.join(' ');
    case 'geo': {
      const part = (x) => formatNumber(x ?? 0);
      return `${part(v.lat)} ${part(v.lon)} ${part(v.alt)} ${part(v.accuracy)}`;
    }
    default:
      return '';
  }
}

function toDate(v) {
  switch (v.k) {
    case 'date':
      return v;
    case 'datetime':
      return localDate(v);
    case 'text':
      return parseDate(trimUnicode(v.v));
    case 'num':
      return dateFromDays(Math.floor(v.v));
    default:
      return null;
  }
}

/** A value on the date scale (days since 1970-01-01), or null. */
function dateKey(v) {
  switch (v.k) {
    case 'date':
      return v.days;
    case 'datetime':
      return v.ms / 86400000;
    case 'num':
      return v.v;
    case 'text': {
      const s = trimUnicode(v.v);
      const d = parseDate(s);
      if (d) return d.days;
      const t = parseDateTime(s);
      return t ? t.ms / 86400000 : null;
    }
    default:
      return null;
  }
}

const isDated = (v) => v.k === 'date' || v.k === 'datetime';

/**
 * Decodes one answer of the submission encoding into an evaluator value.
 * `type` is a question type (integer, decimal, text, select_one, select_multiple, date,
 * datetime, geopoint) or a calculation type (boolean, number, any). Returns null for an
 * absent answer and throws on an answer that does not fit the type.
 */
export function decodeAnswer(type, json) {
  if (json === null || json === undefined) return null;
  if (typeof json === 'object' && !Array.isArray(json) && 'missing' in json) {
    if (json.missing === 'dont_know') return DONT_KNOW;
    if (json.missing === 'refused') return REFUSED;
    throw new Error(`unknown missing state ${JSON.stringify(json.missing)}`);
  }
  const bad = () => new Error(`answer ${JSON.stringify(json)} does not fit type ${type}`);
  switch (type) {
    case 'integer':
    case 'decimal':
    case 'number':
      if (typeof json !== 'number') throw bad();
      return { k: 'num', v: json };
    case 'boolean':
      if (typeof json !== 'boolean') throw bad();
      return bool(json);
    case 'text':
    case 'select_one':
      if (typeof json !== 'string') throw bad();
      return { k: 'text', v: json };
    case 'date': {
      const d = typeof json === 'string' ? parseDate(json) : null;
      if (!d) throw bad();
      return d;
    }
    case 'datetime': {
      const t = typeof json === 'string' ? parseDateTime(json) : null;
      if (!t) throw bad();
      return t;
    }
    case 'select_multiple':
      if (!Array.isArray(json) || json.some((x) => typeof x !== 'string')) throw bad();
      return { k: 'multi', v: json.slice() };
    case 'geopoint': {
      const field = (f) => (typeof json[f] === 'number' ? json[f] : undefined);
      if (typeof json !== 'object' || field('lat') === undefined || field('lon') === undefined)
        throw bad();
      return { k: 'geo', lat: json.lat, lon: json.lon, alt: field('alt'), accuracy: field('accuracy') };
    }
    case 'any':
      if (typeof json === 'boolean') return bool(json);
      if (typeof json === 'number') return { k: 'num', v: json };
      if (typeof json === 'string') return { k: 'text', v: json };
      throw bad();
    default:
      throw bad();
  }
}

// ---------------------------------------------------------------------------------------
// Functions.
// ---------------------------------------------------------------------------------------

/** name → [min args, max args (null = variadic)] */
export const FUNCTIONS = {
  if: [3, 3],
  selected: [2, 2],
  'count-selected': [1, 1],
  coalesce: [2, null],
  regex: [2, 2],
  'string-length': [1, 1],
  today: [0, 0],
  int: [1, 1],
  round: [1, 2],
  number: [1, 1],
  concat: [1, null],
  count: [1, 1],
  sum: [1, 1],
  min: [1, null],
  max: [1, null],
  not: [1, 1],
  true: [0, 0],
  false: [0, 0],
  boolean: [1, 1],
  string: [1, 1],
  date: [1, 1],
  contains: [2, 2],
  'starts-with': [2, 2],
  'ends-with': [2, 2],
  abs: [1, 1],
  floor: [1, 1],
  ceiling: [1, 1],
  'is-dont-know': [1, 1],
  'is-refused': [1, 1],
  position: [0, 1],
  'choice-label': [2, 2],
  'format-date': [2, 2],
};
const AGGREGATES = new Set(['count', 'sum', 'min', 'max']);

function editDistance(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  let row = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 0; i < x.length; i++) {
    let diagonal = row[0];
    row[0] = i + 1;
    for (let j = 0; j < y.length; j++) {
      const sub = diagonal + (x[i] !== y[j] ? 1 : 0);
      diagonal = row[j + 1];
      row[j + 1] = Math.min(sub, row[j] + 1, row[j + 1] + 1);
    }
  }
  return row[y.length];
}

function suggestFunction(name) {
  let best = null;
  for (const candidate of Object.keys(FUNCTIONS)) {
    const d = editDistance(name, candidate);
    if (d <= Math.max(2, Math.floor(candidate.length / 4)) && (!best || d < best[0]))
      best = [d, candidate];
  }
  return best && best[1];
}

// ---------------------------------------------------------------------------------------
// Regular expressions: a port of the Rust Pike VM (linear time, same syntax and errors).
// ---------------------------------------------------------------------------------------

const MAX_GROUP_DEPTH = 32;
const MAX_REPEAT = 1000;
const MAX_PROGRAM = 20000;
const ASCII_PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

class RegexError extends Error {}

function namedMatches(named, cp) {
  const ch = String.fromCodePoint(cp);
  switch (named.kind) {
    case 'd':
      return isDigit(ch) === named.positive;
    case 'w':
      return (isAlpha(ch) || isDigit(ch) || ch === '_') === named.positive;
    default:
      return isSpaceCp(cp) === named.positive;
  }
}

function classMatches(cls, cp) {
  const inside =
    cls.ranges.some(([lo, hi]) => lo <= cp && cp <= hi) ||
    cls.named.some((n) => namedMatches(n, cp));
  return inside !== cls.negated;
}

class PatternParser {
  constructor(chars) {
    this.chars = chars;
    this.pos = 0;
    this.depth = 0;
  }
  peek() {
    return this.chars[this.pos];
  }
  alternation() {
    const options = [this.concatenation()];
    while (this.peek() === '|') {
      this.pos++;
      options.push(this.concatenation());
    }
    return options.length === 1 ? options[0] : { t: 'alt', options };
  }
  concatenation() {
    const parts = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      parts.push(this.quantified(this.atom()));
    }
    if (parts.length === 0) return { t: 'empty' };
    return parts.length === 1 ? parts[0] : { t: 'cat', parts };
  }
  atom() {
    const at = this.pos + 1;
    const c = this.peek();
    if (c === undefined) throw new RegexError('pattern ends unexpectedly');
    this.pos++;
    switch (c) {
      case '.':
        return { t: 'any' };
      case '^':
        return { t: 'start' };
      case '$':
        return { t: 'end' };
      case '(': {
        this.depth++;
        if (this.depth > MAX_GROUP_DEPTH)
          throw new RegexError(`groups nested more than ${MAX_GROUP_DEPTH} deep`);
        if (this.peek() === '?') {
          if (this.chars[this.pos + 1] === ':') this.pos += 2;
          else throw new RegexError(`unsupported group syntax '(?' at character ${at}`);
        }
        const inner = this.alternation();
        if (this.peek() !== ')')
          throw new RegexError(`missing ')' for the group opened at character ${at}`);
        this.pos++;
        this.depth--;
        return inner;
      }
      case '[':
        return { t: 'class', cls: this.klass(at) };
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
        throw new RegexError(`nothing to repeat before '${c}' at character ${at}`);
      default:
        return { t: 'char', cp: c.codePointAt(0) };
    }
  }
  escape(inClass) {
    const c = this.peek();
    if (c === undefined) throw new RegexError("pattern ends with '\\'");
    this.pos++;
    const named = (kind, positive) => ({
      t: 'class',
      cls: { negated: false, ranges: [], named: [{ kind, positive }] },
    });
    switch (c) {
      case 'd':
        return named('d', true);
      case 'D':
        return named('d', false);
      case 'w':
        return named('w', true);
      case 'W':
        return named('w', false);
      case 's':
        return named('s', true);
      case 'S':
        return named('s', false);
      case 'n':
        return { t: 'char', cp: 10 };
      case 't':
        return { t: 'char', cp: 9 };
      case 'r':
        return { t: 'char', cp: 13 };
      default:
        if (c === 'b' && inClass) return { t: 'char', cp: 8 };
        if (ASCII_PUNCT.includes(c)) return { t: 'char', cp: c.codePointAt(0) };
        throw new RegexError(`unsupported escape '\\${c}'`);
    }
  }
  klass(at) {
    const cls = { negated: false, ranges: [], named: [] };
    if (this.peek() === '^') {
      cls.negated = true;
      this.pos++;
    }
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new RegexError(`missing ']' for the class opened at character ${at}`);
      if (c === ']' && !first) {
        this.pos++;
        return cls;
      }
      first = false;
      this.pos++;
      let low;
      if (c === '\\') {
        const e = this.escape(true);
        if (e.t === 'char') low = e.cp;
        else {
          cls.named.push(...e.cls.named);
          continue;
        }
      } else low = c.codePointAt(0);
      const next = this.chars[this.pos + 1];
      const isRange = this.peek() === '-' && next !== undefined && next !== ']';
      if (!isRange) {
        cls.ranges.push([low, low]);
        continue;
      }
      this.pos++;
      const h = this.peek();
      if (h === undefined) throw new RegexError(`missing ']' for the class opened at character ${at}`);
      this.pos++;
      let high;
      if (h === '\\') {
        const e = this.escape(true);
        if (e.t !== 'char') throw new RegexError('a class range cannot end in a named class');
        high = e.cp;
      } else high = h.codePointAt(0);
      if (high < low) throw new RegexError('class range is out of order');
      cls.ranges.push([low, high]);
    }
  }
  quantified(atom) {
    let repeated = false;
    for (;;) {
      const p = this.peek();
      let bounds;
      if (p === '*') bounds = [0, null];
      else if (p === '+') bounds = [1, null];
      else if (p === '?') bounds = [0, 1];
      if (bounds) this.pos++;
      else if (p === '{') {
        bounds = this.counted();
        if (!bounds) return atom;
      } else return atom;
      if (atom.t === 'start' || atom.t === 'end') throw new RegexError('an anchor cannot be repeated');
      if (repeated) throw new RegexError('a quantifier cannot follow another quantifier');
      if (this.peek() === '?') this.pos++;
      atom = { t: 'rep', inner: atom, min: bounds[0], max: bounds[1] };
      repeated = true;
    }
  }
  counted() {
    let pos = this.pos + 1;
    const number = () => {
      const begin = pos;
      while (this.chars[pos] !== undefined && isDigit(this.chars[pos])) pos++;
      if (pos === begin) return null;
      const v = Number(this.chars.slice(begin, pos).join(''));
      return v > 4294967295 ? null : v;
    };
    const min = number();
    if (min === null) return null;
    let max;
    if (this.chars[pos] === ',') {
      pos++;
      if (this.chars[pos] === '}') max = null;
      else {
        max = number();
        if (max === null) return null;
      }
    } else max = min;
    if (this.chars[pos] !== '}') return null;
    if (min > MAX_REPEAT || (max !== null && max > MAX_REPEAT))
      throw new RegexError(`counted repetition above ${MAX_REPEAT}`);
    if (max !== null && max < min) throw new RegexError('repetition is out of order');
    this.pos = pos + 1;
    return [min, max];
  }
}

function emit(program, inst) {
  if (program.length >= MAX_PROGRAM) throw new RegexError('pattern is too large');
  program.push(inst);
  return program.length - 1;
}

function compileRegex(ast, program) {
  switch (ast.t) {
    case 'empty':
      return;
    case 'char':
      emit(program, { op: 'char', cp: ast.cp });
      return;
    case 'any':
      emit(program, { op: 'any' });
      return;
    case 'class':
      emit(program, { op: 'class', cls: ast.cls });
      return;
    case 'start':
      emit(program, { op: 'start' });
      return;
    case 'end':
      emit(program, { op: 'end' });
      return;
    case 'cat':
      for (const part of ast.parts) compileRegex(part, program);
      return;
    case 'alt': {
      const jumps = [];
      ast.options.forEach((option, i) => {
        if (i + 1 < ast.options.length) {
          const split = emit(program, { op: 'split', a: 0, b: 0 });
          compileRegex(option, program);
          jumps.push(emit(program, { op: 'jump', to: 0 }));
          program[split] = { op: 'split', a: split + 1, b: program.length };
        } else compileRegex(option, program);
      });
      for (const j of jumps) program[j] = { op: 'jump', to: program.length };
      return;
    }
    case 'rep': {
      for (let i = 0; i < ast.min; i++) compileRegex(ast.inner, program);
      if (ast.max === null) {
        const split = emit(program, { op: 'split', a: 0, b: 0 });
        compileRegex(ast.inner, program);
        emit(program, { op: 'jump', to: split });
        program[split] = { op: 'split', a: split + 1, b: program.length };
      } else {
        const splits = [];
        for (let i = ast.min; i < ast.max; i++) {
          splits.push(emit(program, { op: 'split', a: 0, b: 0 }));
          compileRegex(ast.inner, program);
        }
        for (const s of splits) program[s] = { op: 'split', a: s + 1, b: program.length };
      }
      return;
    }
    default:
      throw new RegexError('internal: unknown regex node');
  }
}

/** A compiled pattern of the regex() subset; throws RegexError for invalid patterns. */
export class Regex {
  constructor(pattern) {
    const chars = Array.from(pattern);
    const parser = new PatternParser(chars);
    const ast = parser.alternation();
    if (parser.pos < chars.length) throw new RegexError(`unmatched ')' at character ${parser.pos + 1}`);
    this.program = [];
    compileRegex(ast, this.program);
    this.program.push({ op: 'match' });
  }

  isMatch(subject) {
    const program = this.program;
    const n = program.length;
    const cps = Array.from(subject, (c) => c.codePointAt(0));
    let current = [];
    let next = [];
    let seenCur = new Uint8Array(n);
    let seenNext = new Uint8Array(n);
    const add = (list, seen, pc0, atStart, atEnd) => {
      const stack = [pc0];
      while (stack.length) {
        const pc = stack.pop();
        if (seen[pc]) continue;
        seen[pc] = 1;
        list.push(pc);
        const inst = program[pc];
        if (inst.op === 'jump') stack.push(inst.to);
        else if (inst.op === 'split') stack.push(inst.b, inst.a);
        else if (inst.op === 'start' && atStart) stack.push(pc + 1);
        else if (inst.op === 'end' && atEnd) stack.push(pc + 1);
      }
    };
    for (let i = 0; ; i++) {
      const atEnd = i >= cps.length;
      add(current, seenCur, 0, i === 0, atEnd);
      const c = atEnd ? null : cps[i];
      for (let j = 0; j < current.length; j++) {
        const inst = program[current[j]];
        let advance = false;
        if (inst.op === 'match') return true;
        if (c !== null) {
          if (inst.op === 'char') advance = inst.cp === c;
          else if (inst.op === 'any') advance = c !== 10 && c !== 13;
          else if (inst.op === 'class') advance = classMatches(inst.cls, c);
        }
        if (advance) add(next, seenNext, current[j] + 1, false, i + 1 >= cps.length);
      }
      if (atEnd) return false;
      [current, next] = [next, []];
      [seenCur, seenNext] = [seenNext, seenCur];
      seenNext.fill(0);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Lexer.
// ---------------------------------------------------------------------------------------

class Lexer {
  constructor(src) {
    this.src = src;
    this.pos = 0;
  }
  error(message, start) {
    return new ExprError('parse', message, start, this.src);
  }
  skipBlank(from) {
    let p = from;
    while (p < this.src.length && isBlank(this.src[p])) p++;
    return p;
  }
  nextIsLParen() {
    return this.src[this.skipBlank(this.pos)] === '(';
  }
  next() {
    const src = this.src;
    const start = this.skipBlank(this.pos);
    this.pos = start;
    if (start >= src.length) return { kind: 'eof', start, end: start };
    const c = src[start];
    const tok = (kind, len) => {
      this.pos = start + len;
      return { kind, start, end: start + len };
    };
    switch (c) {
      case '(':
        return tok('(', 1);
      case ')':
        return tok(')', 1);
      case ',':
        return tok(',', 1);
      case '+':
        return tok('+', 1);
      case '-':
        return tok('-', 1);
      case '*':
        return tok('*', 1);
      case '=':
        return tok('=', 1);
      case '<':
        return src[start + 1] === '=' ? tok('<=', 2) : tok('<', 1);
      case '>':
        return src[start + 1] === '=' ? tok('>=', 2) : tok('>', 1);
      case '!':
        if (src[start + 1] === '=') return tok('!=', 2);
        break;
      case "'":
      case '"': {
        const close = src.indexOf(c, start + 1);
        if (close < 0) throw this.error(`unterminated string: missing closing ${c}`, start);
        return tok('str', close - start + 1);
      }
      case '$':
        return this.reference(start);
      case '.':
        if (isDigit(src[start + 1] ?? '')) return this.number(start);
        if (src[start + 1] === '.')
          throw this.error("'..' (parent step) is not supported; use ${name} (and position() for the number of the current roster row)", start);
        return tok('.', 1);
      default:
        break;
    }
    if (isDigit(c)) return this.number(start);
    if (isNameStart(c)) {
      let len = 0;
      while (start + len < src.length) {
        const ch = src[start + len];
        const hyphen = ch === '-' && isAlpha(src[start + len + 1] ?? '');
        if (!(isNameChar(ch) || hyphen)) break;
        len++;
      }
      return tok('name', len);
    }
    const hints = {
      '/': '; use div for division',
      '%': '; use mod for the remainder',
      ':': '; namespaced functions are not supported (for jr:choice-name() use choice-label(value, ${question}))',
    };
    throw this.error(`unexpected character ${JSON.stringify(String.fromCodePoint(src.codePointAt(start)))}${hints[c] ?? ''}`, start);
  }
  number(start) {
    const src = this.src;
    let end = start;
    while (end < src.length && isDigit(src[end])) end++;
    if (src[end] === '.') {
      end++;
      while (end < src.length && isDigit(src[end])) end++;
    }
    if (end < src.length && (isAlpha(src[end]) || src[end] === '_'))
      throw this.error('a number must not be followed by a letter', start);
    const value = Number(src.slice(start, end));
    if (!Number.isFinite(value)) throw this.error('number literal is too large', start);
    this.pos = end;
    return { kind: 'num', value, start, end };
  }
  reference(start) {
    const src = this.src;
    if (src[start + 1] !== '{') throw this.error("'$' must start a reference ${name}", start);
    let p = start + 2;
    const validStart = isNameStart(src[p] ?? '');
    while (p < src.length && isNameChar(src[p])) p++;
    if (!validStart || src[p] !== '}') {
      const hasClose = src.indexOf('}', start + 2) >= 0;
      throw this.error(hasClose ? 'a reference is ${name} where name is letters, digits and _' : "unterminated reference: missing '}'", start);
    }
    this.pos = p + 1;
    return { kind: 'ref', start, end: p + 1 };
  }
}

// ---------------------------------------------------------------------------------------
// Parser (precedence climbing, depth-limited exactly as the Rust parser).
// ---------------------------------------------------------------------------------------

const PRECEDENCE = {
  or: 1, and: 2, '=': 3, '!=': 3, '<': 4, '<=': 4, '>': 4, '>=': 4, '+': 5, '-': 5, '*': 6, div: 6, mod: 6,
};

class Parser {
  constructor(src) {
    this.src = src;
    this.lexer = new Lexer(src);
    this.nesting = 0;
    this.current = this.lexer.next();
  }
  error(message, start) {
    return new ExprError('parse', message, start, this.src);
  }
  depthError(start) {
    return new ExprError('depth', `expression is nested more than ${MAX_DEPTH} levels deep`, start, this.src);
  }
  advance() {
    const previous = this.current;
    this.current = this.lexer.next();
    return previous;
  }
  textOf(tok) {
    return this.src.slice(tok.start, tok.end);
  }
  describe() {
    return this.current.kind === 'eof' ? 'end of expression' : `'${this.textOf(this.current)}'`;
  }
  enter() {
    this.nesting++;
    if (this.nesting > MAX_DEPTH) throw this.depthError(this.current.start);
  }
  infix() {
    const t = this.current;
    if (['+', '-', '*', '=', '!=', '<', '<=', '>', '>='].includes(t.kind)) return t.kind;
    if (t.kind === 'name') {
      const w = this.textOf(t);
      if (w === 'and' || w === 'or' || w === 'div' || w === 'mod') return w;
    }
    return null;
  }
  expression(minPrec) {
    this.enter();
    let [lhs, depth] = this.unary();
    for (let op = this.infix(); op !== null; op = this.infix()) {
      if (PRECEDENCE[op] < minPrec) break;
      const opTok = this.advance();
      const [rhs, rhsDepth] = this.expression(PRECEDENCE[op] + 1);
      depth = Math.max(depth, rhsDepth) + 1;
      if (depth > MAX_DEPTH) throw this.depthError(opTok.start);
      lhs = { t: 'bin', op, lhs, rhs, start: Math.min(lhs.start, rhs.start), end: Math.max(lhs.end, rhs.end) };
    }
    this.nesting--;
    return [lhs, depth];
  }
  unary() {
    if (this.current.kind !== '-') return this.primary();
    const minus = this.advance();
    this.enter();
    const [inner, depth] = this.unary();
    this.nesting--;
    if (depth + 1 > MAX_DEPTH) throw this.depthError(minus.start);
    return [{ t: 'neg', inner, start: minus.start, end: inner.end }, depth + 1];
  }
  primary() {
    const tok = this.current;
    let node;
    switch (tok.kind) {
      case 'num':
        node = { t: 'num', value: tok.value };
        break;
      case 'str':
        node = { t: 'text', value: this.src.slice(tok.start + 1, tok.end - 1) };
        break;
      case 'ref':
        node = { t: 'ref', name: this.src.slice(tok.start + 2, tok.end - 1) };
        break;
      case '.':
        node = { t: 'dot' };
        break;
      case '(':
        return this.parenthesised();
      case 'name':
        if (this.lexer.nextIsLParen()) return this.call();
        node = { t: 'ident', name: this.textOf(tok) };
        break;
      case 'eof':
        throw this.error('expression ends where a value was expected', tok.start);
      case ')':
        throw this.error("unexpected ')' where a value was expected", tok.start);
      default:
        throw this.error(`unexpected ${this.describe()} where a value was expected`, tok.start);
    }
    this.advance();
    node.start = tok.start;
    node.end = tok.end;
    return [node, 1];
  }
  expectClose(open) {
    if (this.current.kind === ')') return this.advance();
    throw this.error(
      `expected ')' to close the '(' at column ${columnOf(this.src, open.start)}, found ${this.describe()}`,
      this.current.start,
    );
  }
  parenthesised() {
    const open = this.advance();
    const result = this.expression(0);
    this.expectClose(open);
    return result;
  }
  call() {
    const nameTok = this.advance();
    const name = this.textOf(nameTok);
    const open = this.advance();
    const arity = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : null;
    if (!arity) {
      const close = suggestFunction(name);
      throw new ExprError(
        'unknown_function',
        close ? `unknown function '${name}()'; did you mean '${close}()'?` : `unknown function '${name}()'`,
        nameTok.start,
        this.src,
      );
    }
    const args = [];
    let depth = 0;
    if (this.current.kind !== ')') {
      for (;;) {
        const [arg, d] = this.expression(0);
        depth = Math.max(depth, d);
        args.push(arg);
        if (this.current.kind !== ',') break;
        this.advance();
      }
    }
    const close = this.expectClose(open);
    if (depth + 1 > MAX_DEPTH) throw this.depthError(nameTok.start);
    const [min, max] = arity;
    if (args.length < min || (max !== null && args.length > max)) {
      const expected = max === null ? `at least ${min}` : max === min ? `${min}` : `${min} to ${max}`;
      throw new ExprError('arity', `${name}() takes ${expected} argument(s), found ${args.length}`, nameTok.start, this.src);
    }
    const node = { t: 'call', name, args, start: nameTok.start, end: close.end };
    if (name === 'regex' && args[1].t === 'text') {
      try {
        node.compiled = new Regex(args[1].value);
      } catch (e) {
        if (!(e instanceof RegexError)) throw e;
        throw new ExprError('regex', `invalid regular expression: ${e.message}`, args[1].start, this.src);
      }
    }
    if (name === 'format-date' && args[1].t === 'text') {
      const problem = checkDatePattern(args[1].value);
      if (problem !== null)
        throw new ExprError('format', `invalid format-date() pattern: ${problem}`, args[1].start, this.src);
    }
    return [node, depth + 1];
  }
}

/** Parses an expression; throws ExprError (codes parse, depth, unknown_function, arity, regex, format). */
export function parse(src) {
  const parser = new Parser(src);
  if (parser.current.kind === 'eof') throw parser.error('empty expression', parser.current.start);
  const [root] = parser.expression(0);
  if (parser.current.kind === ')') throw parser.error("unbalanced ')': no matching '('", parser.current.start);
  if (parser.current.kind !== 'eof')
    throw parser.error(`unexpected ${parser.describe()} after a complete expression`, parser.current.start);
  return { src, root };
}

/** Every `${name}` of a parsed expression, in source order. */
export function references(expr) {
  const out = [];
  const walk = (n) => {
    if (n.t === 'ref') out.push(n.name);
    else if (n.t === 'neg') walk(n.inner);
    else if (n.t === 'bin') {
      walk(n.lhs);
      walk(n.rhs);
    } else if (n.t === 'call') n.args.forEach(walk);
  };
  walk(expr.root);
  return out;
}

// ---------------------------------------------------------------------------------------
// Static checks.
// ---------------------------------------------------------------------------------------

/** Static type of a question type name (or null for an unknown name). */
export function typeOfQuestionType(name) {
  return (
    {
      text: 'text', select_one: 'text', integer: 'number', decimal: 'number', select_multiple: 'multi',
      date: 'date', datetime: 'datetime', geopoint: 'geo',
    }[name] ?? null
  );
}

const numericType = (t) => t === 'number' || t === 'bool' || t === 'any';
const datedType = (t) => t === 'date' || t === 'datetime';
const isEmptyLiteral = (n) => n.t === 'text' && n.value === '';
function unify(a, b) {
  if (a === b) return a;
  if (a === 'any') return b;
  if (b === 'any') return a;
  return 'any';
}

/**
 * Checks a parsed expression against `symbols`:
 *   lookup(name) → {ty, repeated} | null   (ty: bool number text date datetime multi geo roster any)
 *   dot() → type | null, inChoiceFilter() → bool, hasChoiceColumn(name) → bool.
 * Returns every diagnostic {code, severity: 'error'|'warning', message, column}.
 */
export function check(expr, symbols) {
  const src = expr.src;
  const out = [];
  const report = (severity, code, node, message) =>
    out.push({ severity, code, message, column: columnOf(src, node.start) });
  const error = (code, node, message) => report('error', code, node, message);

  const reference = (n, position) => {
    const sym = symbols.lookup(n.name);
    if (!sym) {
      error('unknown_reference', n, `unknown variable \${${n.name}}`);
      return 'any';
    }
    if (sym.ty === 'roster' && position !== 'count') {
      error('type', n, `\${${n.name}} is a roster, not a value; count(\${${n.name}}) gives its number of rows`);
      return 'any';
    }
    if (sym.repeated && position === 'plain') {
      error('scope', n, `\${${n.name}} is in a roster this expression is not inside; use it inside count(), sum(), min() or max()`);
      return 'any';
    }
    return sym.ty;
  };

  const comparison = (op, lhs, left, rhs, right) => {
    const equality = op === '=' || op === '!=';
    for (const [n, ty, other] of [[lhs, left, rhs], [rhs, right, lhs]]) {
      if (ty === 'multi' && !(equality && isEmptyLiteral(other))) {
        error('type', n, "a select_multiple cannot be compared with '=' or '<'; use selected()");
        return;
      }
      if (ty === 'geo' && !(equality && isEmptyLiteral(other))) {
        error('type', n, "a geopoint can only be tested for emptiness (= '')");
        return;
      }
    }
    for (const [ty, otherNode, other] of [[left, rhs, right], [right, lhs, left]]) {
      if (!datedType(ty)) continue;
      if (
        otherNode.t === 'text' &&
        otherNode.value !== '' &&
        !parseDate(trimUnicode(otherNode.value)) &&
        !parseDateTime(trimUnicode(otherNode.value))
      ) {
        error('type', otherNode, `'${otherNode.value}' is not a date (write dates as 'YYYY-MM-DD')`);
        return;
      }
      if (otherNode.t !== 'text' && (other === 'number' || other === 'bool' || other === 'multi')) {
        error('type', otherNode, `a ${ty} cannot be compared with a ${other}`);
        return;
      }
    }
    for (const [ty, otherNode] of [[left, rhs], [right, lhs]]) {
      if (ty === 'number' && otherNode.t === 'text' && otherNode.value !== '' && parseNumber(otherNode.value) === null)
        report('warning', 'type', otherNode, `'${otherNode.value}' is not a number, so this comparison is constant`);
    }
  };

  const arithmetic = (op, lhs, left, rhs, right) => {
    const nonAnyNumeric = (t) => numericType(t) && t !== 'any';
    if (op === '+') {
      if ((left === 'date' && nonAnyNumeric(right)) || (right === 'date' && nonAnyNumeric(left))) return 'date';
      if ((left === 'datetime' && nonAnyNumeric(right)) || (right === 'datetime' && nonAnyNumeric(left))) return 'datetime';
    }
    if (op === '-') {
      if (left === 'date' && nonAnyNumeric(right)) return 'date';
      if (left === 'datetime' && nonAnyNumeric(right)) return 'datetime';
      if (datedType(left) && datedType(right)) return 'number';
    }
    if ((op === '+' || op === '-') && ((datedType(left) && right === 'any') || (datedType(right) && left === 'any')))
      return 'any';
    for (const [n, ty] of [[lhs, left], [rhs, right]]) {
      if (numericType(ty)) continue;
      error('type', n, ty === 'text' ? `text used in arithmetic '${op}'; convert it with number()` : `a ${ty} value cannot be used in arithmetic`);
      return 'any';
    }
    return 'number';
  };

  const expectReference = (name, arg, allowDot) => {
    const ok = arg.t === 'ref' || (allowDot && arg.t === 'dot');
    if (!ok) error('type', arg, `${name}() takes a \${name}${allowDot ? " or '.'" : ''} as its argument`);
    return ok;
  };

  const call = (n) => {
    const { name, args } = n;
    if (name === 'count') {
      if (expectReference(name, args[0], false)) node(args[0], 'count');
      return 'number';
    }
    if (name === 'sum') {
      if (expectReference(name, args[0], false)) {
        const ty = node(args[0], 'aggregate');
        if (!numericType(ty)) error('type', args[0], `sum() needs numbers, not ${ty}`);
      }
      return 'number';
    }
    if (name === 'min' || name === 'max') {
      // Numbers or dates, not both; the result is a date (date-time) when every dated
      // argument is one, unknown when they mix, a number when none is dated.
      let dated = null;
      let numbers = false;
      for (const arg of args) {
        const ty = node(arg, arg.t === 'ref' ? 'aggregate' : 'plain');
        if (datedType(ty) && numbers) error('type', arg, `${name}() mixes numbers and dates`);
        else if ((ty === 'number' || ty === 'bool') && dated !== null) error('type', arg, `${name}() mixes dates and numbers`);
        else if (datedType(ty)) dated = dated === null || dated === ty ? ty : 'any';
        else if (ty === 'number' || ty === 'bool') numbers = true;
        else if (ty !== 'any') error('type', arg, `${name}() needs numbers or dates, not ${ty}`);
      }
      return dated ?? 'number';
    }
    if (name === 'position') {
      if (args.length === 0) {
        if (!(symbols.inRosterRow && symbols.inRosterRow(null)))
          error('scope', n, 'position() is the number of the current roster row, and this expression is not evaluated in a roster row');
        return 'number';
      }
      const arg = args[0];
      if (arg.t !== 'ref') {
        error('type', arg, 'position() takes no argument or a roster ${name}');
        return 'number';
      }
      const sym = symbols.lookup(arg.name);
      if (!sym) error('unknown_reference', arg, `unknown variable \${${arg.name}}`);
      else if (sym.ty !== 'roster') error('type', arg, `position() takes a roster, and \${${arg.name}} is a ${sym.ty}`);
      else if (!(symbols.inRosterRow && symbols.inRosterRow(arg.name)))
        error('scope', arg, `position(\${${arg.name}}) needs a row of roster ${arg.name} around this expression`);
      return 'number';
    }
    if (name === 'choice-label') {
      const ty = node(args[0], 'plain');
      if (['multi', 'geo', 'roster', 'bool'].includes(ty)) error('type', args[0], `choice-label() takes one choice value, not a ${ty}`);
      const q = args[1];
      if (q.t !== 'ref') error('type', q, 'choice-label() takes the select question as ${name} in its second argument');
      else if (!symbols.lookup(q.name)) error('unknown_reference', q, `unknown variable \${${q.name}}`);
      else if (!(symbols.hasChoiceList && symbols.hasChoiceList(q.name)))
        error('type', q, `\${${q.name}} is not a select question, so it has no choices to label`);
      return 'text';
    }
    if (name === 'is-dont-know' || name === 'is-refused') {
      if (expectReference(name, args[0], true)) node(args[0], 'plain');
      return 'bool';
    }
    const types = args.map((a) => node(a, 'plain'));
    const reject = (i, bad, need) => {
      if (bad.includes(types[i])) error('type', args[i], `${name}() needs ${need}, not a ${types[i]}`);
    };
    const notScalar = ['multi', 'geo', 'roster'];
    switch (name) {
      case 'if':
        return unify(types[1], types[2]);
      case 'coalesce':
        return types.reduce(unify);
      case 'selected':
        reject(0, ['number', 'bool', 'date', 'datetime', 'geo'], 'a select_multiple or select_one');
        reject(1, notScalar, 'a value');
        return 'bool';
      case 'count-selected':
        reject(0, ['number', 'bool', 'date', 'datetime', 'geo'], 'a select_multiple');
        return 'number';
      case 'regex':
      case 'contains':
      case 'starts-with':
      case 'ends-with':
        args.forEach((_, i) => reject(i, notScalar, 'a text'));
        return 'bool';
      case 'string-length':
        reject(0, notScalar, 'a text');
        return 'number';
      case 'int':
      case 'round':
      case 'number':
      case 'abs':
      case 'floor':
      case 'ceiling':
        args.forEach((_, i) => reject(i, notScalar, 'a number'));
        return 'number';
      case 'date':
        reject(0, ['multi', 'geo', 'bool'], "a 'YYYY-MM-DD' text or a day number");
        return 'date';
      case 'format-date':
        reject(0, ['multi', 'geo', 'bool', 'roster'], "a date, a date-time or a 'YYYY-MM-DD' text");
        reject(1, notScalar, 'a pattern text');
        return 'text';
      case 'today':
        return 'date';
      case 'concat':
      case 'string':
        return 'text';
      default:
        return 'bool';
    }
  };

  function node(n, position) {
    switch (n.t) {
      case 'num':
        return 'number';
      case 'text':
        return n.value === '' ? 'any' : 'text';
      case 'ref':
        return reference(n, position);
      case 'dot': {
        const ty = symbols.dot ? symbols.dot() : null;
        if (ty) return ty;
        error('unknown_reference', n, "'.' (this question's value) has no meaning here; use ${name}");
        return 'any';
      }
      case 'ident':
        if (!(symbols.inChoiceFilter && symbols.inChoiceFilter()))
          error('unknown_reference', n, `bare name '${n.name}': write \${${n.name}} to refer to a question`);
        else if (n.name !== 'value' && !symbols.hasChoiceColumn(n.name))
          error('unknown_reference', n, `the choice list has no column '${n.name}'`);
        return 'text';
      case 'neg': {
        const ty = node(n.inner, 'plain');
        if (!numericType(ty)) error('type', n.inner, `cannot negate a ${ty} value`);
        return 'number';
      }
      case 'bin': {
        const left = node(n.lhs, 'plain');
        const right = node(n.rhs, 'plain');
        if (n.op === 'and' || n.op === 'or') return 'bool';
        if (['=', '!=', '<', '<=', '>', '>='].includes(n.op)) {
          comparison(n.op, n.lhs, left, n.rhs, right);
          return 'bool';
        }
        return arithmetic(n.op, n.lhs, left, n.rhs, right);
      }
      case 'call':
        return call(n);
      default:
        return 'any';
    }
  }

  const ty = node(expr.root, 'plain');
  out.type = ty;
  return out;
}

// ---------------------------------------------------------------------------------------
// Evaluation.
// ---------------------------------------------------------------------------------------

/** `=`: see docs/questionnaire-format.md, "Equality". */
export function equals(l, r) {
  if (l.k === 'empty' && r.k === 'empty') return true;
  if (l.k === 'empty' || r.k === 'empty') return false;
  if (l.k === 'bool' || r.k === 'bool') return toBool(l) === toBool(r);
  if (l.k === 'multi' || l.k === 'geo' || r.k === 'multi' || r.k === 'geo') return toText(l) === toText(r);
  if (isDated(l) || isDated(r)) {
    const a = dateKey(l);
    const b = dateKey(r);
    return a !== null && b !== null && a === b;
  }
  if (l.k === 'num' || r.k === 'num') {
    const a = toNumber(l);
    const b = toNumber(r);
    return a !== null && b !== null && a === b;
  }
  return l.v === r.v;
}

/** Ordering: -1, 0, 1, or null when the two cannot be put on one scale. */
export function order(l, r) {
  const numeric = (a, b) => (a === null || b === null ? null : a < b ? -1 : a > b ? 1 : 0);
  if (l.k === 'empty' || r.k === 'empty') return null;
  if (l.k === 'multi' || l.k === 'geo' || r.k === 'multi' || r.k === 'geo') return null;
  if (l.k === 'bool' || r.k === 'bool') return numeric(toNumber(l), toNumber(r));
  if (isDated(l) || isDated(r)) return numeric(dateKey(l), dateKey(r));
  if (l.k === 'num' || r.k === 'num') return numeric(toNumber(l), toNumber(r));
  const x = parseNumber(l.v);
  const y = parseNumber(r.v);
  if (x !== null && y !== null) return numeric(x, y);
  return cmpCodePoints(l.v, r.v);
}

function shiftDate(d, n) {
  if (n === null) return EMPTY;
  // As the Rust engine: a whole number of days gives a date, or empty when the result
  // (or a shift beyond ±10^7 days) leaves 0001–9999; a fraction gives a day number.
  if (Number.isInteger(n)) return Math.abs(n) < 1e7 ? dateFromDays(d.days + n) ?? EMPTY : EMPTY;
  return num(d.days + n);
}

function shiftDateTime(t, n) {
  if (n === null || !(Math.abs(n) < 1e7)) return EMPTY;
  const ms = t.ms + roundHalfAway(n * 86400000);
  if (!dateFromDays(divEuclid(ms, 86400000))) return EMPTY;
  return { k: 'datetime', ms, off: t.off };
}

function arithmetic(op, l, r) {
  if (l.k === 'empty' || r.k === 'empty') return EMPTY;
  const neg = (x) => (x === null ? null : -x);
  if (op === '+' && l.k === 'date' && !isDated(r)) return shiftDate(l, toNumber(r));
  if (op === '+' && r.k === 'date' && !isDated(l)) return shiftDate(r, toNumber(l));
  if (op === '-' && l.k === 'date' && !isDated(r)) return shiftDate(l, neg(toNumber(r)));
  if (op === '+' && l.k === 'datetime' && !isDated(r)) return shiftDateTime(l, toNumber(r));
  if (op === '+' && r.k === 'datetime' && !isDated(l)) return shiftDateTime(r, toNumber(l));
  if (op === '-' && l.k === 'datetime' && !isDated(r)) return shiftDateTime(l, neg(toNumber(r)));
  const a = toNumber(l);
  const b = toNumber(r);
  if (a === null || b === null) return EMPTY;
  switch (op) {
    case '+':
      return num(a + b);
    case '-':
      return num(a - b);
    case '*':
      return num(a * b);
    case 'div':
      return num(a / b);
    default:
      return num(a % b);
  }
}

/** Thrown when a computed regex() or format-date() pattern is invalid (code 'regex' or 'format'). */
export class EvalError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Evaluates a parsed expression against `scope`:
 *   value(name) → answer value (may be DONT_KNOW / REFUSED), dot() → value,
 *   rowCount(name) → number of rows in scope when `name` is a roster, else null,
 *   forEachInstance(name, visit) → visits every instance in scope,
 *   choiceColumn(name) → string | null, today() → date value,
 *   position(rosterName | null) → 1-based row number | null (optional),
 *   choiceLabel(questionName, value) → label | null (optional).
 */
export function evaluate(expr, scope) {
  return evalNode(expr.root, scope);
}

/** Evaluates and takes the truth value (relevance, rules, required). */
export function evaluateBool(expr, scope) {
  return toBool(evalNode(expr.root, scope));
}

function evalNode(n, scope) {
  switch (n.t) {
    case 'num':
      return num(n.value);
    case 'text':
      return text(n.value);
    case 'ref':
      return toVal(scope.value(n.name));
    case 'dot':
      return toVal(scope.dot ? scope.dot() : EMPTY);
    case 'ident': {
      const col = scope.choiceColumn ? scope.choiceColumn(n.name) : null;
      return col === null || col === undefined ? EMPTY : text(col);
    }
    case 'neg': {
      const x = toNumber(evalNode(n.inner, scope));
      return x === null ? EMPTY : num(-x);
    }
    case 'bin':
      return binary(n, scope);
    case 'call':
      return callFn(n, scope);
    default:
      return EMPTY;
  }
}

function binary(n, scope) {
  if (n.op === 'and') return bool(toBool(evalNode(n.lhs, scope)) && toBool(evalNode(n.rhs, scope)));
  if (n.op === 'or') return bool(toBool(evalNode(n.lhs, scope)) || toBool(evalNode(n.rhs, scope)));
  const l = evalNode(n.lhs, scope);
  const r = evalNode(n.rhs, scope);
  switch (n.op) {
    case '=':
      return bool(equals(l, r));
    case '!=':
      return bool(!equals(l, r));
    case '<':
      return bool(order(l, r) === -1);
    case '<=': {
      const o = order(l, r);
      return bool(o === -1 || o === 0);
    }
    case '>':
      return bool(order(l, r) === 1);
    case '>=': {
      const o = order(l, r);
      return bool(o === 1 || o === 0);
    }
    default:
      return arithmetic(n.op, l, r);
  }
}

function forEachValue(n, scope, visit) {
  if (n.t === 'ref') scope.forEachInstance(n.name, (v) => visit(toVal(v)));
  else visit(evalNode(n, scope));
}

/**
 * min()/max(): when any contribution is a date or date-time the scale is dates
 * (chronological; texts and numbers converted as for `=`) and the result is the date or
 * date-time found; otherwise numbers. Neither argument order nor emptiness changes the scale.
 */
function extreme(args, scope, wanted) {
  const better = (key, best) => best === null || (wanted < 0 ? key < best : key > best);
  let byNumber = null;
  let byDate = null;
  let dated = false;
  for (const arg of args) {
    forEachValue(arg, scope, (v) => {
      if (v.k === 'empty') return;
      if (isDated(v)) dated = true;
      const x = toNumber(v);
      if (x !== null && better(x, byNumber)) byNumber = x;
      const d = onDateScale(v);
      if (d !== null && better(d.key, byDate === null ? null : byDate.key)) byDate = d;
    });
  }
  if (dated) return byDate === null ? EMPTY : byDate.value;
  return byNumber === null ? EMPTY : num(byNumber);
}

/** A min()/max() contribution on the date scale: {key, value}, or null. */
function onDateScale(v) {
  let value = null;
  switch (v.k) {
    case 'date':
    case 'datetime':
      value = v;
      break;
    case 'text': {
      const s = trimUnicode(v.v);
      value = parseDate(s) ?? parseDateTime(s);
      break;
    }
    case 'num':
      value = dateFromDays(Math.floor(v.v));
      break;
    default:
      return null;
  }
  return value === null ? null : { key: dateKey(value), value };
}

// ---------------------------------------------------------------------------------------
// format-date() patterns (docs/questionnaire-format.md; src/questionnaire/expr/date_format.rs).
// ---------------------------------------------------------------------------------------

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DIRECTIVES = '%Y %y %m %n %d %e %H %M %S %a %b %%';

function datePartsOfDays(days) {
  const [year, month, day] = civilFromDays(days);
  return { year, month, day, weekday: (((days + 4) % 7) + 7) % 7, hour: 0, minute: 0, second: 0 };
}

function datePartsOfDateTime(t) {
  const local = t.ms + t.off * 60000;
  const days = divEuclid(local, 86400000);
  if (dateFromDays(days) === null) return null;
  const inDay = Math.floor((local - days * 86400000) / 1000);
  return { ...datePartsOfDays(days), hour: Math.floor(inDay / 3600), minute: Math.floor(inDay / 60) % 60, second: inDay % 60 };
}

/** Formats date parts by a pattern; returns {text} or {error}. Iterates by code point. */
function formatDateParts(pattern, p) {
  let out = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    i++;
    if (i >= chars.length) return { error: `the pattern ends with a lone '%' (write %% for a percent sign; directives: ${DIRECTIVES})` };
    switch (chars[i]) {
      case 'Y':
        out += pad(p.year, 4);
        break;
      case 'y':
        out += pad(((p.year % 100) + 100) % 100, 2);
        break;
      case 'm':
        out += pad(p.month, 2);
        break;
      case 'n':
        out += String(p.month);
        break;
      case 'd':
        out += pad(p.day, 2);
        break;
      case 'e':
        out += String(p.day);
        break;
      case 'H':
        out += pad(p.hour, 2);
        break;
      case 'M':
        out += pad(p.minute, 2);
        break;
      case 'S':
        out += pad(p.second, 2);
        break;
      case 'a':
        out += DAY_NAMES[p.weekday];
        break;
      case 'b':
        out += MONTH_NAMES[p.month - 1];
        break;
      case '%':
        out += '%';
        break;
      default:
        return { error: `unknown directive %${chars[i]} (directives: ${DIRECTIVES})` };
    }
  }
  return { text: out };
}

/** null when a pattern is valid, else what is wrong with it. */
function checkDatePattern(pattern) {
  return formatDateParts(pattern, datePartsOfDays(0)).error ?? null;
}

function callFn(n, scope) {
  const { name, args } = n;
  const arg = (i) => evalNode(args[i], scope);
  const mapNumber = (f) => {
    const x = toNumber(arg(0));
    return x === null ? EMPTY : num(f(x));
  };
  switch (name) {
    case 'if':
      return toBool(arg(0)) ? arg(1) : arg(2);
    case 'selected': {
      const set = arg(0);
      const wanted = toText(arg(1));
      if (set.k === 'empty') return bool(false);
      if (set.k === 'multi') return bool(set.v.includes(wanted));
      return bool(splitWhitespace(toText(set)).includes(wanted));
    }
    case 'count-selected': {
      const set = arg(0);
      if (set.k === 'empty') return num(0);
      if (set.k === 'multi') return num(set.v.length);
      return num(splitWhitespace(toText(set)).length);
    }
    case 'coalesce':
      for (let i = 0; i < args.length; i++) {
        const v = arg(i);
        if (v.k !== 'empty') return v;
      }
      return EMPTY;
    case 'regex': {
      const subject = toText(arg(0));
      if (n.compiled) return bool(n.compiled.isMatch(subject));
      const pattern = toText(arg(1));
      let regex;
      try {
        regex = new Regex(pattern);
      } catch (e) {
        if (e instanceof RegexError) throw new EvalError('regex', `invalid regular expression ${JSON.stringify(pattern)}: ${e.message}`);
        throw e;
      }
      return bool(regex.isMatch(subject));
    }
    case 'string-length':
      return num(Array.from(toText(arg(0))).length);
    case 'today':
      return scope.today();
    case 'int':
      return mapNumber(Math.trunc);
    case 'round': {
      const digits = args.length > 1 ? toNumber(arg(1)) : 0;
      const x = toNumber(arg(0));
      if (x === null || digits === null) return EMPTY;
      return num(roundDecimal(x, Math.trunc(digits)));
    }
    case 'number':
      return mapNumber((x) => x);
    case 'concat': {
      let s = '';
      for (let i = 0; i < args.length; i++) s += toText(arg(i));
      return text(s);
    }
    case 'count': {
      if (args[0].t === 'ref') {
        const rows = scope.rowCount(args[0].name);
        if (rows !== null && rows !== undefined) return num(rows);
        let count = 0;
        scope.forEachInstance(args[0].name, (v) => {
          if (!isEmpty(v)) count++;
        });
        return num(count);
      }
      return num(arg(0).k === 'empty' ? 0 : 1);
    }
    case 'sum': {
      let total = 0;
      forEachValue(args[0], scope, (v) => {
        total += toNumber(v) ?? 0;
      });
      return num(total);
    }
    case 'min':
      return extreme(args, scope, -1);
    case 'max':
      return extreme(args, scope, 1);
    case 'not':
      return bool(!toBool(arg(0)));
    case 'true':
      return bool(true);
    case 'false':
      return bool(false);
    case 'boolean':
      return bool(toBool(arg(0)));
    case 'string':
      return text(toText(arg(0)));
    case 'date':
      return toDate(arg(0)) ?? EMPTY;
    case 'contains':
      return bool(toText(arg(0)).includes(toText(arg(1))));
    case 'starts-with':
      return bool(toText(arg(0)).startsWith(toText(arg(1))));
    case 'ends-with':
      return bool(toText(arg(0)).endsWith(toText(arg(1))));
    case 'abs':
      return mapNumber(Math.abs);
    case 'floor':
      return mapNumber(Math.floor);
    case 'ceiling':
      return mapNumber(Math.ceil);
    case 'is-dont-know':
    case 'is-refused': {
      const raw = args[0].t === 'ref' ? scope.value(args[0].name) : args[0].t === 'dot' ? scope.dot() : null;
      const want = name === 'is-dont-know' ? 'dk' : 'refused';
      return bool(!!raw && raw.k === want);
    }
    case 'position': {
      // A scope without rosters (or an older one) has no position: empty.
      const row = scope.position ? scope.position(args.length ? args[0].name : null) : null;
      return row === null || row === undefined ? EMPTY : num(row);
    }
    case 'choice-label': {
      const value = arg(0);
      if (value.k === 'empty' || !scope.choiceLabel) return EMPTY;
      const label = scope.choiceLabel(args[1].name, toText(value));
      return label === null || label === undefined ? EMPTY : text(label);
    }
    case 'format-date': {
      const v = arg(0);
      let parts = null;
      if (v.k === 'datetime') parts = datePartsOfDateTime(v);
      else if (v.k === 'text') {
        const s = trimUnicode(v.v);
        const d = parseDate(s);
        if (d) parts = datePartsOfDays(d.days);
        else {
          const t = parseDateTime(s);
          parts = t ? datePartsOfDateTime(t) : null;
        }
      } else {
        const d = toDate(v);
        parts = d ? datePartsOfDays(d.days) : null;
      }
      const pattern = toText(arg(1));
      if (parts === null) return EMPTY;
      const result = formatDateParts(pattern, parts);
      if (result.error !== undefined)
        throw new EvalError('format', `invalid format-date() pattern ${JSON.stringify(pattern)}: ${result.error}`);
      return text(result.text);
    }
    default:
      return EMPTY;
  }
}

// ---------------------------------------------------------------------------------------
// A scope over nested answers (used by the corpus runner and the form).
// ---------------------------------------------------------------------------------------

/**
 * Builds a scope over a tree of decoded answers.
 *   vars: Map name → {rosters: [outermost … innermost roster names], isRoster}
 *   root: row object name → value; a roster's value is an array of row objects
 *   context: [[rosterName, rowIndex], …] from the top
 *   today: date value; dot: value; choice: {value, columns} | null
 *   choices: question name → [{value, label}] (a Map or an object; else a var's own
 *     `choices`), lang: the interview language, fallbackLang: the default language
 *     (for choice-label())
 * Roster scoping follows docs/questionnaire-format.md, "Rosters and scope".
 */
export function makeTreeScope({
  vars,
  root,
  context = [],
  today,
  dot = EMPTY,
  choice = null,
  choices = null,
  lang = 'en',
  fallbackLang = lang,
}) {
  const sharedDepth = (rosters) => {
    let d = 0;
    while (d < rosters.length && d < context.length && rosters[d] === context[d][0]) d++;
    return d;
  };
  const contextRow = (depth) => {
    let row = root;
    for (let i = 0; i < depth; i++) {
      const [roster, idx] = context[i];
      const rows = row[roster];
      if (!Array.isArray(rows) || !rows[idx]) return null;
      row = rows[idx];
    }
    return row;
  };
  const rowsBelow = (row, rosters, out) => {
    if (rosters.length === 0) {
      out.push(row);
      return;
    }
    const rows = row[rosters[0]];
    if (Array.isArray(rows)) for (const r of rows) rowsBelow(r, rosters.slice(1), out);
  };
  return {
    value(name) {
      const v = vars.get(name);
      if (!v || v.isRoster) return EMPTY;
      const depth = sharedDepth(v.rosters);
      if (depth < v.rosters.length) return EMPTY;
      const row = contextRow(depth);
      return (row && row[name]) || EMPTY;
    },
    dot: () => dot,
    rowCount(name) {
      const v = vars.get(name);
      if (!v || !v.isRoster) return null;
      const depth = sharedDepth(v.rosters);
      const start = contextRow(depth);
      const rows = [];
      if (start) rowsBelow(start, [...v.rosters, name].slice(depth), rows);
      return rows.length;
    },
    forEachInstance(name, visit) {
      const v = vars.get(name);
      if (!v) return;
      const depth = sharedDepth(v.rosters);
      const start = contextRow(depth);
      const rows = [];
      if (start) rowsBelow(start, v.rosters.slice(depth), rows);
      for (const row of rows) visit(row[name] || EMPTY);
    },
    choiceColumn(name) {
      if (!choice) return null;
      if (name === 'value') return choice.value;
      return Object.hasOwn(choice.columns ?? {}, name) ? choice.columns[name] : null;
    },
    today: () => today,
    position(roster) {
      const at = roster === null ? context[context.length - 1] : context.find(([r]) => r === roster);
      return at ? at[1] + 1 : null;
    },
    choiceLabel(name, value) {
      const own = choices instanceof Map ? choices.get(name) : choices?.[name];
      const list = own ?? vars.get(name)?.choices;
      if (!Array.isArray(list)) return null;
      const found = list.find((c) => c.value === value);
      if (!found) return null;
      const label = found.label;
      if (typeof label === 'string') return label;
      if (!label || typeof label !== 'object') return null;
      return label[lang] ?? label[fallbackLang] ?? Object.values(label)[0] ?? null;
    },
  };
}

/** Symbols for check() from the same variable table and context. */
export function makeTreeSymbols({ vars, context = [], dotType = null, choice = null }) {
  return {
    lookup(name) {
      const v = vars.get(name);
      if (!v) return null;
      let d = 0;
      while (d < v.rosters.length && d < context.length && v.rosters[d] === context[d][0]) d++;
      return { ty: v.ty, repeated: d < v.rosters.length };
    },
    dot: () => dotType,
    inChoiceFilter: () => choice !== null,
    hasChoiceColumn: (name) => choice !== null && Object.hasOwn(choice.columns ?? {}, name),
    inRosterRow: (roster) => (roster === null ? context.length > 0 : context.some(([r]) => r === roster)),
    hasChoiceList(name) {
      const v = vars.get(name);
      return !!v && (v.decl === 'select_one' || v.decl === 'select_multiple');
    },
  };
}
