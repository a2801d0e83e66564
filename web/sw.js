// Service worker: makes the app start offline.
// - The app shell (HTML, CSS, modules, icon) is cached at install and served cache-first,
//   refreshed in the background when the network is there (stale-while-revalidate).
// - Downloaded questionnaires (GET …/questionnaires/…) are cached the same way.
// - Every other API call goes to the network only: submissions and sync must never be
//   answered from a cache (the outbox keeps unsent interviews in IndexedDB instead).
// - Updates: VERSION is a hash of every other file of web/ (`node tests/browser/web-version.mjs
//   --write` sets it; a test fails when it is stale). Any change to the app therefore changes
//   this file, so the browser installs the new worker on the first load after a deploy; it
//   fetches the new files past the HTTP cache into a new cache, activates at once
//   (skipWaiting), takes over open pages (clients.claim) and drops the old cache. The page
//   reloads itself on `controllerchange` (app.js), so the new files run on that first load.
const VERSION = '2c2a8f6630d88a3e';
const CACHE = `chainsurvey-${VERSION}`;
const SHELL = [
  './', './index.html', './style.css', './app.js', './form.js', './runner.js', './expr.js',
  './i18n.js', './dom.js', './store.js', './api.js', './outbox.js', './icon.svg', './manifest.webmanifest',
];

self.addEventListener('install', (event) => {
  // `cache: 'reload'`: the new version's files from the server, never an HTTP-cached copy.
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function cacheable(url) {
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.includes('/api/')) return /\/api\/v1\/questionnaires\/[^/]+\/versions\//.test(url.pathname);
  return true;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (!cacheable(url)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const cached = await cache.match(request, { ignoreSearch: request.mode === 'navigate' });
    const network = fetch(request)
      .then((response) => {
        if (response.ok && response.type === 'basic') cache.put(request, response.clone());
        return response;
      })
      .catch(() => null);
    if (cached) {
      event.waitUntil(network);
      return cached;
    }
    const response = await network;
    if (response) return response;
    if (request.mode === 'navigate') {
      const shell = await cache.match('./index.html');
      if (shell) return shell;
    }
    return new Response('offline', { status: 503, statusText: 'offline' });
  })());
});
