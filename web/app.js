// The enumerator app: sign-in, sync, the list of assignments and interviews, and the
// interview screen. Routing is by URL hash (#/ and #/interview/ID) so that a reload, even
// offline from the service worker, returns to the same screen.

import * as api from './api.js';
import * as store from './store.js';
import * as outbox from './outbox.js';
import { Form } from './form.js';
import { t, setLanguage, language, formatWhen, message } from './i18n.js';
import { tr } from './runner.js';
import { el } from './dom.js';

/** Questionnaires of practice mode, relative to the app (the repository layout). */
export const PRACTICE_QUESTIONNAIRES = ['../questionnaires/worker.json', '../questionnaires/enterprise.json', '../questionnaires/household_unit.json'];

const main = document.getElementById('main');
const app = { form: null, flash: null };
window.chainsurvey = app;


// ----- header ------------------------------------------------------------------------------

function renderHeader() {
  document.getElementById('app-name').textContent = t('appName');
  document.getElementById('skip-link').textContent = t('skipToContent');
  const net = document.getElementById('net-status');
  net.textContent = navigator.onLine ? t('online') : t('offline');
  net.className = `net ${navigator.onLine ? 'net-on' : 'net-off'}`;
  document.querySelectorAll('[data-lang]').forEach((b) => b.setAttribute('aria-pressed', b.dataset.lang === language() ? 'true' : 'false'));
  document.getElementById('lang-switch').setAttribute('aria-label', t('language'));
  document.querySelectorAll('[data-t]').forEach((n) => {
    n.textContent = `${n.dataset.tPrefix ?? ''}${t(n.dataset.t)}`;
  });
}

async function switchLanguage(lang) {
  // Redraw first (synchronously), then remember the choice.
  setLanguage(lang);
  renderHeader();
  if (app.form) {
    app.form.setLanguage(lang);
    if (app.interview) app.interview.language = lang;
  }
  await store.setMeta('lang', lang);
  if (app.interview) await store.put('interviews', app.interview);
  else if (!app.form) await route();
}

// ----- home --------------------------------------------------------------------------------

async function renderHome() {
  app.form = null;
  app.interview = null;
  const token = await store.getMeta('token');
  const practice = await store.getMeta('practice', false);
  const user = await store.getMeta('user');
  const parts = [];
  if (app.flash) {
    parts.push(el('div', { class: `banner banner-${app.flash.kind}`, role: 'status', id: 'flash', text: app.flash.text }));
    app.flash = null;
  }
  if (!token && !practice) {
    const others = await outbox.othersPendingCount();
    if (others) parts.push(el('p', { class: 'banner banner-review', id: 'others-waiting', text: t('othersWaiting', { n: others }) }));
    parts.push(renderSignIn());
    main.replaceChildren(...parts);
    return;
  }
  const pending = await outbox.pendingCount();
  parts.push(el('div', { class: 'toolbar' },
    el('span', { class: 'muted', text: practice ? t('practiceHint') : t('signedInAs', { name: user?.name ?? '' }) }),
    el('span', { class: 'spacer' }),
    pending ? el('span', { class: 'badge badge-queued', id: 'pending-count', text: t('pendingCount', { n: pending }) }) : null,
    pending && !practice ? el('button', { type: 'button', class: 'btn', id: 'btn-send', onclick: sendNow, text: t('sendNow') }) : null,
    practice ? null : el('button', { type: 'button', class: 'btn', id: 'btn-sync', onclick: syncNow, text: t('sync') }),
    el('button', { type: 'button', class: 'btn btn-ghost', id: 'btn-signout', onclick: signOut, text: t('signOut') })));
  if (!practice) parts.push(el('p', { class: 'muted', id: 'last-sync', text: t('lastSync', { at: formatWhen(await store.getMeta('last_sync')) }) }));
  parts.push(practice ? await renderQuestionnaireList() : await renderAssignments());
  parts.push(await renderInterviews());
  main.replaceChildren(...parts);
}

function renderSignIn() {
  const name = el('input', { id: 'login-name', class: 'input', autocomplete: 'username', required: true });
  const password = el('input', { id: 'login-password', class: 'input', type: 'password', autocomplete: 'current-password', required: true });
  const status = el('p', { class: 'form-error', role: 'alert', id: 'login-status' });
  const form = el('form', {
    class: 'card signin',
    onsubmit: async (e) => {
      e.preventDefault();
      status.textContent = '';
      try {
        const { token, user } = await api.login(name.value.trim(), password.value);
        await store.setMeta('token', token);
        await store.setMeta('user', user);
        await store.setMeta('practice', false);
        await store.claimUnowned(user.name);
        await syncNow();
      } catch (err) {
        status.textContent = t('signInFailed', { msg: err.message });
      }
    },
  },
  el('h1', { text: t('signIn') }),
  el('label', { for: 'login-name', text: t('userName') }), name,
  el('label', { for: 'login-password', text: t('password') }), password,
  status,
  el('button', { type: 'submit', class: 'btn btn-primary', text: t('signIn') }));
  const practice = el('div', { class: 'card' },
    el('p', { class: 'muted', text: t('practiceHint') }),
    el('button', {
      type: 'button', class: 'btn', id: 'btn-practice', text: t('practice'),
      onclick: async () => {
        await store.setMeta('practice', true);
        await loadPracticeQuestionnaires();
        await renderHome();
      },
    }));
  return el('div', { class: 'stack' }, form, practice);
}

