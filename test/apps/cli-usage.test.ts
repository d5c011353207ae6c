/**
 * The CLI explains itself: --help, -h and help print the usage on stdout with status 0, `<app> --help` (or -h)
 * that app's usage, --version the package's version.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { root } from '../helpers/bundle.ts';
import { buildCli } from '../helpers/cli.ts';

const cli = await buildCli();

/** The CLI's status and output (processes run side by side: each start is slow on a loaded machine). */
function run(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

t.test('--help, -h and help: the usage of every app on stdout, status 0, nothing on stderr', async (t) => {
  const flags = ['--help', '-h', 'help'];
  const runs = await Promise.all(flags.map((flag) => run(flag)));
  for (const [i, r] of runs.entries()) {
    t.equal(r.status, 0, flags[i]);
    t.match(r.stdout, /^usage: mtcp-ts <app> \[args\]/, `${flags[i]}: the usage`);
    for (const app of ['epserver', 'epwget', 'perf', 'echo', 'pair']) t.match(r.stdout, `mtcp-ts ${app} `, `${flags[i]}: names ${app}`);
    t.match(r.stdout, /mtcp-ts <app> --help/, `${flags[i]}: says how to get one app's usage`);
    t.equal(r.stderr, '', `${flags[i]}: nothing on stderr`);
  }
});

t.test('<app> --help and <app> -h: that app\'s usage, status 0', async (t) => {
  const cases = [
    ['epserver', '--help', /^usage: mtcp-ts epserver -p www_dir/], ['epwget', '--help', /^usage: mtcp-ts epwget IP\[:port\]\/path/],
    ['perf', '--help', /^usage: mtcp-ts perf send\|recv/], ['echo', '-h', /^usage: mtcp-ts echo server PORT/],
    ['pair', '--help', /^usage: mtcp-ts pair <server app/],
  ] as const;
  const runs = await Promise.all(cases.map(([app, flag]) => run(app, flag)));
  for (const [i, r] of runs.entries()) {
    const [app, flag, usage] = cases[i];
    t.equal(r.status, 0, `${app} ${flag}`);
    t.match(r.stdout, usage, `${app} ${flag}: its usage`);
    t.notMatch(r.stderr, /Unknown option/, `${app} ${flag}: no parser complaint`);
  }
});

t.test('--version: the package\'s version', async (t) => {
  const r = await run('--version');
  t.equal(r.status, 0);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };
  t.equal(r.stdout, `mtcp-ts ${pkg.version}\n`);
});
