/**
 * What the capture checks ask tshark: the display filter for a frame that is malformed or carries a bad IPv4 or TCP checksum.
 * - A TCP checksum of 0xffff where 0x0000 was computed is the same one's-complement zero (RFC 1624 §3,
 *   Linux sends it); tshark marks it Bad, but every receiver accepts it, so it does not count.
 * - A "reassembly error" is tshark's own limit, not a fault in the frame: a resent segment that tshark does not
 *   take for a retransmission (it calls it out-of-order) and that runs past the end of an HTTP message it has already
 *   put together. Any TCP that repacketizes when it resends (ours, Linux's) produces it, so it does not count either;
 *   an exception while dissecting the frame itself (`_ws.malformed.expert`) still does.
 */
export const BAD_FRAMES = '_ws.malformed.expert || (_ws.malformed && !_ws.malformed.reassembly)'
  + ' || ip.checksum.status == "Bad" || (tcp.checksum.status == "Bad" && !tcp.checksum.ffff)';

/** tshark's arguments for listing the frames of `file` that BAD_FRAMES matches, with both checksums verified. */
export function badFrameArgs(file: string): string[] {
  return ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-Y', BAD_FRAMES];
}