async function loadPracticeQuestionnaires() {
  for (const path of PRACTICE_QUESTIONNAIRES) {
    try {
      const response = await fetch(new URL(path, document.baseURI));
      if (response.ok) await store.saveQuestionnaire(await response.json());
    } catch {
      // Offline: the questionnaires saved earlier (IndexedDB) are used.
    }
  }
}

async function renderQuestionnaireList() {
  const list = await store.all('questionnaires');
  return el('section', { class: 'card', 'aria-labelledby': 'h-q' },
    el('h2', { id: 'h-q', text: t('questionnaires') }),
    el('ul', { class: 'list' }, list.map((q) => el('li', { class: 'list-item' },
      el('div', {}, el('strong', { text: tr(q.definition.title, language()) }), el('div', { class: 'muted', text: `${q.id} · ${q.version}` })),
      el('button', { type: 'button', class: 'btn btn-primary', 'data-new': q.id, onclick: () => newInterview(q, null), text: t('newInterview') })))));
}

async function renderAssignments() {
  // Assignments of earlier users of this device stay stored but are not theirs to see.
  const owner = await store.currentOwner();
  const assignments = (await store.all('assignments')).filter((a) => a.status !== 'closed' && (!a.enumerator || a.enumerator === owner?.name));
  const questionnaires = await store.all('questionnaires');
  const body = assignments.length
    ? el('ul', { class: 'list' }, assignments.map((a) => {
      const version = (a.allowed_versions ?? []).slice(-1)[0];
      const q = questionnaires.find((x) => x.id === a.questionnaire && (!version || x.version === version));
      const target = a.target ?? {};
      return el('li', { class: 'list-item' },
        el('div', {},
          el('strong', { text: target.name ?? target.unit_id ?? a.id }),
          el('div', { class: 'muted', text: `${q ? tr(q.definition.title, language()) : a.questionnaire} · ${t('quantity', { done: a.submitted ?? 0, n: a.quantity ?? 1 })}` })),
        el('button', { type: 'button', class: 'btn btn-primary', disabled: !q, onclick: () => newInterview(q, a), text: t('newInterview') }));
    }))
    : el('p', { class: 'muted', text: t('noAssignments') });
  return el('section', { class: 'card', 'aria-labelledby': 'h-a' }, el('h2', { id: 'h-a', text: t('assignments') }), body);
}

async function renderInterviews() {
  const interviews = (await store.interviewsOf(await store.currentOwner())).sort((a, b) => (b.updated_at ?? '').localeCompare(a.updated_at ?? ''));
  const questionnaires = await store.all('questionnaires');
  const body = interviews.length
    ? el('ul', { class: 'list', id: 'interview-list' }, interviews.map((i) => {
      const q = questionnaires.find((x) => x.key === `${i.questionnaire}@${i.version}`);
      const editable = ['draft', 'rejected', 'review_rejected'].includes(i.status);
      const problems = i.status === 'rejected' && i.server?.findings?.length ? el('ul', { class: 'msgs' }, i.server.findings.map((f) => el('li', { class: 'msg msg-error', text: `${f.path ?? ''} ${message(f.message)}` }))) : null;
      const review = i.status === 'review_rejected' && i.server?.review?.comment ? el('p', { class: 'msg msg-warning', text: `${t('reviewComment')} ${i.server.review.comment}` }) : null;
      return el('li', { class: 'list-item', 'data-instance': i.instance_id, 'data-status': i.status },
        el('div', { class: 'grow' },
          el('strong', { text: q ? tr(q.definition.title, language()) : i.questionnaire }),
          el('span', { class: `badge badge-${i.status}`, text: t(`status_${i.status}`) }),
          el('div', { class: 'muted', text: t('startedAt', { at: formatWhen(i.started_at) }) }),
          i.server?.message && i.status === 'rejected' ? el('p', { class: 'msg msg-error', text: i.server.message }) : null,
          problems, review),
        el('div', { class: 'actions' },
          el('button', { type: 'button', class: 'btn', onclick: () => { location.hash = `#/interview/${i.instance_id}`; }, text: editable ? (i.status === 'draft' ? t('resume') : t('fix')) : t('view') }),
          i.status === 'draft' ? el('button', {
            type: 'button', class: 'btn btn-ghost', onclick: async () => {
              if (!confirm(t('confirmDelete'))) return;
              await store.remove('interviews', i.instance_id);
              await renderHome();
            }, text: t('delete'),
          }) : null));
    }))
    : el('p', { class: 'muted', text: t('noInterviews') });
  return el('section', { class: 'card', 'aria-labelledby': 'h-i' }, el('h2', { id: 'h-i', text: t('interviews') }), body);
}

