/** Epoll ready-list semantics in detail, and an order-exact randomized model. */
import t from 'tap';
import { Epoll, type ReadinessSource } from '../../src/epoll/epoll.ts';
import {
  MTCP_EPOLLERR, MTCP_EPOLLET, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLONESHOT, MTCP_EPOLLOUT, MTCP_EPOLLPRI,
  MTCP_EPOLLRDHUP, MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_DEL, MTCP_EPOLL_CTL_MOD, createEpollEvents, type MtcpEpollEvent,
} from '../../src/epoll/events.ts';
import { Prng } from '../helpers/prng.ts';

const N = 32;

class Fake implements ReadinessSource {
  readonly mask = new Uint32Array(N);
  calls = 0;
  readiness(sockid: number): number {
    this.calls++;
    return this.mask[sockid];
  }
}

function ev(events: number, sockid: number, ptr: unknown = null): MtcpEpollEvent {
  return { events, data: { sockid, ptr } };
}

function setup(): {
  src: Fake; ep: Epoll; out: MtcpEpollEvent[];
  got: (max?: number) => [number, number][];
  add: (id: number, events: number) => number;
} {
  const src = new Fake();
  const ep = new Epoll(src, N);
  const out = createEpollEvents(N);
  return {
    src, ep, out,
    got: (max = N) => {
      const n = ep.collect(out, max);
      return out.slice(0, n).map((e) => [e.data.sockid, e.events]);
    },
    add: (id, events) => ep.ctl(MTCP_EPOLL_CTL_ADD, id, ev(events, id)),
  };
}

const IN = MTCP_EPOLLIN;
const OUT = MTCP_EPOLLOUT;

t.test('createEpollEvents(n) gives n distinct objects', async (t) => {
  const a = createEpollEvents(5);
  t.equal(a.length, 5);
  t.equal(new Set(a).size, 5, 'distinct events');
  t.equal(new Set(a.map((e) => e.data)).size, 5, 'distinct data objects');
  for (const e of a) t.same(e, { events: 0, data: { sockid: -1, ptr: null } });
  a[0].data.sockid = 9;
  t.equal(a[1].data.sockid, -1);
  t.equal(createEpollEvents(0).length, 0);
});

t.test('every ctl error, with Linux errno values', async (t) => {
  const { ep, src } = setup();
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 3, ev(IN, 3)), 0);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 3, ev(OUT, 3)), 17, 'EEXIST on double ADD');
  t.equal(ep.ctl(MTCP_EPOLL_CTL_MOD, 4, ev(IN, 4)), 2, 'ENOENT on MOD of unregistered');
  t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, 4, null), 2, 'ENOENT on DEL of unregistered');
  t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, 4, ev(IN, 4)), 2);
  for (const op of [0, 4, -1, 1.5, NaN]) t.equal(ep.ctl(op, 3, ev(IN, 3)), 22, `EINVAL for op ${op}`);
  for (const id of [-1, N, N + 100, 1.5, NaN]) {
    t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, id, ev(IN, 0)), 22, `EINVAL for sockid ${id}`);
    t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, id, null), 22);
  }
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 5, null), 22, 'EINVAL for a null event on ADD');
  t.equal(ep.ctl(MTCP_EPOLL_CTL_MOD, 3, null), 22, 'EINVAL for a null event on MOD');
  t.equal(ep.size, 1, 'failed calls change nothing');
  t.notOk(ep.isRegistered(5));
  t.ok(ep.isRegistered(3));
  t.notOk(ep.isRegistered(-1));
  t.notOk(ep.isRegistered(N));
  // The failed MOD/ADD left the registration intact (IN interest).
  src.mask[3] = OUT;
  ep.wake(3, OUT);
  t.notOk(ep.hasReady, 'interest still IN only');
  t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, 3, null), 0);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, 3, null), 2, 'second DEL');
  t.equal(ep.size, 0);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 3, ev(IN, 3)), 0, 'ADD after DEL');
});

t.test('ADD of an already-ready socket reports at once; not-ready one does not', async (t) => {
  const { src, ep, got, add } = setup();
  src.mask[1] = IN | OUT;
  add(1, IN);
  add(2, IN);
  src.mask[3] = IN;
  add(3, IN | MTCP_EPOLLET);
  t.ok(ep.hasReady);
  t.same(got(), [[1, IN], [3, IN]]);
  t.same(got(), [[1, IN]], 'ET one reported once');
});

