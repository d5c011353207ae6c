/** src/config/index.ts re-exports the config API. */
import t from 'tap';
import * as config from '../../src/config/index.ts';

t.test('every entry point is exported', async (t) => {
  for (const name of ['ConfigError', 'formatIpv4', 'formatMac', 'parseCidr', 'parseIpv4', 'parseMac', 'prefixMask', 'defaultConfig',
    'loadMtcpConf', 'parseMtcpConf', 'ArpTable', 'parseArpConf', 'parseRouteConf', 'RouteTable']) {
    t.equal(typeof (config as Record<string, unknown>)[name], 'function', name);
  }
  const c: config.MtcpConfig = config.parseMtcpConf('port = p\np.addr = 198.18.0.1/24\n', 'x.conf');
  const p: config.PortConfig = c.ports[0];
  t.equal(config.formatIpv4(p.addr), '198.18.0.1');
  t.equal(config.formatMac(p.mac), '02:00:c6:12:00:01');
  const e = new config.ConfigError('f.conf', 7, 'bad', 'good');
  t.equal(e.message, 'f.conf:7: bad; expected good');
  t.equal(e.code, 'MTCP_ECONFIG');
  t.ok(e instanceof Error);
});
