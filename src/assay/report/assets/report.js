"use strict";
// The page script of report.html. Every value comes from the JSON data block and is inserted
// with textContent (never innerHTML), so no text in the data can become markup.
// A large page's data is gzip-compressed: {"gzip": BASE64}, inflated here (no request).
function assayData() {
  var raw = JSON.parse(document.getElementById("assay-data").textContent);
  if (!raw || typeof raw.gzip !== "string") return Promise.resolve(raw);
  var bin = atob(raw.gzip), bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text().then(JSON.parse);
}

var assayStart = performance.now();
assayData().then(function (D) {
  var t0 = assayStart;
  var tParsed = performance.now();
  var ROW = 28, PAD = 12;
  var items = D.items, view = [], sel = -1, hay = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(x, sign) {
    if (x === null || x === undefined) return "n/a";
    var s = Number(x).toFixed(3);
    return sign && x >= 0 ? "+" + s : s;
  }
  function show(v) {
    if (v === null || v === undefined) return "none";
    return typeof v === "string" ? v : JSON.stringify(v);
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  // ---- results -----------------------------------------------------------------------------
  function results() {
    document.title = D.task + ": " + D.cand + " vs " + D.base;
    document.getElementById("title").textContent = document.title;
    document.getElementById("subtitle").textContent = "Paired comparison on " + D.nItems +
      " items; " + Math.round(D.level * 100) + "% intervals. Base: " + D.base +
      "; candidate: " + D.cand + ".";
    document.getElementById("h-base").textContent = D.base === "base" ? "base" : D.base + " (base)";
    document.getElementById("h-cand").textContent = D.cand;
    var body = document.querySelector("#metrics tbody");
    D.metrics.forEach(function (m) {
      var tr = el("tr", m.name.indexOf("/") > 0 ? "slice" : "");
      tr.appendChild(el("td", "", m.name));
      tr.appendChild(el("td", "num", m.n));
      tr.appendChild(el("td", "num", num(m.base)));
      tr.appendChild(el("td", "num", num(m.cand)));
      tr.appendChild(el("td", "num", num(m.diff, true) + " [" + num(m.lo, true) + ", " +
                        num(m.hi, true) + "]"));
      var floor = m.floor === null ? "" : (m.floorName || "floor") + " " + num(m.floor);
      if (m.noise) floor += (floor ? "; " : "") + "noise " + num(m.noise.diff, true) +
        (m.noise.within ? " (within)" : "");
      tr.appendChild(el("td", "", floor));
      tr.appendChild(el("td", "", m.goals.join("; ")));
      tr.appendChild(el("td", m.word === "better" || m.word === "worse" ? m.word : "", m.verdict));
      body.appendChild(tr);
    });
    var notes = document.getElementById("notes");
    D.notes.forEach(function (n) { notes.appendChild(el("li", "muted", n)); });
    var warn = document.getElementById("warnings");
    D.warnings.forEach(function (w) { warn.appendChild(el("li", "", "Warning: " + w)); });
    var goals = document.getElementById("goals");
    D.goals.forEach(function (g) {
      goals.appendChild(el("li", "", "Goal " + g.metric + " " + g.goal + ": " + g.outcome +
                           " (" + g.reason + ")"));
    });
    var plots = document.getElementById("plots");
    if (!D.plots.length) document.getElementById("plots-section").hidden = true;
    D.plots.forEach(function (p) {
      var fig = el("figure"), img = el("img");
      img.src = p.src;  // a data: URL written by assay; the CSP allows no other image source
      img.alt = p.name;
      fig.appendChild(img);
      fig.appendChild(el("figcaption", "muted", p.name));
      plots.appendChild(fig);
    });
  }

  // ---- filters -----------------------------------------------------------------------------
  var fOutcome = document.getElementById("f-outcome"), fParse = document.getElementById("f-parse"),
    fTrunc = document.getElementById("f-trunc"), fSlice = document.getElementById("f-slice"),
    fText = document.getElementById("f-text"), count = document.getElementById("count");

  function anyPass(it, fn) { return it.b.some(fn) || it.c.some(fn); }
  function hasErr(it) { return anyPass(it, function (p) { return !!p.err; }); }
  function hasTrunc(it) { return anyPass(it, function (p) { return !!p.trunc; }); }

  function sliceOptions() {
    var seen = {};
    items.forEach(function (it) {
      Object.keys(it.sl).forEach(function (k) { seen[k + "=" + it.sl[k]] = [k, String(it.sl[k])]; });
    });
    Object.keys(seen).sort().forEach(function (key) {
      var o = el("option", "", key);
      o.value = key;
      fSlice.appendChild(o);
    });
  }

  function haystack(i) {
    if (hay === null) hay = new Array(items.length);
    if (hay[i] === undefined) {
      var it = items[i], parts = [it.id];
      it.b.concat(it.c).forEach(function (p) { parts.push(p.out || "", p.err || ""); });
      hay[i] = parts.join("\n").toLowerCase();
    }
    return hay[i];
  }

  function applyFilters() {
    var o = fOutcome.value, pe = fParse.checked, tr = fTrunc.checked,
      s = fSlice.value, q = fText.value.trim().toLowerCase(), sk = null, sv = null;
    if (s) { var cut = s.indexOf("="); sk = s.slice(0, cut); sv = s.slice(cut + 1); }
    var keepId = sel >= 0 ? items[view[sel]].id : null;
    view = [];
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      if (o && it.o !== o) continue;
      if (pe && !hasErr(it)) continue;
      if (tr && !hasTrunc(it)) continue;
      if (sk !== null && String(it.sl[sk]) !== sv) continue;
      if (q && haystack(i).indexOf(q) < 0) continue;
      view.push(i);
    }
    count.textContent = view.length + " of " + items.length + " items";
    document.getElementById("spacer").style.height = (view.length * ROW) + "px";
    sel = -1;
    if (keepId !== null) {
      for (var k = 0; k < view.length; k++) if (items[view[k]].id === keepId) { sel = k; break; }
    }
    drawRows(true);
    if (sel < 0) showDetail(null);
  }

  // ---- the virtualised list: only the rows in sight exist --------------------------------
  var list = document.getElementById("list"), spacer = document.getElementById("spacer");
  var drawn = {first: -1, last: -1};

  function drawRows(force) {
    var top = list.scrollTop, h = list.clientHeight || 600;
    var first = Math.max(0, Math.floor(top / ROW) - PAD);
    var last = Math.min(view.length, Math.ceil((top + h) / ROW) + PAD);
    if (!force && first === drawn.first && last === drawn.last) return;
    drawn = {first: first, last: last};
    clear(spacer);
    for (var k = first; k < last; k++) spacer.appendChild(rowOf(k));
  }

  function rowOf(k) {
    var it = items[view[k]], r = el("div", "row" + (k === sel ? " sel" : ""));
    r.style.top = (k * ROW) + "px";
    r.dataset.k = String(k);
    r.appendChild(document.createTextNode(it.id));
    if (it.o && it.o !== "both right") r.appendChild(el("span", "tag " + it.o.replace(" ", "-"), it.o));
    if (hasErr(it)) r.appendChild(el("span", "tag", "parse failure"));
    if (hasTrunc(it)) r.appendChild(el("span", "tag", "truncated"));
    return r;
  }

  list.addEventListener("scroll", function () { drawRows(false); });
  list.addEventListener("click", function (ev) {
    var r = ev.target.closest ? ev.target.closest(".row") : null;
    if (r) select(Number(r.dataset.k), true);
  });

  function select(k, updateHash) {
    if (k < 0 || k >= view.length) return;
    sel = k;
    var top = k * ROW;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW > list.scrollTop + list.clientHeight) list.scrollTop = top + ROW - list.clientHeight;
    drawRows(true);
    var it = items[view[k]];
    showDetail(it);
    if (updateHash) history.replaceState(null, "", "#item=" + encodeURIComponent(it.id));
  }

  // ---- one item ----------------------------------------------------------------------------
  function words(t) { return (t || "").split(/(\s+)/).filter(function (w) { return w !== ""; }); }

  // Word-level diff (longest common subsequence); skipped when the two texts are too long.
  function diff(a, b) {
    var n = a.length, m = b.length;
    if (n * m > 4e6) return null;
    var L = new Array(n + 1);
    for (var i = 0; i <= n; i++) L[i] = new Uint32Array(m + 1);
    for (i = n - 1; i >= 0; i--) for (var j = m - 1; j >= 0; j--)
      L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    var ops = [];
    i = 0; j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { ops.push([0, a[i]]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) { ops.push([-1, a[i]]); i++; }
      else { ops.push([1, b[j]]); j++; }
    }
    for (; i < n; i++) ops.push([-1, a[i]]);
    for (; j < m; j++) ops.push([1, b[j]]);
    return ops;
  }

  function textBlock(ops, side, fallback) {
    var pre = el("pre");
    if (ops === null) { pre.textContent = fallback === null ? "(no output)" : fallback; return pre; }
    ops.forEach(function (op) {
      if (op[0] === 0) pre.appendChild(document.createTextNode(op[1]));
      else if (op[0] === side) pre.appendChild(el("span", side < 0 ? "del" : "ins", op[1]));
    });
    return pre;
  }

  function scoresList(scores) {
    var dl = el("dl");
    Object.keys(scores).forEach(function (k) {
      dl.appendChild(el("dt", "", k));
      dl.appendChild(el("dd", "", show(scores[k])));
    });
    return dl;
  }

  function passBlock(label, p, ops, side) {
    var box = el("div", "side");
    box.appendChild(el("h3", "", label + (p.pass !== "original" ? " (" + p.pass + " order)" : "")));
    var dl = el("dl");
    dl.appendChild(el("dt", "", "parsed"));
    dl.appendChild(el("dd", p.err ? "err" : "", p.err ? "parse failure: " + p.err : show(p.parsed)));
    if (p.trunc) { dl.appendChild(el("dt", "", "truncated")); dl.appendChild(el("dd", "err", "hit the token limit")); }
    box.appendChild(dl);
    box.appendChild(textBlock(ops, side, p.out));
    box.appendChild(el("h3", "", "scores and evidence"));
    box.appendChild(scoresList(p.scores));
    return box;
  }

  function showDetail(it) {
    var d = document.getElementById("detail");
    clear(d);
    if (!it) { d.appendChild(el("p", "muted", view.length ? "Select an item." : "No item matches.")); return; }
    d.appendChild(el("h2", "item-id", "item " + it.id));
    var meta = el("dl");
    meta.appendChild(el("dt", "", "outcome" + (D.headline ? " (" + D.headline + ")" : "")));
    meta.appendChild(el("dd", "", it.o || "n/a"));
    Object.keys(it.gold).forEach(function (k) {
      meta.appendChild(el("dt", "", k === "gold" ? "gold" : "gold " + k));
      meta.appendChild(el("dd", "", show(it.gold[k])));
    });
    Object.keys(it.sl).forEach(function (k) {
      meta.appendChild(el("dt", "", k === "slice" ? "slice" : "slice " + k));
      meta.appendChild(el("dd", "", show(it.sl[k])));
    });
    d.appendChild(meta);
    d.appendChild(el("h3", "", "prompt"));
    if (it.p < 0) d.appendChild(el("p", "muted", "prompt not stored (a run from before prompts were kept)"));
    else D.prompts[it.p].forEach(function (msg) {
      d.appendChild(el("div", "muted", msg.role));
      d.appendChild(el("pre", "prompt", msg.content));
    });
    var passes = {};
    it.b.concat(it.c).forEach(function (p) { passes[p.pass] = true; });
    Object.keys(passes).forEach(function (name) {
      var pb = it.b.filter(function (p) { return p.pass === name; })[0],
        pc = it.c.filter(function (p) { return p.pass === name; })[0];
      var ops = pb && pc ? diff(words(pb.out), words(pc.out)) : null;
      var sides = el("div", "sides");
      sides.appendChild(pb ? passBlock(D.base === "base" ? "base" : D.base + " (base)", pb, ops, -1) : el("p", "muted", "no " + name + " completion"));
      sides.appendChild(pc ? passBlock(D.cand === "candidate" ? D.cand : D.cand + " (candidate)", pc, ops, 1) : el("p", "muted", "no " + name + " completion"));
      d.appendChild(sides);
    });
    if (it.j) {
      d.appendChild(el("h3", "", "judge reasoning"));
      var js = el("div", "sides");
      [["original order", it.j.original, it.j.vo], ["swapped order", it.j.swapped, it.j.vs]].forEach(function (x) {
        var box = el("div");
        box.appendChild(el("div", "muted", x[0] + (x[2] ? ": " + x[2] : "")));
        box.appendChild(el("pre", "", x[1] === null ? "(none)" : x[1]));
        js.appendChild(box);
      });
      d.appendChild(js);
    }
  }

  // ---- keyboard and deep links -------------------------------------------------------------
  document.addEventListener("keydown", function (ev) {
    var typing = ev.target === fText || ev.target.tagName === "SELECT";
    if (ev.key === "Escape" && ev.target === fText) { fText.blur(); list.focus(); return; }
    if (typing) return;
    if (ev.key === "/") { ev.preventDefault(); fText.focus(); return; }
    if (ev.key === "j" || ev.key === "ArrowDown") { ev.preventDefault(); select(Math.min(view.length - 1, sel + 1), true); }
    if (ev.key === "k" || ev.key === "ArrowUp") { ev.preventDefault(); select(Math.max(0, sel - 1), true); }
  });

  function followHash() {
    var h = location.hash, m = /^#item=(.*)$/.exec(h);
    if (!m) return;
    var id;
    try { id = decodeURIComponent(m[1]); } catch (e) { return; }
    var k = -1;
    for (var i = 0; i < view.length; i++) if (items[view[i]].id === id) { k = i; break; }
    if (k < 0) {  // filtered out: show every item, then find it
      fOutcome.value = ""; fParse.checked = false; fTrunc.checked = false; fSlice.value = ""; fText.value = "";
      applyFilters();
      for (i = 0; i < view.length; i++) if (items[view[i]].id === id) { k = i; break; }
    }
    if (k >= 0) select(k, false);
  }
  window.addEventListener("hashchange", followHash);

  [fOutcome, fParse, fTrunc, fSlice].forEach(function (e) { e.addEventListener("change", applyFilters); });
  var timer = null;
  fText.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(applyFilters, 120); });

  results();
  if (D.itemsMissing) {
    document.getElementById("panes").hidden = true;
    document.getElementById("filters").hidden = true;
    document.getElementById("browser").appendChild(el("p", "muted", "The runs of this comparison were not found, so its items cannot be shown. Rerun `assay report` where the run directories are."));
  } else {
    sliceOptions();
    applyFilters();
    followHash();
  }
  document.body.dataset.parseMs = String(Math.round(tParsed - t0));
  document.body.dataset.initMs = String(Math.round(performance.now() - tParsed));
  document.body.dataset.ready = "1";
}).catch(function (e) {
  document.body.dataset.error = String(e);
  document.getElementById("title").textContent = "report.html: the data could not be read (" + e + ")";
});