t.test('MOD of a socket already on the ready list does not corrupt the list', async (t) => {
  const { src, ep, got, add } = setup();
  for (const id of [1, 2, 3]) {
    src.mask[id] = IN | OUT;
    add(id, IN);
  }
  for (let k = 0; k < 5; k++) t.equal(ep.ctl(MTCP_EPOLL_CTL_MOD, 2, ev(k % 2 ? IN : IN | OUT, 2)), 0);
  t.same(got(), [[1, IN], [2, IN | OUT], [3, IN]], 'each once, in order');
  t.same(got(), [[1, IN], [2, IN | OUT], [3, IN]], 'still once each (level-triggered)');
  ep.ctl(MTCP_EPOLL_CTL_MOD, 1, ev(IN | MTCP_EPOLLET, 1));
  ep.ctl(MTCP_EPOLL_CTL_MOD, 3, ev(OUT, 3));
  t.same(got(), [[1, IN], [2, IN | OUT], [3, OUT]]);
  t.same(got(), [[2, IN | OUT], [3, OUT]], 'ET socket gone until a wake');
  ep.ctl(MTCP_EPOLL_CTL_DEL, 2, null);
  ep.ctl(MTCP_EPOLL_CTL_DEL, 3, null);
  t.same(got(), []);
  t.notOk(ep.hasReady, 'list empty and consistent');
  ep.wake(1, IN);
  t.same(got(), [[1, IN]]);
});

t.test('level-triggered keeps reporting while ready and stops when not', async (t) => {
  const { src, got, add, ep } = setup();
  add(4, IN | OUT);
  src.mask[4] = OUT;
  ep.wake(4, OUT);
  for (let i = 0; i < 3; i++) t.same(got(), [[4, OUT]]);
  src.mask[4] = IN | OUT;
  t.same(got(), [[4, IN | OUT]], 'current readiness, not the wake bits');
  src.mask[4] = 0;
  t.same(got(), []);
  t.notOk(ep.hasReady);
  src.mask[4] = IN;
  t.same(got(), [], 'ready again but no wake: not reported');
  ep.wake(4, IN);
  t.same(got(), [[4, IN]]);
});

t.test('edge-triggered: once per wake, not again until the next wake', async (t) => {
  const { src, got, add, ep } = setup();
  add(6, IN | MTCP_EPOLLET);
  src.mask[6] = IN;
  ep.wake(6, IN);
  ep.wake(6, IN); // a second wake before collect: still one report
  t.same(got(), [[6, IN]]);
  t.same(got(), [], 'still ready but no new wake');
  t.same(got(), []);
  ep.wake(6, IN);
  t.same(got(), [[6, IN]]);
  t.same(got(), []);
});

t.test('ONESHOT: one report, then nothing (even ERR/HUP) until MOD re-arms', async (t) => {
  const { src, got, add, ep } = setup();
  src.mask[7] = IN;
  add(7, IN | MTCP_EPOLLONESHOT);
  t.same(got(), [[7, IN]]);
  t.same(got(), []);
  src.mask[7] = IN | MTCP_EPOLLERR;
  ep.wake(7, IN | MTCP_EPOLLERR);
  t.same(got(), [], 'disarmed');
  t.equal(ep.ctl(MTCP_EPOLL_CTL_MOD, 7, ev(IN | MTCP_EPOLLONESHOT, 7)), 0);
  t.same(got(), [[7, IN | MTCP_EPOLLERR]], 're-armed, ready at once');
  t.same(got(), []);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_MOD, 7, ev(IN, 7)), 0, 're-armed as plain LT');
  t.same(got(), [[7, IN | MTCP_EPOLLERR]]);
  t.same(got(), [[7, IN | MTCP_EPOLLERR]]);
  // ONESHOT|ET disarms too
  src.mask[8] = OUT;
  add(8, OUT | MTCP_EPOLLONESHOT | MTCP_EPOLLET);
  t.same(got(1), [[7, IN | MTCP_EPOLLERR]]);
  t.same(got(), [[8, OUT], [7, IN | MTCP_EPOLLERR]]);
  ep.wake(8, OUT);
  t.same(got(), [[7, IN | MTCP_EPOLLERR]]);
});

