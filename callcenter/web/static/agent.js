/* Agent panel: state bar, screen-pop over /agent/ws, request form, walk-in form. */
"use strict";
(() => {
  const { boot, t, num, when, dur, named, ivrPath, el, row, fill, flash, post, socket } = CC;
  const $ = (id) => document.getElementById(id);
  const form = $("pop-form");
  let state = boot.state || { state: "logged_out", since: 0, reason: "" };

  const renderState = () => {
    const badge = $("agent-state");
    badge.className = "badge state-" + state.state;
    badge.dataset.state = state.state;
    badge.textContent = t("state_" + state.state);
    $("state-reason").textContent = state.reason ? "· " + t("reason_" + state.reason) : "";
    const allowed = {
      join: ["logged_out"], leave: ["available", "on_break", "wrap_up"],
      break: ["available", "wrap_up"], resume: ["on_break"], ready: ["wrap_up"] };
    document.querySelectorAll("[data-action]").forEach((b) => {
      b.disabled = !(allowed[b.dataset.action] || []).includes(state.state);
    });
    $("break-reason").disabled = !allowed.break.includes(state.state);
  };
  setInterval(() => {
    $("state-since").textContent = state.since ? dur(Date.now() / 1000 - state.since) : "";
  }, 1000);

  document.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", async () => {
    const action = b.dataset.action;
    const url = { join: "/api/agent/queue/join", leave: "/api/agent/queue/leave",
      break: "/api/agent/break", resume: "/api/agent/resume", ready: "/api/agent/ready" }[action];
    try {
      const res = await post(url, action === "break" ? { reason: $("break-reason").value } : {});
      state = { ...state, state: res.state, since: Date.now() / 1000 };
      renderState();
    } catch (e) { flash(t("ami_unavailable") + " (" + e.message + ")", true); }
  }));

  const requestRow = (r, withDept) => {
    const status = el("td", {}, el("span", { class: "badge status-" + r.status }, t("status_" + r.status)));
    const code = el("td", { dir: "ltr" }, el("a", { href: "#", class: "code", onclick: (e) => {
      e.preventDefault(); pickExisting(r.tracking_code); } }, num(r.tracking_code)),
      " ", el("a", { href: "/cases/" + encodeURIComponent(r.tracking_code), class: "case-link",
                     target: "_blank", rel: "noopener" }, t("open_case")));
    const files = el("td", {}, ...(r.attachments || []).map((a) => a.url
      ? el("a", { href: a.url, target: "_blank", rel: "noopener", class: "attachment" }, t("photo") + " ")
      : el("span", { dir: "ltr", class: "attachment", title: t("location") },
        num(a.latitude.toFixed(5) + ", " + a.longitude.toFixed(5)) + " ")));
    return withDept
      ? row(code, named(r.category), named(r.department), status, when(r.created_at), files)
      : row(code, named(r.category), status, when(r.created_at), files);
  };

  const pickExisting = (code) => {
    form.elements.mode.value = "update";
    form.elements.tracking_code.value = code;
    syncMode();
  };

  const syncMode = () => {
    const update = form.elements.mode.value === "update";
    form.querySelector(".when-new").hidden = update;
    form.querySelector(".when-update").hidden = !update;
  };
  form.querySelectorAll("input[name=mode]").forEach((r) => r.addEventListener("change", syncMode));

  /* The ring itself: number, IVR choices and the form, at once. */
  const showPop = (pop) => {
    $("pop").dataset.linkedid = pop.linkedid;
    delete $("pop").dataset.saved;
    delete $("pop").dataset.history;
    $("pop-empty").hidden = true;
    $("pop-body").hidden = false;
    $("pop-ended").hidden = true;
    $("pop-phone").textContent = num(pop.phone_display);
    $("pop-name").textContent = pop.caller_name || t("unknown_name");
    $("pop-ivr").textContent = pop.ivr_path.length ? ivrPath(pop.ivr_path) : t("none");
    $("pop-ivr-request").textContent = pop.ivr_request_code ? num(pop.ivr_request_code) : t("none");
    ["pop-open", "pop-requests", "pop-calls"].forEach((id) => fill($(id), [], "…"));
    showRecording(null);
    form.reset();
    form.elements.linkedid.value = pop.linkedid;
    form.elements.phone.value = pop.phone_display;
    form.elements.citizen_name.value = pop.caller_name || "";
    const p = pop.prefill;
    form.elements.category_code.value = p.category_code || "";
    form.elements.description.value = p.description || "";
    if (p.tracking_code) pickExisting(p.tracking_code); else { form.elements.mode.value = "new"; syncMode(); }
    form.querySelector("button[type=submit]").disabled = false;
    document.title = "☎ " + num(pop.phone_display) + " · " + t("agent_panel");
  };

  /* The voice message of the request this call filed (else the newest open one that
     has one), streamed with Range from the authenticated route: seekable, no path. */
  const showRecording = (code) => {
    const audio = $("pop-audio");
    $("pop-recording").hidden = $("pop-recording-label").hidden = !code;
    if (!code) { audio.removeAttribute("src"); delete audio.dataset.code; audio.load(); return; }
    audio.dataset.code = code;
    audio.src = "/api/requests/" + encodeURIComponent(code) + "/recording";
  };

  /* The caller's history from the store, a moment later. */
  const showHistory = (h) => {
    if ($("pop").dataset.linkedid !== h.linkedid) return;
    $("pop").dataset.history = "1";
    if (h.caller_name) {
      $("pop-name").textContent = h.caller_name;
      if (!form.elements.citizen_name.value) form.elements.citizen_name.value = h.caller_name;
    }
    const ir = h.ivr_request;
    if (ir) $("pop-ivr-request").textContent =
      num(ir.tracking_code) + " · " + t("status_" + ir.status) + " · " + named(ir.department);
    fill($("pop-open"), h.open_requests.map((r) => requestRow(r, true)), t("none"));
    const voiced = (ir && ir.has_recording) ? ir : h.open_requests.find((r) => r.has_recording);
    showRecording(voiced ? voiced.tracking_code : null);
    fill($("pop-requests"), h.requests.map((r) => requestRow(r, false)), t("none"));
    fill($("pop-calls"), h.calls.map((c) => row(when(c.at), t("outcome_" + c.outcome), num(c.agent))), t("none"));
    if (h.neighbourhood_code && !form.elements.neighbourhood_code.value)
      form.elements.neighbourhood_code.value = h.neighbourhood_code;
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = form.elements;
    const update = f.mode.value === "update";
    const body = { linkedid: f.linkedid.value, phone: f.phone.value,
      citizen_name: f.citizen_name.value || null, note: f.note.value || null };
    if (update) Object.assign(body, { tracking_code: f.tracking_code.value, new_status: f.new_status.value || null });
    else Object.assign(body, { category_code: f.category_code.value || null,
      neighbourhood_code: f.neighbourhood_code.value || null, description: f.description.value || null });
    try {
      const saved = await post("/api/agent/requests", body);
      flash(t("saved") + ": " + num(saved.tracking_code) + " · " + t("status_" + saved.status));
      pickExisting(saved.tracking_code);
      $("pop").dataset.saved = saved.tracking_code;
    } catch (err) { flash(err.message, true); }
  });

  $("walkin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = e.target.elements;
    try {
      const saved = await post("/api/agent/walk-in", { phone: f.phone.value,
        citizen_name: f.citizen_name.value || null, category_code: f.category_code.value,
        neighbourhood_code: f.neighbourhood_code.value || null, description: f.description.value });
      const photo = f.photo && f.photo.files[0];
      if (photo) {  /* the photo goes onto the filed request, checked like the bot's */
        const data = new FormData();
        data.append("photo", photo);
        const res = await fetch("/api/cases/" + saved.tracking_code + "/attachments", {
          method: "POST", credentials: "same-origin",
          headers: { "X-CSRF-Token": boot.csrf }, body: data });
        if (!res.ok) {
          let msg = res.status;
          try { msg = (await res.json()).message || msg; } catch (err) { /* not JSON */ }
          flash(t("saved") + ": " + num(saved.tracking_code) + " · " + t("photo") + ": " + msg, true);
          e.target.reset();
          return;
        }
      }
      flash(t("saved") + ": " + num(saved.tracking_code));
      e.target.reset();
    } catch (err) { flash(err.message, true); }
  });

  const taskList = TaskList.mount({ tbody: $("task-rows"), counts: $("task-counts"),
    supervisor: false });
  socket("/agent/ws", (msg) => {
    if (msg.type === "tasks_changed") taskList.onMessage(msg);
    else if (msg.type === "pop") showPop(msg);
    else if (msg.type === "pop_history") showHistory(msg);
    else if (msg.type === "state") { state = msg; renderState(); }
    else if (msg.type === "ended" && $("pop").dataset.linkedid === msg.linkedid) {
      $("pop-ended").hidden = false;
      document.title = t("agent_panel");
    }
  });
  renderState();
})();
