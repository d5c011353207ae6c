/** The mtcp-ts CLI bundled for tests: it starts itself and its per-core workers as worker threads, so it must be JavaScript. */
import { bundle } from './bundle.ts';

/**
 * Bundle apps/cli.ts with the per-core modules it starts (epserver, epwget and echo
 * with -N, and the worker boot) in dist's layout; returns the CLI's path.
 */
export async function buildCli(): Promise<string> {
  const dir = await bundle('cli', ['apps/cli.ts', 'apps/epserver.ts', 'apps/epwget.ts', 'apps/echo.ts', 'src/mtcp/core-worker.ts']);
  return `${dir}/apps/cli.js`;
}
