/**
 * The prerequisite helper (prerequisites.ts) in both modes. A fixture test file, run as its own tap
 * process, has a test whose prerequisite is present, one whose prerequisite is missing and one whose
 * missing prerequisite CI does not provide either. With CI unset both missing ones are tap skips (tap
 * counts them under skip, not pass); with CI=true the first fails naming what is missing.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/prerequisite-cases.ts', import.meta.url));

/** Run the fixture with CI set to `ci` (unset for null); its exit status and tap's output. */
function runFixture(ci: string | null): { status: number | null; out: string } {
  // A test process of its own, not a subtest of this run: none of tap's runner variables, tap's TypeScript loader kept.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(_?TAP|NODE_OPTIONS$|CI$)/.test(name)));
  if (ci !== null) env.CI = ci;
  const args = [...process.execArgv.filter((a) => !a.includes('@tapjs/processinfo')), fixture];
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

t.test('outside CI a missing prerequisite is a skip that names it, never a pass', async (t) => {
  const { status, out } = runFixture(null);
  t.equal(status, 0, 'the file passes', { out });
  t.match(out, /^ok 1 - present # time=/m, 'a present prerequisite: the test runs');
  t.match(out, /^ok 2 - absent # SKIP prerequisite missing: no frobnicator$/m, 'a missing one: skipped with the reason');
  t.match(out, /^ok 3 - absent, and CI does not provide it # SKIP prerequisite missing: no netmap module$/m);
  t.notMatch(out, /ran without its prerequisite/, 'the skipped tests did not run');
  t.match(out, /^# \{ total: 3, pass: 1, skip: 2 \}$/m, 'tap counts the two under skip');
});

t.test('in CI a missing prerequisite fails the test with the reason, unless CI does not provide it', async (t) => {
  const { status, out } = runFixture('true');
  t.not(status, 0, 'the file fails', { out });
  t.match(out, /^ok 1 - present # time=/m, 'a present prerequisite: the test runs');
  t.match(out, /^ {4}not ok 1 - prerequisite missing in CI: no frobnicator$/m, 'a missing one fails, naming it');
  t.match(out, /^not ok 2 - absent # time=/m);
  t.match(out, /^ok 3 - absent, and CI does not provide it # SKIP prerequisite missing: no netmap module$/m, 'one CI lacks too: skipped');
  t.notMatch(out, /ran without its prerequisite/, 'neither ran');
  t.match(out, /^# \{ total: 3, pass: 1, fail: 1, skip: 1 \}$/m, 'tap counts one failure and one skip');
});