t.test('ERR/HUP without interest; RDHUP only with interest; wake bits outside interest ignored', async (t) => {
  const { src, got, add, ep } = setup();
  add(1, 0);
  src.mask[1] = MTCP_EPOLLHUP | IN | MTCP_EPOLLRDHUP;
  ep.wake(1, MTCP_EPOLLHUP);
  t.same(got(), [[1, MTCP_EPOLLHUP]], 'HUP with an empty interest set');
  src.mask[1] = MTCP_EPOLLERR;
  t.same(got(), [[1, MTCP_EPOLLERR]]);
  src.mask[1] = 0;
  t.same(got(), []);
  add(2, IN | MTCP_EPOLLRDHUP);
  add(3, IN);
  src.mask[2] = src.mask[3] = IN | MTCP_EPOLLRDHUP;
  ep.wake(2, MTCP_EPOLLRDHUP);
  ep.wake(3, MTCP_EPOLLRDHUP);
  t.same(got(), [[2, IN | MTCP_EPOLLRDHUP]], 'RDHUP wake without interest ignored');
  ep.ctl(MTCP_EPOLL_CTL_DEL, 2, null);
  src.mask[3] = OUT | MTCP_EPOLLPRI;
  ep.wake(3, OUT | MTCP_EPOLLPRI);
  t.same(got(), [], 'OUT/PRI wake ignored for IN interest');
  t.notOk(ep.hasReady);
  ep.wake(3, OUT | IN);
  src.mask[3] = IN | OUT;
  t.same(got(), [[3, IN]], 'a wake with some interesting bits counts; reported mask filtered');
});

t.test('maxevents smaller than the ready count: round-robin fairness', async (t) => {
  const { src, add, ep, out } = setup();
  for (let s = 0; s < 10; s++) {
    src.mask[s] = IN;
    add(s, IN);
  }
  const seen: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const n = ep.collect(out, 3);
    t.equal(n, 3);
    seen.push(out.slice(0, n).map((e) => e.data.sockid));
  }
  t.same(seen, [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]]);
  t.equal(new Set(seen.flat()).size, 10, 'four collects cover all 10');
  t.equal(ep.collect(out, 0), 0, 'maxevents 0');
  t.equal(ep.collect(out, 100 > out.length ? out.length : 100), 10, 'each socket at most once per collect');
  const firstIds = out.slice(0, 10).map((e) => e.data.sockid);
  t.equal(new Set(firstIds).size, 10);
});

t.test('maxevents: stale entries do not use up slots; unvisited stay queued', async (t) => {
  const { src, add, ep, got } = setup();
  for (let s = 0; s < 6; s++) add(s, IN | MTCP_EPOLLET);
  for (let s = 0; s < 6; s++) ep.wake(s, IN);
  src.mask[2] = src.mask[4] = src.mask[5] = IN; // 0, 1, 3 stale
  t.same(got(2), [[2, IN], [4, IN]]);
  t.same(got(2), [[5, IN]]);
  t.same(got(2), []);
});

t.test('stale wakes dropped', async (t) => {
  const { src, add, ep, got } = setup();
  add(9, IN);
  ep.wake(9, IN);
  t.ok(ep.hasReady);
  t.same(got(), []);
  t.notOk(ep.hasReady);
  src.mask[9] = IN;
  t.same(got(), [], 'dropped, not silently kept');
  ep.wake(9, IN);
  t.same(got(), [[9, IN]]);
});

t.test('forget / DEL while on the ready list (head, middle, tail)', async (t) => {
  const { src, add, ep, got } = setup();
  for (let s = 0; s < 5; s++) {
    src.mask[s] = IN;
    add(s, IN);
  }
  ep.forget(0);
  ep.ctl(MTCP_EPOLL_CTL_DEL, 2, null);
  ep.forget(4);
  ep.forget(4); // twice: no-op
  ep.forget(20); // never registered: no-op
  t.equal(ep.size, 2);
  t.same(got(), [[1, IN], [3, IN]]);
  ep.forget(1);
  ep.forget(3);
  t.notOk(ep.hasReady);
  t.same(got(), []);
  ep.wake(1, IN);
  t.same(got(), [], 'wake of a forgotten socket ignored');
  add(1, IN);
  t.same(got(), [[1, IN]], 're-added: ready at once');
});

