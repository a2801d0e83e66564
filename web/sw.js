// Service worker: makes the app start offline.
// - The app shell (HTML, CSS, modules, icon) is cached at install and served cache-first,
//   refreshed in the background when the network is there (stale-while-revalidate).
// - Downloaded questionnaires (GET …/questionnaires/…) are cached the same way.
// - Every other API call goes to the network only: submissions and sync must never be
//   answered from a cache (the outbox keeps unsent interviews in IndexedDB instead).
const CACHE = 'chainsurvey-v1';
const SHELL = [
  './', './index.html', './style.css', './app.js', './form.js', './runner.js', './expr.js',
  './i18n.js', './dom.js', './store.js', './api.js', './outbox.js', './icon.svg', './manifest.webmanifest',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
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
