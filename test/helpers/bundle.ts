/**
 * Test bundles: worker threads need JavaScript on Node 20, so tests build what
 * they start with esbuild, under node_modules/.cache (so koffi resolves). With
 * several entries the build splits shared code into chunks, as
 * scripts/build.mjs does for dist/: modules that import mtcp-ts then share one
 * copy of it with src/mtcp/core-worker.ts in each thread, and files sit at
 * their source paths (dist's layout).
 */
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Build `entries` (paths from the repository root) into node_modules/.cache/mtcp-ts-test/<name>/; returns that directory. */
export async function bundle(name: string, entries: string[]): Promise<string> {
  const outdir = `${root}node_modules/.cache/mtcp-ts-test/${name}`;
  mkdirSync(outdir, { recursive: true });
  // Under node_modules, no package.json says these .js files are ES modules (Node stops looking there): this one does.
  writeFileSync(`${outdir}/package.json`, '{ "type": "module" }\n');
  await build({
    entryPoints: entries.map((e) => `${root}${e}`), outdir, outbase: root, bundle: true, splitting: true, platform: 'node',
    format: 'esm', target: 'node20', chunkNames: 'chunks/[name]-[hash]', external: ['koffi'], logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outdir;
}
