// guidekb studio: the page's only script (no framework, no CDN: it works offline).
// Every text that comes from the knowledge base or the author is put in with textContent
// (or as an attribute value), never as HTML. The server pushes a version number by
// server-sent events; the page then fetches /api/state and redraws.
"use strict";

(function () {
  const byId = (id) => document.getElementById(id);

  // An element with attributes and children; strings become text nodes (never HTML).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  // Replace a node's children, skipping null/false (replaceChildren would print "null").
  function fill(node, ...children) {
    node.replaceChildren();
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child);
    }
  }

  // A location: the text file:line:col, a link that opens it in VS Code
  // (vscode://file/ABSOLUTE:LINE:COL), and a button copying ABSOLUTE:LINE:COL.
  function location(file, abs, line, column) {
    const shown = `${file}:${line}:${column}`;
    const full = `${abs}:${line}:${column}`;
    const link = el("a", { class: "loc", title: `open ${full} in VS Code` }, shown);
    const path = (abs.startsWith("/") ? abs : "/" + abs).split("/").map(encodeURIComponent).join("/");
    link.href = "vscode://file" + path + `:${line}:${column}`;
    const copy = el("button", { type: "button", class: "copy", title: `copy ${full}` }, "copy");
    copy.addEventListener("click", () => {
      if (navigator.clipboard) navigator.clipboard.writeText(full).catch(() => {});
    });
    return el("span", { class: "location" }, link, copy);
  }

  // --- panels ------------------------------------------------------------------------------

  const BUSY = { waiting: "waiting…", checking: "checking…" };

  function panelFrame(name, panel, okText, bad) {
    const section = byId("panel-" + name);
    section.dataset.status = panel.status;
    section.dataset.generation = panel.generation;
    section.classList.toggle("stale", Boolean(panel.stale));
    const badge = section.querySelector(".badge");
    let note = panel.message || "";
    if (panel.status in BUSY) {
      badge.className = "badge busy";
      badge.textContent = BUSY[panel.status];
      if (panel.stale) note = "Out of date: these results are from before the last save; checking again.";
    } else if (panel.status === "blocked") {
      badge.className = "badge stale";
      badge.textContent = "not checked";
      if (panel.stale) note += " What is shown is from an earlier version.";
    } else if (panel.status === "failed") {
      badge.className = "badge bad";
      badge.textContent = "failed";
    } else {
      badge.className = "badge " + (bad ? "bad" : "ok");
      badge.textContent = okText;
    }
    section.querySelector(".note").textContent = note;
    const body = section.querySelector(".body");
    return body;
  }

  function renderValidation(panel) {
    const data = panel.data;
    const count = data ? data.problems.length : 0;
    const body = panelFrame("validation", panel,
      data ? (data.ok ? "no problems" : `${count} problem${count === 1 ? "" : "s"}`) : "", data && !data.ok);
    if (!data) return;
    if (data.ok) {
      const c = data.counts;
      const n = (number, noun) => `${number} ${noun}${number === 1 ? "" : "s"}`;  // as guidekb validate
      fill(body, el("p", { class: "pass" },
        `ok: ${n(c.rules, "rule")}, ${n(c.facts, "fact")}, ${n(c.codes, "code")}, ${n(c.invariants, "invariant")}, ` +
        `${n(c.scenarios, "scenario")}, ${n(c.cases, "case")}, ${n(c.quotes, "source quote")} verified in ` +
        n(c.sources, "source")));
      return;
    }
    fill(body, el("ul", { class: "items", id: "problems" }, data.problems.map((p) =>
      el("li", { class: "problem", "data-code": p.code, "data-file": p.file, "data-line": p.line },
        location(p.file, p.abs, p.line, p.column), el("span", { class: "code" }, p.code),
        el("span", { class: "message" }, p.message),
        p.hint ? el("div", { class: "hint-text" }, p.hint) : null))));
  }

  function renderScenarios(panel) {
    const data = panel.data;
    const results = data ? data.results : [];
    const failed = results.filter((r) => !r.passed);
    const body = panelFrame("scenarios", panel,
      `${results.length - failed.length} passed, ${failed.length} failed`, failed.length > 0 || !results.length);
    if (!data) return;
    if (!results.length) {
      fill(body, el("p", { class: "fail" }, "No scenarios: write one in scenarios/ (or save one from the playground)."));
      return;
    }
    const item = (r) => el("li", { class: "scenario", "data-name": r.name, "data-passed": r.passed },
      el("span", { class: r.passed ? "pass" : "fail" }, r.passed ? "PASS " : "FAIL "),
      el("span", { class: "loc" }, r.name), " ", location(r.file, r.abs, 1, 1),
      r.passed ? null : el("pre", { class: "diff" }, r.diff.join("\n")));
    fill(body,
      el("ul", { class: "items" }, failed.map(item)),
      el("details", {}, el("summary", {}, `${results.length - failed.length} passing`),
        el("ul", { class: "items" }, results.filter((r) => r.passed).map(item))));
  }

  const PROOF_LABEL = { proved: "PROVED", refuted: "REFUTED", unconfirmed: "UNCONFIRMED", unknown: "UNKNOWN" };

  function renderProofs(panel) {
    const data = panel.data;
    const invariants = data ? data.invariants : [];
    const notProved = invariants.filter((i) => i.status !== "proved").length + (data && data.disagreements ? 1 : 0);
    const body = panelFrame("proofs", panel,
      `${invariants.length - notProved} of ${invariants.length} proved`, notProved > 0);
    if (!data) return;
    const rows = invariants.map((i) => el("tr", { class: "invariant", "data-id": i.id, "data-status": i.status },
      el("td", { class: i.status === "proved" ? "pass" : "fail" }, PROOF_LABEL[i.status] || i.status),
      el("td", {}, el("span", { class: "loc" }, i.id), el("div", { class: "hint-text" }, `${i.kind} · ${i.method}`),
        i.counterexample ? el("div", {}, i.problem || "", el("pre", {}, i.counterexample)) : null)));
    const proved = rows.filter((row) => row.dataset.status === "proved");
    const open = rows.filter((row) => row.dataset.status !== "proved");
    fill(body,
      invariants.length ? null : el("p", {}, "No invariants.yaml: nothing to prove."),
      open.length ? el("table", {}, el("tbody", {}, open)) : null,
      proved.length ? el("details", {}, el("summary", {}, `${proved.length} proved`),
        el("table", {}, el("tbody", {}, proved))) : null,
      data.cross_checked ? el("p", { class: data.disagreements ? "fail" : "note" },
        `Encoding cross-checked against the engine on ${data.cross_checked} random cases: ` +
        (data.disagreements ? `${data.disagreements} disagreements (no proof stands)` : "agrees") +
        ` (${data.seconds} s).`) : null);
  }

  function renderLint(panel) {
    const data = panel.data;
    const open = data ? data.findings.filter((f) => !f.acknowledged) : [];
    const acknowledged = data ? data.findings.filter((f) => f.acknowledged) : [];
    const body = panelFrame("lint", panel, `${open.length} finding${open.length === 1 ? "" : "s"}`, open.length > 0);
    if (!data) return;
    const item = (f) => el("li", { class: "finding", "data-id": f.id },
      location(f.file, f.abs, f.line, f.column), el("span", { class: "code" }, f.kind),
      el("span", {}, f.message), f.hint ? el("div", { class: "hint-text" }, f.hint) : null,
      f.acknowledged ? el("div", { class: "hint-text" }, "acknowledged: " + f.acknowledged) : null);
    fill(body,
      open.length ? el("ul", { class: "items" }, open.map(item)) : el("p", { class: "pass" }, "no open findings"),
      acknowledged.length ? el("details", {}, el("summary", {}, `${acknowledged.length} acknowledged in lint.yaml`),
        el("ul", { class: "items" }, acknowledged.map(item))) : null);
  }

  function renderCoverage(panel) {
    const data = panel.data;
    const body = panelFrame("coverage", panel,
      data ? `${data.counts.missing} missing` : "", data && data.counts.missing > 0);
    if (!data) return;
    const c = data.counts;
    fill(body,
      el("p", {}, `${data.total} statements: ${c.encoded} encoded, ${c.context} context, ${c.missing} missing`),
      data.missing.length ? el("ul", { class: "items" }, data.missing.map((s) => el("li", {},
        el("span", { class: "code" }, `${s.source}:${s.line} · ${s.section}`), el("div", {}, s.text)))) : null);
  }

  function renderCharts(panel) {
    const data = panel.data;
    const body = panelFrame("charts", panel, data && data.available ? `overview and ${data.charts.length - 1} stage charts` : "not drawn",
      data && !data.available);
    if (!data) return;
    if (!data.available) {
      fill(body, el("p", { class: "fail", id: "charts-unavailable" }, data.message));
      return;
    }
    const figure = (chart) => el("figure", {}, el("figcaption", {}, chart.title),
      el("img", { src: chart.url, alt: chart.title, loading: "lazy" }));
    const [overview, ...stages] = data.charts;
    fill(body, figure(overview), stages.map((chart) =>
      el("details", {}, el("summary", {}, chart.title), figure(chart))));
  }

  // --- the state -----------------------------------------------------------------------------

  let shownVersion = -1;
  let fetching = false;
  let wanted = -1;
  let current = null;

  async function refresh(version) {
    wanted = Math.max(wanted, version);
    if (fetching) return;
    fetching = true;
    try {
      while (wanted > shownVersion) {
        const response = await fetch("/api/state", { cache: "no-store" });
        const state = await response.json();
        shownVersion = state.version;
        render(state);
      }
    } catch (error) {
      byId("connection").textContent = "cannot reach the studio server";
    } finally {
      fetching = false;
    }
  }

  function render(state) {
    current = state;
    const panels = state.panels;
    const validation = panels.validation;
    renderValidation(validation);
    renderScenarios(panels.scenarios);
    renderProofs(panels.proofs);
    renderLint(panels.lint);
    renderCoverage(panels.coverage);
    renderCharts(panels.charts);
    const kb = validation.data && validation.data.kb;
    byId("kb-name").textContent = kb ? `${kb.id} ${kb.version}` : state.root;
    const summary = byId("summary");
    const busy = Object.values(panels).some((p) => p.status in BUSY);
    if (validation.status in BUSY) {
      summary.className = "busy"; summary.textContent = "checking…";
    } else if (validation.data && !validation.data.ok) {
      summary.className = "bad";
      summary.textContent = `${validation.data.problems.length} problem(s): the knowledge base does not load`;
    } else {
      summary.className = busy ? "busy" : "ok";
      summary.textContent = busy ? "valid; checking the rest…" : "valid; everything checked";
    }
    if (state.notice) {
      byId("connection").className = "connection lost";
      byId("connection").textContent = state.notice;
    }
    document.body.dataset.generation = state.generation;
    document.body.dataset.busy = busy;
    playgroundState(validation, state.generation);
  }

  // --- the case playground ------------------------------------------------------------------

  let factsKey = "";
  let answeredGeneration = -1;
  let evaluateTimer = null;

  function playgroundState(validation, generation) {
    const usable = validation.status === "done" && validation.data && validation.data.ok;
    const form = byId("case-form");
    if (usable) {
      const key = JSON.stringify(validation.data.facts);
      if (key !== factsKey) {
        const previous = readCase();
        factsKey = key;
        buildForm(validation.data.facts, previous);
      }
      form.classList.remove("stale");
      if (answeredGeneration !== generation) scheduleEvaluate(0);
    } else {
      byId("answer").classList.add("stale");
      if (validation.data && !validation.data.ok) {
        showAnswerError("The knowledge base has problems: the playground answers again once they are fixed.");
      }
    }
  }

  function buildForm(facts, previous) {
    const form = byId("case-form");
    form.replaceChildren();
    for (const fact of facts) {
      const id = "fact-" + fact.name;
      const label = el("label", { for: id, title: fact.question || fact.description }, fact.name);
      let control;
      if (fact.type === "enum" || fact.type === "boolean") {
        const values = fact.type === "boolean" ? ["true", "false"] : fact.values;
        control = el("select", { id, "data-fact": fact.name, "data-type": fact.type },
          el("option", { value: "" }, "unknown"), values.map((v) => el("option", { value: v }, v)));
        const before = previous[fact.name];
        if (before !== undefined && values.includes(String(before))) control.value = String(before);
      } else if (fact.type === "integer") {
        control = el("input", { id, type: "number", step: 1, min: fact.min, max: fact.max,
          placeholder: `unknown (${fact.min}–${fact.max}${fact.unit ? " " + fact.unit : ""})`,
          "data-fact": fact.name, "data-type": "integer" });
        if (typeof previous[fact.name] === "number") control.value = String(previous[fact.name]);
      } else {
        const before = Array.isArray(previous[fact.name]) ? previous[fact.name] : null;
        const known = el("select", { id, "data-fact": fact.name, "data-type": "enum_list" },
          el("option", { value: "" }, "unknown"), el("option", { value: "known" }, "known: the ticked ones"));
        if (before) known.value = "known";
        const boxes = fact.values.map((v) => el("label", {},
          el("input", { type: "checkbox", value: v, "data-list": fact.name, checked: before && before.includes(v) }), " ", v));
        control = el("div", { class: "list" }, known, el("div", { class: "choices" }, boxes));
      }
      form.append(label, control);
    }
  }

  // The case the form holds: only known facts (unknown ones are left out, never false).
  function readCase() {
    const facts = {};
    for (const control of document.querySelectorAll("#case-form [data-fact]")) {
      const name = control.dataset.fact;
      const type = control.dataset.type;
      if (control.value === "") continue;
      if (type === "boolean") facts[name] = control.value === "true";
      else if (type === "integer") facts[name] = Number(control.value);
      else if (type === "enum_list") {
        facts[name] = Array.from(document.querySelectorAll(`#case-form input[data-list="${CSS.escape(name)}"]:checked`))
          .map((box) => box.value);
      } else facts[name] = control.value;
    }
    return facts;
  }

  function scheduleEvaluate(delay) {
    clearTimeout(evaluateTimer);
    evaluateTimer = setTimeout(evaluate, delay);
  }

  let asked = 0;

  async function evaluate() {
    const number = ++asked;
    const generation = current ? current.generation : -1;
    byId("answer").classList.add("stale");
    let response, body;
    try {
      response = await fetch("/api/evaluate", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ case: readCase() }) });
      body = await response.json();
    } catch (error) {
      if (number === asked) showAnswerError("The studio server did not answer.");
      return;
    }
    if (number !== asked) return; // a newer question is on its way
    answeredGeneration = generation;
    if (!response.ok) {
      showAnswerError(body.error || `error ${response.status}`);
      return;
    }
    showAnswer(body.answer);
  }

  function showAnswerError(message) {
    const answer = byId("answer");
    answer.dataset.state = "error";
    answer.classList.remove("stale");
    fill(answer, el("p", { class: "error", id: "answer-error" }, message));
  }

  function quotes(provenance) {
    return provenance.map((p) => el("blockquote", {}, p.quote,
      el("cite", {}, `${p.source} · ${p.section}${p.refs.length ? " [" + p.refs.join(", ") + "]" : ""}`)));
  }

  function chain(steps) {
    if (!steps.length) return null;
    return el("details", {}, el("summary", {}, `rule chain (${steps.length} step${steps.length === 1 ? "" : "s"})`),
      el("ol", { class: "chain" }, steps.map((s) => el("li", {},
        el("span", { class: "loc" }, s.rule), ": ", s.title,
        Object.keys(s.facts).length ? ` — facts ${Object.entries(s.facts).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}` : "",
        s.uses.length ? ` — uses ${s.uses.join(", ")}` : "",
        s.concludes.length ? ` — concludes ${s.concludes.join(", ")}` : "",
        quotes(s.provenance)))));
  }

  function verdict(v, kind) {
    const details = v.details ? Object.entries(v.details).map(([k, d]) => `${k}: ${d}`).join("; ") : "";
    return el("li", { class: "verdict " + kind, "data-code": v.code },
      el("div", { class: "title" }, (kind === "forbidden" ? "DO NOT: " : "") + v.text),
      el("div", {}, el("span", { class: "code" }, v.code), "by rule ", el("span", { class: "loc" }, v.rule),
        v.also_by.length ? ` (also ${v.also_by.join(", ")})` : "", v.reason ? ` — ${v.reason}` : ""),
      details ? el("div", { class: "hint-text" }, details) : null,
      quotes(v.provenance), chain(v.chain));
  }

  function showAnswer(answer) {
    const box = byId("answer");
    box.dataset.state = "answer";
    box.classList.remove("stale");
    const known = Object.entries(answer.case).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
    fill(box,
      el("p", { class: "hint-text" }, "case: " + (known || "every fact unknown")),
      el("h3", {}, `Recommended (${answer.recommendations.length})`),
      answer.recommendations.length ? el("ul", { class: "items", id: "answer-recommended" },
        answer.recommendations.map((v) => verdict(v, "recommended")))
        : el("p", { id: "answer-recommended" }, "nothing for these facts"),
      el("h3", {}, `Forbidden (${answer.prohibitions.length})`),
      answer.prohibitions.length ? el("ul", { class: "items", id: "answer-forbidden" },
        answer.prohibitions.map((v) => verdict(v, "forbidden")))
        : el("p", { id: "answer-forbidden" }, "nothing for these facts"),
      answer.conflicts.length ? el("div", {}, el("h3", {}, "Conflicts"), answer.conflicts.map((c) =>
        el("div", { class: "conflict", "data-code": c.code },
          `${c.code}: recommended by ${c.recommended_by}, forbidden by ${c.forbidden_by} — ${c.resolution}`))) : null,
      el("h3", {}, "Derived"),
      el("p", { id: "answer-derived" }, answer.derived.map((d) => `${d.fact} (${d.rule})`).join(", ") || "nothing"),
      el("p", { class: "hint-text", id: "answer-fired" }, "rules fired: " + (answer.fired.join(", ") || "none")));
  }

  async function saveScenario() {
    const result = byId("save-result");
    result.className = "";
    result.textContent = "saving…";
    let response, body;
    try {
      response = await fetch("/api/scenarios", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ case: readCase(), name: byId("scenario-name").value,
          description: byId("scenario-description").value }) });
      body = await response.json();
    } catch (error) {
      result.className = "error"; result.textContent = "The studio server did not answer.";
      return;
    }
    if (!response.ok) {
      result.className = "error"; result.textContent = body.error || `error ${response.status}`;
      return;
    }
    result.className = "pass";
    result.textContent = `wrote ${body.file}: a new scenario pinning this answer`;
  }

  // --- start ---------------------------------------------------------------------------------

  function connect() {
    const events = new EventSource("/events");
    const connection = byId("connection");
    events.addEventListener("open", () => {
      if (current && current.notice) return; // the notice stays in view
      connection.className = "connection"; connection.textContent = "live";
    });
    events.addEventListener("error", () => {
      connection.className = "connection lost";
      connection.textContent = "disconnected: is `guidekb studio` still running? retrying…";
    });
    events.addEventListener("state", (event) => refresh(JSON.parse(event.data).version));
  }

  document.addEventListener("DOMContentLoaded", () => {
    byId("save-scenario").addEventListener("click", saveScenario);
    byId("case-form").addEventListener("input", () => scheduleEvaluate(150));
    byId("case-form").addEventListener("change", () => scheduleEvaluate(0));
    connect();
    refresh(0);
  });
})();
