/* pmflow pages: small progressive enhancements; every form also works without JavaScript.
   The scoring mirrors workflow/scoring.py (integer hundredths, rounded half-up); the server
   computes again on submit, and its figure is the one that counts. */
(function () {
  "use strict";

  // --- the agreement: a live total of the KPI weights, and a button to add a KPI row ---------
  function wireAgreement(form) {
    var total = form.querySelector("[data-weight-total]");
    function recompute() {
      var sum = 0, ok = true;
      form.querySelectorAll("[data-kpi-row]").forEach(function (row) {
        var w = row.querySelector("[data-weight]"), rm = row.querySelector("input[type=checkbox]");
        if (!w || (rm && rm.checked) || w.value.trim() === "") return;
        if (!/^\d+$/.test(w.value.trim())) { ok = false; return; }
        sum += parseInt(w.value.trim(), 10);
      });
      total.textContent = ok ? String(sum) : "?";
      total.classList.toggle("ok", ok && sum === 100);
      total.classList.toggle("bad", !ok || sum !== 100);
    }
    form.addEventListener("input", recompute);
    form.addEventListener("change", recompute);
    var add = form.querySelector("[data-add-kpi]"), tpl = form.querySelector("[data-kpi-template]"),
        list = form.querySelector("[data-kpi-list]"), count = form.querySelector("[data-kpi-rows]");
    if (add && tpl && list && count) {
      add.hidden = false;
      add.addEventListener("click", function () {
        var i = parseInt(count.value, 10);
        var html = tpl.innerHTML.replace(/__i__/g, String(i)).replace(/__n__/g, String(i + 1));
        list.insertAdjacentHTML("beforeend", html);
        count.value = String(i + 1);
        var first = document.getElementById("kpi-" + i + "-title");
        if (first) first.focus();
      });
    }
    recompute();
  }

  // --- scoring: results, competency and total percent and the rating, as the user types --------
  function halfUp(numerator, denominator) { // round numerator/denominator half-up (both >= 0)
    return Math.floor((2 * numerator + denominator) / (2 * denominator));
  }
  function pct(hundredths) {
    var s = String(hundredths % 100); if (s.length < 2) s = "0" + s;
    return Math.floor(hundredths / 100) + "." + s + "%";
  }
  function wireScoring(form) {
    var wr = parseInt(form.dataset.resultsWeight, 10), wc = parseInt(form.dataset.competencyWeight, 10);
    var bands = JSON.parse(form.dataset.bands || "[]"), lang = form.dataset.lang || "th";
    function out(name, text) { var el = form.querySelector('[data-live="' + name + '"]'); if (el) el.textContent = text; }
    function recompute() {
      var weighted = 0, kpisDone = true, n = 0, compSum = 0, compsDone = true;
      form.querySelectorAll("[data-kpi-weight]").forEach(function (sel) {
        if (sel.value === "") { kpisDone = false; return; }
        weighted += parseInt(sel.dataset.kpiWeight, 10) * parseInt(sel.value, 10);
      });
      form.querySelectorAll("[data-competency]").forEach(function (sel) {
        n += 1;
        if (sel.value === "") { compsDone = false; return; }
        compSum += parseInt(sel.value, 10);
      });
      var results = kpisDone ? weighted * 20 : null;                    // sum(w*l)/5, in hundredths
      var comp = compsDone && n ? halfUp(compSum * 10000, 5 * n) : null; // sum/(5n)*100, in hundredths
      out("results", results === null ? "—" : pct(results));
      out("competency", comp === null ? "—" : pct(comp));
      if (results === null || comp === null) { out("total", "—"); out("rating", "—"); return; }
      var total = halfUp(results * wr + comp * wc, 100);
      out("total", pct(total));
      for (var i = 0; i < bands.length; i++) {
        if (Math.round(parseFloat(bands[i].min) * 100) <= total) {
          out("rating", lang === "en" ? bands[i].en : bands[i].th); return;
        }
      }
      out("rating", "—");
    }
    form.addEventListener("change", recompute);
    form.addEventListener("input", recompute);
    recompute();
  }

  // --- committee: select every appraisal in the list at once ------------------------------------
  function wireSelectAll(box) {
    var form = box.form;
    box.addEventListener("change", function () {
      form.querySelectorAll("input[name=ids]").forEach(function (c) { c.checked = box.checked; });
    });
  }

  // --- typed work is never lost: a page with unsaved input warns before leaving ---------------
  var dirty = false;
  function wireUnsaved(form) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function (e) { if (e.target.name !== "ids") dirty = true; });
  }
  window.addEventListener("beforeunload", function (e) {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = "";
  });

  // --- an irreversible action asks once: data-confirm on its button or form ------------------
  function confirmText(form, submitter) {
    var el = (submitter && submitter.dataset.confirm) ? submitter : form;
    var text = el.dataset.confirm;
    if (!text) return null;
    var count = form.querySelectorAll("input[name=ids]:checked").length;
    return text.replace("{n}", String(count));
  }

  document.addEventListener("submit", function (e) {
    var text = confirmText(e.target, e.submitter);
    if (text !== null && !window.confirm(text)) { e.preventDefault(); return; }
    dirty = false; // the form is being saved
  });

  // --- a background job: follow its progress, then offer the download ---------------------------
  function wireJob(box) {
    var id = box.dataset.job, bar = box.querySelector("progress"), pct = box.querySelector("[data-job-percent]"),
        status = box.querySelector("[data-job-status]"), link = box.querySelector("[data-job-download]");
    function poll() {
      fetch("/api/v1/jobs/" + id, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.value = job.progress; pct.textContent = String(job.progress);
          box.dataset.jobState = job.state;
          if (job.state === "queued" || job.state === "running") { setTimeout(poll, 1000); return; }
          window.location.reload(); // the page says done, failed or interrupted in the user's language
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    if (box.dataset.jobState === "queued" || box.dataset.jobState === "running") setTimeout(poll, 1000);
  }

  // --- a measure's status list starts at that measure's current status ------------------------
  function wireFollows(status) {
    var measure = document.getElementById(status.dataset.followsMeasure);
    if (!measure) return;
    measure.addEventListener("change", function () {
      var current = measure.options[measure.selectedIndex].dataset.status;
      if (status.querySelector('option[value="' + current + '"]')) status.value = current;
    });
  }

  // --- on a phone, long sections fold under their heading (a tap opens one) --------------------
  function foldOnPhone(section) {
    if (!window.matchMedia("(max-width: 600px)").matches) return;
    var heading = section.querySelector("h2");
    if (!heading) return;
    var details = document.createElement("details"), summary = document.createElement("summary");
    summary.appendChild(heading.cloneNode(true));
    details.appendChild(summary);
    while (heading.nextSibling) details.appendChild(heading.nextSibling);
    heading.replaceWith(details);
    if (section.hasAttribute("data-open") || section.querySelector(".error-summary, [aria-invalid=true]")) details.open = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-collapsible]").forEach(foldOnPhone);
    document.querySelectorAll("select[data-follows-measure]").forEach(wireFollows);
    document.querySelectorAll("[data-job]").forEach(wireJob);
    document.querySelectorAll("form[method=post]:not([data-no-unsaved])").forEach(wireUnsaved);
    document.querySelectorAll("form[data-agreement]").forEach(wireAgreement);
    document.querySelectorAll("form[data-scoring]").forEach(wireScoring);
    document.querySelectorAll("input[data-select-all]").forEach(wireSelectAll);
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
})();
