// Dossier build page: polls the build's small JSON status every second and moves the progress
// bar; when the build is done or failed, reloads once so the page shows the download links (or
// the error) as the server renders them. Without JavaScript, reloading by hand does the same.
(function () {
  "use strict";
  const box = document.getElementById("dossier-progress");
  if (!box || box.dataset.status === "done" || box.dataset.status === "failed") { return; }
  const bar = box.querySelector(".progress-bar");
  const meter = box.querySelector("[role=progressbar]");
  const step = box.querySelector("[data-step]");
  const label = box.querySelector("[data-status-label]");

  function show(state) {
    const percent = Math.max(0, Math.min(100, Number(state.progress) || 0));
    bar.style.width = percent + "%";
    bar.textContent = percent + " %";
    meter.setAttribute("aria-valuenow", String(percent));
    step.textContent = state.step || state.status_label;
    label.textContent = state.step === state.status_label ? "" : state.status_label;
  }

  function poll() {
    fetch(box.dataset.statusUrl, {
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (state) {
      show(state);
      if (state.status === "done" || state.status === "failed") {
        window.location.reload();
      } else {
        window.setTimeout(poll, 1000);
      }
    }).catch(function () {
      window.setTimeout(poll, 3000);  // a network hiccup: keep trying, a little slower
    });
  }
  window.setTimeout(poll, 1000);
}());
