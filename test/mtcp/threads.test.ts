/**
 * The cross-thread rules and the API's loud failures: mtcp_share() lends a runtime's cores to worker threads, and a
 * core has one context across every thread (a second is EEXIST, with a message naming mtcp_shm_peer() for a second
 * stack); mtcp_shm_peer() gives the other end of the wire; a missing config file is ENOENT; a second port line is
 * refused; mtcp_epoll_wait on a bad context fails with -1 and EBADF and says why, once, so a loop stops.
 */
import t from 'tap';
import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  mtcp_create_context, mtcp_destroy, mtcp_destroy_context, mtcp_epoll_create, mtcp_epoll_wait, mtcp_errno, mtcp_init, mtcp_share,
  mtcp_shm_peer,
} from '../../src/mtcp/api.ts';
import { createEpollEvents } from '../../src/epoll/events.ts';
import { EBADF, EEXIST, EINVAL, ENOENT } from '../../src/stack/errno.ts';
import { SimWire } from '../../src/io/sim.ts';
import { MtcpRuntime } from '../../src/mtcp/runtime.ts';
import { bundle } from '../helpers/bundle.ts';
import { config } from '../helpers/stacks.ts';
import { captureStderr } from '../helpers/stderr.ts';
import { tempDir } from '../helpers/tmp.ts';
import { writeFileSync } from 'node:fs';

const dir = await bundle('threads', ['test/mtcp/fixtures/share-worker.ts']);
const workerFile = join(dir, 'test/mtcp/fixtures/share-worker.js');

/** A worker given mtcp_share() that tries core `core`: what it reported and what it printed. */
async function shareWorker(core: number): Promise<{ worker: Worker; made: boolean; errno: number; stderr: () => string }> {
  const worker = new Worker(workerFile, { workerData: { mtcp: mtcp_share(), core }, stderr: true });
  let text = '';
  worker.stderr.on('data', (d: Buffer) => (text += String(d)));
  const [m] = (await once(worker, 'message')) as [{ made: boolean; errno: number }];
  return { worker, ...m, stderr: () => text };
}

async function release(worker: Worker): Promise<void> {
  worker.postMessage('release');
  await once(worker, 'message');
  await once(worker, 'exit');
}

t.test('a worker given mtcp_share() cannot make a second context of a core this thread has', async (t) => {
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' })), 0);
  const mctx = mtcp_create_context(0)!;
  t.teardown(async () => {
    mtcp_destroy_context(mctx);
    await mctx.closed;
    mtcp_destroy();
  });
  const w = await shareWorker(0);
  t.notOk(w.made, 'refused');
  t.equal(w.errno, EEXIST);
  await release(w.worker);
  t.match(w.stderr(), /core 0 already has a context in another thread of this runtime/);
  t.match(w.stderr(), /hand its worker mtcp_shm_peer\(\) and call mtcp_init\(conf, \{ shm \}\) there/, 'names the call a second stack needs');
});

t.test('mtcp_share() lends the other cores; while a worker holds one, this thread cannot make it, and can after', async (t) => {
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm', cores: 2 })), 0);
  t.teardown(() => mtcp_destroy());
  const w = await shareWorker(1);
  t.ok(w.made, 'the worker has core 1');
  const [taken, said] = await captureStderr(() => mtcp_create_context(1));
  t.equal(taken, null, 'this thread cannot make core 1 too');
  t.equal(mtcp_errno(), EEXIST);
  t.match(said, /core 1 already has a context in another thread/);
  await release(w.worker);
  const again = mtcp_create_context(1);
  t.ok(again, 'once the worker destroyed it, core 1 is free');
  mtcp_destroy_context(again!);
  await again!.closed;
});

t.test('mtcp_shm_peer(): the other end of the wire; null with EINVAL before mtcp_init or off shm', async (t) => {
  const [none, said] = await captureStderr(() => mtcp_shm_peer());
  t.equal(none, null);
  t.equal(mtcp_errno(), EINVAL);
  t.match(said, /mtcp_init first/);
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' })), 0);
  const end = mtcp_shm_peer();
  t.equal(end?.port, 1, 'the end the runtime does not use');
  mtcp_destroy();
  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'sim' }), { sim: new SimWire({ seed: 1 }) }), 0);
  const [offShm, why] = await captureStderr(() => mtcp_shm_peer());
  t.equal(offShm, null);
  t.match(why, /io = sim, not shm/);
  mtcp_destroy();
});