t.test('data (sockid, ptr) copied, not referenced', async (t) => {
  const { src, ep, out } = setup();
  const ptr = { tag: 'a' };
  const event = { events: IN, data: { sockid: 1234, ptr: ptr as unknown } };
  src.mask[2] = IN;
  ep.ctl(MTCP_EPOLL_CTL_ADD, 2, event);
  event.events = OUT;
  event.data.sockid = 9;
  event.data.ptr = 'other';
  event.data = { sockid: 8, ptr: 'x' };
  const outData = out[0].data;
  t.equal(ep.collect(out, 1), 1);
  t.equal(out[0].events, IN, 'interest copied');
  t.equal(out[0].data.sockid, 1234);
  t.equal(out[0].data.ptr, ptr, 'same ptr value');
  t.equal(out[0].data, outData, 'output data object reused, not replaced');
  t.not(out[0].data, event.data);
  out[0].data.sockid = 77; // caller scribbles over the output
  t.equal(ep.collect(out, 1), 1);
  t.equal(out[0].data.sockid, 1234, 'registration not affected by the output array');
  ep.ctl(MTCP_EPOLL_CTL_MOD, 2, { events: IN, data: { sockid: 5, ptr: null } });
  ep.collect(out, 1);
  t.same([out[0].data.sockid, out[0].data.ptr], [5, null], 'MOD replaces data');
});

interface RefSock {
  interest: number; et: boolean; oneshot: boolean; disarmed: boolean; ready: boolean; dsock: number; dptr: unknown;
}

/** A naive reference of the semantics: registrations in a Map, the ready list in an array. */
class RefEpoll {
  readonly regs = new Map<number, RefSock>();
  list: number[] = [];
  constructor(readonly src: Fake) {}

  ctl(op: number, id: number, e: MtcpEpollEvent | null): number {
    if (!Number.isInteger(id) || id < 0 || id >= N) return 22;
    const r = this.regs.get(id);
    if (op === MTCP_EPOLL_CTL_DEL) {
      if (!r) return 2;
      this.forget(id);
      return 0;
    }
    if (op !== MTCP_EPOLL_CTL_ADD && op !== MTCP_EPOLL_CTL_MOD) return 22;
    if (!e) return 22;
    if (op === MTCP_EPOLL_CTL_ADD && r) return 17;
    if (op === MTCP_EPOLL_CTL_MOD && !r) return 2;
    const bits = e.events >>> 0;
    const s: RefSock = {
      interest: bits & ~(MTCP_EPOLLET | MTCP_EPOLLONESHOT) & 0xffffffff,
      et: bits >= 0x80000000, oneshot: (bits & MTCP_EPOLLONESHOT) !== 0, disarmed: false,
      ready: r ? r.ready : false, dsock: e.data.sockid, dptr: e.data.ptr,
    };
    s.interest >>>= 0;
    this.regs.set(id, s);
    if (!s.ready && this.src.mask[id] & (s.interest | MTCP_EPOLLERR | MTCP_EPOLLHUP)) {
      s.ready = true;
      this.list.push(id);
    }
    return 0;
  }

  wake(id: number, bits: number): void {
    const s = this.regs.get(id);
    if (!s || s.ready || s.disarmed) return;
    if (!(bits & (s.interest | MTCP_EPOLLERR | MTCP_EPOLLHUP))) return;
    s.ready = true;
    this.list.push(id);
  }

  forget(id: number): void {
    if (!this.regs.has(id)) return;
    this.list = this.list.filter((x) => x !== id);
    this.regs.delete(id);
  }

  collect(max: number): [number, number, unknown][] {
    const out: [number, number, unknown][] = [];
    let remaining = this.list.length;
    while (remaining-- > 0 && out.length < max && this.list.length > 0) {
      const id = this.list.shift()!;
      const s = this.regs.get(id)!;
      s.ready = false;
      const mask = s.disarmed ? 0 : this.src.mask[id] & (s.interest | MTCP_EPOLLERR | MTCP_EPOLLHUP);
      if (!mask) continue;
      out.push([s.dsock, mask, s.dptr]);
      if (s.oneshot) s.disarmed = true;
      else if (!s.et) {
        s.ready = true;
        this.list.push(id);
      }
    }
    return out;
  }
}

