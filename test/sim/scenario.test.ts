import t from 'tap';
import { reproduction, runScenario, scenarioParams } from '../../sim/scenario.ts';

/** Seeds run by `npm test`; `npm run sim -- --seeds N` runs more. */
const SEEDS = 1000;

t.test('the scenario is a pure function of its seed', async (t) => {
  const a = runScenario(11);
  const b = runScenario(11);
  t.same(b, a);
  t.same(scenarioParams(12), scenarioParams(12));
  t.not(JSON.stringify(scenarioParams(12)), JSON.stringify(scenarioParams(13)));
});

t.test(`seeds 1..${SEEDS} hold every invariant`, async (t) => {
  const failed: string[] = [];
  let excused = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = runScenario(seed);
    if (!r.ok) failed.push(`${reproduction(seed)}: ${r.failure.split('\n')[0]}`);
    excused += r.excused.length;
  }
  t.same(failed, [], `${failed.length} of ${SEEDS} seeds failed`);
  t.comment(`${excused} connections failed legitimately (a retry limit reached with every answer lost)`);
});

/** A seed whose clean run passes and moves bytes, so a planted fault is the only thing wrong. */
function passingSeedWithData(): number {
  for (let seed = 1; ; seed++) {
    const r = runScenario(seed);
    if (r.ok && r.bytes > 0) return seed;
  }
}

t.test('the checker catches a corrupted byte in a stream', async (t) => {
  const seed = passingSeedWithData();
  const r = runScenario(seed, 'corrupt-read');
  t.equal(r.ok, false);
  t.match(r.failure, /byte \d+ read by (opener|acceptor) is \d+, the peer wrote \d+/);
});

t.test('the checker catches a buffer that never went back to its pool', async (t) => {
  const seed = passingSeedWithData();
  const r = runScenario(seed, 'leak-buffer');
  t.equal(r.ok, false);
  t.match(r.failure, /host 0: 1 send buffers/);
});

t.test('the checker refuses a failed connect when a SYN|ACK reached the opener intact', async (t) => {
  let judged = '';
  for (let seed = 1; seed <= 50 && !judged; seed++) {
    const r = runScenario(seed, 'swallow-syn-ack');
    if (r.failure.includes('both applications ended cleanly')) judged = r.failure;
  }
  t.match(judged, /the frames do not show a retry limit reached with every answer lost/);
});

t.test('the checker accepts failures the frames explain: a network that loses everything one host sends', async (t) => {
  const r = runScenario(passingSeedWithData(), 'cut-return-path');
  t.equal(r.ok, true, r.failure);
  t.ok(r.excused.length > 0, `${r.excused.length} connections excused`);
  t.ok(r.excused.every((e) => /connect timed out|half-open expired|data timed out/.test(e)), r.excused.join('; '));
});
