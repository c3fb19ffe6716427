(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }
  function compare(a, b) {
    var na = Number(a), nb = Number(b);
    if (a !== "" && b !== "" && !isNaN(na) && !isNaN(nb)) { return na - nb; }
    return a < b ? -1 : a > b ? 1 : 0;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var desc = th.getAttribute("aria-sort") === "ascending";
        table.querySelectorAll("thead th").forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(key(r1.cells[col]), key(r2.cells[col]));
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var selects = document.querySelectorAll("select[data-filter]");
  function applyFilters() {
    var wanted = {};
    selects.forEach(function (s) { if (s.value) { wanted[s.getAttribute("data-filter")] = s.value; } });
    document.querySelectorAll("[data-filter-target]").forEach(function (group) {
      var shown = 0, rows = group.querySelectorAll("tbody tr");
      rows.forEach(function (row) {
        var ok = Object.keys(wanted).every(function (name) {
          var have = (row.getAttribute("data-" + name) || "").split(" ");
          return have.indexOf(wanted[name]) >= 0;
        });
        row.classList.toggle("hidden-row", !ok);
        if (ok) { shown += 1; }
      });
      var out = document.getElementById(group.getAttribute("data-filter-target"));
      if (out) { out.textContent = shown + " of " + rows.length + " rows shown"; }
    });
  }
  selects.forEach(function (s) { s.addEventListener("change", applyFilters); });
  if (selects.length) { applyFilters(); }
}());
