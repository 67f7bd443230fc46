// The explorer's glue (spectrocam/report/explorer.py): it fills Bokeh's models from the data
// files and loads a token's arrays when it is selected. All drawing is Bokeh's.
(function () {
  "use strict";
  const E = { experiments: {}, chunks: {}, models: {}, waiting: {}, state: {}, expected: [],
    filled: {}, loading: {}, pending: {}, current: null };
  window.SpectrocamExplorer = E;
  const NUMERIC = ["p_true", "p_predicted", "start_s", "end_s", "window_centre_s",
    "duration_ms", "f1_hz", "f2_hz", "f3_hz", "ratio_F1", "ratio_F2", "ratio_F3", "ratio_any",
    "peak_hz", "peak_hit"];

  // The first tab's data file is loaded with the page; another's when its tab is first shown.
  E.expect = function (names) { E.expected = names; };
  E.experiment = function (name, data) { E.experiments[name] = data; fill(name); };
  E.missing = function (name) {
    E.loading[name] = "failed";
    const m = E.models[name];
    if (m) m.count.text = "<b>The data file data/" + esc(name) + ".js did not load.</b>";
  };
  E.show = function (name) {
    E.current = name;
    if (E.filled[name]) writeHash(name);
    if (E.experiments[name] || E.loading[name]) return;
    E.loading[name] = true;
    const script = document.createElement("script");
    script.src = "data/" + encodeURIComponent(name) + ".js";
    script.onerror = () => E.missing(name);
    document.head.appendChild(script);
  };
  E.chunk = function (name, k, tokens) {
    const store = (E.chunks[name] = E.chunks[name] || {});
    for (const t of tokens) store[t.row] = t;
    const key = name + "/" + k;
    const waiting = E.waiting[key] || [];
    E.waiting[key] = "loaded";
    if (Array.isArray(waiting)) waiting.forEach((f) => f());
  };

  // The view lives in the address's fragment: #experiment=...&token=<phone_id>&method=<map>
  // &compare=<phone_id>. A report's link opens the explorer there; without one, the explorer
  // opens on each experiment's representative token.
  function parseHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    return { experiment: p.get("experiment"), token: p.get("token"), method: p.get("method"),
      compare: p.get("compare") };
  }
  function writeHash(name) {
    const d = E.experiments[name], m = E.models[name], st = E.state[name];
    if (!d || !m || !st || st.row === null || name !== E.current) return;
    const p = new URLSearchParams({ experiment: name, token: d.table.phone_id[st.row],
      method: m.method.value });
    if (st.compare !== null && st.compare !== undefined) p.set("compare", d.table.phone_id[st.compare]);
    history.replaceState(null, "", "#" + p.toString());
  }
  E.route = function (tabs, names) {
    E.tabs = tabs; E.names = names;
    const s = parseHash();
    const name = names.includes(s.experiment) ? s.experiment : names[0];
    E.pending[name] = s.experiment === name ? s : {};
    E.current = name;
    const k = names.indexOf(name);
    if (tabs.active !== k) tabs.active = k;  // its callback loads the tab and lays it out
    apply(name);
  };
  window.addEventListener("hashchange", () => { if (E.tabs) E.route(E.tabs, E.names); });

  // the pending view of an experiment, once its data and models are filled
  function apply(name) {
    const d = E.experiments[name], m = E.models[name], s = E.pending[name];
    if (!d || !m || !E.filled[name] || !s) return;
    delete E.pending[name];
    const rowOf = (id) => (id ? d.table.phone_id.indexOf(id) : -1);
    if (s.method && d.maps.some((e) => e.key === s.method) && m.method.value !== s.method) {
      m.method.value = s.method;
    }
    const c = rowOf(s.compare);
    if (c >= 0) setCompare(name, m, c);
    let row = rowOf(s.token);
    if (row < 0) row = d.representative || 0;
    if (m.tokens.selected.indices[0] === row) E.select(name, m);
    else m.tokens.selected.indices = [row];  // its callback draws the token
  }

  function loadChunk(name, k, done, failed) {
    const key = name + "/" + k;
    if (E.waiting[key] === "loaded") return done();
    if (Array.isArray(E.waiting[key])) return E.waiting[key].push(done);
    E.waiting[key] = [done];
    const script = document.createElement("script");
    script.src = "data/" + encodeURIComponent(name) + "/" + k + ".js";
    script.onerror = () => { delete E.waiting[key]; failed(script.src); };
    document.head.appendChild(script);
  }

  // base64 little-endian float16 -> Float32Array
  function halfs(b64) {
    const bin = atob(b64);
    const out = new Float32Array(bin.length / 2);
    for (let i = 0; i < out.length; i++) {
      const h = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
      const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
      out[i] = e === 0 ? s * Math.pow(2, -14) * (f / 1024)
        : e === 31 ? (f ? NaN : s * Infinity) : s * Math.pow(2, e - 15) * (1 + f / 1024);
    }
    return out;
  }
  E.halfs = halfs;
  const unrun = (runs) => runs.flatMap(([v, n]) => Array(n).fill(v));

  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const num = (v, d) => (v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(d));

  E.init = function (name, m) {
    E.models[name] = m;
    E.state[name] = { row: null, compare: null };
    if (E.loading[name] === "failed") E.missing(name);
    fill(name);
  };

  // fill an experiment's models once both its data and its models are there
  function fill(name) {
    const d = E.experiments[name], m = E.models[name];
    if (!d || !m || E.filled[name]) return;
    E.filled[name] = true;
    const cols = {};
    for (const k of Object.keys(m.tokens.data)) {
      const v = d.table[k] || [];
      cols[k] = NUMERIC.includes(k) ? Float64Array.from(v, (x) => (x === null ? NaN : x)) : v;
    }
    m.tokens.data = cols;
    E.filter(name, m);
    E.redraw(name, m);
    if (!(name in E.pending) && E.state[name].row === null) E.pending[name] = {};
    apply(name);
    if (name === E.expected[0]) {
      // ready once the filled models have been painted
      requestAnimationFrame(() => requestAnimationFrame(() => {
        E.readyAt = performance.now();
        document.documentElement.dataset.explorerReady = "1";
      }));
    }
  }

  E.filter = function (name, m) {
    const t = E.experiments[name].table;
    const cls = m.cls.value, outcome = m.outcome.value;
    const word = (m.word.value_input ?? "").trim().toLowerCase();
    const keep = [];
    for (let i = 0; i < t.row.length; i++) {
      if (cls !== "all" && t.class_name[i] !== cls) continue;
      if (outcome !== "all" && t.outcome[i] !== outcome) continue;
      if (word && !t.word[i].toLowerCase().includes(word)) continue;
      keep.push(i);
    }
    m.filter.indices = keep;
    m.count.text = "<p><b>" + keep.length + "</b> of " + t.row.length + " tokens shown</p>";
  };

  E.select = function (name, m) {
    const picked = m.tokens.selected.indices;
    if (!picked.length) return;
    const d = E.experiments[name], row = picked[0];
    E.state[name].row = row;
    m.info.text = "<p>loading token " + row + "…</p>";
    writeHash(name);
    loadChunk(name, Math.floor(row / d.chunk_tokens),
      () => { if (E.state[name].row === row) draw(name, m, row); },
      (src) => { m.info.text = "<p><b>Could not load " + esc(src) + ".</b></p>"; });
  };

  // a figure as SVG (BokehJS paints it again on an SVG context): a promise of the text
  E.svgOf = function (fig) {
    const view = Object.values(Bokeh.index).map((r) => r.owner.find_one(fig)).find((v) => v);
    return view.export("svg").to_blob().then((blob) => blob.text());
  };
  // the token's figures (itself, the compared token, every map of it) downloaded as SVG files
  E.save_svg = function (name, m) {
    const d = E.experiments[name], st = E.state[name];
    if (st.row === null) return;
    const id = (row) => d.table.phone_id[row].replace(/[^A-Za-z0-9_-]+/g, "_");
    const files = [[m.figures[0], name + "_" + id(st.row)]];
    if (st.compare !== null) files.push([m.figures[1], name + "_" + id(st.compare) + "_compared"]);
    d.maps.forEach((e, k) => files.push([m.figures[2 + k], name + "_" + id(st.row) + "_" +
      e.key.replace(/\+/g, "plus").replace(/[^A-Za-z0-9_-]+/g, "_")]));
    files.forEach(([fig, file], k) => E.svgOf(fig).then((text) => {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
      a.download = file + ".svg";
      setTimeout(() => { a.click(); URL.revokeObjectURL(a.href); }, 200 * k);
    }));
  };

  // keep the selected token on the right, beside the next one selected
  E.compare = function (name, m) {
    const row = E.state[name].row;
    if (row === null) return;
    setCompare(name, m, row);
    writeHash(name);
  };
  function setCompare(name, m, row) {
    const d = E.experiments[name];
    E.state[name].compare = row;
    loadChunk(name, Math.floor(row / d.chunk_tokens),
      () => { if (E.state[name].compare === row) drawSlot(name, m, row, "_b"); },
      (src) => { m.spec_title_b.text = "Could not load " + src; });
  }

  // the method (or its class) changed: the map over the spectrogram and the profiles
  E.redraw = function (name, m) {
    const d = E.experiments[name];
    const entry = d.maps.find((e) => e.key === m.method.value) || d.maps[0];
    const profiles = entry ? d.profiles[entry.method] || {} : {};
    d.class_names.forEach((c, i) => {
      const p = profiles[c];
      m.profiles[i].data = { f: d.freqs_hz, p: p ? halfs(p.profile) : d.freqs_hz.map(() => NaN) };
      m.profile_titles[i].text = c + (p ? " (" + entry.method + ", n = " + p.n + ")" : " (no maps)");
    });
    const st = E.state[name], have = (r) => r !== null && E.chunks[name] && E.chunks[name][r];
    if (have(st.row)) drawMap(name, m, st.row, "");
    if (have(st.compare)) drawMap(name, m, st.compare, "_b");
    writeHash(name);
  };

  function grid(d, row) {
    const t = d.table, F = d.freqs_hz.length, T = d.times_s.length;
    const df = F > 1 ? d.freqs_hz[1] - d.freqs_hz[0] : 1;
    const dt = T > 1 ? d.times_s[1] - d.times_s[0] : 0.01;
    const x0 = t.window_centre_s[row] + d.times_s[0] - dt / 2;
    return { F, T, x: x0, y: d.freqs_hz[0] - df / 2, dw: T * dt, dh: F * df };
  }

  // an (F, T) image for Bokeh: its own n-dimensional array type, row 0 at the bottom
  function rows2d(values, F, T) {
    return Bokeh.require("core/util/ndarray").ndarray(values, { dtype: "float32", shape: [F, T] });
  }

  // a map on the grid: its cells (float16, scaled) spread over the rows and frames, its positive
  // part scaled to its maximum (NaN elsewhere: transparent); and that maximum
  function mapImage(entry, stored, g) {
    const cells = halfs(stored.cells), tc = entry.cells[1];
    const rc = (entry._rc = entry._rc || unrun(entry.row_cell));
    const fc = (entry._fc = entry._fc || unrun(entry.frame_cell));
    const out = new Float32Array(g.F * g.T);
    let top = 0;
    for (let r = 0; r < g.F; r++) {
      for (let j = 0; j < g.T; j++) {
        const v = cells[rc[r] * tc + fc[j]];
        out[r * g.T + j] = v;
        if (v > top) top = v;
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = top > 0 && out[i] > 0 ? out[i] / top : NaN;
    return { image: rows2d(out, g.F, g.T), top: top };
  }
  const NO_IMAGE = () => ({ image: [], x: [], y: [], dw: [], dh: [] });
  const placed = (image, g) => ({ image: [image], x: [g.x], y: [g.y], dw: [g.dw], dh: [g.dh] });

  function drawMap(name, m, row, sfx) {
    const d = E.experiments[name], tok = E.chunks[name][row], g = grid(d, row);
    const entry = d.maps.find((e) => e.key === m.method.value);
    const stored = entry && tok.maps[entry.key];
    const note = sfx ? null : m.mapnote;
    if (!stored) {
      m["map" + sfx].data = NO_IMAGE();
      if (note) note.text = entry ? "<p>No " + esc(entry.label) + " map of this token: the " +
        "method ran on a subset (explain.max_per_class).</p>" : "";
      return;
    }
    const made = mapImage(entry, stored, g);
    m["map" + sfx].data = placed(made.image, g);
    if (note) note.text = "<p>" + esc(entry.label) + ": " + entry.cells[0] + " x " +
      entry.cells[1] + " cells of " + esc(entry.stage) + ", " + num(entry.hz_per_cell, 0) +
      " Hz and " + num(1000 * entry.s_per_cell, 0) + " ms per cell" +
      (made.top > 0 ? "" : "; <b>nowhere positive for this token</b>") + ".</p>";
  }

  // every map of the token at once, each over its spectrogram
  function drawAll(name, m, row, spectrogram) {
    const d = E.experiments[name], tok = E.chunks[name][row], g = grid(d, row);
    d.maps.forEach((entry, k) => {
      m.all_specs[k].data = placed(spectrogram, g);
      m.all_xr[k].setv({ start: g.x, end: g.x + g.dw, reset_start: g.x, reset_end: g.x + g.dw });
      const stored = tok.maps[entry.key];
      m.all_maps[k].data = stored ? placed(mapImage(entry, stored, g).image, g) : NO_IMAGE();
      m.all_titles[k].text = entry.label + (stored ? "" : ": none for this token");
    });
  }

  // a token's spectrogram, map, formants, boundaries and title into the slot sfx ("" or "_b")
  function drawSlot(name, m, row, sfx) {
    const d = E.experiments[name], t = d.table, tok = E.chunks[name][row], g = grid(d, row);
    const spectrogram = rows2d(halfs(tok.spectrogram), g.F, g.T);
    m["spec" + sfx].data = placed(spectrogram, g);
    // the window, and the whole phone where it is longer than the window
    const x0 = Math.min(g.x, t.start_s[row] - 0.01), x1 = Math.max(g.x + g.dw, t.end_s[row] + 0.01);
    m["xr" + sfx].setv({ start: x0, end: x1, reset_start: x0, reset_end: x1 });
    drawMap(name, m, row, sfx);
    const lo = g.y, hi = g.y + g.dh;
    const fx0 = [], fx1 = [], fy = [], fl = [];
    [1, 2, 3].forEach((k) => {
      const f = t["f" + k + "_hz"][row];
      if (f !== null && isFinite(f)) {
        fx0.push(t.start_s[row]); fx1.push(t.end_s[row]); fy.push(f); fl.push("F" + k);
      }
    });
    m["formants" + sfx].data = { x0: fx0, x1: fx1, y: fy, label: fl };
    const bx = [], by0 = [], by1 = [], dash = [], colour = [], lx = [], ly = [], lt = [];
    for (const [phone, start, end, , own] of tok.phones) {
      for (const x of [start, end]) {
        if (x >= x0 && x <= x1) {
          bx.push(x); by0.push(lo); by1.push(hi);
          dash.push(own ? "dashed" : "dotted"); colour.push(own ? "#00aaff" : "#888888");
        }
      }
      const mid = (Math.max(start, x0) + Math.min(end, x1)) / 2;
      if (end > x0 && start < x1) { lx.push(mid); ly.push(hi); lt.push(phone); }
    }
    m["bounds" + sfx].data = { x: bx, y0: by0, y1: by1, dash: dash, colour: colour };
    m["labels" + sfx].data = { x: lx, y: ly, text: lt };
    m["spec_title" + sfx].text = (sfx ? "Compare: " : "") + t.utt_id[row] + " '" + t.word[row] +
      "' " + t.phone[row] + ": true " + t.class_name[row] + ", predicted " +
      t.predicted_name[row] + " (p " + num(t.p_predicted[row], 2) + ")";
    return spectrogram;
  }

  function draw(name, m, row) {
    const d = E.experiments[name], t = d.table, tok = E.chunks[name][row];
    const spectrogram = drawSlot(name, m, row, "");
    drawAll(name, m, row, spectrogram);
    const probs = t.probabilities[row];
    m.probs.data = { class_name: d.class_names, p: probs, colour: d.class_names.map((c) =>
      c === t.class_name[row] ? "#2ca02c" : c === t.predicted_name[row] ? "#d62728" : "#bbbbbb") };
    m.info.text = info(d, t, tok, row);
    E.drawn = { name: name, row: row };
  }

  function audio(d, t, row) {
    const a = d.audio[t.utt_id[row]];
    if (!a) return "<p>No sound file for this clip.</p>";
    const from = Math.max(0, t.start_s[row] - d.audio_context_s);
    const to = Math.min(a.duration_s, t.end_s[row] + d.audio_context_s);
    const frag = "#t=" + from.toFixed(3) + "," + to.toFixed(3);
    return "<p>The phone with " + num(1000 * d.audio_context_s, 0) + " ms of context (" +
      from.toFixed(2) + "–" + to.toFixed(2) + " s of the clip):<br>" +
      "<audio controls preload='metadata' data-from='" + from.toFixed(3) + "' data-to='" +
      to.toFixed(3) + "'><source src='" + esc(a.rel + frag) + "' type='audio/wav'>" +
      "<source src='" + esc(a.abs + frag) + "' type='audio/wav'></audio></p>";
  }

  function info(d, t, tok, row) {
    const ok = t.outcome[row] === "correct";
    const context = tok.phones.map(([p, , , , own]) => (own ? "<b>[" + esc(p) + "]</b>" : esc(p)));
    const agree = tok.agreement.map((a) => "<tr><td>" + esc(a.key) + "</td><td>" +
      [a.ratio_F1, a.ratio_F2, a.ratio_F3, a.ratio_any].map((v) => num(v, 2)).join("</td><td>") +
      "</td><td>" + num(a.peak_hz, 0) + "</td><td>" +
      (a.peak_hit === null ? "–" : a.peak_hit ? "yes" : "no") + "</td></tr>").join("");
    return "<div class='token'><p><b>'" + esc(t.word[row]) + "'</b>, " + esc(t.phone[row]) +
      (t.stress[row] ? " (stress " + esc(t.stress[row]) + ")" : "") + ", clip " +
      esc(t.utt_id[row]) + ", " + num(t.start_s[row], 3) + "–" + num(t.end_s[row], 3) + " s (" +
      num(t.duration_ms[row], 0) + " ms)<br>class <b>" + esc(t.class_name[row]) +
      "</b>, predicted <b>" + esc(t.predicted_name[row]) + "</b> (" +
      (ok ? "correct" : "<span style='color:#d62728'>misclassified</span>") + "), p = " +
      num(t.p_true[row], 2) + " / " + num(t.p_predicted[row], 2) + "<br>F1 " +
      num(t.f1_hz[row], 0) + ", F2 " + num(t.f2_hz[row], 0) + ", F3 " + num(t.f3_hz[row], 0) +
      " Hz<br>phones: " + context.join(" ") + "</p>" + audio(d, t, row) +
      (agree ? "<table class='agree'><tr><th>map</th><th>F1</th><th>F2</th><th>F3</th>" +
        "<th>F1-F3</th><th>peak Hz</th><th>hit</th></tr>" + agree + "</table>" +
        "<p style='font-size:.85em'>Ratios to chance of each map's profile in the formants' " +
        "bands; peak: the profile's maximum.</p>" : "") + "</div>";
  }
})();
