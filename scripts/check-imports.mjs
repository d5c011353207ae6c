#!/usr/bin/env node
/**
 * The import-direction check (run by `npm run lint`): reads the import and export-from statements of
 * every .ts file under src/ (type-only ones too, and import() of a literal path) and fails, listing each
 * offending edge as file:line, on
 *   - an import circle among src/ files, and
 *   - an import from a lower layer to a higher one.
 * Layers, lowest first: stack imports only stack; io, epoll and config import stack (and themselves);
 * mtcp imports stack, io, epoll and config; net imports all of those; src/index.ts and other files at
 * the top of src/ may import anything. No dependencies: `node scripts/check-imports.mjs [src dir]`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** What each layer (a folder of src/) may import besides itself; '' is the files at the top of src/. */
const MAY_IMPORT = {
  stack: [],
  io: ['stack'],
  epoll: ['stack'],
  config: ['stack'],
  mtcp: ['stack', 'io', 'epoll', 'config'],
  net: ['stack', 'io', 'epoll', 'config', 'mtcp'],
  '': ['stack', 'io', 'epoll', 'config', 'mtcp', 'net'],
};

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src'));

/** Every .ts file under dir. */
function tsFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The text with comments blanked (newlines kept, so offsets and line numbers hold); strings are left alone. */
function withoutComments(text) {
  let out = '';
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') {
        out += ' ';
        i++;
      }
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (; i < stop; i++) out += text[i] === '\n' ? '\n' : ' ';
    } else if (c === '\'' || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Statements at the start of a line: `import ... from '...'`, `export ... from '...'`, `import '...'`; and `import('...')`. */
const STATEMENT = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"]+)\1|^[ \t]*import\s*(['"])([^'"]+)\3|\bimport\(\s*(['"])([^'"]+)\5\s*\)/gm;

/** The imports of one file: [specifier, line]. */
function importsOf(text) {
  const code = withoutComments(text);
  const out = [];
  for (const m of code.matchAll(STATEMENT)) {
    const spec = m[2] ?? m[4] ?? m[6];
    const at = m.index + m[0].lastIndexOf(spec);
    out.push([spec, code.slice(0, at).split('\n').length]);
  }
  return out;
}

/** The layer of a file under root: its first folder, '' for a file at the top. */
function layerOf(file) {
  const parts = relative(root, file).split(sep);
  return parts.length === 1 ? '' : parts[0];
}

const files = tsFiles(root);
const known = new Set(files);
/** file -> [{ to, line }] for imports of other src/ files. */
const edges = new Map(files.map((f) => [f, []]));
const problems = [];
const show = (file, line) => `src/${relative(root, file).split(sep).join('/')}:${line}`;

for (const file of files) {
  const from = layerOf(file);
  if (!(from in MAY_IMPORT)) problems.push(`${show(file, 1)}: layer \`${from}\` is unknown; give it its place in MAY_IMPORT (scripts/check-imports.mjs)`);
  for (const [spec, line] of importsOf(readFileSync(file, 'utf8'))) {
    if (!spec.startsWith('.')) continue; // node:, packages
    const to = resolve(dirname(file), spec);
    if (!known.has(to)) {
      if (!to.startsWith(root + sep) && existsSync(to)) problems.push(`${show(file, line)}: imports ${spec}, outside src/`);
      continue;
    }
    edges.get(file).push({ to, line });
    const target = layerOf(to);
    if (from in MAY_IMPORT && target !== from && !MAY_IMPORT[from].includes(target)) {
      problems.push(`${show(file, line)}: ${from || 'src/'} imports ${target || 'src/'} (${spec}): a lower layer may not import a higher one`);
    }
  }
}

const layerProblems = problems.length;

// Import circles: the strongly connected components with more than one file (or a file importing itself), Tarjan's algorithm.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const circles = [];
function visit(v) {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const { to } of edges.get(v)) {
    if (!index.has(to)) {
      visit(to);
      low.set(v, Math.min(low.get(v), low.get(to)));
    } else if (onStack.has(to)) {
      low.set(v, Math.min(low.get(v), index.get(to)));
    }
  }
  if (low.get(v) === index.get(v)) {
    const members = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      members.push(w);
    } while (w !== v);
    const self = edges.get(v).some((e) => e.to === v);
    if (members.length > 1 || self) circles.push(new Set(members));
  }
}
for (const f of files) if (!index.has(f)) visit(f);
for (const members of circles) {
  const names = [...members].sort().map((f) => relative(root, f).split(sep).join('/'));
  problems.push(`import circle among ${names.join(', ')}:`);
  for (const f of [...members].sort()) {
    for (const { to, line } of edges.get(f)) {
      if (members.has(to)) problems.push(`  ${show(f, line)}: imports ${relative(dirname(f), to).split(sep).join('/')}`);
    }
  }
}

const count = [...edges.values()].reduce((n, e) => n + e.length, 0);
if (problems.length > 0) {
  process.stderr.write(`check-imports: ${files.length} files, ${count} imports: ${layerProblems} against the layers, ${circles.length} import circle(s)\n`
    + `${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`check-imports: ${files.length} files, ${count} imports: one-way layers, no import circle\n`);
