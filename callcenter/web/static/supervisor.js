/* Supervisor page: live picture and today's figures pushed over /supervisor/ws. */
"use strict";
(() => {
  const { t, num, when, dur, pct, named, ivrPath, el, row, fill, flash, post, socket } = CC;
  const $ = (id) => document.getElementById(id);
  let live = null, liveAt = 0;

  const tickWaits = () => {
    if (!live) return;
    const extra = Math.max(0, Date.now() / 1000 - liveAt);
    fill($("waiting"), live.waiting.map((w) => row(num(w.position),
      el("span", { dir: "ltr" }, num(w.caller)), dur(w.wait_seconds + extra))), t("no_waiting"));
    fill($("ivr"), live.in_ivr.map((c) => row(el("span", { dir: "ltr" }, num(c.caller)),
      ivrPath(c.path), dur(c.seconds + extra))), t("none"));
    $("t-longest").textContent = live.waiting.length ? dur(live.longest_wait + extra) : dur(0);
    fill($("agents"), live.agents.map((a) => {
      const tr = row(num(a.extension), a.name || "",
        el("span", { class: "badge state-" + a.state }, t("state_" + a.state) +
          (a.reason ? " · " + (t("reason_" + a.reason) !== "reason_" + a.reason ? t("reason_" + a.reason) : a.reason) : "")),
        el("span", { dir: "ltr" }, num(a.caller)), dur(a.seconds + extra));
      tr.dataset.extension = a.extension; tr.dataset.state = a.state;
      return tr;
    }), t("none"));
  };

  const showLive = (msg) => {
    live = msg; liveAt = Date.now() / 1000;
    $("t-ivr").textContent = num(msg.in_ivr.length);
    $("t-waiting").textContent = num(msg.waiting.length);
    $("t-waiting").dataset.count = msg.waiting.length;
    $("queue-unknown").hidden = msg.queue_known;
    tickWaits();
  };

  const showStats = (msg) => {
    const f = msg.figures;
    $("t-offered").textContent = num(f.offered);
    $("t-answered").textContent = num(f.answered);
    $("t-abandoned").textContent = num(f.abandoned);
    $("t-sl").textContent = pct(f.service_level);
    $("t-asa").textContent = f.average_speed_of_answer === null ? "—" : dur(f.average_speed_of_answer);
    $("t-aht").textContent = f.average_handling_time === null ? "—" : dur(f.average_handling_time);
    $("t-ar").textContent = pct(f.abandon_rate);
    fill($("abandoned"), msg.abandoned.map((c) => {
      const action = c.callback_task ? el("span", { class: "muted" }, t("callback_done"))
        : el("button", { type: "button", class: "small", onclick: async (e) => {
            try { await post("/api/supervisor/callbacks", { linkedid: c.linkedid });
              e.target.replaceWith(el("span", { class: "muted" }, t("callback_done")));
              flash(t("callback_created"));
            } catch (err) { flash(err.message, true); } } }, t("call_back"));
      return row(el("span", { dir: "ltr" }, num(c.caller)), when(c.at), dur(c.wait_seconds), el("td", {}, action));
    }), t("no_abandoned"));
    const alerts = msg.escalations || [];
    $("escalations-card").hidden = !alerts.length;
    fill($("escalations"), alerts.map((a) => row(el("span", { dir: "ltr" }, num(a.tracking_code)),
      a.department_code, num(a.level), when(a.deadline_at))), t("none"));
    fill($("backlog"), msg.backlog.map((b) => {
      const tr = row(named(b), num(b.open), el("span", { class: b.overdue ? "late" : "" }, num(b.overdue)));
      return tr;
    }), t("none"));
  };

  const initial = JSON.parse($("initial").textContent);
  const taskList = TaskList.mount({ tbody: $("task-rows"), counts: $("task-counts"),
    supervisor: true, staff: initial.staff || [] });
  showLive(initial.live); showStats(initial.stats);
  setInterval(tickWaits, 1000);
  socket("/supervisor/ws", (msg) => {
    if (msg.type === "live") showLive(msg); else if (msg.type === "stats") showStats(msg);
    else if (msg.type === "tasks_changed") taskList.onMessage(msg);
  });
})();
