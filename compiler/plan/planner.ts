// Static arena planner: assigns every intermediate buffer an offset in one
// arena so that buffers alive at the same step never overlap. It knows nothing
// about the IR; the compiler turns its schedule into BufferRequests.
//
// Strategy: "place each buffer at the lowest free offset" is complete for some
// order (sort any optimal plan by offset and replay it: every buffer lands at or
// below its optimal offset), so we mostly search over orders. We try classic
// orders x a few placement policies (TFLM's greedy-by-size among them, so we
// never lose to TFLM), then spend a fixed, deterministic budget on local
// search over the order. Everything stops once the lower bound is reached.

export interface BufferRequest {
  id: number;
  bytes: number;
  /** inclusive step indices */
  firstUse: number;
  lastUse: number;
  alignment?: number;
  /** optional: this buffer may share memory with buffer `inPlaceOf` when that
   * buffer's lastUse === this.firstUse (elementwise ops that can write over
   * their input; streaming ones whose smaller output follows their reads).
   * Sharing means "same offset"; partial overlap is never allowed. */
  inPlaceOf?: number;
}

export interface ArenaPlan {
  offsets: ReadonlyMap<number, number>;
  arenaBytes: number;
  /** the step where the live footprint is largest: a lower bound on arenaBytes */
  peak: { step: number; bytes: number; live: number[] };
  /** requested bytes per id (reports need sizes; offsets alone do not say) */
  sizes: ReadonlyMap<number, number>;
}

export interface PlanOptions {
  /** default alignment for requests without their own; 16 like TFLM */
  alignment?: number;
  /** local-search evaluations; default scales with problem size, 0 disables */
  searchIterations?: number;
}

export const DEFAULT_ALIGNMENT = 16;

/** Normalised problem, indexed 0..n-1 (ids only matter at the boundary). */
interface Problem {
  n: number;
  ids: number[];
  bytes: number[];
  /** bytes rounded up to alignment: the slot a buffer occupies in the arena */
  size: number[];
  align: number[];
  first: number[];
  last: number[];
  /** indices of buffers live at some common step */
  conflicts: number[][];
  /** in-place partners (a subset of conflicts) that may share the same offset */
  partners: number[][];
  /** partner edges grouped by the handoff step, for the lower bound */
  edgesAt: Map<number, [number, number][]>;
  edgeCount: number;
  /** buffers overlap many others: use the global offset-sorted scan in place() */
  dense: boolean;
}

const alignUp = (x: number, a: number): number => Math.ceil(x / a) * a;

function prepare(requests: readonly BufferRequest[], defaultAlign: number): Problem {
  if (!Number.isInteger(defaultAlign) || defaultAlign <= 0) throw new Error(`bad default alignment ${defaultAlign}`);
  const n = requests.length;
  const index = new Map<number, number>();
  const p: Problem = {
    n, ids: [], bytes: [], size: [], align: [], first: [], last: [],
    conflicts: [], partners: [], edgesAt: new Map(), edgeCount: 0, dense: false,
  };
  requests.forEach((r, i) => {
    if (index.has(r.id)) throw new Error(`duplicate buffer id ${r.id}`);
    index.set(r.id, i);
    const a = r.alignment ?? defaultAlign;
    if (!Number.isInteger(r.bytes) || r.bytes < 0) throw new Error(`buffer ${r.id}: bad size ${r.bytes}`);
    if (!Number.isInteger(a) || a <= 0) throw new Error(`buffer ${r.id}: bad alignment ${a}`);
    if (!Number.isInteger(r.firstUse) || !Number.isInteger(r.lastUse) || r.firstUse > r.lastUse)
      throw new Error(`buffer ${r.id}: bad lifetime [${r.firstUse}, ${r.lastUse}]`);
    p.ids.push(r.id); p.bytes.push(r.bytes); p.align.push(a); p.size.push(alignUp(r.bytes, a));
    p.first.push(r.firstUse); p.last.push(r.lastUse);
    p.conflicts.push([]); p.partners.push([]);
  });
  // Sweep in first-use order: j conflicts with i iff j starts before i ends.
  const byFirst = [...Array(n).keys()].sort((a, b) => p.first[a]! - p.first[b]!);
  for (let x = 0; x < n; x++) {
    const i = byFirst[x]!;
    for (let y = x + 1; y < n && p.first[byFirst[y]!]! <= p.last[i]!; y++) {
      const j = byFirst[y]!;
      p.conflicts[i]!.push(j); p.conflicts[j]!.push(i);
    }
  }
  // insertion-sorting conflict lists costs ~sum(d^2)/4; scanning a global list ~n^2/2
  p.dense = p.conflicts.reduce((s, c) => s + c.length * c.length, 0) > 2 * n * n;
  // In-place edges. Kept as a forest (union-find drops cycle-closing edges) so
  // the lower bound's matching stays a cheap tree DP; the
  // planner and the validator use exactly this edge set, so all stay consistent.
  const parent = [...Array(n).keys()];
  const root = (x: number): number => (parent[x] === x ? x : (parent[x] = root(parent[x]!)));
  requests.forEach((r, b) => {
    if (r.inPlaceOf === undefined) return;
    const a = index.get(r.inPlaceOf);
    if (a === undefined || a === b || p.last[a] !== p.first[b]) return;
    const ra = root(a), rb = root(b);
    if (ra === rb) return;
    parent[ra] = rb;
    p.partners[a]!.push(b); p.partners[b]!.push(a);
    const s = p.first[b]!;
    if (!p.edgesAt.has(s)) p.edgesAt.set(s, []);
    p.edgesAt.get(s)!.push([a, b]);
    p.edgeCount++;
  });
  return p;
}

