/**
 * The C library calls the koffi drivers share (tap, netmap): bound once per
 * thread, since koffi functions do not cross threads, and an idle wait in
 * poll(2) on koffi's worker thread that an eventfd doorbell can end early.
 */
import koffi from 'koffi';

export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const O_RDONLY = 0;
export const CLONE_NEWNET = 0x40000000;
export const POLLIN = 0x001;
export const EFD_NONBLOCK = 0o4000;
export const AF_INET = 2;
export const SOCK_DGRAM = 2;

export type Ptr = bigint;

export interface Libc {
  open(path: string, flags: number): number;
  close(fd: number): number;
  socket(domain: number, type: number, protocol: number): number;
  setns(fd: number, nstype: number): number;
  /** `arg` is a buffer, a native pointer, or null for ioctls that take none. */
  ioctl(fd: number, request: number, arg: Uint8Array | Ptr | null): number;
  read(fd: number, buf: Uint8Array, count: number): number;
  write(fd: number, buf: Uint8Array, count: number): number;
  eventfd(initval: number, flags: number): number;
  poll: ((fds: Uint8Array, nfds: number, timeout: number) => number) & {
    async(fds: Uint8Array, nfds: number, timeout: number, cb: (err: unknown, res: number) => void): void;
  };
  /** Returns MAP_FAILED (all ones) on failure. */
  mmap(addr: Ptr | null, length: number, prot: number, flags: number, fd: number, offset: number): Ptr;
  munmap(addr: Ptr, length: number): number;
}

/** mmap's failure value, (void *)-1, as koffi returns it. */
export const MAP_FAILED: Ptr = 0xffff_ffff_ffff_ffffn;

let libc: Libc | null = null;

/** The bindings of this thread, made on first use. */
export function bindLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    open: lib.func('int open(const char *path, int flags)') as Libc['open'],
    close: lib.func('int close(int fd)') as Libc['close'],
    socket: lib.func('int socket(int domain, int type, int protocol)') as Libc['socket'],
    setns: lib.func('int setns(int fd, int nstype)') as Libc['setns'],
    ioctl: lib.func('int ioctl(int fd, unsigned long request, void *arg)') as Libc['ioctl'],
    read: lib.func('long read(int fd, void *buf, size_t count)') as Libc['read'],
    write: lib.func('long write(int fd, const void *buf, size_t count)') as Libc['write'],
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)') as Libc['eventfd'],
    poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)') as Libc['poll'],
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)') as Libc['mmap'],
    munmap: lib.func('int munmap(void *addr, size_t length)') as Libc['munmap'],
  };
  return libc;
}


/**
 * poll(2) for POLLIN on one descriptor, run on koffi's worker thread (`.async`)
 * so the event loop keeps going, together with an eventfd that ring() writes:
 * the application's way to end an idle wait when it queued work.
 */
export class Doorbell {
  readonly #libc: Libc;
  readonly #eventFd: number;
  /** struct pollfd[2]: the watched descriptor, then the eventfd. */
  readonly #pollFds = new Uint8Array(16);
  readonly #counter = new Uint8Array(8);
  #closed = false;

  constructor(fd: number) {
    this.#libc = bindLibc();
    this.#eventFd = this.#libc.eventfd(0, EFD_NONBLOCK);
    const dv = new DataView(this.#pollFds.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, POLLIN, true);
    dv.setInt32(8, this.#eventFd, true);
    dv.setInt16(12, POLLIN, true);
  }

  /** Resolves when the descriptor is readable, ring() was called, or timeoutMs passed. */
  wait(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#libc.poll.async(this.#pollFds, 2, Math.max(0, Math.ceil(timeoutMs)), () => {
        // Drain the doorbell (non-blocking: EAGAIN when nobody rang).
        if (!this.#closed) this.#libc.read(this.#eventFd, this.#counter, 8);
        resolve();
      });
    });
  }

  /** End a wait in flight (or make the next one return at once). */
  ring(): void {
    if (this.#closed) return;
    this.#counter[0] = 1;
    this.#libc.write(this.#eventFd, this.#counter, 8);
  }

  /** Ring, then close the eventfd; later waits resolve at once. */
  close(): void {
    if (this.#closed) return;
    this.ring();
    this.#closed = true;
    this.#libc.close(this.#eventFd);
  }
}
