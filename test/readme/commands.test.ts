/**
 * Every command block of README.md (```sh) is tested as written: run here (with names of this test's own for
 * the namespace, the TAP and the files, so parallel runs do not meet), or checked to be what CI runs or what
 * another test runs. A command block this file does not know fails, so a new one comes with its test.
 */
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../helpers/bundle.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { distStale, fencedBlocks } from '../helpers/readme.ts';

const commandBlocks = fencedBlocks().filter((b) => b.lang === 'sh');

/** Run `script` with bash -e in the repository root; status and output. */
function bash(script: string, timeoutMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-c', script], { cwd: root, timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `text` with each word `from` (a whole word) renamed `to`. */
function renamed(text: string, names: Record<string, string>): string {
  let out = text;
  for (const [from, to] of Object.entries(names)) out = out.replace(new RegExp(`\\b${from.replace('.', '\\.')}\\b`, 'g'), to);
  return out;
}

const stale = distStale();
const suffix = String(process.pid % 100_000);

/** How each command block is tested, by its first line. */
const CHECKS: { first: RegExp; name: string; missing?: () => string | null; check: (t: Test, block: string) => Promise<void> }[] = [
  {
    first: /^npm ci && npm test$/,
    name: 'npm ci && npm test is what CI runs',
    check: async (t) => {
      const ci = readFileSync(join(root, '.ci/run'), 'utf8');
      t.match(ci, /^npm ci\b/m, '.ci/run installs with npm ci');
      t.match(ci, /^npm test\b/m, 'and runs npm test');
    },
  },
  {
    first: /^npm ci && npm start$/,
    name: 'npm start: the build, then the demo (1 s a side here), status 0',
    missing: () => stale,
    check: async (t) => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
      t.equal(pkg.scripts.start, 'npm run build --silent && node dist/apps/demo.js', 'npm start builds dist/ and runs the demo');
      // The build is dist/, fresh here (distStale); a test does not rebuild what other tests run.
      const r = await bash('node dist/apps/demo.js --seconds 1', 120_000);
      t.equal(r.status, 0, r.stderr);
      t.match(r.stdout, /mtcp-ts \(shm\) +node:net +ratio\n/, 'the table of both stacks');
      t.match(r.stdout, /^requests\/s +[\d,]+ +[\d,]+/m, 'requests/s of each (how many depends on the machine\'s load)');
      t.match(r.stdout, /^errors +0 +0 *$/m, 'no errors on either');
    },
  },
  {
    first: /^node examples\//,
    name: 'the examples',
    check: async (t) => {
      t.ok(existsSync(join(root, 'test/examples/examples.test.ts')), 'test/examples/examples.test.ts runs each of these lines');
    },
  },
  {
    first: /^MTCP_CONF=mtcp\.conf node --import mtcp-ts\/register app\.js$/,
    name: '--import mtcp-ts/register',
    check: async (t) => {
      t.ok(existsSync(join(root, 'test/interop/register-tap.test.ts')), 'test/interop/register-tap.test.ts runs programs so');
    },
  },
  {
    first: /^mkdir -p www && echo hello > www\/index\.html$/,
    name: 'pair: epserver and epwget, every request answered',
    missing: () => stale,
    check: async (t, block) => {
      const www = `www-nc${suffix}`;
      t.teardown(() => rmSync(join(root, www), { recursive: true, force: true }));
      const r = await bash(renamed(block, { www }), 300_000);
      t.equal(r.status, 0, r.stderr);
      t.match(r.stdout, /\[ TOTAL \] requests: 50000, completes: 50000, errors: 0,/);
    },
  },
  {
    first: /^mkdir -p www && echo 'hello from mtcp-ts' > www\/index\.html$/,
    name: 'the TAP recipe: curl fetches the file, and it cleans up',
    missing: () => stale ?? (process.getuid?.() !== 0 ? 'not root' : commandMissing('curl') ?? commandMissing('ip')),
    check: async (t, block) => {
      const names = { demo: `ncdemo${suffix}`, tap0: `tapnc${suffix}`, www: `www-tapnc${suffix}`, 'tap.conf': `tapnc${suffix}.conf` };
      t.teardown(() => {
        // Whatever a failed run left: its processes, its namespace (and the TAP in it), its files.
        spawnSync('sh', ['-c', `ip netns pids ${names.demo} | xargs -r kill -9; ip netns del ${names.demo}`]);
        rmSync(join(root, names.www), { recursive: true, force: true });
        rmSync(join(root, names['tap.conf']), { force: true });
      });
      const r = await bash(renamed(block, names), 120_000);
      t.equal(r.status, 0, r.stderr);
      t.equal(r.stdout, 'hello from mtcp-ts\n', 'curl printed the file');
      t.match(r.stderr, /side files config\/arp\.conf \(1 ARP entry, found beside it\); skipped config\/route\.conf: it routes by shm0/,
        'the repository\'s config/route.conf beside tap.conf is skipped, and said');
      t.notOk(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(names.demo), 'the namespace is gone');
      t.notOk(existsSync(join(root, names.www)) || existsSync(join(root, names['tap.conf'])), 'its files are gone');
      // The server had SIGTERM: it stops, and the TAP goes with the last of the namespace.
      let left = '';
      for (let i = 0; i < 50; i++) {
        left = spawnSync('sh', ['-c', `pgrep -f '[e]pserver -p ${names.www}'; ip link show ${names.tap0} 2>/dev/null`], { encoding: 'utf8' }).stdout;
        if (left === '') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      t.equal(left, '', 'no server process and no TAP left');
    },
  },
];

t.test('README.md\'s command blocks, each tested as written', async (t) => {
  t.ok(commandBlocks.length >= 6, `${commandBlocks.length} blocks`);
  for (const b of commandBlocks) {
    const check = CHECKS.find((c) => c.first.test(b.text.split('\n')[0]));
    if (!check) {
      t.fail(`README.md:${b.line}: a command block no test runs: ${b.text.split('\n')[0]}`);
      continue;
    }
    await testNeeding(t, `README.md:${b.line}: ${check.name}`, check.missing?.() ?? null, (t) => check.check(t, b.text), { timeout: 400_000 });
  }
});
