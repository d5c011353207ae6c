/**
 * Tests that need what a machine may lack: root, network namespaces, /dev/net/tun, DPDK, a tool (tshark,
 * wrk, nginx, ...). CI (.ci/run: CI=true, as root, after installing them) has all of these, so there a
 * missing one fails the test, naming it. Elsewhere the test is skipped with the reason: tap lists it as
 * `# SKIP` and its summary counts it under skip, never under pass. What CI does not provide either (the
 * netmap kernel module, a second CPU) is skipped in both.
 */
import { spawnSync } from 'node:child_process';
import type { Test } from 'tap';

/** This run is CI's (CI set, as .ci/run's caller sets it to 'true'). */
export const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

export interface PrerequisiteOptions {
  /** Whether CI provides the prerequisite (default true): if so, its absence in CI fails the test instead of skipping it. */
  ciProvides?: boolean;
  /** tap's timeout for the test, ms. */
  timeout?: number;
}

/**
 * The subtest `name` of `t`, running `fn` when `missing` is null (or false). Otherwise `missing` says what
 * is missing: the subtest is skipped with that reason, or, in CI when CI provides it, fails with it.
 */
export function testNeeding(t: Test, name: string, missing: string | null | false, fn: (t: Test) => Promise<void>,
  options: PrerequisiteOptions = {}): Promise<unknown> {
  const { ciProvides = true, ...testOptions } = options;
  if (!missing) return t.test(name, testOptions, fn);
  if (inCi && ciProvides) {
    return t.test(name, testOptions, async (t) => {
      t.fail(`prerequisite missing in CI: ${missing}`);
    });
  }
  return t.test(name, { ...testOptions, skip: `prerequisite missing: ${missing}` }, fn);
}

/** Why `command` cannot be run ('no <command>'), or null when it is on the PATH. */
export function commandMissing(command: string): string | null {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0 ? null : `no ${command}`;
}
