/* graphexplain's HTML explorer: steps through backprop on the diagram.
 *
 * graphexplainExplorer(root) reads the JSON in the root's data element (written by
 * graphexplain/html/page.py) and wires up the controls. Every id it uses is the root's
 * data-prefix followed by a name, so several explorers can share one notebook.
 *
 * Strings from the user (names, labels, program text) are only ever set with textContent or
 * setAttribute, never parsed as markup. Formulas are MathML from graphexplain's printer,
 * parsed as XML and kept only when every element is a MathML element.
 */
"use strict";

function graphexplainExplorer(root) {
  if (!root || !root.classList.contains("ge-explorer") || root.getAttribute("data-ge-ready")) {
    return;
  }
  root.setAttribute("data-ge-ready", "1");
  const P = root.getAttribute("data-prefix") || "";
  const $ = (name) => document.getElementById(P + name);
  const data = JSON.parse($("data").textContent);

  // the page's sentences, in the report's language: data.words, from the one catalogue
  function say(key, vars) {
    let s = data.words[key];
    for (const [k, v] of Object.entries(vars || {})) {
      s = s.split("{" + k + "}").join(String(v));
    }
    return s;
  }
  const nodes = data.nodes;
  for (const n of nodes) {
    if (n.label === undefined) {
      n.label = n.id;
    }
  }
  const edges = data.edges; // [u, v, local text, local value, is a sum, local MathML]
  const steps = data.steps;
  const last = steps.length - 1;
  const MATHML = "http://www.w3.org/1998/Math/MathML";
  const COPY = { start: "f", forward: "f", seed: "b", backward: "b" };
  let cur = 0;
  let timer = null;

  // --- numbers, as graphexplain prints them: 3, 0.105754, −0.5, 1.5×10⁻⁵ ---------------------

  const SUP = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶",
                "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻" };

  function trimZeros(s) {
    return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, "");
  }

  function fmt(x) {
    if (x === null || x === undefined) {
      return "?";
    }
    if (Number.isNaN(x)) {
      return "nan";
    }
    const sign = x < 0 ? "−" : "";
    const a = Math.abs(x);
    if (!Number.isFinite(a)) {
      return sign + "∞";
    }
    if (Number.isInteger(a) && a < 1e15) {
      return sign + String(a);
    }
    const [m, e] = a.toExponential(5).split("e");
    const exp = Number(e);
    if (exp < -4 || exp >= 6) {
      return sign + trimZeros(m) + "×10" + String(exp).split("").map((c) => SUP[c]).join("");
    }
    return sign + trimZeros(a.toFixed(Math.max(0, 5 - exp)));
  }

  function percent(x) {
    if (x === null || !Number.isFinite(x)) {
      return "—";
    }
    const r = Math.round(x * 10) / 10;
    return (r < 0 ? "−" : "") + String(Math.abs(r)) + "%";
  }

  // --- MathML from the printer ---------------------------------------------------------------

  const TAGS = new Set(["math", "mrow", "mi", "mn", "mo", "mtext", "mfrac", "msup", "msub",
    "msubsup", "msqrt", "mroot", "mtable", "mtr", "mtd", "mspace", "mstyle", "mover",
    "munder", "munderover", "mpadded", "mphantom"]);
  const ATTRS = new Set(["display", "mathvariant", "stretchy", "fence", "separator", "form",
    "lspace", "rspace", "columnalign", "linethickness", "accent", "symmetric", "width"]);

  function clean(el) {
    const all = [el, ...el.getElementsByTagName("*")];
    for (const e of all) {
      if (e.namespaceURI !== MATHML || !TAGS.has(e.localName)) {
        return false;
      }
      for (const a of [...e.attributes]) {
        if (a.name !== "xmlns" && !ATTRS.has(a.name)) {
          e.removeAttribute(a.name);
        }
      }
    }
    return true;
  }

  function mathNode(markup, text) {
    if (markup) {
      const doc = new DOMParser().parseFromString(
        '<math xmlns="' + MATHML + '">' + markup + "</math>", "application/xml");
      const el = doc.documentElement;
      if (el && el.localName === "math" && clean(el)) {
        const node = document.importNode(el, true);
        node.setAttribute("aria-label", text);
        return node;
      }
    }
    const span = document.createElement("span");
    span.className = "ge-text";
    span.textContent = text;
    return span;
  }

  function line(markup, text, caption) {
    const div = document.createElement("div");
    div.className = "ge-line";
    div.setAttribute("data-text", text);
    if (caption) {
      const c = document.createElement("span");
      c.className = "ge-linecaption";
      c.textContent = caption;
      div.appendChild(c);
    }
    div.appendChild(mathNode(markup, text));
    return div;
  }

  // --- the diagram's elements, by their <title> ---------------------------------------------

  const nodeEls = new Map();
  const edgeEls = new Map();
  const titles = new Map();
  const ownIds = new Map();
  for (const [by, key, ...link] of data.elements) {
    const map = by === "t" ? titles : ownIds;
    if (!map.has(key)) {
      map.set(key, []);
    }
    map.get(key).push(link);
  }
  const svg = $("diagram").querySelector("svg");

  function register(map, index, el, copy) {
    if (!map.has(index)) {
      map.set(index, []);
    }
    map.get(index).push({ el: el, copy: copy });
  }

  function fit() { // small drawings grow to the box (up to 1.5×); large ones keep their size
    const natural = svg.width.baseVal.value;
    const box = $("diagram").clientWidth - 12;
    if (natural > 0 && box > 0) {
      const width = natural <= box ? Math.min(box, 1.5 * natural) :
        Math.max(box, 0.65 * natural);
      svg.style.width = width + "px";
      svg.style.maxWidth = "none";
    }
  }

  // One element may stand for several nodes or edges (a neuron drawn once for z and A(z), a
  // layer's box); a clickable leaf opens its gradient (the first one the element names).
  function link(g, kind, index, copy) {
    g.setAttribute("data-ge-copy", copy);
    if (kind === "e") {
      register(edgeEls, index, g, copy);
      if (!g.hasAttribute("data-ge-edge")) {
        g.setAttribute("data-ge-edge",
          nodes[edges[index][0]].id + "->" + nodes[edges[index][1]].id);
      }
      return;
    }
    register(nodeEls, index, g, copy);
    if (!g.hasAttribute("data-ge-node")) {
      g.setAttribute("data-ge-node", nodes[index].id);
    }
    if (nodes[index].grad && !g.classList.contains("ge-clickable")) {
      g.classList.add("ge-clickable");
      g.addEventListener("click", () => chooseLeaf(index));
    }
  }

  if (svg) {
    fit();
    for (const g of svg.querySelectorAll("g.node, g.edge")) {
      const t = g.querySelector(":scope > title");
      const own = g.id.startsWith(P) ? g.id.slice(P.length) : g.id;
      const links = [...(t && titles.get(t.textContent)) || [], ...ownIds.get(own) || []];
      for (const [kind, indices, copy] of links) {
        for (const index of Array.isArray(indices) ? indices : [indices]) {
          link(g, kind, index, copy);
        }
      }
    }
  } else if (data.no_diagram) {
    const p = $("nodiagram");
    p.hidden = false;
    p.textContent = say("no_diagram", { why: data.no_diagram });
  }

  function pick(list, copy) {
    if (!list) {
      return [];
    }
    for (const want of [copy, ""]) {
      const same = list.filter((x) => x.copy === want);
      if (same.length) {
        return same.map((x) => x.el);
      }
    }
    return list.map((x) => x.el);
  }

  // --- the steps -----------------------------------------------------------------------------

  const formula = $("formula");
  const slider = $("slider");
  slider.max = String(last);

  function lit(step) {
    const copy = COPY[step.phase];
    const els = [];
    for (const i of step.nodes) {
      els.push(...pick(nodeEls.get(i), copy));
    }
    for (const i of step.edges) { // an edge the drawing leaves out: the node it feeds back to
      const drawn = pick(edgeEls.get(i), copy);
      els.push(...(drawn.length ? drawn : pick(nodeEls.get(edges[i][0]), copy)));
    }
    return [...new Set(els)];
  }

  function show(i) {
    cur = Math.max(0, Math.min(last, i));
    const step = steps[cur];
    for (const el of root.querySelectorAll(".current")) {
      el.classList.remove("current");
    }
    const els = lit(step);
    for (const el of els) {
      el.classList.add("current");
    }
    const backward = step.phase === "seed" || step.phase === "backward";
    root.classList.toggle("ge-backward", backward);
    formula.replaceChildren(...step.lines.map((l) => line(l[0], l[1])));
    formula.setAttribute("data-text", step.lines.map((l) => l[1]).join("\n"));
    formula.setAttribute("data-phase", step.phase);
    $("caption").textContent = step.caption;
    $("counter").textContent = say("counter", { n: cur + 1, total: steps.length });
    slider.value = String(cur);
    $("prev").disabled = cur === 0;
    $("next").disabled = cur === last;
    if (els.length && svg) {
      const box = $("diagram");
      if (box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight) {
        els[0].scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
  }

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    $("play").textContent = "▶";
    $("play").setAttribute("aria-label", say("play"));
  }

  function play() {
    if (timer !== null) {
      stop();
      return;
    }
    if (cur === last) {
      show(0);
    }
    $("play").textContent = "❚❚";
    $("play").setAttribute("aria-label", say("pause"));
    timer = setInterval(() => {
      if (cur >= last) {
        stop();
      } else {
        show(cur + 1);
      }
    }, 1100);
  }

  $("prev").addEventListener("click", () => { stop(); show(cur - 1); });
  $("next").addEventListener("click", () => { stop(); show(cur + 1); });
  $("play").addEventListener("click", play);
  slider.addEventListener("input", () => { stop(); show(Number(slider.value)); });

  const keys = root.getAttribute("data-standalone") === "1" ? document : root;
  keys.addEventListener("keydown", (ev) => {
    const tag = ev.target && ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || ev.altKey || ev.ctrlKey ||
        ev.metaKey) {
      return;
    }
    if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
      stop();
      show(cur + (ev.key === "ArrowRight" ? 1 : -1));
      ev.preventDefault();
    }
  });

  // --- a leaf: its gradient, its paths ------------------------------------------------------

  const succ = nodes.map(() => []);
  edges.forEach((e, i) => succ[e[0]].push(i));
  const leaves = new Map(data.leaves.map((l) => [l.n, l]));
  const select = $("leafselect");

  function listPaths(src, cap) {
    const paths = [];
    const frames = [{ v: src, j: 0 }];
    const trail = [];
    while (frames.length && paths.length < cap) {
      const top = frames[frames.length - 1];
      if (top.v === data.output) {
        paths.push(trail.slice());
        frames.pop();
        trail.pop();
        continue;
      }
      const out = succ[top.v];
      while (top.j < out.length && !nodes[edges[out[top.j]][1]].pc) {
        top.j += 1;
      }
      if (top.j >= out.length) {
        frames.pop();
        trail.pop();
        continue;
      }
      const e = out[top.j];
      top.j += 1;
      trail.push(e);
      frames.push({ v: edges[e][1], j: 0 });
    }
    return paths;
  }

  function productOf(path) {
    const parts = path.map((i) => edges[i]);
    const text = parts.map((e) => (e[4] ? "(" + e[2] + ")" : e[2])).join(" · ");
    let markup = null;
    if (parts.every((e) => e[5])) {
      markup = "<mrow>" + parts.map((e) => (e[4] ? "<mrow><mo>(</mo>" + e[5] +
        "<mo>)</mo></mrow>" : e[5])).join("<mo>·</mo>") + "</mrow>";
    }
    let value = 1;
    for (const e of parts) {
      value = e[3] === null || value === null ? null : value * e[3];
    }
    return { text: text, markup: markup, value: value };
  }

  function mark(path, cls) {
    for (const i of path) {
      for (const x of edgeEls.get(i) || []) {
        x.el.classList.add(cls);
      }
      for (const n of [edges[i][0], edges[i][1]]) {
        for (const x of nodeEls.get(n) || []) {
          x.el.classList.add(cls);
        }
      }
    }
  }

  function unmark(cls) {
    for (const el of root.querySelectorAll("." + cls)) {
      el.classList.remove(cls);
    }
  }

  function cell(tr, content, cls) {
    const td = document.createElement("td");
    if (cls) {
      td.className = cls;
    }
    if (typeof content === "string") {
      td.textContent = content;
    } else {
      td.appendChild(content);
    }
    tr.appendChild(td);
    return td;
  }

  function chooseLeaf(index) {
    const leaf = leaves.get(index);
    if (!leaf) {
      return;
    }
    select.value = String(index);
    unmark("onpath");
    unmark("pathhover");
    const node = nodes[index];
    const d = "∂" + data.output_label + "/∂" + node.label;
    $("leaf").hidden = false;
    $("leaftitle").textContent = say("leaf_title", { d: d });
    const box = $("leafformula");
    if (leaf.lines) {
      box.replaceChildren(...leaf.lines.map((l) => line(l[0], l[1], l[2])));
    } else {
      const text = d + " = " + leaf.text + (data.point ? " = " + fmt(node.adjoint) : "");
      box.replaceChildren(line(null, text, say("sampled", { n: data.leaves.length })));
    }
    box.setAttribute("data-text", [...box.children].map((c) => c.getAttribute("data-text"))
      .join("\n"));
    const paths = listPaths(index, data.max_paths);
    const total = node.pc;
    $("pathcount").textContent =
      say(total === 1 ? "paths_one" : "paths_many",
        { n: total, leaf: node.label, output: data.output_label }) +
      (paths.length < total ? say("first_shown", { n: paths.length }) : "") +
      say("paths_tail");
    const body = $("paths").querySelector("tbody");
    body.replaceChildren();
    for (const path of paths) {
      const tr = document.createElement("tr");
      const labels = [node.label, ...path.map((i) => nodes[edges[i][1]].label)];
      const prod = productOf(path);
      cell(tr, labels.join(" → "), "ge-path");
      cell(tr, mathNode(prod.markup, prod.text), "ge-product").setAttribute("data-text",
        prod.text);
      cell(tr, fmt(prod.value), "ge-num");
      const share = node.adjoint ? 100 * prod.value / node.adjoint : null;
      cell(tr, prod.value === null ? "—" : percent(share), "ge-num");
      if (prod.value !== null && prod.value < 0) {
        tr.classList.add("ge-negative");
      }
      tr.addEventListener("mouseenter", () => mark(path, "pathhover"));
      tr.addEventListener("mouseleave", () => unmark("pathhover"));
      body.appendChild(tr);
      mark(path, "onpath");
    }
  }

  const none = document.createElement("option");
  none.value = "";
  none.textContent = say("choose");
  select.appendChild(none);
  for (const l of data.leaves) {
    const o = document.createElement("option");
    o.value = String(l.n);
    o.textContent = nodes[l.n].label;
    select.appendChild(o);
  }
  select.addEventListener("change", () => {
    if (select.value === "") {
      $("leaf").hidden = true;
      unmark("onpath");
    } else {
      chooseLeaf(Number(select.value));
    }
  });

  // --- proof, cost, notes, program ----------------------------------------------------------

  function table(id, rows, cells) {
    if (!rows || !rows.length) {
      return;
    }
    const section = $(id);
    section.hidden = false;
    const body = section.querySelector("tbody");
    for (const r of rows) {
      const tr = document.createElement("tr");
      for (const [content, cls] of cells(r)) {
        cell(tr, content, cls);
      }
      body.appendChild(tr);
    }
  }

  table("verification", data.verification, (r) => [
    [r.name],
    [r.ok === true ? say("agrees") : r.ok === false ? say("disagrees") +
      (r.first_mismatch ? say("first_at", { node: r.first_mismatch }) : "") : say("nothing"),
    r.ok === true ? "ge-ok" : r.ok === false ? "ge-bad" : ""],
    [String(r.compared) + (r.not_comparable ? say("not_comparable", { n: r.not_comparable }) : ""),
      "ge-num"],
    [(r.error_text === null ? "—" : r.error_text) +
      (r.step_text ? " (h ≈ " + r.step_text + ")" : ""), "ge-num"],
  ]);
  table("cost", data.cost, (r) => [
    [r.what, r.key === "reverse_mode" ? "ge-best" : ""],
    [r.how],
    [r.multiplications.toLocaleString("en-US"), "ge-num"],
  ]);

  function lines(id, items, fill) {
    if (items && items.length) {
      $(id).hidden = false;
      fill($(id));
    }
  }

  lines("notes", data.notes, (s) => {
    const ul = s.querySelector("ul");
    for (const n of data.notes) {
      const li = document.createElement("li");
      li.textContent = n;
      ul.appendChild(li);
    }
  });
  lines("model", data.header, (s) => {
    s.querySelector("pre").textContent = data.header.join("\n");
  });
  lines("program", data.program ? [data.program] : [], (s) => {
    s.querySelector("pre").textContent = data.program;
  });

  $("title").textContent = data.title;
  const ngrad = data.leaves.length;
  $("subtitle").textContent = (data.stepping === "group"
    ? say("grouped", { n: nodes.length }) : say("stepwise")) + say("use") +
    say(ngrad === 1 ? "gradients_one" : "gradients_many", { n: ngrad }) +
    (data.verification ? say(data.verification.every((r) => r.ok !== false)
      ? "verified" : "failed") : say("end"));

  show(0);
}
