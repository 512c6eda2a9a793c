// The Prune page's threshold control (a Streamlit custom component v2: no iframe, no build step, nothing fetched).
// Python sends a payload once per run, ranking and rules (slimcore/pruning/browser_preview.py); on every `input`
// event this recomputes, exactly as the engine does, the channels each group keeps (`select`), the removed
// channels per (module, kind) deduplicated (`removed_per_module`), MACs (`layer_macs`), parameters
// (`slimcore.pruning.math.params`) and the BN widths, and redraws the metrics and three SVG figures. On release
// (`change`) it hands the threshold to Python, which evaluates that exact threshold and sends its accuracy back.
// The curve's x-axis is switched here (FLOPs share, parameters share, or latency when the curve was timed: measured
// at the timed plans, interpolated along FLOPs between them as `estimate_latency` does); fine-tuned commits are drawn
// on it beside their one-shot accuracy.

const NS = "http://www.w3.org/2000/svg";
const TIED_STEP = 5e-324; // the spacing of tie-broken scores at 0 (slimcore.pruning.math.ties)

/** Float64 values from base64 of their little-endian bytes: bit for bit, denormals included. */
function f64(text) {
  const bin = atob(text);
  const view = new DataView(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) view.setUint8(i, bin.charCodeAt(i));
  const out = new Float64Array(bin.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

/** How many of the ascending `sorted` values are < t. */
function countBelow(sorted, t) {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** The engine's arithmetic over a payload: widths, MACs, parameters for any threshold. */
class Preview {
  constructor(p) {
    this.minChannels = p.min_channels;
    this.minKept = p.min_kept;
    this.roundTo = p.round_to;
    this.keys = p.keys.map(([module, kind, size]) => ({ module, kind, stamp: new Int32Array(Math.max(size, 1)) }));
    const index = new Map(this.keys.map((k, i) => [k.module + "\u0000" + k.kind, i]));
    const key = (m, k) => (index.has(m + "\u0000" + k) ? index.get(m + "\u0000" + k) : -1);
    this.counts = new Int32Array(this.keys.length);
    this.groups = p.groups.map((g) => {
      const scores = f64(g.scores);
      return {
        name: g.name, width: g.width, scores, sorted: Float64Array.from(scores).sort(),
        order: Int32Array.from(g.order), mask: new Uint8Array(g.width),
        items: g.items.map(([k, idxs, roots]) => ({ k, idxs: Int32Array.from(idxs), roots: Int32Array.from(roots) })),
      };
    });
    const layer = (s) => ({ kind: s.kind, inC: s.in, outC: s.out, groups: s.groups, kernel: s.kernel,
      out: key(s.name, "out"), in: key(s.name, "in"), dw: key(s.name, "dw"), bn: key(s.name, "bn") });
    this.macsLayers = p.macs_layers.map((s) => ({ ...layer(s), positions: s.positions }));
    this.paramLayers = p.param_layers.map((s) => ({ ...layer(s), bias: s.bias }));
    this.fixed = p.fixed_params;
    this.bns = p.bns.map(([name, n]) => ({ name, n, k: key(name, "bn") }));
    this.thresholds = f64(p.thresholds);
    this.allScores = Float64Array.from(this.groups.flatMap((g) => Array.from(g.scores))).sort();
    this.epoch = 0;
  }

  /** {macs, flops, params, widths, kept, removed, clamped, keeps} of the model threshold `t` cuts. */
  compute(t) {
    const epoch = ++this.epoch, counts = this.counts;
    counts.fill(0);
    let removed = 0, clamped = false;
    const keeps = new Array(this.groups.length);
    for (let gi = 0; gi < this.groups.length; gi++) {
      const g = this.groups[gi], n = g.width;
      const below = countBelow(g.sorted, t), floor = Math.min(this.minChannels, n);
      let keep = Math.max(n - below, floor);
      if (n - below < floor) clamped = true;
      if (this.minKept) { // rounded_width(max(keep, min_kept), n, round_to)
        keep = Math.max(keep, this.minKept[gi]);
        if (this.roundTo > 1) keep = Math.min(n, Math.ceil(keep / this.roundTo) * this.roundTo);
      }
      keeps[gi] = keep;
      if (keep === n) continue;
      removed += n - keep;
      const mask = g.mask; // stable descending order: the last n − keep of it go
      mask.fill(0);
      for (let j = keep; j < n; j++) mask[g.order[j]] = 1;
      for (const it of g.items) { // each (module, kind) index counted once, whichever group removes it
        const stamp = this.keys[it.k].stamp;
        let c = 0;
        for (let j = 0; j < it.idxs.length; j++) {
          if (mask[it.roots[j]] && stamp[it.idxs[j]] !== epoch) { stamp[it.idxs[j]] = epoch; c++; }
        }
        counts[it.k] += c;
      }
    }
    const r = (k) => (k < 0 ? 0 : counts[k]);
    const widthsOf = (l) => { // layer_macs's widths: out, in and groups after removing out, in, tied channels
      const tied = r(l.dw);
      return [l.outC - r(l.out) - tied, l.inC - r(l.in) - tied, tied ? l.groups - tied : l.groups];
    };
    let macs = 0;
    for (const l of this.macsLayers) {
      const [outC, inC, groups] = widthsOf(l);
      macs += l.kernel * Math.floor(inC / groups) * outC * l.positions;
    }
    let params = this.fixed;
    for (const l of this.paramLayers) {
      if (l.kind === "bn") { params += 2 * (l.outC - r(l.bn)); continue; }
      const [outC, inC, groups] = widthsOf(l);
      params += l.kernel * Math.floor(inC / groups) * outC + (l.bias || r(l.in) ? outC : 0);
    }
    const widths = {};
    let kept = 0;
    for (const b of this.bns) { const w = b.n - r(b.k); widths[b.name] = w; kept += w; }
    return { macs, flops: 2 * macs, params, widths, kept, removed, clamped, keeps };
  }
}

function el(parent, tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

const pct = (v, digits = 1) => `${(100 * v).toFixed(digits)} %`;
const signed = (v, digits = 1, unit = " %") => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(digits)}${unit}`;
const count = (v) => v.toLocaleString("en-US");
const short = (v) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G` : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M`
  : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : `${v}`);

/** np.interp: linear between ascending nodes [[x, y], ...], the end values beyond them. */
function interp(nodes, x) {
  if (!nodes.length) return null;
  if (x <= nodes[0][0]) return nodes[0][1];
  const last = nodes[nodes.length - 1];
  if (x >= last[0]) return last[1];
  let hi = 1;
  while (nodes[hi][0] < x) hi++;
  const [x0, y0] = nodes[hi - 1], [x1, y1] = nodes[hi];
  return x1 === x0 ? y1 : y0 + ((x - x0) / (x1 - x0)) * (y1 - y0);
}

const AXES = { flops: "FLOPs", params: "parameters", latency: "latency" };
const ms = (v) => `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3)} ms`;

function thresholdText(t) {
  if (t === 0) return "0";
  if (t > 0 && t < 1e-300) return `0 + ${Math.round(t / TIED_STEP)} ulp (tied at 0)`;
  return Number(t.toPrecision(4)).toString();
}

class Control {
  constructor(root) {
    this.root = root;
    this.range = root.querySelector(".thr-range");
    this.value = root.querySelector(".thr-value");
    this.metric = {};
    for (const m of root.querySelectorAll(".metric")) {
      this.metric[m.dataset.metric] = { value: m.querySelector(".m-value"), delta: m.querySelector(".m-delta") };
    }
    this.svg = { hist: root.querySelector("svg.hist"), curve: root.querySelector("svg.curve"),
      bars: root.querySelector("svg.bars") };
    this.histTitle = root.querySelector(".hist-title");
    this.curveTitle = root.querySelector(".curve-title");
    this.curveLegend = root.querySelector(".curve-legend");
    this.curveNote = root.querySelector(".curve-note");
    this.axisInputs = [...root.querySelectorAll("input[name=slim-thr-axis]")];
    this.latencyOption = root.querySelector(".axis-latency");
    this.axis = "flops";
    this.latency = null;
    this.recovered = [];
    this.extraKey = null;
    this.payloadId = null;
    this.nonce = null;
    this.pointer = false;
    this.pending = null; // {t, start}: a release waiting for Python's exact answer
    this.exact = new Map(); // plan signature → {accuracy, output_change, source}
    this.timings = { input: [], paint: [], release: [] };
    this.keyTimer = null;
    this.seq = 0;
    this.bind();
  }

  bind() {
    const r = this.range;
    r.addEventListener("input", (ev) => this.show(Number(r.value), ev.timeStamp));
    r.addEventListener("change", () => {
      if (this.pointer) { this.commit(); return; }
      clearTimeout(this.keyTimer); // keys: one evaluation once the user stops pressing
      this.keyTimer = setTimeout(() => this.commit(), 250);
    });
    for (const input of this.axisInputs) { // a radio group: Tab reaches the checked one, the arrows switch
      input.addEventListener("change", () => { if (input.checked) this.setAxis(input.value); });
    }
    r.addEventListener("pointerdown", () => { this.pointer = true; });
    window.addEventListener("pointerup", () => { setTimeout(() => { this.pointer = false; }, 0); });
    r.addEventListener("keydown", (ev) => { // Page Up / Down: a twentieth of the range (native ranges vary)
      if (ev.key !== "PageUp" && ev.key !== "PageDown") return;
      ev.preventDefault();
      const step = Math.max(1, Math.round((this.model.thresholds.length - 1) / 20));
      const to = Math.min(Number(r.max), Math.max(0, Number(r.value) + (ev.key === "PageUp" ? step : -step)));
      if (to === Number(r.value)) return;
      r.value = String(to);
      r.dispatchEvent(new Event("input", { bubbles: true }));
      r.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  /** New data from Python: a new payload rebuilds everything; otherwise exact answers and moves from Python. */
  update(data, setStateValue) {
    this.setStateValue = setStateValue;
    const p = data.payload;
    const extraKey = JSON.stringify([data.latency || null, data.recovered || []]);
    const extraChanged = extraKey !== this.extraKey;
    this.extraKey = extraKey;
    this.latency = data.latency || null;
    this.recovered = data.recovered || [];
    const fresh = p.id !== this.payloadId; // another run, ranking or rules: the positions are others
    if (fresh) this.load(p);
    else if (extraChanged) { this.prepareLatency(); this.drawCurve(); }
    this.exact = new Map(this.curveExact);
    for (const e of data.evaluated || []) {
      if (!this.signatures.has(e.t)) this.signatures.set(e.t, this.model.compute(Number(e.t)).keeps.join(","));
      this.exact.set(this.signatures.get(e.t), { ...e, source: "evaluated" });
    }
    const sel = data.selected;
    if (sel && (fresh || sel.nonce !== this.nonce)) { // Python moved it (a target box, a reload, another payload)
      this.nonce = sel.nonce;
      const t = Number(sel.t), th = this.model.thresholds;
      let i = sel.i;
      if (th[i] !== t) { // not a position (an older payload's): the first position at or above it
        i = Math.min(countBelow(th, t), th.length - 1);
      }
      this.range.value = String(i);
    }
    const t = this.threshold();
    const exactNow = data.exact && Number(data.exact.t) === t;
    this.show(Number(this.range.value));
    if (exactNow && this.pending && this.pending.t === t) {
      this.timings.release.push(performance.now() - this.pending.start);
      this.pending = null;
    }
  }

  threshold() { return this.model.thresholds[Number(this.range.value)]; }

  load(p) {
    this.payloadId = p.id;
    this.payload = p;
    this.model = new Preview(p);
    this.signatures = new Map(); // threshold text → plan signature, of the evaluations Python reports
    const n = this.model.thresholds.length;
    this.range.max = String(n - 1);
    this.base = this.model.compute(this.model.thresholds[0]);
    this.label = p.score_label || "score";
    // the evaluated curve: the unpruned model first (position 0), then every stored point
    const pts = f64(p.point_thresholds);
    this.curve = [];
    this.curveExact = new Map();
    const add = (t, accuracy, change) => {
      const r = this.model.compute(t), sig = r.keeps.join(",");
      if (accuracy === null || accuracy === undefined) return;
      if (!this.curveExact.has(sig)) this.curve.push({ flops: r.flops, params: r.params, sig, accuracy, change });
      this.curveExact.set(sig, { accuracy, output_change: change, source: "curve" });
    };
    add(this.model.thresholds[0], p.base_accuracy, 0);
    pts.forEach((t, i) => add(t, p.point_accuracy[i], p.point_output_change[i]));
    this.curve.sort((a, b) => a.flops - b.flops);
    this.prepareLatency();
    this.drawHistogram();
    this.drawCurve();
    this.drawBars();
  }

  /** The timed plans (signature → ms, the first timing of each, as `latency_at_positions`); without timings the
   * latency axis is not offered. */
  prepareLatency() {
    this.timed = new Map();
    const L = this.latency;
    this.latencyOption.hidden = !L;
    if (!L) {
      if (this.axis === "latency") this.setAxis("flops", false);
      return;
    }
    for (const row of L.timed) {
      const t = row.t === null ? this.model.thresholds[0] : Number(row.t);
      const sig = this.model.compute(t).keeps.join(",");
      if (!this.timed.has(sig)) this.timed.set(sig, row.ms);
    }
  }

  /** {ms, measured} of a plan (`compute`'s result): its timing, else the estimate along FLOPs. */
  latencyAt(r) {
    const hit = this.timed.get(r.keeps ? r.keeps.join(",") : r.sig);
    if (hit !== undefined) return { ms: hit, measured: true };
    return { ms: interp(this.latency.series, this.base.flops ? r.flops / this.base.flops : 1), measured: false };
  }

  /** The x of a plan on the current axis: its FLOPs or parameters share, or its latency in ms. */
  xOf(r) {
    if (this.axis === "params") return this.base.params ? r.params / this.base.params : 1;
    if (this.axis === "latency") return this.latencyAt(r).ms;
    return this.base.flops ? r.flops / this.base.flops : 1;
  }

  setAxis(axis, redraw = true) {
    if (axis === "latency" && !this.latency) axis = "flops";
    this.axis = axis;
    for (const input of this.axisInputs) input.checked = input.value === axis;
    this.root.dataset.axis = axis;
    if (redraw && this.model) { this.drawCurve(); this.show(Number(this.range.value)); }
  }

  /** Accuracy at this plan: exact where it was evaluated, else linear in FLOPs between the neighbouring points. */
  accuracyAt(r) {
    const hit = this.exact.get(r.keeps.join(","));
    if (hit) return { accuracy: hit.accuracy, change: hit.output_change, exact: true };
    const c = this.curve;
    if (!c.length) return { accuracy: null, change: null, exact: false };
    let hi = c.findIndex((q) => q.flops >= r.flops);
    if (hi < 0) hi = c.length - 1;
    const lo = c[hi].flops > r.flops && hi > 0 ? hi - 1 : hi;
    const a = c[lo], b = c[hi];
    const w = b.flops === a.flops ? 0 : (r.flops - a.flops) / (b.flops - a.flops);
    const lerp = (x, y) => (x === null || y === null || x === undefined || y === undefined ? null : x + w * (y - x));
    return { accuracy: lerp(a.accuracy, b.accuracy), change: lerp(a.change, b.change), exact: false };
  }

  /** Recomputes and redraws everything for slider position `pos`; `since` is the input event's time stamp. */
  show(pos, since) {
    const t = this.model.thresholds[pos];
    const r = this.model.compute(t);
    const acc = this.accuracyAt(r);
    const base = this.base, baseAcc = this.payload.base_accuracy;
    const m = this.metric;
    const approx = acc.exact ? "" : "≈ ";
    this.root.dataset.exact = acc.exact ? "1" : "0";
    this.root.dataset.position = String(pos);
    this.root.dataset.threshold = String(t);
    if (acc.accuracy === null) { setText(m.accuracy.value, "–"); setText(m.accuracy.delta, "release to evaluate"); }
    else {
      setText(m.accuracy.value, `${approx}${(100 * acc.accuracy).toFixed(2)}%`);
      const d = baseAcc === null || baseAcc === undefined ? "" : signed(100 * (acc.accuracy - baseAcc), 2, " pp");
      m.accuracy.delta.replaceChildren(document.createTextNode(d));
      if (!acc.exact) {
        const badge = document.createElement("span");
        badge.className = "approx";
        badge.textContent = this.pending && this.pending.t === t ? "≈ interpolated · evaluating…" : "≈ interpolated";
        m.accuracy.delta.appendChild(badge);
      }
    }
    const fr = base.flops ? r.flops / base.flops : 1, pr = base.params ? r.params / base.params : 1;
    setText(m.flops.value, pct(fr));
    setText(m.flops.delta, `${signed(100 * (fr - 1))} · ${short(r.flops)}FLOPs`);
    setText(m.params.value, pct(pr));
    setText(m.params.delta, `${signed(100 * (pr - 1))} · ${count(r.params)}`);
    setText(m.kept.value, `${r.kept} / ${base.kept}`);
    setText(m.kept.delta, `${r.kept - base.kept}` + (r.clamped ? " · min width kept" : ""));
    m.kept.delta.classList.toggle("clamped", r.clamped);
    if (acc.change === null) { setText(m.change.value, "–"); setText(m.change.delta, ""); }
    else {
      setText(m.change.value, approx + (acc.change < 1e-5 ? "none" : pct(acc.change)));
      setText(m.change.delta, acc.change < 1e-5 ? "exact removal" : "of the logits");
    }
    const tText = thresholdText(t);
    setText(this.value, `${tText} · ${pos + 1} / ${this.model.thresholds.length}`);
    const lat = this.latency ? this.latencyAt(r) : null;
    this.range.setAttribute("aria-valuetext", `threshold ${tText}: FLOPs ${pct(fr)}, ${r.kept} of ${base.kept} `
      + `channels kept, accuracy ${acc.accuracy === null ? "not evaluated" : `${approx}${(100 * acc.accuracy).toFixed(2)}%`}`
      + (acc.exact ? "" : " (interpolated)")
      + (lat ? `, latency ${lat.measured ? "" : "≈ "}${ms(lat.ms)}${lat.measured ? " (measured)" : " (estimated)"}` : ""));
    this.moveHistogram(t);
    this.moveCurve(r, acc, lat);
    this.moveBars(r.widths);
    if (since !== undefined) {
      const now = performance.now();
      this.timings.input.push(now - since);
      requestAnimationFrame(() => setTimeout(() => this.timings.paint.push(performance.now() - since), 0));
    }
    this.last = r;
  }

  commit() {
    const t = this.threshold();
    this.pending = { t, start: performance.now() };
    this.show(Number(this.range.value));
    // `seq` tells two releases at the same threshold apart (Python adopts each release once)
    this.setStateValue("threshold", { t: String(t), i: Number(this.range.value), seq: `${Date.now()}.${++this.seq}` });
  }

  // -- the |γ| (score) histogram with the threshold line ----------------------------------------------------
  drawHistogram() {
    const svg = this.svg.hist, s = this.model.allScores, bins = 40;
    svg.replaceChildren();
    const W = 480, H = 200, L = 34, R = 8, T = 8, B = 22;
    const lo = Math.min(0, s[0]), hi = (s[s.length - 1] > lo ? s[s.length - 1] : lo + 1) * 1.0001;
    const counts = new Array(bins).fill(0);
    for (const v of s) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
    const top = Math.max(...counts, 1);
    this.hx = (v) => L + ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * (W - L - R);
    this.shade = el(svg, "rect", { class: "shade", x: L, y: T, width: 0, height: H - T - B });
    const bw = (W - L - R) / bins;
    counts.forEach((c, i) => {
      const h = (c / top) * (H - T - B);
      el(svg, "rect", { class: "bin", x: L + i * bw + 0.5, y: H - B - h, width: Math.max(bw - 1, 0.5), height: h });
    });
    el(svg, "line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B });
    for (const v of [lo, (lo + hi) / 2, hi]) {
      el(svg, "text", { x: this.hx(v), y: H - 6, "text-anchor": "middle" }, Number(v.toPrecision(3)).toString());
    }
    el(svg, "text", { x: L - 4, y: T + 8, "text-anchor": "end" }, String(top));
    el(svg, "text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0");
    this.tline = el(svg, "line", { class: "tline", y1: T, y2: H - B });
    const b = document.createElement("b");
    b.textContent = `${this.label} of every channel`;
    this.histRest = document.createTextNode("");
    this.histTitle.replaceChildren(b, this.histRest);
    svg.setAttribute("aria-label", `histogram of the ${this.label} of every channel`);
  }

  moveHistogram(t) {
    const x = this.hx(t), s = this.model.allScores;
    this.tline.setAttribute("x1", x);
    this.tline.setAttribute("x2", x);
    this.shade.setAttribute("width", Math.max(0, x - this.hx(-Infinity)));
    const below = countBelow(s, t);
    setText(this.histRest, ` · ${below} of ${s.length} (${((100 * below) / s.length).toFixed(0)}%) below the `
      + "threshold (dashed)");
  }

  // -- accuracy vs FLOPs, parameters or latency, with this threshold's marker and the fine-tuned commits -------
  drawCurve() {
    const svg = this.svg.curve, ax = this.axis;
    svg.replaceChildren();
    this.root.dataset.axis = ax;
    const W = 480, H = 200, L = 40, R = 10, T = 10, B = 22;
    const baseAcc = this.payload.base_accuracy;
    const b = document.createElement("b");
    b.textContent = `Accuracy vs ${AXES[ax]}`;
    this.curveNow = document.createTextNode("");
    this.curveTitle.replaceChildren(b, document.createTextNode(" · ◆ this threshold (hollow: interpolated)"
      + (baseAcc === null || baseAcc === undefined ? "" : `; dotted: unpruned (${(100 * baseAcc).toFixed(1)}%)`)),
    this.curveNow);
    // in the curve's own order (descending FLOPs): measured latency need not fall with every plan
    const c = this.curve.map((q) => ({ ...q, x: this.xOf(q) }));
    this.curveXs = c.map((q) => q.x);
    const rec = this.recovered.filter((q) => q[ax] !== null && q[ax] !== undefined && q.after !== null);
    const accs = [...c.map((q) => q.accuracy), ...rec.flatMap((q) => [q.after, q.before])]
      .filter((v) => v !== null && v !== undefined);
    let a0 = Math.min(...accs), a1 = Math.max(...accs);
    if (!isFinite(a0)) { a0 = 0; a1 = 1; }
    const pad = Math.max((a1 - a0) * 0.08, 0.005);
    a0 -= pad; a1 += pad;
    let x1 = 1.02;
    if (ax === "latency") {
      x1 = 1.05 * Math.max(...c.map((q) => q.x), ...rec.map((q) => q.latency), ...this.latency.series.map((n) => n[1]), 1e-6);
    }
    this.cx = (v) => L + (Math.min(Math.max(v, 0), x1) / x1) * (W - L - R);
    this.cy = (acc) => T + (1 - (acc - a0) / (a1 - a0)) * (H - T - B);
    el(svg, "line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B });
    el(svg, "line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B });
    const ticks = ax === "latency" ? [0, x1 / 2.1, x1 / 1.05] : [0, 0.5, 1];
    for (const v of ticks) {
      el(svg, "text", { x: this.cx(v), y: H - 6, "text-anchor": "middle" }, ax === "latency" ? ms(v) : `${100 * v}%`);
    }
    for (const v of [a0 + pad, a1 - pad]) {
      el(svg, "text", { x: L - 4, y: this.cy(v) + 3, "text-anchor": "end" }, `${(100 * v).toFixed(1)}%`);
    }
    if (baseAcc !== null && baseAcc !== undefined) {
      el(svg, "line", { class: "base", x1: L, x2: W - R, y1: this.cy(baseAcc), y2: this.cy(baseAcc) });
    }
    if (c.length) {
      // on the latency axis the dots are the timed models; the dashed line between them is the estimate
      el(svg, "polyline", { class: ax === "latency" ? "cline est" : "cline",
        points: c.map((q) => `${this.cx(q.x)},${this.cy(q.accuracy)}`).join(" ") });
      for (const q of c) {
        const dot = el(svg, "circle", { class: "cdot", cx: this.cx(q.x), cy: this.cy(q.accuracy), r: 2.5 });
        if (ax === "latency" && !this.timed.has(q.sig)) dot.setAttribute("class", "cdot est");
      }
    } else {
      el(svg, "text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no evaluated points yet");
    }
    for (const q of rec) { // a fine-tuned commit: a thin line from its one-shot accuracy up to where fine-tuning took it
      const x = this.cx(q[ax]), g = el(svg, "g", { class: "recovered" });
      el(g, "title", {}, `${q.prune_id}: val accuracy ${q.before === null ? "–" : `${(100 * q.before).toFixed(2)}%`} `
        + `after the cut, ${(100 * q.after).toFixed(2)}% after fine-tuning (${q.epochs} epoch${q.epochs === 1 ? "" : "s"}`
        + `${q.steps > 1 ? `, ${q.steps} cuts` : ""}${q.distill ? ", distilled" : ""})`);
      if (q.before !== null && q.before !== undefined) {
        el(g, "line", { class: "ftline", x1: x, x2: x, y1: this.cy(q.before), y2: this.cy(q.after) });
        el(g, "circle", { class: "ftbefore", cx: x, cy: this.cy(q.before), r: 2.5 });
      }
      el(g, "path", { class: "ft", d: "M0,-6 L5.5,4 L-5.5,4 Z", transform: `translate(${x},${this.cy(q.after)})` });
    }
    this.marker = el(svg, "path", { class: "marker", d: "M0,-7 L7,0 L0,7 L-7,0 Z" });
    svg.setAttribute("aria-label", `accuracy against ${AXES[ax]} of the evaluated thresholds`
      + (rec.length ? `, and ${rec.length} fine-tuned commit${rec.length === 1 ? "" : "s"}` : ""));
    const legend = [["sym-dot", "●", ax === "latency" ? "timed and evaluated cut (before fine-tuning)"
      : "evaluated cut (before fine-tuning)"]];
    if (rec.length) legend.push(["sym-ft", "▲", "after fine-tuning"]);
    legend.push(["sym-thr", "◆", "this threshold"]);
    this.curveLegend.replaceChildren(...legend.map(([cls, sym, text]) => {
      const span = document.createElement("span");
      const mark = document.createElement("span");
      mark.className = cls;
      mark.textContent = sym;
      span.append(mark, ` ${text}`);
      return span;
    }));
    let note = "";
    if (ax === "latency") {
      const L = this.latency, e = L.error || {};
      note = `Latency on ${L.backend}, batch ${L.batch}: measured for ${this.timed.size} models; between them `
        + "estimated along FLOPs (dashed), "
        + (e.points ? `median error ${pct(e.median_rel)}, largest ${pct(e.max_rel)} (each timed model left out in turn).`
          : "too few timed models to state the estimate's error.");
    } else if (ax === "params") {
      note = "Parameters exact at every threshold.";
    }
    setText(this.curveNote, note);
  }

  moveCurve(r, acc, lat) {
    const visible = acc.accuracy !== null;
    this.marker.style.display = visible ? "" : "none";
    this.currentX = this.xOf(r);
    setText(this.curveNow, this.axis === "latency" && lat
      ? ` · here ${lat.measured ? "" : "≈ "}${ms(lat.ms)} (${lat.measured ? "measured" : "estimated"})` : "");
    if (!visible) return;
    this.marker.setAttribute("transform", `translate(${this.cx(this.currentX)},${this.cy(acc.accuracy)})`);
    this.marker.classList.toggle("interp", !acc.exact);
  }

  // -- kept / removed channels per BN layer -----------------------------------------------------------------
  drawBars() {
    const svg = this.svg.bars, bns = this.model.bns;
    svg.replaceChildren();
    const W = 960, L = 34, R = 10, T = 6, Hb = 120, B = 64;
    const col = Math.min(60, (W - L - R) / Math.max(bns.length, 1));
    svg.setAttribute("viewBox", `0 0 ${W} ${T + Hb + B}`);
    const top = Math.max(...bns.map((b) => b.n), 1);
    this.by = (v) => (v / top) * Hb;
    this.barBottom = T + Hb;
    el(svg, "line", { class: "axis", x1: L, x2: L + col * bns.length, y1: T + Hb, y2: T + Hb });
    el(svg, "text", { x: L - 4, y: T + 8, "text-anchor": "end" }, String(top));
    el(svg, "text", { x: L - 4, y: T + Hb, "text-anchor": "end" }, "0");
    this.bars = bns.map((b, i) => {
      const x = L + i * col + 1, w = Math.max(col - 2, 1);
      const g = el(svg, "g");
      const title = el(g, "title");
      const kept = el(g, "rect", { class: "kept", x, width: w });
      const gone = el(g, "rect", { class: "gone", x, width: w });
      const cx = x + w / 2, ly = T + Hb + 8;
      el(svg, "text", { x: cx, y: ly, "text-anchor": "end", transform: `rotate(-45 ${cx} ${ly})` }, b.name);
      return { b, kept, gone, title, last: -1 };
    });
    svg.setAttribute("aria-label", "channels kept and removed in every BN layer");
  }

  moveBars(widths) {
    for (const bar of this.bars) {
      const k = widths[bar.b.name];
      if (k === bar.last) continue;
      bar.last = k;
      const hk = this.by(k), hg = this.by(bar.b.n - k);
      bar.kept.setAttribute("y", this.barBottom - hk);
      bar.kept.setAttribute("height", hk);
      bar.gone.setAttribute("y", this.barBottom - hk - hg);
      bar.gone.setAttribute("height", hg);
      bar.title.textContent = `${bar.b.name}: ${k} of ${bar.b.n} kept, ${bar.b.n - k} removed`;
    }
  }

  /** What tests and benchmarks call on the root element. */
  api() {
    return {
      compute: (t) => { const r = this.model.compute(Number(t)); return { flops: r.flops, macs: r.macs, params: r.params, widths: r.widths, kept: r.kept, clamped: r.clamped }; },
      positions: () => this.model.thresholds.length,
      threshold: () => String(this.threshold()),
      axis: () => this.axis,
      x: () => this.currentX, // the marker's x on the current axis (a share, or ms)
      curveXs: () => this.curveXs,
      latency: (t) => (this.latency ? this.latencyAt(this.model.compute(Number(t))) : null),
      timings: this.timings,
    };
  }
}

export default function (component) {
  const { data, setStateValue, parentElement } = component;
  const root = parentElement.querySelector(".slim-thr");
  if (!root || !data || !data.payload) return;
  if (!root.controller) {
    root.controller = new Control(root);
    root.thresholdControl = root.controller.api();
  }
  root.controller.update(data, setStateValue);
}
