/** The mtcp-ts CLI bundled for tests: it starts itself as worker threads, so it must be JavaScript. */
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Bundle apps/cli.ts next to node_modules (so koffi resolves); returns its path. */
export async function buildCli(): Promise<string> {
  const out = `${root}node_modules/.cache/mtcp-ts-test`;
  mkdirSync(out, { recursive: true });
  const outfile = `${out}/cli.mjs`;
  await build({
    entryPoints: [`${root}apps/cli.ts`], outfile, bundle: true, platform: 'node', format: 'esm', external: ['koffi'], logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return outfile;
}
