// Liaison console: small progressive enhancement. Every page works without
// it; with it, runs in progress update in place.
"use strict";
(function () {
  // Rows of runs still queued or running carry data-progress with the URL
  // of their progress (JSON); poll it every two seconds until they finish,
  // then reload so the finished run's figures show.
  function poll(row) {
    var url = row.getAttribute("data-progress");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        var bar = row.querySelector("progress"), st = row.querySelector("[data-status]");
        if (bar && p.total > 0) { bar.max = p.total; bar.value = p.done; bar.textContent = p.done + " of " + p.total; }
        if (st) { st.textContent = p.status; }
        if (p.status === "queued" || p.status === "running") { setTimeout(function () { poll(row); }, 2000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(function () { poll(row); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress]").forEach(function (row) { setTimeout(function () { poll(row); }, 2000); });
  });
})();
