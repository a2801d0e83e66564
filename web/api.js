// The only module that knows the server's HTTP API (docs/api.md on the server branch).
// Everything else calls these functions, so a change in the server's shapes is adapted here.
//
//   POST /api/v1/login            {name, password} → {token, user}
//   GET  /api/v1/sync?since=SEQ   → {changes: [{seq, at, actor, kind, subject, data}], next, more}
//        kinds used here: assignment.created|started|closed (data = assignment),
//        review.decided (data = {interview, decision}), submission.accepted
//   GET  /api/v1/questionnaires/{id}/versions/{version} → {id, version, hash, definition}
//   POST /api/v1/submissions      {instance_id, questionnaire, version, assignment_id,
//                                  answers, paradata} → 201 {instance_id, revision, status, warnings}
//        422 {error: {code, message, details: {findings}}}, 409 {error}, 413 {error}
// Errors are JSON {error: {code, message, details}}.

/** A failed call: `status` is the HTTP status (0 when the network failed). */
export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** Whether retrying later may succeed (network down, server busy or failing). */
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

let base = '';

/** Sets the server's base URL ('' = same origin as the app). */
export function setBase(url) {
  base = (url || '').replace(/\/$/, '');
}

async function call(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', e.message || 'network unavailable');
  }
  let json = null;
  const textBody = await response.text().catch(() => '');
  if (textBody) {
    try {
      json = JSON.parse(textBody);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const err = json?.error ?? {};
    throw new ApiError(response.status, err.code ?? `http_${response.status}`, err.message ?? response.statusText, err.details ?? null);
  }
  return { status: response.status, json };
}

/** Signs in; returns {token, user}. */
export async function login(name, password) {
  const { json } = await call('POST', '/api/v1/login', { body: { name, password } });
  return { token: json.token, user: json.user };
}

/** One page of changes since `since`: {changes, next, more}. */
export async function syncPage(token, since) {
  const { json } = await call('GET', `/api/v1/sync?since=${encodeURIComponent(since ?? 0)}`, { token });
  return { changes: json.changes ?? [], next: json.next ?? since, more: !!json.more };
}

/** Every change since `since`, following the cursor until the server says there is no more. */
export async function syncAll(token, since) {
  const changes = [];
  let cursor = since ?? 0;
  for (let page = 0; page < 10000; page++) {
    const result = await syncPage(token, cursor);
    changes.push(...result.changes);
    if (result.next === cursor && result.more) throw new ApiError(0, 'cursor', 'the sync cursor did not advance');
    cursor = result.next;
    if (!result.more) break;
  }
  return { changes, cursor };
}

/** A published questionnaire version's definition. */
export async function questionnaire(token, id, version) {
  const { json } = await call('GET', `/api/v1/questionnaires/${encodeURIComponent(id)}/versions/${encodeURIComponent(version)}`, { token });
  return json.definition ?? json;
}

/**
 * Submits one interview. Resolves with the server's 201 body; rejects with ApiError
 * (422: findings in err.findings; 409: conflict; retryable ones for network/5xx).
 */
export async function submit(token, interview, paradata) {
  const body = {
    instance_id: interview.instance_id,
    questionnaire: interview.questionnaire,
    version: interview.version,
    assignment_id: interview.assignment_id ?? '',
    answers: interview.submitted_answers,
    paradata,
  };
  try {
    const { json } = await call('POST', '/api/v1/submissions', { token, body });
    return json ?? {};
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) e.findings = e.details?.findings ?? e.details ?? [];
    throw e;
  }
}

/** What a sync change means for this device, in the client's own terms. */
export function interpretChange(change) {
  const data = change.data ?? {};
  switch (change.kind) {
    case 'assignment.created':
    case 'assignment.started':
    case 'assignment.closed':
      return { type: 'assignment', assignment: data };
    case 'review.decided': {
      const decision = data.decision ?? {};
      const verdict = String(decision.verdict ?? '').toLowerCase();
      return {
        type: 'review',
        instance_id: decision.instance_id ?? change.subject,
        approved: verdict.startsWith('approv'),
        comment: decision.comment ?? '',
        question_comments: decision.question_comments ?? null,
        revision: decision.revision ?? null,
      };
    }
    case 'submission.accepted':
      return { type: 'accepted', instance_id: change.subject };
    default:
      return { type: 'other' };
  }
}
