// Checks web/api.js against a real chainsurvey server binary (the `server` branch, until it
// is merged; then scripts/test.sh can run it on every build):
//
//   node tests/browser/server-contract.mjs path/to/chainsurvey
//
// It creates a throw-away data directory, users (admin, supervisor, enumerator with a
// password), starts `serve` on 127.0.0.1 (a free port), publishes the worker questionnaire,
// creates an assignment, and then, through web/api.js only: logs in, syncs, downloads the
// questionnaire, submits a valid example, replays it (no duplicate), gets 409 for changed
// content, 422 with findings for a hard-rule failure, receives a supervisor's rejection
// through sync, and resubmits. Exit code 0 when every check passes.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as api from '../../web/api.js';
import { ROOT } from './harness.mjs';

const binary = process.argv[2];
if (!binary) {
  console.error('usage: node tests/browser/server-contract.mjs path/to/chainsurvey');
  process.exit(2);
}

const data = mkdtempSync(path.join(os.tmpdir(), 'chainsurvey-contract-'));
const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function addUser(name, role, extra = [], env = {}) {
  const out = execFileSync(binary, ['user', 'add', name, '--role', role, '--data', data, ...extra], { encoding: 'utf8', env: { ...process.env, ...env } });
  const token = /token[^:]*:\s*(\S+)/.exec(out)?.[1];
  assert.ok(token, `no token printed for ${name}: ${out}`);
  return token;
}

const admin = addUser('admin', 'admin');
const supervisor = addUser('sup', 'supervisor');
addUser('lan', 'enumerator', ['--supervisor', 'sup', '--password-env', 'CONTRACT_PW'], { CONTRACT_PW: 'contract-secret' });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(binary, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });

async function call(method, p, token, body) {
  const r = await fetch(base + p, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body) });
  return { status: r.status, json: await r.json().catch(() => null) };
}

try {
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${base}/api/v1/health`).then((r) => r.ok, () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  api.setBase(base);
  const worker = JSON.parse(readFileSync(path.join(ROOT, 'questionnaires/worker.json'), 'utf8'));
  assert.equal((await call('POST', '/api/v1/questionnaires/drafts', admin, worker)).status, 201);
  assert.equal((await call('POST', '/api/v1/questionnaires/drafts/dwscs-worker/publish', admin, {})).status, 201);
  assert.equal((await call('POST', '/api/v1/assignments', admin, { questionnaire: 'dwscs-worker', enumerator: 'lan', target: { unit_id: 'U-1' }, quantity: 3 })).status, 201);

  await assert.rejects(api.login('lan', 'wrong'), (e) => e.status === 401 && !e.retryable);
  const { token } = await api.login('lan', 'contract-secret');
  const first = await api.syncAll(token, 0);
  const assignment = first.changes.map(api.interpretChange).find((c) => c.type === 'assignment')?.assignment;
  assert.ok(assignment?.id, 'the assignment arrives through sync');
  const version = assignment.allowed_versions[0];
  const definition = await api.questionnaire(token, 'dwscs-worker', version);
  assert.equal(definition.id, 'dwscs-worker');

  const answers = JSON.parse(readFileSync(path.join(ROOT, 'tests/data/examples/dwscs-worker/valid/female_assembler_bac_ninh.json'), 'utf8'));
  const interview = { instance_id: crypto.randomUUID(), questionnaire: 'dwscs-worker', version, assignment_id: assignment.id, submitted_answers: answers };
  const paradata = { started_at: '2026-03-01T09:00:00+07:00', ended_at: '2026-03-01T09:40:00+07:00', device_id: 'contract', app_version: '0.1.0', language: 'en' };
  const accepted = await api.submit(token, interview, paradata);
  assert.equal(accepted.instance_id, interview.instance_id);
  const replay = await api.submit(token, interview, paradata);
  assert.equal(replay.replayed, true, 'a resent interview is a replay, not a duplicate');
  await assert.rejects(api.submit(token, { ...interview, submitted_answers: { ...answers, age: 23 } }, paradata), (e) => e.status === 409 && !e.retryable);
  await assert.rejects(
    api.submit(token, { ...interview, instance_id: crypto.randomUUID(), submitted_answers: { ...answers, age: 120 } }, paradata),
    (e) => e.status === 422 && e.findings.some((f) => f.path === '/age' && f.severity === 'error'),
  );

  assert.equal((await call('POST', `/api/v1/submissions/${interview.instance_id}/review`, supervisor, { verdict: 'reject', comment: 'Check the age', question_comments: [{ path: '/age', comment: 'Ask again' }] })).status, 200);
  const second = await api.syncAll(token, first.cursor);
  const review = second.changes.map(api.interpretChange).find((c) => c.type === 'review');
  assert.deepEqual(
    { id: review.instance_id, approved: review.approved, comment: review.comment, comments: review.question_comments },
    { id: interview.instance_id, approved: false, comment: 'Check the age', comments: [{ path: '/age', comment: 'Ask again' }] },
  );
  const resubmitted = await api.submit(token, { ...interview, submitted_answers: { ...answers, age: 25 } }, paradata);
  assert.equal(resubmitted.revision, 2);
  console.log('server contract: every check passed');
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(data, { recursive: true, force: true });
}
