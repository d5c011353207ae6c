/** What a call prints on standard error (mtcp_create_context and mtcp_init print why they failed), kept off the test's output. */

/** Runs `fn` with process.stderr's writes recorded instead of printed; returns its result and what was written. */
export async function captureStderr<T>(fn: () => T | Promise<T>): Promise<[T, string]> {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return [await fn(), written.join('')];
  } finally {
    process.stderr.write = write;
  }
}
