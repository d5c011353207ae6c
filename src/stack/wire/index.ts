export * from './checksum.ts';
export * from './seqnum.ts';
export * from './ethernet.ts';
export * from './arp.ts';
export * from './ipv4.ts';
export * from './icmp.ts';
export * from './tcp-options.ts';
export * from './tcp.ts';
