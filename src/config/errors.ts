/** A configuration file problem: names the file, the line (1-based; 0 when not line-specific) and what was expected. */
export class ConfigError extends Error {
  readonly code = 'MTCP_ECONFIG';

  constructor(readonly file: string, readonly line: number, problem: string, expected: string) {
    super(`${file}${line > 0 ? `:${line}` : ''}: ${problem}; expected ${expected}`);
    this.name = 'ConfigError';
  }
}
