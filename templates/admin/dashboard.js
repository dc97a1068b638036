// The dashboard's only script: keeps each live ledger bar (data-live="on") up to date from the edition's
// server-sent events. Without it the pages still work; the bar then shows the state at page load.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('.ledger[data-live="on"]').forEach(function (ledger) {
    var month = ledger.getAttribute("data-month");
    var source = new EventSource("/admin/editions/" + encodeURIComponent(month) + "/progress");
    source.onmessage = function (event) {
      var reading = JSON.parse(event.data);
      var x = 0;
      ledger.querySelectorAll("rect[data-segment]").forEach(function (rect) {
        var count = reading.counts[rect.getAttribute("data-segment")] || 0;
        var width = reading.total === 0 ? 0 : 1000 * count / reading.total;
        rect.setAttribute("x", x.toFixed(2));
        rect.setAttribute("width", width.toFixed(2));
        x += width;
      });
      ledger.querySelector(".ledger-text").textContent = reading.text;
      ledger.setAttribute("data-percent", String(reading.percent));
    };
  });
});
