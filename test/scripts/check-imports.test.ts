/**
 * scripts/check-imports.mjs, the import-direction check `npm run lint` runs, on small src/ trees made
 * here: it passes a tree that keeps the layers, and names each offending edge (file:line) of a tree that
 * imports upwards (type-only and export-from included) or in a circle; comments do not count.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../helpers/tmp.ts';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'check-imports.mjs');

/** A src/ tree of the given files (path -> text) in a temporary directory; returns the script's verdict on it. */
function check(t: Parameters<typeof tempDir>[0], files: Record<string, string>): { status: number | null; out: string } {
  const src = join(tempDir(t, 'mtcpts-imports-'), 'src');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(src, path)), { recursive: true });
    writeFileSync(join(src, path), text);
  }
  const r = spawnSync(process.execPath, [SCRIPT, src], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

t.test('a tree that keeps the layers passes', async (t) => {
  const r = check(t, {
    'stack/port.ts': 'export interface Port { x: number }\n',
    'stack/context.ts': "import type { Port } from './port.ts';\nexport const p: Port | null = null;\n",
    'io/sim.ts': "import type { Port } from '../stack/port.ts';\nimport koffi from 'koffi';\nexport const q: Port | null = null;\n",
    'epoll/events.ts': "export { p } from '../stack/context.ts';\n",
    'config/keys.ts': "import '../stack/port.ts';\n",
    'mtcp/api.ts': "import { q } from '../io/sim.ts';\nimport { p } from '../epoll/events.ts';\nimport '../config/keys.ts';\nexport const r = [p, q];\n",
    'net/socket.ts': "import { r } from '../mtcp/api.ts';\nimport { readFileSync } from 'node:fs';\nexport const s = r;\n",
    'index.ts': "export * from './net/socket.ts';\nexport * from './stack/port.ts';\n",
  });
  t.equal(r.status, 0, r.out);
  t.match(r.out, /8 files, 10 imports: one-way layers, no import circle/);
});

t.test('upward imports are named by file and line, type-only and export-from included; comments do not count', async (t) => {
  const r = check(t, {
    'stack/context.ts': [
      '// import { x } from \'../io/sim.ts\' is only a comment',
      '/* and so is',
      "   import { y } from '../net/socket.ts' */",
      'import {',
      '  type Sim,',
      "} from '../io/sim.ts';",
      'export const s: Sim | null = null;',
      "const text = 'import { z } from \"../mtcp/api.ts\"';",
    ].join('\n'),
    'io/sim.ts': "export interface Sim { n: number }\nexport { s } from '../epoll/events.ts';\n",
    'epoll/events.ts': "export const s = 1;\nexport const load = () => import('../mtcp/api.ts');\n",
    'config/keys.ts': "import type { Sim } from '../io/sim.ts';\nexport type K = Sim;\n",
    'mtcp/api.ts': "import { socket } from '../net/socket.ts';\nexport const a = socket;\n",
    'net/socket.ts': 'export const socket = 1;\n',
  });
  t.equal(r.status, 1);
  const lines = r.out.split('\n').filter((l) => l.startsWith('src/'));
  t.same(lines, [
    'src/config/keys.ts:1: config imports io (../io/sim.ts): a lower layer may not import a higher one',
    'src/epoll/events.ts:2: epoll imports mtcp (../mtcp/api.ts): a lower layer may not import a higher one',
    'src/io/sim.ts:2: io imports epoll (../epoll/events.ts): a lower layer may not import a higher one',
    'src/mtcp/api.ts:1: mtcp imports net (../net/socket.ts): a lower layer may not import a higher one',
    'src/stack/context.ts:6: stack imports io (../io/sim.ts): a lower layer may not import a higher one',
  ]);
});

t.test('an import circle is named with every edge in it, even within one layer', async (t) => {
  const r = check(t, {
    'stack/tcp/engine.ts': "import { input } from './input.ts';\nimport { output } from './output.ts';\nexport const engine = [input, output];\n",
    'stack/tcp/input.ts': "import type { E } from './engine.ts';\nexport const input = 1;\nexport type I = E;\n",
    'stack/tcp/output.ts': 'export const output = 2;\n',
    'stack/self.ts': "import './self.ts';\n",
  });
  t.equal(r.status, 1);
  t.match(r.out, 'import circle among stack/tcp/engine.ts, stack/tcp/input.ts:\n'
    + '  src/stack/tcp/engine.ts:1: imports input.ts\n'
    + '  src/stack/tcp/input.ts:1: imports engine.ts\n');
  t.match(r.out, 'import circle among stack/self.ts:\n  src/stack/self.ts:1: imports self.ts\n');
  t.notMatch(r.out, /output\.ts/, 'output.ts is imported but in no circle');
});

t.test('a folder of src/ with no layer is an error, not a pass', async (t) => {
  const r = check(t, { 'stack/a.ts': 'export const a = 1;\n', 'extra/b.ts': "import { a } from '../stack/a.ts';\nexport const b = a;\n" });
  t.equal(r.status, 1);
  t.match(r.out, /src\/extra\/b\.ts:1: layer `extra` is unknown/);
});
