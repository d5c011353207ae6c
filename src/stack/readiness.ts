/**
 * What a socket is ready for, as the stack reports it to the layer above.
 * The values are Linux's (and mTCP's) epoll bits, so src/epoll passes them
 * through unchanged.
 */
/** Data to read, or the end of the stream. */
export const READY_IN = 0x001;
/** Room to write. */
export const READY_OUT = 0x004;
/** The connection failed. */
export const READY_ERR = 0x008;
/** The connection is over in both directions. */
export const READY_HUP = 0x010;
/** The peer closed its sending side. */
export const READY_RDHUP = 0x2000;