/**
 * Lower bound: at each step, buffers at one offset must be pairwise partners,
 * which in a forest means pairs; everything else is disjoint. So live bytes
 * minus the best pairing (a max-weight matching with weight min(a, b) on the
 * partner edges of that step) is a bound no valid plan can beat.
 * The max over steps is attained at some buffer's first use.
 */
function lowerBound(p: Problem): ArenaPlan['peak'] {
  let best = { step: 0, bytes: 0, live: [] as number[] };
  const steps = [...new Set(p.first)].sort((a, b) => a - b);
  for (const s of steps) {
    const live: number[] = [];
    let sum = 0;
    for (let i = 0; i < p.n; i++) if (p.first[i]! <= s && s <= p.last[i]!) { live.push(i); sum += p.size[i]!; }
    const edges = p.edgesAt.get(s);
    if (edges) sum -= sharingSavings(p, edges);
    if (sum > best.bytes || best.live.length === 0) best = { step: s, bytes: sum, live };
  }
  return { step: best.step, bytes: best.bytes, live: best.live.map((i) => p.ids[i]!).sort((a, b) => a - b) };
}

/** max-weight matching on the edge forest, weight = the smaller buffer (bytes saved by sharing) */
function sharingSavings(p: Problem, edges: [number, number][]): number {
  const adj = new Map<number, number[]>();
  for (const [a, b] of edges) {
    if (!adj.has(a)) adj.set(a, []);
    if (!adj.has(b)) adj.set(b, []);
    adj.get(a)!.push(b); adj.get(b)!.push(a);
  }
  const seen = new Set<number>();
  // returns [best with v left unmatched, best overall] for v's subtree
  const dp = (v: number, from: number): [number, number] => {
    seen.add(v);
    let free = 0, gain = 0;
    for (const w of adj.get(v)!) {
      if (w === from) continue;
      const [wFree, wAny] = dp(w, v);
      free += wAny;
      gain = Math.max(gain, Math.min(p.size[v]!, p.size[w]!) + wFree - wAny);
    }
    return [free, free + gain];
  };
  let saved = 0;
  for (const v of adj.keys()) if (!seen.has(v)) saved += dp(v, -1)[1];
  return saved;
}

/**
 * - tflm: lowest gap, in-place ignored (TFLM GreedyMemoryPlanner)
 * - lowest: lowest of {lowest gap, a partner's offset}
 * - inplace: a partner's offset whenever it fits, else lowest gap
 * - bestfit: a partner's offset whenever it fits, else the tightest gap
 * - twosided: a partner's offset, else offset 0 if free, else the highest
 *   fit below `cap` (the lower bound), else the lowest gap. Packing from both
 *   ends is what chains need: in first-use order it reproduces the optimal
 *   "even buffers at the bottom, odd ones at the top" layout.
 */
type Policy = 'tflm' | 'lowest' | 'inplace' | 'bestfit' | 'twosided';

interface Placement { off: Float64Array; arena: number }

