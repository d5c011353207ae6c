/** Linux errno values, as mTCP returns them (its API sets errno and returns -1). */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const EBADF = 9;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const EMFILE = 24;
export const EFBIG = 27;
export const ENOSPC = 28;
export const EPIPE = 32;
export const ENOTSOCK = 88;
export const EDESTADDRREQ = 89;
export const EPROTOTYPE = 91;
export const ENOPROTOOPT = 92;
export const EPROTONOSUPPORT = 93;
export const EOPNOTSUPP = 95;
export const EAFNOSUPPORT = 97;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETUNREACH = 101;
export const ECONNABORTED = 103;
export const ECONNRESET = 104;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EHOSTUNREACH = 113;
export const EALREADY = 114;
export const EINPROGRESS = 115;

const NAMES: Record<number, string> = {
  [EPERM]: 'EPERM', [ENOENT]: 'ENOENT', [EINTR]: 'EINTR', [EIO]: 'EIO', [ENXIO]: 'ENXIO', [EBADF]: 'EBADF', [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM', [EACCES]: 'EACCES', [EFAULT]: 'EFAULT', [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL', [EMFILE]: 'EMFILE', [EFBIG]: 'EFBIG', [ENOSPC]: 'ENOSPC', [EPIPE]: 'EPIPE', [ENOTSOCK]: 'ENOTSOCK', [EDESTADDRREQ]: 'EDESTADDRREQ',
  [EPROTOTYPE]: 'EPROTOTYPE', [ENOPROTOOPT]: 'ENOPROTOOPT', [EPROTONOSUPPORT]: 'EPROTONOSUPPORT',
  [EOPNOTSUPP]: 'EOPNOTSUPP', [EAFNOSUPPORT]: 'EAFNOSUPPORT', [EADDRINUSE]: 'EADDRINUSE',
  [EADDRNOTAVAIL]: 'EADDRNOTAVAIL', [ENETUNREACH]: 'ENETUNREACH', [ECONNABORTED]: 'ECONNABORTED',
  [ECONNRESET]: 'ECONNRESET', [EISCONN]: 'EISCONN', [ENOTCONN]: 'ENOTCONN', [ETIMEDOUT]: 'ETIMEDOUT',
  [ECONNREFUSED]: 'ECONNREFUSED', [EHOSTUNREACH]: 'EHOSTUNREACH', [EALREADY]: 'EALREADY',
  [EINPROGRESS]: 'EINPROGRESS',
};

/** 'ECONNRESET' for 104; 'E<n>' for a number without a name here. */
export function errnoName(errno: number): string {
  return NAMES[errno] ?? `E${errno}`;
}

/**
 * A failure that names its cause with an errno: the runtime and the drivers throw it, and the C-style calls
 * (mtcp_init, mtcp_create_context) report `errno` through mtcp_errno(). `code` is its name, as on Node's
 * system errors.
 */
export class ErrnoError extends Error {
  readonly code: string;

  constructor(readonly errno: number, message: string) {
    super(message);
    this.name = 'ErrnoError';
    this.code = errnoName(errno);
  }
}
