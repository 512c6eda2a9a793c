// The Prune page's threshold control (a Streamlit custom component v2: no iframe, no build step, nothing fetched).
// Python sends a payload once per run, ranking and rules (slimcore/pruning/browser_preview.py); on every `input`
// event this recomputes, exactly as the engine does, the channels each group keeps (`select`), the removed
// channels per (module, kind) deduplicated (`removed_per_module`), MACs (`layer_macs`), parameters
// (`slimcore.pruning.math.params`) and the BN widths, and redraws the metrics and three SVG figures. On release
// (`change`) it hands the threshold to Python, which evaluates that exact threshold and sends its accuracy back.

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
    if (p.id !== this.payloadId) this.load(p);
    this.exact = new Map(this.curveExact);
    for (const e of data.evaluated || []) {
      if (!this.signatures.has(e.t)) this.signatures.set(e.t, this.model.compute(Number(e.t)).keeps.join(","));
      this.exact.set(this.signatures.get(e.t), { ...e, source: "evaluated" });
    }
    const sel = data.selected;
    if (sel && sel.nonce !== this.nonce) { // Python moved the control (the FLOPs box, a reload, another run)
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
      if (!this.curveExact.has(sig)) this.curve.push({ flops: r.flops, accuracy, change });
      this.curveExact.set(sig, { accuracy, output_change: change, source: "curve" });
    };
    add(this.model.thresholds[0], p.base_accuracy, 0);
    pts.forEach((t, i) => add(t, p.point_accuracy[i], p.point_output_change[i]));
    this.curve.sort((a, b) => a.flops - b.flops);
    this.drawHistogram();
    this.drawCurve();
    this.drawBars();
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
    this.range.setAttribute("aria-valuetext", `threshold ${tText}: FLOPs ${pct(fr)}, ${r.kept} of ${base.kept} `
      + `channels kept, accuracy ${acc.accuracy === null ? "not evaluated" : `${approx}${(100 * acc.accuracy).toFixed(2)}%`}`
      + (acc.exact ? "" : " (interpolated)"));
    this.moveHistogram(t);
    this.moveCurve(fr, acc);
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

  // -- accuracy vs FLOPs, with this threshold's marker ------------------------------------------------------
  drawCurve() {
    const svg = this.svg.curve, c = this.curve;
    svg.replaceChildren();
    const W = 480, H = 200, L = 40, R = 10, T = 10, B = 22;
    const baseAcc = this.payload.base_accuracy;
    const b = document.createElement("b");
    b.textContent = "Accuracy vs FLOPs";
    this.curveTitle.replaceChildren(b, document.createTextNode(" · ◆ this threshold (hollow: interpolated)"
      + (baseAcc === null || baseAcc === undefined ? "" : `; dotted: unpruned (${(100 * baseAcc).toFixed(1)}%)`)));
    const accs = c.map((q) => q.accuracy);
    let a0 = Math.min(...accs), a1 = Math.max(...accs);
    if (!isFinite(a0)) { a0 = 0; a1 = 1; }
    const pad = Math.max((a1 - a0) * 0.08, 0.005);
    a0 -= pad; a1 += pad;
    this.cx = (share) => L + (Math.min(Math.max(share, 0), 1.02) / 1.02) * (W - L - R);
    this.cy = (acc) => T + (1 - (acc - a0) / (a1 - a0)) * (H - T - B);
    el(svg, "line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B });
    el(svg, "line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B });
    for (const v of [0, 0.5, 1]) el(svg, "text", { x: this.cx(v), y: H - 6, "text-anchor": "middle" }, `${100 * v}%`);
    for (const v of [a0 + pad, a1 - pad]) {
      el(svg, "text", { x: L - 4, y: this.cy(v) + 3, "text-anchor": "end" }, `${(100 * v).toFixed(1)}%`);
    }
    if (baseAcc !== null && baseAcc !== undefined) {
      el(svg, "line", { class: "base", x1: L, x2: W - R, y1: this.cy(baseAcc), y2: this.cy(baseAcc) });
    }
    const flops0 = this.base.flops || 1;
    if (c.length) {
      el(svg, "polyline", { class: "cline",
        points: c.map((q) => `${this.cx(q.flops / flops0)},${this.cy(q.accuracy)}`).join(" ") });
      for (const q of c) el(svg, "circle", { class: "cdot", cx: this.cx(q.flops / flops0), cy: this.cy(q.accuracy), r: 2.5 });
    } else {
      el(svg, "text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no evaluated points yet");
    }
    this.marker = el(svg, "path", { class: "marker", d: "M0,-7 L7,0 L0,7 L-7,0 Z" });
    svg.setAttribute("aria-label", "accuracy against FLOPs of the evaluated thresholds");
  }

  moveCurve(share, acc) {
    const visible = acc.accuracy !== null;
    this.marker.style.display = visible ? "" : "none";
    if (!visible) return;
    this.marker.setAttribute("transform", `translate(${this.cx(share)},${this.cy(acc.accuracy)})`);
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
