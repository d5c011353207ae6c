/**
 * The DPDK shim built on first use: a copy of the driver in a package whose install scripts did not
 * run (no build/) builds its shim the first time io = dpdk binds, saying so on stderr; where it cannot
 * be built (no libdpdk through pkg-config), the driver fails with a message naming what is missing.
 * Each case runs in its own process (bindings are made once per thread).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dpdkUnavailable } from '../../src/io/dpdk.ts';
import { bundle, root } from '../helpers/bundle.ts';
import { testNeeding } from '../helpers/prerequisites.ts';

testNeeding(t, 'io = dpdk builds a missing shim on first use, or names what it needs', dpdkUnavailable(), async (t) => {
  const pkg = await bundle('nf-shim-build', ['src/io/dpdk.ts']);
  // The package root the driver finds above src/io/: it holds the builder and its source, and no build/.
  mkdirSync(join(pkg, 'scripts'), { recursive: true });
  mkdirSync(join(pkg, 'native'), { recursive: true });
  cpSync(join(root, 'scripts/build-native.mjs'), join(pkg, 'scripts/build-native.mjs'));
  cpSync(join(root, 'native/dpdk-shim.c'), join(pkg, 'native/dpdk-shim.c'));
  rmSync(join(pkg, 'build'), { recursive: true, force: true });
  const check = `import('${join(pkg, 'src/io/dpdk.js')}').then((m) => console.log(JSON.stringify(m.dpdkUnavailable())))`;

  const cannot = spawnSync(process.execPath, ['-e', check], { encoding: 'utf8', env: { ...process.env, PKG_CONFIG_LIBDIR: '/nonexistent', PKG_CONFIG_PATH: '' } });
  t.equal(cannot.status, 0, cannot.stderr);
  t.match(JSON.parse(cannot.stdout) as string, /the DPDK shim is not built .* could not be built here: it needs libdpdk-dev, pkg-config and a C compiler/,
    'without libdpdk: an error naming what is missing');
  t.notOk(existsSync(join(pkg, 'build/libmtcpts-dpdk.so')), 'and no shim');

  const builds = spawnSync(process.execPath, ['-e', check], { encoding: 'utf8', timeout: 120_000 });
  t.equal(builds.status, 0, builds.stderr);
  t.equal(JSON.parse(builds.stdout), null, 'with DPDK: the driver is available');
  t.match(builds.stderr, /the DPDK shim is not built yet .*; building .*libmtcpts-dpdk\.so now/, 'it said it was building the shim');
  t.ok(existsSync(join(pkg, 'build/libmtcpts-dpdk.so')), 'the shim is built in the package');
});
