// The dashboard's only script: every element with data-live="URL" is refreshed from URL
// every two seconds (same origin, the session's cookie), while the tab is visible.
// An element with data-load="URL" is filled from URL once, after the page has loaded (a
// slow part, such as the checks against both trackers, does not hold the page up).
// A 401 means the session ended: the page reloads, which leads to the login.
(function () {
  "use strict";
  var PERIOD_MS = 2000;
  function refresh(element) {
    if (document.hidden) { return; }
    fetch(element.getAttribute("data-live"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) { if (html !== null) { element.innerHTML = html; } })
      .catch(function () { /* the next tick tries again */ });
  }
  function load(element) {
    fetch(element.getAttribute("data-load"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : "<p class=\"flash error\">The checks could not be read (" + response.status + "); reload the page.</p>";
      })
      .then(function (html) { if (html !== null) { element.innerHTML = html; } })
      .catch(function () { element.innerHTML = "<p class=\"flash error\">The checks could not be read; reload the page.</p>"; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-load]").forEach(load);
    var elements = document.querySelectorAll("[data-live]");
    elements.forEach(function (element) {
      window.setInterval(function () { refresh(element); }, PERIOD_MS);
    });
  });
})();
