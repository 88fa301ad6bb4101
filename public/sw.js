// Koers service worker. BUILD and PRECACHE are written at build time by scripts/post-build.mjs,
// from the files Trunk produced: the list is never maintained by hand.
const BUILD = "__BUILD__";
const PRECACHE = [/*__PRECACHE__*/];
const CACHE = `koers-${BUILD}`;
const HASHED = /-[0-9a-f]{12,16}(_bg)?\.(js|wasm|css)$/;

self.addEventListener("install", (event) => {
  // A file whose name carries its content hash is the same in every cache, so the copy the page
  // just downloaded is taken from the HTTP cache (the first visit costs no second download).
  // The rest bypasses it ("reload"), so a version's files all come from that version.
  const request = (url) => new Request(url, { cache: HASHED.test(url) ? "default" : "reload" });
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE.map(request))));
  // No skipWaiting here: a new version waits until the user accepts the reload or every tab closed,
  // so a page never runs with a mix of old and new files.
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("koers-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/") || url.pathname === "/healthz") return;
  if (request.mode === "navigate") {
    // Every app route gets this version's shell.
    event.respondWith(fromCache("/index.html", request));
    return;
  }
  event.respondWith(fromCache(request, request));
});

async function fromCache(key, request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(key)) || fetch(request);
}

// A tapped reminder opens Koers at its plan's screen (the address is in its data), in the
// window already open if there is one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = typeof event.notification.data === "string" ? event.notification.data : "/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(async (windows) => {
      if (windows.length === 0) return self.clients.openWindow(url);
      const window = await windows[0].focus();
      return window.navigate(url);
    }),
  );
});
