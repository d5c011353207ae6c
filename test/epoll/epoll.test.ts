/** Linux epoll semantics of the readiness lists behind mtcp_epoll_*. */
import t from 'tap';
import { Epoll, type ReadinessSource } from '../../src/epoll/epoll.ts';
import {
  MTCP_EPOLLERR, MTCP_EPOLLET, MTCP_EPOLLHUP, MTCP_EPOLLIN, MTCP_EPOLLONESHOT, MTCP_EPOLLOUT, MTCP_EPOLLRDHUP,
  MTCP_EPOLL_CTL_ADD, MTCP_EPOLL_CTL_DEL, MTCP_EPOLL_CTL_MOD, createEpollEvents, type MtcpEpollEvent,
} from '../../src/epoll/events.ts';
import { EEXIST, EINVAL, ENOENT } from '../../src/stack/errno.ts';

class FakeSockets implements ReadinessSource {
  readonly mask = new Uint32Array(64);
  readiness(sockid: number): number {
    return this.mask[sockid];
  }
}

function ev(events: number, sockid: number, ptr: unknown = null): MtcpEpollEvent {
  return { events, data: { sockid, ptr } };
}

function setup(): { src: FakeSockets; ep: Epoll; out: MtcpEpollEvent[]; ids: () => number[] } {
  const src = new FakeSockets();
  const ep = new Epoll(src, 64);
  const out = createEpollEvents(64);
  let n = 0;
  return {
    src, ep, out,
    ids: () => {
      n = ep.collect(out, 64);
      return out.slice(0, n).map((e) => e.data.sockid);
    },
  };
}

t.test('ctl errors use Linux errno values', async (t) => {
  const { ep } = setup();
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 1, ev(MTCP_EPOLLIN, 1)), 0);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 1, ev(MTCP_EPOLLIN, 1)), EEXIST);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_MOD, 2, ev(MTCP_EPOLLIN, 2)), ENOENT);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, 2, null), ENOENT);
  t.equal(ep.ctl(9, 1, ev(MTCP_EPOLLIN, 1)), EINVAL);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 64, ev(MTCP_EPOLLIN, 64)), EINVAL);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, -1, ev(MTCP_EPOLLIN, 0)), EINVAL);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_ADD, 3, null), EINVAL);
  t.equal(ep.ctl(MTCP_EPOLL_CTL_DEL, 1, null), 0);
  t.equal(ep.size, 0);
  t.equal([EEXIST, ENOENT, EINVAL].join(), '17,2,22');
});

t.test('level-triggered: reported while ready, an already-ready socket at once on ADD', async (t) => {
  const { src, ep, ids } = setup();
  src.mask[5] = MTCP_EPOLLIN;
  ep.ctl(MTCP_EPOLL_CTL_ADD, 5, ev(MTCP_EPOLLIN, 5));
  t.same(ids(), [5], 'ready at ADD');
  t.same(ids(), [5], 'still ready, reported again');
  src.mask[5] = 0;
  t.same(ids(), [], 'not ready: dropped');
  t.same(ids(), []);
  src.mask[5] = MTCP_EPOLLIN;
  ep.wake(5, MTCP_EPOLLIN);
  t.same(ids(), [5]);
});

t.test('edge-triggered: once per wake', async (t) => {
  const { src, ep, ids } = setup();
  ep.ctl(MTCP_EPOLL_CTL_ADD, 5, ev(MTCP_EPOLLIN | MTCP_EPOLLET, 5));
  src.mask[5] = MTCP_EPOLLIN;
  ep.wake(5, MTCP_EPOLLIN);
  t.same(ids(), [5]);
  t.same(ids(), [], 'no new event, not reported even though still ready');
  ep.wake(5, MTCP_EPOLLIN);
  t.same(ids(), [5], 'the next wake reports again');
});

t.test('ONESHOT disarms until MOD', async (t) => {
  const { src, ep, ids } = setup();
  src.mask[7] = MTCP_EPOLLIN;
  ep.ctl(MTCP_EPOLL_CTL_ADD, 7, ev(MTCP_EPOLLIN | MTCP_EPOLLONESHOT, 7));
  t.same(ids(), [7]);
  ep.wake(7, MTCP_EPOLLIN);
  t.same(ids(), [], 'disarmed');
  ep.ctl(MTCP_EPOLL_CTL_MOD, 7, ev(MTCP_EPOLLIN | MTCP_EPOLLONESHOT, 7));
  t.same(ids(), [7], 're-armed by MOD');
});

t.test('ERR and HUP always; RDHUP only with interest; wakes outside interest ignored', async (t) => {
  const { src, ep, out } = setup();
  ep.ctl(MTCP_EPOLL_CTL_ADD, 1, ev(MTCP_EPOLLOUT, 1));
  src.mask[1] = MTCP_EPOLLIN;
  ep.wake(1, MTCP_EPOLLIN);
  t.equal(ep.collect(out, 8), 0, 'IN without interest: nothing');
  src.mask[1] = MTCP_EPOLLERR | MTCP_EPOLLHUP | MTCP_EPOLLIN;
  ep.wake(1, MTCP_EPOLLERR);
  t.equal(ep.collect(out, 8), 1);
  t.equal(out[0].events, MTCP_EPOLLERR | MTCP_EPOLLHUP, 'only ERR|HUP, not the IN it did not ask for');
  ep.ctl(MTCP_EPOLL_CTL_ADD, 2, ev(MTCP_EPOLLIN | MTCP_EPOLLRDHUP, 2));
  src.mask[2] = MTCP_EPOLLIN | MTCP_EPOLLRDHUP;
  ep.wake(2, MTCP_EPOLLIN | MTCP_EPOLLRDHUP);
  ep.ctl(MTCP_EPOLL_CTL_ADD, 3, ev(MTCP_EPOLLIN, 3));
  src.mask[3] = MTCP_EPOLLIN | MTCP_EPOLLRDHUP;
  ep.wake(3, MTCP_EPOLLIN | MTCP_EPOLLRDHUP);
  ep.ctl(MTCP_EPOLL_CTL_DEL, 1, null);
  const n = ep.collect(out, 8);
  const got = new Map(out.slice(0, n).map((e) => [e.data.sockid, e.events]));
  t.equal(got.get(2), MTCP_EPOLLIN | MTCP_EPOLLRDHUP);
  t.equal(got.get(3), MTCP_EPOLLIN, 'RDHUP filtered without interest');
});