/**
 * Place buffers in `order`; returns null as soon as the arena exceeds `limit`.
 * For each buffer we first collect the already-placed, time-overlapping
 * buffers in offset order ("near"), then scan the holes between them.
 * Sparse problems (typical models) insertion-sort each buffer's own short
 * conflict list; dense ones keep one offset-sorted list of everything placed
 * and filter it by lifetime, avoiding an O(d log d) sort per buffer.
 */
function place(p: Problem, order: readonly number[], policy: Policy, limit = Infinity, cap = 0,
  prefix?: { off: Float64Array; length: number }): Placement | null {
  const { size, align, first, last } = p;
  const n = p.n;
  const off = new Float64Array(n).fill(-1);
  // all placed buffers in offset order (index, start, end, lifetime)
  const gIdx = new Int32Array(n), gOff = new Float64Array(n), gEnd = new Float64Array(n);
  const gFirst = new Float64Array(n), gLast = new Float64Array(n);
  // "near" for the current buffer, in offset order
  const nIdx = new Int32Array(n), nOff = new Float64Array(n), nEnd = new Float64Array(n);
  const bestFit = policy === 'bestfit', twoSided = policy === 'twosided', dense = p.dense;
  let count = 0, arena = 0;
  // Local search re-places orders that share a prefix with a known placement;
  // those buffers land where they did before, so copy instead of re-placing.
  const start = prefix?.length ?? 0;
  if (prefix) {
    const pre = order.slice(0, start).sort((x, y) => prefix.off[x]! - prefix.off[y]!);
    for (const i of pre) {
      const o = prefix.off[i]!;
      off[i] = o; arena = Math.max(arena, o + size[i]!);
      if (!dense) continue;
      gIdx[count] = i; gOff[count] = o; gEnd[count] = o + size[i]!; gFirst[count] = first[i]!; gLast[count] = last[i]!;
      count++;
    }
  }
  for (let step = start; step < order.length; step++) {
    const i = order[step]!;
    const f = size[i]!, a = align[i]!, fi = first[i]!, li = last[i]!, conf = p.conflicts[i]!;
    let m = 0;
    if (!dense) {
      for (const j of conf) {
        const o = off[j]!;
        if (o < 0 || size[j] === 0) continue;
        let k = m++; // insertion sort by offset
        while (k > 0 && nOff[k - 1]! > o) { nIdx[k] = nIdx[k - 1]!; nOff[k] = nOff[k - 1]!; nEnd[k] = nEnd[k - 1]!; k--; }
        nIdx[k] = j; nOff[k] = o; nEnd[k] = o + size[j]!;
      }
    } else {
      for (let k = 0; k < count; k++) {
        if (gFirst[k]! > li || gLast[k]! < fi || gEnd[k] === gOff[k]) continue;
        nIdx[m] = gIdx[k]!; nOff[m] = gOff[k]!; nEnd[m] = gEnd[k]!; m++;
      }
    }
    let shared = -1;
    if (policy !== 'tflm') {
      for (const q of p.partners[i]!) {
        const o = off[q]!;
        if (o < 0 || o % a !== 0 || (shared >= 0 && o >= shared)) continue;
        // fits at o unless a non-partner intersects [o, o + f)
        let ok = true;
        for (let k = 0; k < m && nOff[k]! < o + f && ok; k++)
          if (nEnd[k]! > o) ok = nOff[k] === o && p.partners[i]!.includes(nIdx[k]!);
        if (ok) shared = o;
      }
    }
    let o: number;
    if (shared >= 0 && policy !== 'lowest') o = shared;
    else {
      // holes between near buffers, tracking the running max end
      let cur = 0, best = -1, slack = Infinity, high = -1;
      for (let k = 0; k < m; k++) {
        const c = alignUp(cur, a), holeEnd = nOff[k]!;
        if (c + f <= holeEnd) {
          if (bestFit) {
            if (holeEnd - c - f < slack) { best = c; slack = holeEnd - c - f; }
          } else if (twoSided) {
            if (best < 0) best = c;
            const t = Math.floor((Math.min(holeEnd, cap) - f) / a) * a;
            if (t >= c) high = t;
          } else { best = c; break; }
        }
        if (nEnd[k]! > cur) cur = nEnd[k]!;
      }
      const c = alignUp(cur, a);
      if (best < 0) best = c;
      if (twoSided) {
        const t = Math.floor((cap - f) / a) * a;
        if (t >= c) high = t;
        if (best > 0 && high >= 0) best = high;
      }
      o = best;
      if (shared >= 0 && shared < o) o = shared;
    }
    off[i] = o;
    if (o + f > arena) arena = o + f;
    if (arena > limit) return null;
    if (!dense) continue;
    // insert into the global offset-sorted arrays (binary search for the slot)
    let lo = 0, hi = count;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (gOff[mid]! <= o) lo = mid + 1; else hi = mid; }
    gIdx.copyWithin(lo + 1, lo, count); gOff.copyWithin(lo + 1, lo, count); gEnd.copyWithin(lo + 1, lo, count);
    gFirst.copyWithin(lo + 1, lo, count); gLast.copyWithin(lo + 1, lo, count);
    gIdx[lo] = i; gOff[lo] = o; gEnd[lo] = o + f; gFirst[lo] = fi; gLast[lo] = li;
    count++;
  }
  return { off, arena };
}

