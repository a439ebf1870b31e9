/* The follow-up list, actionable and live (agent panel and supervisor page).
   Rows come from /api/tasks; every change anyone makes arrives as "tasks_changed" over
   the page's websocket and the list is read again. Keyboard: Tab/arrows move between
   rows; on a row, c = call now, v = survey call, d = done (with the chosen outcome),
   s = snooze. Kinds are whatever the server sends (a new kind shows with its name). */
"use strict";
const TaskList = (() => {
  const { t, num, when, el, fill, flash, post } = CC;
  const OUTCOMES = ["reached", "not_reached", "wrong_number", "resolved"];
  const SURVEY_KINDS = ["survey_sms", "survey_call", "not_fixed"];
  const label = (key, fallback) => (t(key) === key ? fallback : t(key));

  const mount = ({ tbody, counts, supervisor, staff }) => {
    let loading = null;
    const act = async (fn, ok) => {
      try { await fn(); flash(ok); await load(); } catch (err) { flash(err.message, true); }
    };
    const snoozeDefault = () => {
      const d = new Date(Date.now() + 3600 * 1000); d.setSeconds(0, 0);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    };
    const rowOf = (task) => {
      const id = task.id;
      const about = el("td", { class: "about" },
        el("div", {}, task.citizen_name || t("unknown_name"), " ",
          el("span", { dir: "ltr" }, num(task.phone || ""))),
        task.tracking_code ? el("div", { dir: "ltr", class: "code" }, el("a", {
          href: task.kind === "triage" ? "/triage" : "/cases/" + encodeURIComponent(task.tracking_code) },
          num(task.tracking_code))) : "",
        el("div", { class: "muted why" }, task.note || ""),
        task.last_action ? el("div", { class: "muted last" },
          label("action_" + task.last_action.action, task.last_action.action) + " · " + (task.last_action.by || "")) : "");
      const callBtn = el("button", { type: "button", class: "small primary", "data-act": "call",
        onclick: () => act(() => post("/api/followups/" + id + "/call", { purpose: "call" }), t("ringing_your_phone")) },
        t("call_now"));
      const surveyBtn = SURVEY_KINDS.includes(task.kind) ? el("button", { type: "button", class: "small",
        "data-act": "survey", onclick: () => act(() => post("/api/followups/" + id + "/call", { purpose: "survey" }),
          t("ringing_your_phone")) }, t("survey_call")) : "";
      const outcome = el("select", { class: "outcome", "aria-label": t("outcome") },
        ...OUTCOMES.map((o) => el("option", { value: o }, t("outcome_task_" + o))));
      const doneBtn = el("button", { type: "button", class: "small", "data-act": "done",
        onclick: () => act(() => post("/api/followups/" + id + "/complete", { outcome: outcome.value }), t("saved")) },
        t("mark_done"));
      const until = el("input", { type: "datetime-local", class: "until", value: snoozeDefault(),
        "aria-label": t("snooze_until") });
      const snoozeBtn = el("button", { type: "button", class: "small", "data-act": "snooze",
        onclick: () => act(() => post("/api/followups/" + id + "/snooze",
          { until: new Date(until.value).toISOString() }), t("saved")) }, t("snooze"));
      const assigned = supervisor && staff ? (() => {
        const select = el("select", { class: "assign", "aria-label": t("assign_to"), dataset: { task: String(id) },
          onchange: () => act(() => post("/api/tasks/" + id + "/assign",
            { user_id: select.value ? Number(select.value) : null }), t("saved")) },
          el("option", { value: "" }, t("unassigned")),
          ...staff.map((s) => el("option", { value: String(s.id) }, s.name + " (" + num(s.extension || "") + ")")));
        select.value = task.assigned_user_id ? String(task.assigned_user_id) : "";
        return select;
      })() : (task.assigned_to || t("unassigned"));
      const tr = el("tr", { tabindex: "0", dataset: { task: String(id), kind: task.kind, state: task.state } },
        el("td", {}, label("task_" + task.kind, task.kind)), about,
        el("td", {}, when(task.due_at)), el("td", {}, assigned),
        el("td", { class: "actions" }, callBtn, surveyBtn, outcome, doneBtn, until, snoozeBtn));
      tr.addEventListener("keydown", (e) => {
        if (e.target !== tr) return;
        const keys = { c: callBtn, v: surveyBtn, d: doneBtn };
        if (keys[e.key] && keys[e.key].click) { e.preventDefault(); keys[e.key].click(); }
        else if (e.key === "s") { e.preventDefault(); until.focus(); }
        else if (e.key === "ArrowDown" && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
        else if (e.key === "ArrowUp" && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
      });
      return tr;
    };
    const showCounts = (tasks) => {
      const per = {};
      tasks.forEach((task) => { per[task.kind] = (per[task.kind] || 0) + 1; });
      counts.replaceChildren(...Object.entries(per).map(([kind, n]) =>
        el("span", { class: "badge count", dataset: { kind: kind, count: String(n) } },
          label("task_" + kind, kind) + " " + num(n))));
      counts.dataset.total = String(tasks.length);
    };
    const load = async () => {
      if (loading) return loading;
      loading = (async () => {
        try {
          const res = await fetch("/api/tasks", { credentials: "same-origin" });
          if (!res.ok) return;
          const tasks = await res.json();
          const focused = document.activeElement && document.activeElement.dataset
            ? document.activeElement.dataset.task : null;
          fill(tbody, tasks.map(rowOf), t("no_tasks"));
          showCounts(tasks);
          if (focused) { const again = tbody.querySelector('tr[data-task="' + focused + '"]'); if (again) again.focus(); }
        } finally { loading = null; }
      })();
      return loading;
    };
    load();
    return { load, onMessage: (msg) => { if (msg.type === "tasks_changed") load(); } };
  };
  return { mount };
})();