t.test('a missing config file: ENOENT from mtcp_init, and mtcp_create_context keeps it and says why', async (t) => {
  const tmp = tempDir(t, 'mtcp-threads-');
  const [r, said] = await captureStderr(() => mtcp_init(join(tmp, 'mtcp.conf')));
  t.equal(r, -1);
  t.equal(mtcp_errno(), ENOENT);
  t.match(said, /mtcp\.conf: cannot read the file \(ENOENT\)/);
  const [mctx, why] = await captureStderr(() => mtcp_create_context(0));
  t.equal(mctx, null);
  t.equal(mtcp_errno(), ENOENT, 'the cause, not a generic EINVAL');
  t.match(why, /mtcp_init failed \(ENOENT\)/);
});

t.test('a second port, which no driver would serve, is refused with EINVAL naming the line', async (t) => {
  const tmp = tempDir(t, 'mtcp-threads-');
  const file = join(tmp, 'two.conf');
  writeFileSync(file, 'io = shm\nport = shm0 shm1\nshm0.addr = 198.18.0.1/24\nshm1.addr = 198.19.0.1/24\n');
  const [r, said] = await captureStderr(() => mtcp_init(file));
  t.equal(r, -1);
  t.equal(mtcp_errno(), EINVAL);
  t.match(said, /two\.conf:2: port = shm0 shm1: io = shm takes one port per stack in this version, so shm1 would get no driver/);
});

t.test('mtcp_init says which side files it loaded, in one line', async (t) => {
  const [r, said] = await captureStderr(() => mtcp_init(new URL('../../mtcp.conf', import.meta.url).pathname));
  t.equal(r, 0);
  mtcp_destroy();
  t.match(said, /^mtcp_init: .*mtcp\.conf: side files config\/arp\.conf \(1 ARP entry, found beside it\); config\/route\.conf \(1 route, found beside it\)\n$/);
});

t.test('mtcp_epoll_wait on a bad context: -1 with EBADF at once, the reason printed once, and the README loop stops', async (t) => {
  const events = createEpollEvents(8);
  const [n, said] = await captureStderr(async () => {
    let turns = 0;
    // The README's loop: it stops on -1.
    for (;;) {
      turns++;
      const got = await mtcp_epoll_wait(null as never, 0, events, 8, -1);
      if (got < 0) return [got, turns];
    }
  });
  t.same(n, [-1, 1]);
  t.equal(mtcp_errno(), EBADF);
  t.match(said, /mtcp_epoll_wait: null is not a context \(did mtcp_create_context return null\?\)/);
  const [, again] = await captureStderr(() => mtcp_epoll_wait(null as never, 0, events, 8, -1));
  t.equal(again, '', 'said once, not at every turn of a loop that ignores -1');

  t.equal(mtcp_init(config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' })), 0);
  const mctx = mtcp_create_context(0)!;
  const ep = mtcp_epoll_create(mctx, 8);
  const pending = mtcp_epoll_wait(mctx, ep, events, 8, -1);
  mtcp_destroy_context(mctx);
  await mctx.closed;
  t.equal(await pending, 0, 'a wait in progress when the context stops resolves 0');
  const [r, stopped] = await captureStderr(() => mtcp_epoll_wait(mctx, ep, events, 8, -1));
  t.equal(r, -1);
  t.equal(mtcp_errno(), EBADF);
  t.match(stopped, /the context of core 0 is stopped/);
  mtcp_destroy();
});

t.test('a context that fails to start leaves its core free: asking again gives the same cause, not EEXIST', async (t) => {
  const conf = config('198.18.0.1', '02:00:c6:12:00:01', { io: 'shm' });
  conf.capture = join(tempDir(t, 'mtcp-threads-'), 'no', 'such', 'dir.pcapng'); // the capture file cannot be made
  const runtime = new MtcpRuntime(conf);
  t.teardown(() => runtime.destroy());
  for (const attempt of ['first', 'second']) {
    t.throws(() => runtime.createContext(0), { code: 'ENOENT' }, `${attempt} attempt: the capture file's ENOENT`);
  }
});
