// Everything the client keeps on the device, in IndexedDB, so that an interview survives
// closing the tab, a flat battery and days without a network.
//
// Object stores:
//   interviews      key instance_id: {instance_id, owner, practice, questionnaire, version,
//                   assignment_id, answers, status, started_at, ended_at, language,
//                   updated_at, server: {findings, revision, review}}
//                   `owner` is the user who started it (null for practice): on a device
//                   shared by several enumerators each sees and sends only their own.
//                   status: draft → queued → sent | rejected (422/409) | review_rejected → …
//   questionnaires  key "id@version": {key, id, version, definition}
//   assignments     key id: the server's assignment object
//   meta            key name: {name, value} (token, user, sync cursor, device id, …)

const DB_NAME = 'chainsurvey';
const DB_VERSION = 1;

let dbPromise = null;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function open() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('interviews')) {
          const s = db.createObjectStore('interviews', { keyPath: 'instance_id' });
          s.createIndex('status', 'status');
        }
        if (!db.objectStoreNames.contains('questionnaires')) db.createObjectStore('questionnaires', { keyPath: 'key' });
        if (!db.objectStoreNames.contains('assignments')) db.createObjectStore('assignments', { keyPath: 'id' });
        if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta', { keyPath: 'name' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return dbPromise;
}

async function tx(storeName, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const store = transaction.objectStore(storeName);
    let result;
    Promise.resolve(fn(store)).then((r) => {
      result = r;
    }, reject);
    transaction.oncomplete = () => resolve(result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

export const get = (store, key) => tx(store, 'readonly', (s) => request(s.get(key)));
export const all = (store) => tx(store, 'readonly', (s) => request(s.getAll()));
export const put = (store, value) => tx(store, 'readwrite', (s) => request(s.put(value)));
export const remove = (store, key) => tx(store, 'readwrite', (s) => request(s.delete(key)));

export async function getMeta(name, fallback = null) {
  const row = await get('meta', name);
  return row ? row.value : fallback;
}

export const setMeta = (name, value) => put('meta', { name, value });

/** A stable id for this device (generated once). */
export async function deviceId() {
  let id = await getMeta('device_id');
  if (!id) {
    id = crypto.randomUUID();
    await setMeta('device_id', id);
  }
  return id;
}

export async function saveQuestionnaire(definition) {
  const key = `${definition.id}@${definition.version}`;
  await put('questionnaires', { key, id: definition.id, version: definition.version, definition });
  return key;
}

/**
 * Whom the device works for now: {practice: true} in practice mode, {name} of the signed-in
 * user, or null (signed out).
 */
export async function currentOwner() {
  if (await getMeta('practice', false)) return { practice: true, name: null };
  const token = await getMeta('token');
  const user = await getMeta('user');
  return token && user?.name ? { practice: false, name: user.name } : null;
}

/** True when `interview` belongs to `owner`: practice ones to practice mode, the others to
 * the user who started them. */
export function belongsTo(interview, owner) {
  if (!owner) return false;
  if (owner.practice) return !!interview.practice;
  return !interview.practice && interview.owner === owner.name;
}

/** The interviews of `owner` (see `currentOwner`). */
export async function interviewsOf(owner) {
  return (await all('interviews')).filter((i) => belongsTo(i, owner));
}

/**
 * Interviews saved before interviews had an owner belong to the first user who signs in
 * afterwards (until then, nobody sees or sends them). Returns how many were claimed.
 */
export async function claimUnowned(name) {
  let claimed = 0;
  for (const interview of await all('interviews')) {
    if (!interview.practice && !('owner' in interview)) {
      interview.owner = name;
      await put('interviews', interview);
      claimed++;
    }
  }
  return claimed;
}

/** The sync cursor is per user: a second enumerator on the device starts from 0. */
export const cursorKey = (name) => `sync_cursor:${name}`;
