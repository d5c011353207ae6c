/** Errors as node:net reports them: `Error: connect ECONNREFUSED 198.18.0.1:80` with code, errno and syscall. */
import { errnoName } from '../stack/errno.ts';

export interface NetError extends Error {
  code: string;
  /** Negative, as libuv reports it. */
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

export function netError(errno: number, syscall: string, address?: string, port?: number): NetError {
  const code = errnoName(errno);
  const where = address === undefined ? '' : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err = new Error(`${syscall} ${code}${where}`) as NetError;
  err.code = code;
  err.errno = -errno;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}
