/**
 * Why the stack dropped a frame. Every drop site returns one of these and the
 * context counts it in `Stats.drops[reason]`; 0 means "not dropped".
 */
export const enum DropReason {
  None = 0,
  // Ethernet
  EthTooShort,
  EthNotForUs,
  EthUnknownType,
  // ARP
  ArpTooShort,
  ArpUnsupported,
  ArpNotForUs,
  ArpSenderMismatch,
  // IPv4
  IpTooShort,
  IpBadVersion,
  IpBadHeaderLen,
  IpBadTotalLen,
  IpBadChecksum,
  IpFragment,
  IpNotForUs,
  IpUnknownProtocol,
  IpNoRoute,
  IpArpPending,
  // ICMP
  IcmpTooShort,
  IcmpBadChecksum,
  IcmpUnsupported,
  // TCP header
  TcpTooShort,
  TcpBadDataOffset,
  TcpBadChecksum,
  TcpBadOption,
  TcpBadFlags,
  // TCP processing
  TcpNoSocket,
  TcpListenNotSyn,
  TcpBacklogFull,
  TcpNoMemory,
  TcpOutOfWindow,
  TcpBadAck,
  TcpBadRst,
  TcpPawsReject,
  TcpSynInWindow,
  TcpAfterClose,
  TcpOooFull,
  /** A stateless reply (RST, SYN cookie) found its queue full: more than a burst's worth waited. */
  TcpReplyQueueFull,
  // Transmit
  TxNoSlot,
  Count,
}

/** Human-readable names, indexed by DropReason. */
export const DROP_REASON_NAMES: readonly string[] = [
  'none',
  'eth_too_short', 'eth_not_for_us', 'eth_unknown_type',
  'arp_too_short', 'arp_unsupported', 'arp_not_for_us', 'arp_sender_mismatch',
  'ip_too_short', 'ip_bad_version', 'ip_bad_header_len', 'ip_bad_total_len', 'ip_bad_checksum',
  'ip_fragment', 'ip_not_for_us', 'ip_unknown_protocol', 'ip_no_route', 'ip_arp_pending',
  'icmp_too_short', 'icmp_bad_checksum', 'icmp_unsupported',
  'tcp_too_short', 'tcp_bad_data_offset', 'tcp_bad_checksum', 'tcp_bad_option', 'tcp_bad_flags',
  'tcp_no_socket', 'tcp_listen_not_syn', 'tcp_backlog_full', 'tcp_no_memory', 'tcp_out_of_window',
  'tcp_bad_ack', 'tcp_bad_rst', 'tcp_paws_reject', 'tcp_syn_in_window', 'tcp_after_close', 'tcp_ooo_full', 'tcp_reply_queue_full',
  'tx_no_slot',
];
