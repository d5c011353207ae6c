/**
 * mtcp-ts: mTCP's API for Node.js. See the README for the model: one context
 * per core, every call non-blocking, mtcp_epoll_wait drives the stack.
 */
export * from './mtcp/api.ts';
export * from './mtcp/constants.ts';
export * from './epoll/events.ts';
export * from './stack/errno.ts';
export { MtcpContext } from './mtcp/context.ts';
export { CoreError, runOnCores, type CoreEntry, type CoreEntryOptions, type CoreRun, type CoreRunOptions } from './mtcp/cores.ts';
export { MtcpRuntime, type MtcpInitOptions, type MtcpShared } from './mtcp/runtime.ts';
export { formatStatLines, StatsBoard, type CoreStats, type StatsReport } from './mtcp/stats.ts';
export { loadMtcpConf, parseMtcpConf, sideFilesLine, type MtcpConfig, type SideFile } from './config/mtcp-conf.ts';
export { ConfigError } from './config/errors.ts';
export { parseIpv4 as inet_addr, formatIpv4 as inet_ntoa } from './config/addr.ts';
export { SimWire } from './io/sim.ts';
export { ShmWire, type ShmWireEnd, type ShmWireShared } from './io/shm.ts';
export { DROP_REASON_NAMES } from './stack/drop-reason.ts';
