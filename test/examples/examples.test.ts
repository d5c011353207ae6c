/**
 * examples/: every program the README lists runs with the README's command (from the repository, against the
 * package `npm ci` builds into dist/), moves something between its two stacks, prints it and exits 0; every
 * example file is listed; and every README snippet marked `// examples/<file>` is that file's text.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '../helpers/bundle.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { distStale, fencedBlocks } from '../helpers/readme.ts';

const blocks = fencedBlocks();
/** The README's `node examples/<file>` commands, in order. */
const commands = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.text.split('\n'))
  .map((l) => /^(node (examples\/\S+\.mjs))\b/.exec(l)).filter((m) => m !== null).map((m) => ({ command: m[1], file: m[2] }));

/** What each example must print (stdout), so a run that moved nothing fails. */
const EXPECTED: Record<string, RegExp> = {
  'examples/api-echo.mjs': /^echoed: hello over the mTCP API$/m,
  'examples/http-shm.mjs': /^200 hello from mtcp-ts, \/\n200 hello from mtcp-ts, \/second$/m,
  'examples/cores.mjs': /^the server's cores accepted [1-9]\d* and [1-9]\d* connections$/m,
  'examples/http-tap.mjs': /^curl: hello from mtcp-ts, \/tap$/m,
};

/** Run a README command line (its words; args appended) in the repository; status and output. */
function run(command: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const [exe, ...rest] = command.split(' ');
  return new Promise((resolve) => {
    const child = spawn(exe === 'node' ? process.execPath : exe, [...rest, ...args], { cwd: root, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

t.test('the README lists every example, and each has what it must print', async (t) => {
  const programs = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs') && f !== 'cores-core.mjs').map((f) => `examples/${f}`);
  t.same(commands.map((c) => c.file).sort(), programs.sort(), 'one README command per program (cores-core.mjs is cores.mjs\'s per-core module)');
  t.same(Object.keys(EXPECTED).sort(), programs.sort());
});

t.test('every README snippet marked `// examples/<file>` is that file\'s text (indentation aside)', async (t) => {
  const marked = blocks.filter((b) => b.lang === 'js' && /^\/\/ examples\/\S+\n/.test(b.text));
  t.ok(marked.length >= 5, `${marked.length} snippets`);
  const squeeze = (text: string): string => text.split('\n').map((l) => l.trim()).join('\n');
  for (const b of marked) {
    const [first, ...rest] = b.text.trimEnd().split('\n');
    const file = first.slice(3);
    const source = squeeze(readFileSync(join(root, file), 'utf8'));
    t.ok(source.includes(squeeze(rest.join('\n'))), `README.md:${b.line}: the snippet is ${file}'s text`);
  }
});

const stale = distStale();
for (const { command, file } of commands) {
  const root_ = file === 'examples/http-tap.mjs';
  const missing = stale ?? (root_ ? (process.getuid?.() !== 0 ? 'not root' : commandMissing('curl') ?? commandMissing('ip')) : null);
  testNeeding(t, `${command}: runs to its end, status 0`, missing, async (t) => {
    // The TAP example takes names for its namespace and TAP: names of this test's own, so parallel runs do not meet.
    const names = root_ ? [`ncex${process.pid}`, `tapncx${process.pid % 100_000}`] : [];
    if (root_) t.teardown(() => spawnSync('ip', ['netns', 'del', names[0]]));
    const r = await run(command, names);
    t.equal(r.status, 0, r.stderr);
    t.match(r.stdout, EXPECTED[file]);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    if (root_) t.equal(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(names[0]), false, 'its namespace is gone');
  }, { timeout: 180_000 });
}
