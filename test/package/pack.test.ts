/**
 * The package as a user gets it: `npm pack` of a copy of this checkout (so its build does not touch
 * this one's dist/), `npm install` of the tarball into a fresh project, then what a user does first:
 * type-check a consumer .ts importing mtcp-ts and mtcp-ts/net under strict, run `npx mtcp-ts` (its
 * usage), the demo, and `--import mtcp-ts/register` (which names what it needs). The tarball holds the
 * built files, declarations, native sources, configs, README and LICENSE, and nothing else; npm 11
 * installs it without a warning once the project allows koffi's and mtcp-ts's install scripts (README).
 */
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { root } from '../helpers/bundle.ts';
import { commandMissing, testNeeding } from '../helpers/prerequisites.ts';
import { tempDir } from '../helpers/tmp.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 1 << 26, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** What the tarball may hold: the package.json `files` list, and package.json itself. */
const SHIPPED = /^(package\.json|README\.md|LICENSE|mtcp\.conf|config\/|native\/|scripts\/build-native\.mjs|dist\/(src|chunks|apps|types)\/|dist\/bench\/(net-server|mtcp-worker)\.js)/;

const CONSUMER = `
import { mtcp_init, mtcp_create_context, mtcp_socket, AF_INET, SOCK_STREAM, errnoName, type MtcpContext } from 'mtcp-ts';
import { createServer, connect, MtcpAgent, MtcpHttpsAgent, type Socket, type Server } from 'mtcp-ts/net';

const ok: number = mtcp_init('mtcp.conf');
const mctx: MtcpContext | null = mtcp_create_context(0);
const id: number = mctx ? mtcp_socket(mctx, AF_INET, SOCK_STREAM, 0) : -1;
const why: string = errnoName(id);
const server: Server = createServer((socket: Socket) => socket.end('hi')).listen(8080);
const client: Socket = connect({ port: 8080, host: '198.18.0.1' });
// @ts-expect-error: a port is a number (the declarations are real types, not any)
connect({ port: 'http', host: '198.18.0.1' });
const agents = [new MtcpAgent({ keepAlive: true }), new MtcpHttpsAgent({ keepAlive: true })];
export { ok, why, server, client, agents };
`;

testNeeding(t, 'npm pack, install into a fresh project, type-check, npx mtcp-ts, the demo', commandMissing('npm') ?? commandMissing('git'), async (t) => {
  const work = tempDir(t, 'mtcpts-pack-');
  // A copy of the checkout's tracked files, with this checkout's node_modules (esbuild, typescript).
  const copy = join(work, 'src');
  const listed = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
  t.equal(listed.status, 0, 'git ls-files');
  for (const f of listed.stdout.split('\0').filter((f) => f && existsSync(join(root, f)))) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(root, f), join(copy, f));
  }
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));

  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], copy);
  t.equal(packed.code, 0, `npm pack: ${packed.stderr.slice(-2000)}`);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as [{ filename: string; files: { path: string }[] }];
  const paths = info.files.map((f) => f.path);
  t.same(paths.filter((p) => !SHIPPED.test(p)), [], 'the tarball holds only what the files list names');
  for (const p of ['dist/types/index.d.ts', 'dist/types/net/index.d.ts', 'dist/types/register.d.ts', 'dist/src/register.js', 'dist/apps/cli.js',
    'dist/apps/demo.js', 'native/dpdk-shim.c', 'LICENSE', 'README.md']) t.ok(paths.includes(p), `the tarball has ${p}`);
  const tarball = join(work, info.filename);

  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({
    name: 'consumer', private: true, type: 'module',
    // npm 11's allowScripts: the tarball is approved by its file: specifier, as `npm install-scripts approve` records it.
    allowScripts: { koffi: true, [`file:${tarball}`]: true },
  }, null, 2));
  const installed = await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], project);
  t.equal(installed.code, 0, `npm install: ${installed.stderr.slice(-2000)}`);
  const warnings = `${installed.stdout}\n${installed.stderr}`.split('\n').filter((l) => /npm warn/i.test(l) && !/Unknown (user|env) config/.test(l));
  t.same(warnings, [], 'npm install: no warning');
  const dpdkPresent = spawnSync('pkg-config', ['--exists', 'libdpdk']).status === 0;
  t.equal(existsSync(join(project, 'node_modules/mtcp-ts/build/libmtcpts-dpdk.so')), dpdkPresent,
    `the DPDK shim is built at install exactly when DPDK is present (${dpdkPresent ? 'it is' : 'it is not'})`);

  writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false,
      types: ['node'], typeRoots: [join(root, 'node_modules/@types')],
    },
    files: ['consumer.ts'],
  }, null, 2));
  const tsc = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);
  t.equal(tsc.code, 0, `tsc --strict on a consumer of mtcp-ts and mtcp-ts/net: ${tsc.stdout}${tsc.stderr}`);

  const usage = await run('npx', ['--no-install', 'mtcp-ts'], project);
  t.match(`${usage.stdout}${usage.stderr}`, /usage: mtcp-ts <app>|mtcp-ts <app> \[args\]/, 'npx mtcp-ts prints its usage');
  t.not(usage.code, 1, 'and does not crash');

  const register = await run(process.execPath, ['--import', 'mtcp-ts/register', '-e', '0'], project);
  t.equal(register.code, 1, '--import mtcp-ts/register without MTCP_CONF fails');
  t.match(register.stderr, /mtcp-ts\/register: set MTCP_CONF/, 'and says what it needs');

  const demo = await run(process.execPath, ['node_modules/mtcp-ts/dist/apps/demo.js', '--seconds', '1'], project, 120_000);
  t.equal(demo.code, 0, `the demo runs from the install: ${demo.stderr.slice(-2000)}`);
  t.match(demo.stdout, /connections\/s[\s\S]*errors\s+0\s+0/, 'the demo prints its table, with no error on either stack');
}, { timeout: 600_000 });
