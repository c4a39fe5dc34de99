// Follows a running import: polls its progress and updates the bar and counts,
// then reloads once it is finished so the rejected rows show.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || box.dataset.finished === "1") return;
  var url = box.dataset.importProgress;
  var bar = box.querySelector("[data-import-bar]");
  var status = document.querySelector("[data-import-status]");

  function show(p) {
    bar.value = p.percent;
    bar.textContent = p.percent + "%";
    box.querySelector("[data-import-rows]").textContent = p.rows_done;
    box.querySelector("[data-import-total]").textContent = p.rows_total;
    ["created", "updated", "unchanged", "rejected"].forEach(function (name) {
      box.querySelector('[data-import-count="' + name + '"]').textContent = p[name];
    });
    if (status) status.textContent = p.status_label;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (p) {
        show(p);
        if (p.finished) window.location.reload();
        else window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 500);
})();