/** TFLM GreedyMemoryPlanner order: largest first (ties: earlier request first) */
const bySize = (p: Problem): number[] => [...Array(p.n).keys()].sort((x, y) => p.size[y]! - p.size[x]! || x - y);

/** Candidate orders; each is a list of sort keys, compared descending, ties by index. */
function candidateOrders(p: Problem): number[][] {
  const idx = [...Array(p.n).keys()];
  const life = idx.map((i) => p.last[i]! - p.first[i]! + 1);
  // breadth: the largest live total seen during a buffer's life. Buffers in
  // the widest steps are the ones the arena must be packed around.
  const stepLive = new Map<number, number>();
  for (const i of idx) for (const s of new Set([p.first[i]!, p.last[i]!]))
    if (!stepLive.has(s)) stepLive.set(s, 0);
  for (const s of stepLive.keys()) {
    let sum = 0;
    for (const i of idx) if (p.first[i]! <= s && s <= p.last[i]!) sum += p.size[i]!;
    stepLive.set(s, sum);
  }
  const breadth = idx.map((i) => {
    let m = 0;
    for (const j of [i, ...p.conflicts[i]!]) {
      const s = Math.max(p.first[i]!, p.first[j]!); // every overlap peaks at some first use
      if (s <= p.last[i]!) m = Math.max(m, stepLive.get(s) ?? 0);
    }
    return m;
  });
  const conflictBytes = idx.map((i) => p.conflicts[i]!.reduce((s, j) => s + p.size[j]!, 0));
  const keyed = (...keys: ((i: number) => number)[]) =>
    idx.slice().sort((x, y) => {
      for (const k of keys) { const d = k(y) - k(x); if (d !== 0) return d; }
      return x - y;
    });
  const sz = (i: number) => p.size[i]!, lf = (i: number) => life[i]!;
  return [
    bySize(p),
    keyed(sz, lf),
    keyed(lf, sz),
    keyed((i) => sz(i) * lf(i), sz),
    keyed((i) => -p.first[i]!, sz),
    keyed((i) => breadth[i]!, sz, lf),
    keyed((i) => conflictBytes[i]! + sz(i), sz),
  ];
}

