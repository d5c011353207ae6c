/**
 * Event bits and control operations of mtcp_epoll_*, with mTCP's values (mtcp_epoll.h, the same as Linux's).
 * The bits the stack reports are its readiness bits (src/stack/readiness.ts), defined there once.
 */
import { READY_ERR, READY_HUP, READY_IN, READY_OUT, READY_RDHUP } from '../stack/readiness.ts';

export const MTCP_EPOLLNONE = 0x000;
export const MTCP_EPOLLIN = READY_IN;
export const MTCP_EPOLLPRI = 0x002;
export const MTCP_EPOLLOUT = READY_OUT;
export const MTCP_EPOLLERR = READY_ERR;
export const MTCP_EPOLLHUP = READY_HUP;
export const MTCP_EPOLLRDNORM = 0x040;
export const MTCP_EPOLLRDBAND = 0x080;
export const MTCP_EPOLLWRNORM = 0x100;
export const MTCP_EPOLLWRBAND = 0x200;
export const MTCP_EPOLLMSG = 0x400;
export const MTCP_EPOLLRDHUP = READY_RDHUP;
export const MTCP_EPOLLONESHOT = 1 << 30;
/** Edge-triggered (bit 31; a positive number here). */
export const MTCP_EPOLLET = 0x80000000;

export const MTCP_EPOLL_CTL_ADD = 1;
export const MTCP_EPOLL_CTL_DEL = 2;
export const MTCP_EPOLL_CTL_MOD = 3;

/** mTCP's epoll_data_t is a C union; here `sockid` (a number) and `ptr` (any value) are stored independently. */
export interface MtcpEpollData {
  sockid: number;
  ptr: unknown;
}

export interface MtcpEpollEvent {
  events: number;
  data: MtcpEpollData;
}

/** An events array for mtcp_epoll_wait: make it once and reuse it. */
export function createEpollEvents(n: number): MtcpEpollEvent[] {
  const a = new Array<MtcpEpollEvent>(n);
  for (let i = 0; i < n; i++) a[i] = { events: 0, data: { sockid: -1, ptr: null } };
  return a;
}
