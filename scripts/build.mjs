// Bundle the library, the apps, the demo and the benchmarks into dist/ with esbuild.
// Worker threads need plain .js files on Node 20, so every entry point is built. Modules the
// entries share go to shared chunks: 'mtcp-ts' and 'mtcp-ts/net' must see one per-thread runtime.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

// src/mtcp/core-worker.ts is the boot of runOnCores' per-core worker threads.
const entries = ['src/index.ts', 'src/net/index.ts', 'src/register.ts', 'src/mtcp/core-worker.ts'];
for (const dir of ['apps', 'bench', 'sim']) {
  for (const f of readdirSync(dir)) if (f.endsWith('.ts')) entries.push(`${dir}/${f}`);
}

// Chunk names carry a content hash: clear the old ones, or dist/chunks grows with every build.
rmSync('dist/chunks', { recursive: true, force: true });

await build({
  entryPoints: entries,
  outdir: 'dist',
  outbase: '.',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  external: ['koffi'],
  logLevel: 'warning',
  banner: { js: "import { createRequire as __mtcpCreateRequire } from 'node:module'; const require = __mtcpCreateRequire(import.meta.url);" },
});