t.test('MOD of a socket already on the ready list keeps one entry', async (t) => {
  const { src, ep, ids } = setup();
  src.mask[4] = MTCP_EPOLLIN | MTCP_EPOLLOUT;
  ep.ctl(MTCP_EPOLL_CTL_ADD, 4, ev(MTCP_EPOLLIN, 4));
  ep.ctl(MTCP_EPOLL_CTL_MOD, 4, ev(MTCP_EPOLLOUT, 4));
  ep.ctl(MTCP_EPOLL_CTL_MOD, 4, ev(MTCP_EPOLLIN | MTCP_EPOLLOUT, 4));
  t.same(ids(), [4]);
  t.same(ids(), [4]);
});

t.test('maxevents below the ready count: the rest come next, round robin', async (t) => {
  const { src, ep, out } = setup();
  for (let s = 0; s < 10; s++) {
    src.mask[s] = MTCP_EPOLLIN;
    ep.ctl(MTCP_EPOLL_CTL_ADD, s, ev(MTCP_EPOLLIN, s));
  }
  const seen = new Set<number>();
  for (let i = 0; i < 4; i++) {
    const n = ep.collect(out, 3);
    t.equal(n, 3);
    for (let k = 0; k < n; k++) seen.add(out[k].data.sockid);
  }
  t.equal(seen.size, 10, 'four calls of 3 cover all 10');
});

t.test('forget while ready, stale wakes, data copied', async (t) => {
  const { src, ep, ids, out } = setup();
  src.mask[1] = MTCP_EPOLLIN;
  const data = { sockid: 1, ptr: { tag: 'a' } };
  ep.ctl(MTCP_EPOLL_CTL_ADD, 1, { events: MTCP_EPOLLIN, data });
  data.sockid = 99;
  data.ptr = { tag: 'changed' };
  t.equal(ep.collect(out, 8), 1);
  t.same([out[0].data.sockid, out[0].data.ptr], [1, { tag: 'a' }], 'registered data was copied');
  ep.forget(1);
  t.same(ids(), [], 'forgotten');
  t.notOk(ep.isRegistered(1));
  ep.ctl(MTCP_EPOLL_CTL_ADD, 2, ev(MTCP_EPOLLIN, 2));
  ep.wake(2, MTCP_EPOLLIN); // but not ready any more
  t.same(ids(), [], 'a stale wake is dropped');
  t.notOk(ep.hasReady);
});

t.test('randomized against a reference model (100,000 operations)', async (t) => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const src = new FakeSockets();
  const ep = new Epoll(src, 64);
  const out = createEpollEvents(64);
  // Reference: registration (interest, et, oneshot, armed) and a pending flag per socket.
  const reg = new Map<number, { interest: number; et: boolean; oneshot: boolean; armed: boolean; pending: boolean }>();
  const bits = [MTCP_EPOLLIN, MTCP_EPOLLOUT, MTCP_EPOLLRDHUP, MTCP_EPOLLERR, MTCP_EPOLLHUP];
  let mismatches = 0;
  for (let i = 0; i < 100_000; i++) {
    const s = rnd(16);
    const op = rnd(10);
    if (op === 0) {
      const interest = bits[rnd(3)] | bits[rnd(3)];
      const flags = [0, MTCP_EPOLLET, MTCP_EPOLLONESHOT][rnd(3)];
      const r = ep.ctl(MTCP_EPOLL_CTL_ADD, s, ev(interest | flags, s));
      if ((r === 0) === reg.has(s)) mismatches++;
      if (r === 0) reg.set(s, { interest, et: flags === MTCP_EPOLLET, oneshot: flags === MTCP_EPOLLONESHOT, armed: true, pending: (src.mask[s] & (interest | 0x18)) !== 0 });
    } else if (op === 1) {
      const r = ep.ctl(MTCP_EPOLL_CTL_DEL, s, null);
      if ((r === 0) !== reg.has(s)) mismatches++;
      reg.delete(s);
    } else if (op <= 5) {
      src.mask[s] = bits[rnd(5)] | (rnd(2) ? bits[rnd(5)] : 0);
      const b = src.mask[s];
      ep.wake(s, b);
      const r = reg.get(s);
      if (r && r.armed && b & (r.interest | 0x18)) r.pending = true;
    } else if (op <= 7) {
      src.mask[s] = 0;
    } else {
      const n = ep.collect(out, 64);
      const got = new Map(out.slice(0, n).map((e) => [e.data.sockid, e.events]));
      for (const [id, r] of reg) {
        const mask = r.armed ? src.mask[id] & (r.interest | 0x18) : 0;
        const expect = r.pending && mask !== 0;
        if (expect !== got.has(id) || (expect && got.get(id) !== mask)) mismatches++;
        if (expect) {
          if (r.oneshot) r.armed = false;
          r.pending = !r.et && !r.oneshot;
        } else {
          r.pending = false;
        }
      }
    }
  }
  t.equal(mismatches, 0);
});