t.test('randomized model: 100,000 ops, order-exact against a reference', async (t) => {
  for (const seed of [11, 22]) {
    const rng = new Prng(seed);
    const src = new Fake();
    const ep = new Epoll(src, N);
    const ref = new RefEpoll(src);
    const out = createEpollEvents(N);
    const BITS = [IN, OUT, MTCP_EPOLLRDHUP, MTCP_EPOLLERR, MTCP_EPOLLHUP, MTCP_EPOLLPRI];
    const randBits = (): number => {
      let b = 0;
      for (let k = rng.int(3); k > 0; k--) b |= BITS[rng.int(BITS.length)];
      return b;
    };
    const ptrs = Array.from({ length: 8 }, (_, i) => ({ i }));
    let bad = 0;
    let reported = 0;
    const fail = (msg: string): void => {
      if (bad++ < 3) t.fail(`seed ${seed}: ${msg}`);
    };
    for (let i = 0; i < 100_000; i++) {
      const id = rng.int(20) === 0 ? [-1, N, 2.5][rng.int(3)] : rng.int(12);
      const op = rng.int(20);
      if (op < 4) {
        const ctlOp = rng.int(15) === 0 ? rng.int(6) : [MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_MOD, MTCP_EPOLL_CTL_DEL][rng.int(3)];
        const flags = [0, 0, MTCP_EPOLLET, MTCP_EPOLLONESHOT, MTCP_EPOLLET | MTCP_EPOLLONESHOT][rng.int(5)];
        const e = rng.int(30) === 0 ? null : ev(randBits() | IN * rng.int(2) | flags, rng.int(1000), ptrs[rng.int(8)]);
        const a = ep.ctl(ctlOp, id, e);
        const b = ref.ctl(ctlOp, id, e);
        if (a !== b) fail(`op ${i}: ctl(${ctlOp}, ${id}) = ${a}, expected ${b}`);
        if (e && rng.int(2)) e.data.sockid = -5; // scribble: must not matter
      } else if (op < 10) {
        if (id < 0 || id >= N || !Number.isInteger(id)) continue;
        src.mask[id] = rng.int(4) === 0 ? 0 : randBits();
        // Usually wake with the new bits; sometimes a stale or unrelated wake, sometimes none.
        const w = rng.int(6);
        if (w < 4) {
          ep.wake(id, src.mask[id]);
          ref.wake(id, src.mask[id]);
        } else if (w === 4) {
          const bits = randBits();
          ep.wake(id, bits);
          ref.wake(id, bits);
        }
      } else if (op < 11) {
        if (id < 0 || id >= N || !Number.isInteger(id)) continue;
        ep.forget(id);
        ref.forget(id);
      } else {
        const max = rng.int(8) === 0 ? N : rng.int(6);
        const n = ep.collect(out, max);
        const exp = ref.collect(max);
        reported += n;
        const gotArr = out.slice(0, n).map((e) => [e.data.sockid, e.events, e.data.ptr]);
        if (n !== exp.length || gotArr.some((g, k) => g[0] !== exp[k][0] || g[1] !== exp[k][1] || g[2] !== exp[k][2])) {
          fail(`op ${i}: collect(${max}) = ${JSON.stringify(gotArr)}, expected ${JSON.stringify(exp)}`);
        }
      }
      if (ep.size !== ref.regs.size) fail(`op ${i}: size ${ep.size} expected ${ref.regs.size}`);
      if (ep.hasReady !== ref.list.length > 0) fail(`op ${i}: hasReady ${ep.hasReady}`);
    }
    for (let id = 0; id < N; id++) if (ep.isRegistered(id) !== ref.regs.has(id)) fail(`isRegistered(${id})`);
    t.equal(bad, 0, `seed ${seed}: no mismatches`);
    t.ok(reported > 10_000, `seed ${seed}: exercised (${reported} events)`);
  }
});
