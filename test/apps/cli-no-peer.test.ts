/**
 * The CLI when the other side is missing or fails: a lone client on shm says nobody answered (no ARP reply, no
 * peer on the shm wire), suggests pair and respects -t; pair with a server that cannot start stops both sides and
 * exits non-zero within 2 s of the failure; epwget names its errors. Times are taken from the moment the stack is
 * up (its mtcp_init line) or the failure is printed: a process's own start is slow on a loaded machine.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from '../helpers/bundle.ts';
import { buildCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const cli = await buildCli();
const dir = tempDir(t, 'mtcp-cli-no-peer-');
const serverConf = `${root}mtcp.conf`;
const clientConf = `${root}config/client.conf`;

/** Run the CLI: status, output, and how long it ran after its stderr first matched `mark`, ms. */
function timed(args: string[], mark: RegExp): Promise<{ status: number | null; stdout: string; stderr: string; afterMarkMs: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    let markedAt = Infinity;
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => {
      stderr += String(d);
      if (markedAt === Infinity && mark.test(stderr)) markedAt = performance.now();
    });
    child.once('close', (status) => resolve({ status, stdout, stderr, afterMarkMs: performance.now() - markedAt }));
  });
}

t.test('a lone echo client on shm says nobody answered, suggests pair, and ends at -t', async (t) => {
  const r = await timed(['echo', 'client', '198.18.0.1', '7', '-f', clientConf, '-t', '2'], /^mtcp_init: /m);
  t.equal(r.status, 1);
  t.ok(r.afterMarkMs < 2000 + 2000, `ended ${r.afterMarkMs.toFixed(0)} ms after its stack started: within -t + 2 s`);
  t.match(r.stderr, /echo: no answer from 198\.18\.0\.1: no ARP reply \(\d+ frames sent, none received\); no peer on the shm wire/);
  t.match(r.stderr, /mtcp-ts pair/);
  t.match(r.stdout, /errors 1 \(no connection before the run ended: 1\)/);
});

t.test('a lone epwget on shm stops once nothing came back for 3 s, and says why', async (t) => {
  const r = await timed(['epwget', '198.18.0.1/', '5', '-f', clientConf], /^mtcp_init: /m);
  t.equal(r.status, 1);
  t.ok(r.afterMarkMs < 3000 + 2000, `ended ${r.afterMarkMs.toFixed(0)} ms after its stack started`);
  t.match(r.stderr, /epwget: no answer from 198\.18\.0\.1: no ARP reply .*no peer on the shm wire.*mtcp-ts pair/);
  t.match(r.stdout, /errors: 5 \(no answer: 5\)/);
});

t.test('pair with a server that cannot start: both sides stop, non-zero, within 2 s of its failure', async (t) => {
  const cases = [
    [['epserver', '-p', join(dir, 'nowww'), '-f', serverConf], /epserver: -p .*nowww/],
    [['echo', 'server', '7', '-f', join(dir, 'absent.conf')], /absent\.conf: cannot read the file \(ENOENT\)/],
  ] as const;
  const runs = await Promise.all(cases.map(([server, failure]) => timed(['pair', ...server, '--', 'epwget', '198.18.0.1/index.html', '10', '-f', clientConf], failure)));
  for (const [i, r] of runs.entries()) {
    const name = cases[i][0][0];
    t.not(r.status, 0, `${name}: non-zero`);
    t.ok(r.afterMarkMs < 2000, `${name}: ended ${r.afterMarkMs.toFixed(0)} ms after the server's failure`);
    t.match(r.stderr, /mtcp-ts pair: the server side ended \(status \d\)/, `${name}: says the server ended`);
  }
});

t.test('epwget names its errors: refused', async (t) => {
  const r = await timed(['pair', 'echo', 'server', '7', '-f', serverConf, '--', 'epwget', '198.18.0.1:81/', '20', '-f', clientConf, '-c', '5'], /^$/);
  t.equal(r.status, 1);
  t.match(r.stdout, /errors: 20 \(refused: 20\)/);
});
