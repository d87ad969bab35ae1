// The dashboard's only script: every element with data-live="URL" is refreshed from URL
// every two seconds (same origin, the session's cookie), while the tab is visible.
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
  document.addEventListener("DOMContentLoaded", function () {
    var elements = document.querySelectorAll("[data-live]");
    elements.forEach(function (element) {
      window.setInterval(function () { refresh(element); }, PERIOD_MS);
    });
  });
})();
