// Build the DPDK driver's native half (native/dpdk-shim.c → build/libmtcpts-dpdk.so) when DPDK's
// headers are installed (libdpdk-dev, found through pkg-config). Without them the build is skipped
// with a note, and io = dpdk reports what is missing when used; nothing else needs the shim.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { env, stdout } from 'node:process';

const cflags = spawnSync('pkg-config', ['--cflags', 'libdpdk'], { encoding: 'utf8' });
if (cflags.status !== 0) {
  stdout.write('build-native: libdpdk-dev not found through pkg-config; the DPDK driver is not built (io = dpdk will say so)\n');
} else {
  mkdirSync('build', { recursive: true });
  const args = ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', 'native/dpdk-shim.c', ...cflags.stdout.trim().split(/\s+/),
    '-lrte_eal', '-lrte_ethdev', '-lrte_mbuf', '-lrte_mempool', '-o', 'build/libmtcpts-dpdk.so'];
  execFileSync(env.CC ?? 'cc', args, { stdio: 'inherit' });
  stdout.write('build-native: build/libmtcpts-dpdk.so\n');
}
