/**
 * What a socket is ready for, as the stack reports it (TcpEngine.readiness, SocketEvents.wake): bits with
 * the values of Linux's poll(2)/epoll(7) events, so src/epoll hands them to the application unchanged
 * (src/epoll/events.ts defines MTCP_EPOLLIN and the rest from these).
 */
/** Data (or a FIN, or a connection to accept) can be read. POLLIN */
export const READY_IN = 0x001;
/** Send buffer space is free, or a connect finished. POLLOUT */
export const READY_OUT = 0x004;
/** The connection failed (SO_ERROR holds why). POLLERR */
export const READY_ERR = 0x008;
/** Both directions are closed (or the socket never connected). POLLHUP */
export const READY_HUP = 0x010;
/** The peer shut down its sending side (a FIN arrived). POLLRDHUP */
export const READY_RDHUP = 0x2000;
