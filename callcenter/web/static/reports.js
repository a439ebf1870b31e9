/* The reports page: background exports of a whole report, their progress, the download. */
"use strict";
(() => {
  const { boot, t, num, el, post } = CC;
  const list = document.getElementById("job-list");
  const show = (li, job) => {
    li.dataset.state = job.state;
    li.querySelector(".job-state").textContent = t("job_" + job.state) + (job.error ? " (" + job.error + ")" : "");
    li.querySelector("progress").value = job.progress;
    li.querySelector(".job-percent").textContent = num(job.progress) + (CC.fa ? "٪" : "%");
    if (job.download && !li.querySelector(".job-download")) {
      li.append(" ", el("a", { class: "job-download", href: job.download }, t("download")));
    }
  };
  const poll = (li) => {
    const tick = async () => {
      const res = await fetch("/api/reports/jobs/" + li.dataset.job, { credentials: "same-origin" });
      if (!res.ok) return;
      const job = await res.json();
      show(li, job);
      if (job.state === "pending" || job.state === "running") setTimeout(tick, 700);
    };
    tick();
  };
  const item = (job) => {
    const li = el("li", { "data-job": job.key, "data-state": job.state },
      t("report_" + job.report) + " (" + job.format + ") · ",
      el("span", { class: "job-state" }, ""), " ", el("progress", { max: "100", value: "0" }),
      " ", el("span", { class: "job-percent" }, ""));
    list.prepend(li);
    show(li, job);
    return li;
  };
  document.querySelectorAll(".job-start").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const job = await post("/api/reports/" + boot.report + "/export-jobs?" + boot.query,
                               { format: button.dataset.format });
        poll(item(job));
      } catch (e) {
        const li = el("li", { class: "bad", "data-state": "refused" }, String(e.message));
        list.prepend(li);
      } finally {
        button.disabled = false;
      }
    });
  });
  list.querySelectorAll("li[data-job]").forEach((li) => {
    if (li.dataset.state === "pending" || li.dataset.state === "running") poll(li);
  });
})();
