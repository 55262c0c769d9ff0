/* zhibiao review report: sortable tables, record selection and the provenance panel.
   Plain script, no modules, no network: works from file://. Document text is only ever
   inserted with textContent. */
(function () {
  "use strict";

  // ------------------------------------------------------------ sortable tables
  function sortKey(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) return numeric ? null : "";
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
    if (!numeric) return raw.trim();
    var number = parseFloat(raw);
    return isNaN(number) ? null : number;
  }

  function compare(a, b, numeric) {
    if (numeric) {
      if (a === null && b === null) return 0;
      if (a === null) return 1;
      if (b === null) return -1;
      return a - b;
    }
    return a.localeCompare(b, "zh-Hans-CN", { numeric: true });
  }

  function sortBy(table, th) {
    var headers = Array.prototype.slice.call(th.parentNode.cells);
    var index = headers.indexOf(th);
    var numeric = th.getAttribute("data-type") === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, i) { return [sortKey(row, index, numeric), i, row]; });
    keyed.sort(function (x, y) {
      var order = compare(x[0], y[0], numeric);
      if (order === 0) return x[1] - y[1];
      return ascending ? order : -order;
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (entry) { fragment.appendChild(entry[2]); });
    body.appendChild(fragment);
  }

  document.querySelectorAll("table.sortable").forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    table.tHead.querySelectorAll("th").forEach(function (th) {
      var button = th.querySelector("button");
      if (button) button.addEventListener("click", function () { sortBy(table, th); });
    });
  });

  // ------------------------------------------------------------ selection and provenance
  var island = document.getElementById("panel-data");
  var panel = document.getElementById("provenance");
  if (!island || !panel) return;
  var data = JSON.parse(island.textContent || "{}");
  var current = null;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function pairs(list) {
    var dl = el("dl");
    list.forEach(function (pair) {
      dl.appendChild(el("dt", pair[0]));
      dl.appendChild(el("dd", pair[1]));
    });
    return dl;
  }

  function renderPanel(id, entry) {
    panel.textContent = "";
    panel.appendChild(el("h2", "Provenance"));
    panel.appendChild(el("h3", entry.title));
    panel.appendChild(pairs(entry.fields));
    var flags = entry.flags || [];
    panel.appendChild(el("h4", flags.length ? "Flags (" + flags.length + ")" : "No flags"));
    if (flags.length) {
      var ul = el("ul", null, "flaglist");
      flags.forEach(function (flag) {
        var li = el("li", null, "flag-" + flag.severity);
        li.setAttribute("data-flag-code", flag.code);
        li.appendChild(el("b", "⚑ " + flag.code));
        li.appendChild(document.createTextNode(" [" + flag.severity + "] " + flag.message));
        if (flag.evidence && flag.evidence.length) li.appendChild(pairs(flag.evidence));
        ul.appendChild(li);
      });
      panel.appendChild(ul);
    }
    panel.setAttribute("data-selected", id);
    panel.classList.add("active");
  }

  function clearSelection() {
    document.querySelectorAll(".selected").forEach(function (node) { node.classList.remove("selected"); });
  }

  function cellNodes(key) {
    return document.querySelectorAll('[data-cell="' + key + '"]');
  }

  function select(id, from) {
    var entry = data[id];
    if (!entry) return;
    clearSelection();
    current = id;
    var marked = [];
    document.querySelectorAll('[data-rec="' + id + '"], [data-box="' + id + '"]').forEach(function (node) {
      node.classList.add("selected");
      marked.push(node);
    });
    var firstOverlay = null;
    var firstGrid = null;
    (entry.cells || []).forEach(function (key) {
      cellNodes(key).forEach(function (node) {
        node.classList.add("selected");
        if (node instanceof SVGElement) { if (!firstOverlay) firstOverlay = node; }
        else if (!firstGrid) firstGrid = node;
      });
    });
    renderPanel(id, entry);
    if (history.replaceState) history.replaceState(null, "", "#" + id);
    if (from === "cell") {
      var row = document.querySelector('tr[data-rec="' + id + '"]');
      if (row) row.scrollIntoView({ block: "nearest" });
      return;
    }
    var target = firstOverlay || firstGrid;
    if (!firstOverlay && firstGrid) {
      var details = firstGrid.closest("details");
      if (details) details.open = true;
    }
    if (!target && entry.anchor) target = document.getElementById(entry.anchor);
    if (!target) target = box(id);
    if (target && target.scrollIntoView) target.scrollIntoView({ block: "center" });
  }

  function box(id) {
    return document.querySelector('[data-box="' + id + '"]');
  }

  function selectFromCell(node) {
    var recs = (node.getAttribute("data-recs") || "").split(" ").filter(Boolean);
    if (!recs.length) return false;
    var at = recs.indexOf(current);
    select(recs[(at + 1) % recs.length], "cell");
    return true;
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element) || target.closest("a, button, summary")) return;
    var cell = target.closest("[data-cell]");
    if (cell && selectFromCell(cell)) return;
    var rec = target.closest("[data-rec]");
    if (rec) select(rec.getAttribute("data-rec"), "row");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    var target = event.target;
    if (!(target instanceof Element) || !target.hasAttribute("data-rec")) return;
    event.preventDefault();
    select(target.getAttribute("data-rec"), "row");
  });

  var wanted = decodeURIComponent((location.hash || "").slice(1));
  if (wanted && data[wanted]) select(wanted, "row");
})();
