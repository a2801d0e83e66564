// The app version the service worker caches under: a hash of every file of web/ except
// sw.js itself. sw.js carries it as `const VERSION = '…'`, so any change to an app file
// changes sw.js's bytes, which is what makes browsers install the new worker (and with it
// the new files) on the first load after a deploy.
//
//   node tests/browser/web-version.mjs          prints the version web/ should carry
//   node tests/browser/web-version.mjs --write  writes it into web/sw.js

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const PATTERN = /const VERSION = '([0-9a-f]*)';/;

/** The version of the app files in `dir` (default web/). */
export function webVersion(dir = WEB) {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    if (name === 'sw.js') continue;
    hash.update(name);
    hash.update('\0');
    hash.update(readFileSync(path.join(dir, name)));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** The version web/sw.js carries. */
export function swVersion(source = readFileSync(path.join(WEB, 'sw.js'), 'utf8')) {
  return source.match(PATTERN)?.[1] ?? null;
}

/** sw.js source with its version set to `version`. */
export function withVersion(source, version) {
  return source.replace(PATTERN, `const VERSION = '${version}';`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const version = webVersion();
  if (process.argv.includes('--write')) {
    const file = path.join(WEB, 'sw.js');
    writeFileSync(file, withVersion(readFileSync(file, 'utf8'), version));
  }
  console.log(version);
}
