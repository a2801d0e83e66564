// The submission outbox: completed interviews wait here (status "queued") until the server
// acknowledges them. Every attempt sends the same client-generated instance id and the
// same body, so a retry after a lost response is an idempotent replay on the server, never
// a duplicate interview.
//
// Only the signed-in user's interviews are sent, with their token: on a shared device another
// enumerator's queued interviews wait until that enumerator signs in again.
//
// Outcomes: 201 → "sent"; 422 → "rejected" with the server's findings (the enumerator fixes
// and finishes again); 409 → "rejected" with the message; network failure or 5xx → stays
// "queued" and is retried with backoff (on the next `online` event, timer, or "Send now").

import * as api from './api.js';
import * as store from './store.js';

export const APP_VERSION = '0.1.0';

let running = null;

/** The paradata sent with a submission. */
export async function paradata(interview) {
  return {
    started_at: interview.started_at,
    ended_at: interview.ended_at,
    device_id: await store.deviceId(),
    app_version: APP_VERSION,
    language: interview.language,
  };
}

/** The wait before the next automatic attempt after `attempts` failures. */
export function backoffMs(attempts) {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 30 * 60_000);
}

/**
 * Sends every queued interview once (`force`: also those still in their backoff wait).
 * Returns {sent, rejected, waiting}. Concurrent calls share one run, so an interview is
 * never posted twice at the same time.
 */
export function flush({ force = false } = {}) {
  if (!running) running = run(force).finally(() => (running = null));
  return running;
}

async function run(force) {
  const counts = { sent: 0, rejected: 0, waiting: 0 };
  const token = await store.getMeta('token');
  const practice = await store.getMeta('practice', false);
  const owner = await store.currentOwner();
  const queued = (await store.interviewsOf(owner)).filter((i) => i.status === 'queued' && !i.practice);
  for (const interview of queued) {
    const due = !interview.next_attempt_at || Date.parse(interview.next_attempt_at) <= Date.now();
    if (practice || !token || (!force && !due)) {
      counts.waiting++;
      continue;
    }
    try {
      const result = await api.submit(token, interview, await paradata(interview));
      interview.status = 'sent';
      interview.server = { ...(interview.server ?? {}), revision: result.revision ?? null, warnings: result.warnings ?? [], findings: [] };
      interview.sent_at = new Date().toISOString();
      delete interview.next_attempt_at;
      counts.sent++;
    } catch (e) {
      if (e instanceof api.ApiError && !e.retryable && e.status !== 401) {
        interview.status = 'rejected';
        interview.server = { ...(interview.server ?? {}), findings: e.findings ?? [], message: e.message, status: e.status };
        counts.rejected++;
      } else {
        interview.attempts = (interview.attempts ?? 0) + 1;
        interview.next_attempt_at = new Date(Date.now() + backoffMs(interview.attempts)).toISOString();
        interview.last_error = e.message;
        counts.waiting++;
      }
    }
    interview.updated_at = new Date().toISOString();
    await store.put('interviews', interview);
  }
  return counts;
}

let timer = null;

/** Retries in the background: on `online`, and every `intervalMs` while something waits. */
export function startBackgroundRetry(onChange, intervalMs = 30000) {
  const tick = async () => {
    // Runs often; each interview is only retried when its backoff wait is over.
    const before = await pendingCount();
    if (before === 0) return;
    const result = await flush();
    if (result.sent || result.rejected) onChange?.(result);
  };
  clearInterval(timer);
  timer = setInterval(tick, intervalMs);
  window.addEventListener('online', () => flush({ force: true }).then((r) => (r.sent || r.rejected) && onChange?.(r)));
  return tick;
}

/** Queued interviews of the signed-in user. */
export async function pendingCount() {
  return (await store.interviewsOf(await store.currentOwner())).filter((i) => i.status === 'queued' && !i.practice).length;
}

/** Queued interviews of other users of this device (their enumerators must sign in to send them). */
export async function othersPendingCount() {
  const owner = await store.currentOwner();
  return (await store.all('interviews')).filter((i) => i.status === 'queued' && !i.practice && !store.belongsTo(i, owner)).length;
}