/** deterministic PRNG so the same model always gets the same plan */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function planArena(requests: readonly BufferRequest[], opts: PlanOptions = {}): ArenaPlan {
  const p = prepare(requests, opts.alignment ?? DEFAULT_ALIGNMENT);
  const peak = lowerBound(p);
  let best: { order: number[]; policy: Policy; res: Placement } | null = null;
  const policies: Policy[] = p.edgeCount > 0 ? ['lowest', 'inplace', 'bestfit', 'twosided'] : ['lowest', 'bestfit', 'twosided'];
  const orders = candidateOrders(p);
  const consider = (order: number[], policy: Policy) => {
    const res = place(p, order, policy, best ? best.res.arena : Infinity, peak.bytes);
    if (res && (!best || res.arena < best.res.arena)) best = { order, policy, res };
  };
  consider(bySize(p), 'tflm'); // the baseline we promise never to lose to
  for (const order of orders) for (const policy of policies) {
    if (best!.res.arena <= peak.bytes) break;
    consider(order, policy);
  }
  // Local search: half the moves take a buffer touching the arena top to an
  // earlier position (it is what sets the size); half move a random buffer
  // anywhere, which lets ties drift across plateaus. Moves that do not grow
  // the arena are kept. The budget is deterministic (same model, same plan)
  // and sized from the per-evaluation work to spend at most about a second:
  // training steps, whose masks live across the whole schedule, need thousands
  // of moves to reach the bound; most plans reach it much sooner and stop.
  // estimated ns per evaluation (measured: ~4 n^2 dense, ~300 + 20 d + d^2/2 per buffer sparse)
  const evalNs = p.dense ? 4 * p.n * p.n : p.conflicts.reduce((s, c) => s + 300 + 20 * c.length + c.length * c.length / 2, 0);
  const iters = opts.searchIterations ?? Math.max(8, Math.min(20000, Math.round(2e9 / (evalNs + 1))));
  const rng = mulberry32(0x9e3779b9 ^ p.n);
  let cur = best!;
  for (let it = 0; it < iters && cur.res.arena > peak.bytes; it++) {
    const tops: number[] = [];
    cur.order.forEach((i, pos) => { if (cur.res.off[i]! + p.size[i]! === cur.res.arena && pos > 0) tops.push(pos); });
    if (tops.length === 0) break;
    const order = cur.order.slice();
    const top = rng() < 0.5;
    const from = top ? tops[Math.floor(rng() * tops.length)]! : Math.floor(rng() * p.n);
    const to = Math.floor(rng() * (top ? from : p.n));
    const [moved] = order.splice(from, 1);
    order.splice(to, 0, moved!);
    const res = place(p, order, cur.policy, cur.res.arena, peak.bytes, { off: cur.res.off, length: Math.min(from, to) });
    if (res) cur = { order, policy: cur.policy, res };
  }
  return toPlan(p, cur.res, peak);
}

/** TFLM GreedyMemoryPlanner equivalent (largest first, lowest gap, no in-place): a baseline for comparisons. */
export function planGreedyBySize(requests: readonly BufferRequest[], opts: PlanOptions = {}): ArenaPlan {
  const p = prepare(requests, opts.alignment ?? DEFAULT_ALIGNMENT);
  return toPlan(p, place(p, bySize(p), 'tflm')!, lowerBound(p));
}

function toPlan(p: Problem, res: Placement, peak: ArenaPlan['peak']): ArenaPlan {
  const offsets = new Map<number, number>();
  const sizes = new Map<number, number>();
  for (let i = 0; i < p.n; i++) { offsets.set(p.ids[i]!, res.off[i]!); sizes.set(p.ids[i]!, p.bytes[i]!); }
  return { offsets, arenaBytes: res.arena, peak, sizes };
}

/**
 * Throws unless every buffer has an aligned, in-arena offset and no two
 * buffers live at a common step overlap in memory (in-place partners may sit
 * at exactly the same offset).
 */
export function validatePlan(requests: readonly BufferRequest[], plan: ArenaPlan, opts: PlanOptions = {}): void {
  const p = prepare(requests, opts.alignment ?? DEFAULT_ALIGNMENT);
  const off = new Float64Array(p.n);
  for (let i = 0; i < p.n; i++) {
    const id = p.ids[i]!;
    const o = plan.offsets.get(id);
    if (o === undefined) throw new Error(`buffer ${id} has no offset`);
    if (!Number.isInteger(o) || o < 0) throw new Error(`buffer ${id}: bad offset ${o}`);
    if (o % p.align[i]! !== 0) throw new Error(`buffer ${id}: offset ${o} not aligned to ${p.align[i]}`);
    if (o + p.bytes[i]! > plan.arenaBytes) throw new Error(`buffer ${id} ends past the arena (${o + p.bytes[i]!} > ${plan.arenaBytes})`);
    off[i] = o;
  }
  for (let i = 0; i < p.n; i++) for (const j of p.conflicts[i]!) {
    if (j < i || p.bytes[i] === 0 || p.bytes[j] === 0) continue;
    if (off[i] === off[j] && p.partners[i]!.includes(j)) continue;
    if (off[i]! < off[j]! + p.bytes[j]! && off[j]! < off[i]! + p.bytes[i]!)
      throw new Error(`buffers ${p.ids[i]} [${off[i]}, +${p.bytes[i]}) and ${p.ids[j]} [${off[j]}, +${p.bytes[j]}) are live together and overlap`);
  }
}
