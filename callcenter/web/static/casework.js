/* Case page and triage view: one form per action, posted as JSON with the CSRF header.
   Every edit carries the version the page was loaded at; a 409 says the request changed
   meanwhile (nothing was saved) and asks to reload. */
"use strict";
(() => {
  const t = CC.t;
  const fail = (err) => CC.flash(err.message || String(err), true);
  const conflict = (err) => /changed meanwhile|stale/i.test(err.message || "");
  const done = (msg) => { CC.flash(msg); setTimeout(() => location.reload(), 600); };

  for (const form of document.querySelectorAll("form.js-edit")) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const body = {
        version: Number(form.dataset.version),
        category_code: data.get("category_code") || null,
        neighbourhood_code: data.get("neighbourhood_code") ?? null,
        landmark: data.get("landmark") ?? null,
        description: data.get("description") ?? null,
        triage: form.dataset.triage === "1" || data.get("triage") === "on",
      };
      try {
        const out = await CC.post(`/api/cases/${form.dataset.code}/edit`, body);
        form.dataset.version = String(out.version);
        const item = form.closest(".triage-item");
        if (item) {
          item.dataset.done = "1";
          const dept = item.querySelector(".triage-department");
          dept.textContent = CC.fa ? out.department_fa : out.department_en;
          dept.dataset.code = out.department_code;
          CC.flash(t("triage_saved"));
          form.querySelector("button[type=submit]").disabled = true;
        } else {
          done(t("saved"));
        }
      } catch (err) {
        CC.flash(conflict(err) ? t("stale_edit") : (err.message || String(err)), true);
      }
    });
  }
  for (const form of document.querySelectorAll("form.js-status")) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      try {
        await CC.post(`/api/cases/${form.dataset.code}/status`, {
          status: data.get("status"), note: data.get("note") || null,
          version: Number(form.dataset.version) });
        done(t("saved"));
      } catch (err) {
        CC.flash(conflict(err) ? t("stale_edit") : (err.message || String(err)), true);
      }
    });
  }
  for (const form of document.querySelectorAll("form.js-note")) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await CC.post(`/api/cases/${form.dataset.code}/notes`,
                      { note: new FormData(form).get("note") });
        done(t("saved"));
      } catch (err) { fail(err); }
    });
  }
  for (const button of document.querySelectorAll("button.js-dup")) {
    button.addEventListener("click", async () => {
      try { await CC.post(button.dataset.url, {}); done(t("saved")); } catch (err) { fail(err); }
    });
  }
})();