async function newInterview(q, assignment) {
  const now = new Date().toISOString();
  const practice = await store.getMeta('practice', false);
  const owner = await store.currentOwner();
  const preload = assignment?.preload && typeof assignment.preload === 'object' ? structuredClone(assignment.preload) : {};
  const interview = {
    instance_id: crypto.randomUUID(),
    // Who started it: only they see and send it on a shared device.
    owner: practice ? null : owner?.name ?? null,
    questionnaire: q.id,
    version: q.version,
    assignment_id: assignment?.id ?? null,
    answers: preload,
    locked: assignment?.preload_protected ? Object.keys(preload) : [],
    status: 'draft',
    // Practice interviews are never sent, even after signing in on the same device.
    practice: !!practice,
    started_at: now,
    ended_at: null,
    language: language(),
    updated_at: now,
  };
  await store.put('interviews', interview);
  location.hash = `#/interview/${interview.instance_id}`;
}

async function syncNow() {
  const token = await store.getMeta('token');
  if (!token) return;
  const status = document.getElementById('last-sync');
  if (status) status.textContent = t('syncing');
  try {
    await outbox.flush({ force: true });
    const owner = await store.currentOwner();
    const cursorKey = store.cursorKey(owner?.name ?? '');
    const since = await store.getMeta(cursorKey, 0);
    const { changes, cursor } = await api.syncAll(token, since);
    for (const change of changes) await applyChange(token, change);
    await store.setMeta(cursorKey, cursor);
    await store.setMeta('last_sync', new Date().toISOString());
    app.flash = { kind: 'ok', text: t('syncDone', { n: changes.length }) };
  } catch (err) {
    if (err.status === 401) {
      await store.setMeta('token', null);
    }
    app.flash = { kind: 'error', text: t('syncFailed', { msg: err.message }) };
  }
  await renderHome();
}

async function applyChange(token, change) {
  const c = api.interpretChange(change);
  if (c.type === 'assignment' && c.assignment?.id) {
    await store.put('assignments', c.assignment);
    for (const version of c.assignment.allowed_versions ?? []) {
      const key = `${c.assignment.questionnaire}@${version}`;
      if (!(await store.get('questionnaires', key))) {
        const definition = await api.questionnaire(token, c.assignment.questionnaire, version);
        await store.saveQuestionnaire(definition);
      }
    }
  } else if (c.type === 'review' && c.instance_id) {
    const interview = await store.get('interviews', c.instance_id);
    if (!interview) return;
    interview.status = c.approved ? 'approved' : 'review_rejected';
    interview.server = { ...(interview.server ?? {}), review: { comment: c.comment, question_comments: c.question_comments } };
    interview.updated_at = new Date().toISOString();
    await store.put('interviews', interview);
  } else if (c.type === 'accepted' && c.instance_id) {
    const interview = await store.get('interviews', c.instance_id);
    if (interview && interview.status === 'queued') {
      interview.status = 'sent';
      await store.put('interviews', interview);
    }
  }
}

async function sendNow() {
  const result = await outbox.flush({ force: true });
  app.flash = { kind: result.rejected ? 'error' : 'ok', text: `${t('status_sent')}: ${result.sent} · ${t('status_rejected')}: ${result.rejected} · ${t('status_queued')}: ${result.waiting}` };
  await renderHome();
}

async function signOut() {
  await store.setMeta('token', null);
  await store.setMeta('practice', false);
  await renderHome();
}

// ----- interview ---------------------------------------------------------------------------

/** What the server or the supervisor said about an interview, for the form to show. */
function notesOf(interview) {
  if (interview.status === 'rejected') {
    const findings = (interview.server?.findings ?? []).map((f) => ({ path: f.path ?? '', text: message(f.message), kind: 'server' }));
    return findings.length ? findings : [{ path: '', text: interview.server?.message ?? '', kind: 'server' }];
  }
  if (interview.status === 'review_rejected') {
    const review = interview.server?.review ?? {};
    return [
      ...(review.comment ? [{ path: '', text: review.comment, kind: 'review' }] : []),
      ...(Array.isArray(review.question_comments) ? review.question_comments : []).map((q) => ({ path: q.path ?? '', text: q.comment ?? '', kind: 'review' })),
    ];
  }
  return [];
}

