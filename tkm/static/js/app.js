// Small progressive enhancements; every page works without JavaScript (the server does the same on submit).
(function () {
  "use strict";

  // htmx requests carry the CSRF token (also set by hx-headers on <body>).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.body.getAttribute("hx-headers");
    if (meta) {
      try { Object.assign(event.detail.headers, JSON.parse(meta)); } catch (_) { /* keep defaults */ }
    }
  });

  // --- Rows added and removed in the browser (members, products, budget lines) ---------------------------------
  // Without JavaScript the "add" and "remove" buttons submit the form and the server re-renders it.
  function renumber(container) {
    var rows = container.querySelectorAll(":scope > [data-row]");
    rows.forEach(function (row, i) {
      row.querySelectorAll("[data-row-number]").forEach(function (el) { el.textContent = String(i + 1); });
      var remove = row.querySelector("[data-remove-row]");
      if (remove && remove.dataset.label) { remove.textContent = remove.dataset.label.replace("#", String(i + 1)); }
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var name = add.getAttribute("data-add-row");
      var container = document.querySelector('[data-rows="' + name + '"]');
      var template = document.querySelector('template[data-row-template="' + name + '"]');
      if (!container || !template) { return; }
      event.preventDefault();
      var index = parseInt(container.getAttribute("data-next-index") || "0", 10);
      container.setAttribute("data-next-index", String(index + 1));
      var html = template.innerHTML.split("__i__").join(String(index)).split("__n__").join("");
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      container.appendChild(row);
      if (window.htmx) { window.htmx.process(row); }
      renumber(container);
      var first = row.querySelector("input, select, textarea");
      if (first) { first.focus(); }
      updateBudget();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row2 = remove.closest("[data-row]");
      var container2 = row2 && row2.parentElement;
      if (!row2 || !container2 || !container2.hasAttribute("data-rows")) { return; }
      event.preventDefault();
      var next = row2.nextElementSibling || row2.previousElementSibling;
      row2.remove();
      renumber(container2);
      updateBudget();
      // Keep the keyboard user in place: focus the neighbouring row, or the "add" button.
      var target = next && next.matches("[data-row]") ? next.querySelector("input, select") : null;
      if (!target) { target = document.querySelector('[data-add-row="' + container2.getAttribute("data-rows") + '"]'); }
      if (target) { target.focus(); }
    }
  });

  // --- NIK check: the partial says which gender the NIK encodes; fill in a gender not chosen yet ---------------
  document.addEventListener("htmx:afterSwap", function (event) {
    var info = event.target.querySelector ? event.target.querySelector("[data-gender]") : null;
    if (!info) { return; }
    var row = event.target.closest("[data-row]");
    var select = row ? row.querySelector("[data-gender-select]") : null;
    if (select && !select.value) { select.value = info.getAttribute("data-gender"); }
  });

  // --- Budget: line totals, totals per component against the programme's caps --------------------------------
  function parseAmount(text) {
    var cleaned = String(text || "").replace(/^\s*rp/i, "").replace(/[\s._]/g, "");
    return /^\d{1,15}$/.test(cleaned) ? parseInt(cleaned, 10) : null;
  }
  function rupiah(n) { return "Rp" + Math.round(n).toLocaleString("id-ID"); }

  function currentCaps(budget) {
    var select = document.querySelector("[data-programme-select]");
    var raw = select && select.selectedOptions[0] ? select.selectedOptions[0].getAttribute("data-caps")
                                                  : budget.getAttribute("data-caps");
    try { return JSON.parse(raw || "{}"); } catch (_) { return {}; }
  }

  function updateBudget() {
    var budget = document.querySelector("[data-budget]");
    if (!budget) { return; }
    var info = budget.querySelector("[data-over-text]");
    var overText = info ? info.getAttribute("data-over-text") : "!";
    var notFunded = info ? info.getAttribute("data-not-funded-text") : "-";
    var settings = currentCaps(budget);
    var caps = settings.caps || {};
    var totals = {};
    budget.querySelectorAll("[data-budget-row]").forEach(function (row) {
      var qty = parseAmount(row.querySelector("[data-qty]").value);
      var cost = parseAmount(row.querySelector("[data-cost]").value);
      var component = row.querySelector("select").value;
      var out = row.querySelector("[data-line-total]");
      if (qty !== null && cost !== null) {
        out.textContent = rupiah(qty * cost);
        if (component) { totals[component] = (totals[component] || 0) + qty * cost; }
      } else {
        out.textContent = "—";
      }
    });
    var grand = 0;
    budget.querySelectorAll("tr[data-component]").forEach(function (tr) {
      var name = tr.getAttribute("data-component");
      var total = totals[name] || 0;
      var cap = caps[name];
      grand += total;
      tr.querySelector("[data-total-for]").textContent = rupiah(total);
      tr.querySelector("[data-cap-for]").textContent = cap === undefined || cap === null ? notFunded : rupiah(cap);
      var over = (cap === undefined || cap === null) ? total > 0 : total > cap;
      tr.classList.toggle("over", over);
      tr.querySelector("[data-check-for]").textContent = over ? overText : "✓";
    });
    var foot = budget.querySelector("[data-grand-total]");
    if (foot) {
      foot.textContent = rupiah(grand);
      var max = settings.max;
      budget.querySelector("[data-max]").textContent = max ? rupiah(max) : "—";
      var overAll = max ? grand > max : false;
      foot.closest("tr").classList.toggle("over", overAll);
      budget.querySelector("[data-grand-check]").textContent = overAll ? overText : "✓";
    }
  }

  document.addEventListener("input", function (event) {
    if (event.target.closest("[data-budget]")) { updateBudget(); }
  });
  document.addEventListener("change", function (event) {
    if (event.target.closest("[data-budget]") || event.target.matches("[data-programme-select]")) { updateBudget(); }
    // Uploads: say at once when a file is too large, instead of after sending 10 MB over a slow line.
    var input = event.target;
    if (input.matches && input.matches("input[type=file][data-max-bytes]")) {
      var max = parseInt(input.getAttribute("data-max-bytes"), 10);
      var file = input.files && input.files[0];
      var error = document.getElementById(input.id + "-error");
      var tooBig = file && file.size > max;
      input.setCustomValidity(tooBig ? input.getAttribute("data-too-big") : "");
      input.setAttribute("aria-invalid", tooBig ? "true" : "false");
      if (error) { error.textContent = tooBig ? input.getAttribute("data-too-big") : ""; error.hidden = !tooBig; }
    }
  });
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector("input[type=file][data-max-bytes]");
    if (input && !input.checkValidity()) { event.preventDefault(); input.focus(); }
  });

  // --- "Tick all" on lists with decisions for several applications -------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-check-all]").forEach(function (box) {
      box.hidden = false;
      box.addEventListener("change", function () {
        var name = box.getAttribute("data-check-all");
        box.form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (cb) {
          cb.checked = box.checked;
        });
      });
    });
    updateBudget();
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
