// Emit the package's type declarations (dist/types/) for its exports: mtcp-ts, mtcp-ts/net and
// mtcp-ts/register (tsconfig.types.json). The sources import each other as './x.ts'; the declarations
// must say './x.js', as the built files are named, for a consumer's TypeScript to resolve them.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';

rmSync('dist/types', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.types.json'], { stdio: 'inherit' });

const relativeTs = /((?:from|import)\s*\(?\s*['"])(\.\.?\/[^'"]*)\.ts(['"])/g;
function rewrite(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) rewrite(path);
    else if (name.endsWith('.d.ts')) writeFileSync(path, readFileSync(path, 'utf8').replace(relativeTs, '$1$2.js$3'));
  }
}
rewrite('dist/types');
