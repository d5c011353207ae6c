/**
 * What the capture checks ask tshark: the display filter for a frame that is malformed or carries a bad IPv4 or TCP checksum.
 * A TCP checksum of 0xffff where 0x0000 was computed is the same one's-complement zero (RFC 1624 §3,
 * Linux sends it); tshark marks it Bad, but every receiver accepts it, so it does not count.
 */
export const BAD_FRAMES = '_ws.malformed || ip.checksum.status == "Bad" || (tcp.checksum.status == "Bad" && !tcp.checksum.ffff)';