async function renderInterview(id) {
  const interview = await store.get('interviews', id);
  if (!interview || !store.belongsTo(interview, await store.currentOwner())) {
    location.hash = '#/';
    return;
  }
  const q = await store.get('questionnaires', `${interview.questionnaire}@${interview.version}`);
  if (!q) {
    main.replaceChildren(el('p', { class: 'banner banner-error', text: t('loadFailed', { msg: `${interview.questionnaire} ${interview.version}` }) }));
    return;
  }
  const readOnly = !['draft', 'rejected', 'review_rejected'].includes(interview.status);
  const back = el('a', { href: '#/', class: 'btn btn-ghost', id: 'btn-home', 'data-t': 'backHome', 'data-t-prefix': '← ', text: `← ${t('backHome')}` });
  const saved = el('span', { class: 'muted', id: 'save-status', 'aria-live': 'polite' });
  const holder = el('div', { class: readOnly ? 'form read-only' : 'form' });
  main.replaceChildren(el('div', { class: 'toolbar' }, back, el('span', { class: 'spacer' }), saved), holder);
  app.interview = interview;
  let saving = Promise.resolve();
  const save = () => {
    interview.updated_at = new Date().toISOString();
    saving = saving.then(() => store.put('interviews', interview)).then(() => {
      saved.dataset.t = 'saved';
      saved.textContent = t('saved');
    });
    return saving;
  };
  app.form = new Form(holder, {
    definition: q.definition,
    answers: interview.answers,
    lang: language(),
    notes: notesOf(interview),
    readOnly,
    locked: interview.locked ?? [],
    section: interview.section ?? 0,
    onSection: (i) => {
      interview.section = i;
      if (!readOnly) save();
    },
    onChange: (answers) => {
      if (readOnly) return;
      interview.answers = answers;
      save();
    },
    onFinish: async (result) => {
      if (readOnly) return;
      interview.submitted_answers = result.answers;
      interview.ended_at = new Date().toISOString();
      interview.status = interview.practice ? 'practice' : 'queued';
      interview.language = language();
      interview.warnings = result.warnings.length;
      await save();
      app.flash = { kind: 'ok', text: interview.practice ? t('practiceDone') : t('complete') };
      location.hash = '#/';
      outbox.flush({ force: true }).then(() => (location.hash === '#/' || location.hash === '' ? renderHome() : null));
    },
  });
}

// ----- start -------------------------------------------------------------------------------

/**
 * Registers the service worker. A new version (sw.js changes with every app file, see its
 * VERSION) installs on the first load after a deploy, activates at once and takes over this
 * page; the page then reloads to run the new files: at once on the list screens, or when
 * the enumerator leaves the interview they are in.
 */
function registerServiceWorker() {
  let controller = navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // The first install also takes control (clients.claim) but changes no file.
    const previous = controller;
    controller = navigator.serviceWorker.controller;
    if (!previous || app.updateReady) return;
    app.updateReady = true;
    document.body.dataset.update = 'ready';
    if (!app.form) location.reload();
  });
  navigator.serviceWorker.register('./sw.js', { updateViaCache: 'none' }).then((registration) => {
    // Tablets keep the app open for days: look for a new version when the network comes
    // back and every hour, not only when the page is loaded.
    const check = () => registration.update().catch(() => {});
    window.addEventListener('online', check);
    setInterval(check, 60 * 60 * 1000);
  }).catch(() => {});
}

async function route() {
  // A new version of the app is installed: use it as soon as the enumerator is back on the
  // list (never in the middle of an interview).
  if (app.updateReady && !/^#\/interview\//.test(location.hash)) {
    location.reload();
    return;
  }
  renderHeader();
  const hash = location.hash || '#/';
  const match = hash.match(/^#\/interview\/([\w-]+)$/);
  if (match) await renderInterview(match[1]);
  else await renderHome();
}

async function start() {
  const saved = await store.getMeta('lang');
  setLanguage(saved ?? (navigator.language?.toLowerCase().startsWith('vi') ? 'vi' : 'en'));
  document.querySelectorAll('[data-lang]').forEach((b) => b.addEventListener('click', () => switchLanguage(b.dataset.lang)));
  window.addEventListener('hashchange', route);
  window.addEventListener('online', renderHeader);
  window.addEventListener('offline', renderHeader);
  outbox.startBackgroundRetry(() => { if (!app.form) renderHome(); }, 15_000);
  if ('serviceWorker' in navigator) registerServiceWorker();
  const owner = await store.currentOwner();
  if (owner && !owner.practice) await store.claimUnowned(owner.name);
  const practice = await store.getMeta('practice', false);
  if (practice && (await store.all('questionnaires')).length === 0) await loadPracticeQuestionnaires();
  await route();
  document.body.dataset.ready = 'true';
}

start();
