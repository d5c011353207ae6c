/** mTCP's configuration files: mtcp.conf, arp.conf and route.conf. */
export { ConfigError } from './errors.ts';
export { formatIpv4, formatMac, parseCidr, parseIpv4, parseMac, prefixMask } from './addr.ts';
export {
  defaultConfig, loadMtcpConf, parseMtcpConf,
  type CongestionControlName, type IoName, type MtcpConfig, type PortConfig,
} from './mtcp-conf.ts';
export { CONF_KEYS, IO_NAMES, type ConfKey, type IntegerKey, type TextKey } from './keys.ts';
export { ArpTable, parseArpConf, type ArpEntry } from './arp-conf.ts';
export { parseRouteConf, RouteTable, type RouteEntry, type RoutePort } from './route-conf.ts';
