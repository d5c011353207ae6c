/**
 * The README as the tests read it: its fenced blocks, and whether dist/ (what `npm ci` builds and what the
 * README's commands and the examples run) is a build of the current sources.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './bundle.ts';

export interface FencedBlock {
  /** The fence's language tag ('sh', 'js', '' ...). */
  lang: string;
  /** The block's text, without the fences, ending with a newline. */
  text: string;
  /** Line of the opening fence, 1-based. */
  line: number;
}

/** Every fenced block of `file` (a path from the repository root). */
export function fencedBlocks(file = 'README.md'): FencedBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    blocks.push({ lang: open[1], text: `${body.join('\n')}\n`, line: start + 1 });
  }
  return blocks;
}

/** Newest modification time under `dir` (files ending in `ext`), ms. */
function newest(dir: string, ext: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(ext)) t = Math.max(t, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return t;
}

/** Why dist/ cannot stand for the current sources ('dist/ is older than src/: npm run build'), or null. */
export function distStale(): string | null {
  let built: number;
  try {
    built = Math.min(statSync(join(root, 'dist/src/index.js')).mtimeMs, statSync(join(root, 'dist/apps/cli.js')).mtimeMs);
  } catch {
    return 'no dist/ (npm ci or npm run build makes it)';
  }
  return built < Math.max(newest(join(root, 'src'), '.ts'), newest(join(root, 'apps'), '.ts')) ? 'dist/ is older than src/ or apps/: npm run build' : null;
}
