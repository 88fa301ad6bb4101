// Registers the service worker and tells the app (src/pwa.rs) when a new version is waiting.
// The app shows a banner; its button sends "koers:apply-update", and the page reloads once the
// new version controls it.
if ("serviceWorker" in navigator) {
  const announce = () => {
    document.documentElement.dataset.updateReady = "1";
    window.dispatchEvent(new CustomEvent("koers:update-ready"));
  };
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (reloading) location.reload();
  });
  window.addEventListener("koers:apply-update", async () => {
    const registration = await navigator.serviceWorker.getRegistration();
    if (registration && registration.waiting) {
      reloading = true;
      registration.waiting.postMessage("skip-waiting");
    }
  });
  // Once the app has started (src/pwa.rs marks <html> and sends "koers:started"), so that on a
  // first visit caching the whole app for offline use does not compete with downloading what is
  // needed to show the plan and run the app; the worker then takes those files from the HTTP cache.
  const register = () => navigator.serviceWorker
    .register("/sw.js")
    .then((registration) => {
      if (registration.waiting && navigator.serviceWorker.controller) announce();
      registration.addEventListener("updatefound", () => {
        const worker = registration.installing;
        worker?.addEventListener("statechange", () => {
          if (worker.state === "installed" && navigator.serviceWorker.controller) announce();
        });
      });
      // Look for a new version whenever the app comes back to the foreground.
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") registration.update().catch(() => {});
      });
    })
    .catch((error) => console.warn("Koers works without offline support here:", error));
  if (document.documentElement.dataset.started) register();
  else window.addEventListener("koers:started", register, { once: true });
}
