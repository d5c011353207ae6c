import { EINVAL } from '../stack/errno.ts';

/**
 * A configuration file problem: names the file, the line (1-based; 0 when not line-specific) and what was expected.
 * `errno` is what mtcp_init reports for it: EINVAL for a bad line, the system's (ENOENT, EACCES) for a file that cannot be read.
 */
export class ConfigError extends Error {
  readonly code = 'MTCP_ECONFIG';

  constructor(readonly file: string, readonly line: number, problem: string, expected: string, readonly errno: number = EINVAL) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${problem}; expected ${expected}`);
    this.name = 'ConfigError';
  }
}
