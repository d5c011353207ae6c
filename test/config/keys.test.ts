/**
 * One table of mtcp.conf keys (src/config/keys.ts): the file parser and mtcp_setconf accept and refuse the
 * same values for every key both handle, mtcp_getconf's defaults are the table's and the parser's, and
 * tcp_timeout = 0 means what it means in mTCP (no idle timeout) on both paths.
 */
import t from 'tap';
import { CONF_KEYS, INTEGER_KEYS, integerProblem } from '../../src/config/keys.ts';
import { ConfigError } from '../../src/config/errors.ts';
import { defaultConfig, parseMtcpConf } from '../../src/config/mtcp-conf.ts';
import { mtcp_destroy, mtcp_getconf, mtcp_setconf, type MtcpConf } from '../../src/mtcp/api.ts';
import { DRIVERS } from '../../src/mtcp/drivers.ts';

const BASE = 'port = shm0\nshm0.addr = 198.18.0.1/24\n';

/** Whether mtcp.conf takes `key = value` (a ConfigError naming the key's line means no). */
function fileTakes(key: string, value: number): boolean {
  try {
    parseMtcpConf(`${BASE}${key} = ${value}\n`, 'keys.conf');
    return true;
  } catch (err) {
    if (err instanceof ConfigError && err.line === 3) return false;
    throw err;
  }
}

/** Whether mtcp_setconf takes it (forgetting it again). */
function setconfTakes(member: keyof MtcpConf, value: number): boolean {
  const ok = mtcp_setconf({ [member]: value }) === 0;
  mtcp_destroy();
  return ok;
}

t.test('the parser and mtcp_setconf accept and refuse the same values of every key they share', async (t) => {
  const shared = INTEGER_KEYS.filter((spec) => spec.conf);
  t.same(shared.map((s) => s.conf).sort(), ['max_concurrency', 'max_num_buffers', 'num_cores', 'rcvbuf_size', 'sndbuf_size', 'tcp_timeout', 'tcp_timewait'],
    'every struct mtcp_conf member has its key');
  for (const spec of shared) {
    for (const v of [spec.min - 1, spec.min, 0, spec.default, spec.max, spec.max + 1]) {
      const file = fileTakes(spec.key, v);
      t.equal(setconfTakes(spec.conf!, v), file, `${spec.key} = ${v}: both ${file ? 'accept' : 'refuse'}`);
      t.equal(file, integerProblem(spec, v) === null, `${spec.key} = ${v}: as the table says`);
    }
  }
  t.equal(mtcp_setconf({ tcp_timeout: 1.5 }), -1, 'a fraction is refused as the parser refuses it');
  t.equal(mtcp_setconf({ rcvbuf: 8192 } as unknown as MtcpConf), -1, 'the file\'s key name is not a struct mtcp_conf member');
});

t.test('tcp_timeout = 0 is accepted on both paths: no idle timeout, as in mTCP', async (t) => {
  t.equal(parseMtcpConf(`${BASE}tcp_timeout = 0\n`, 'keys.conf').tcpTimeoutSec, 0);
  t.equal(mtcp_setconf({ tcp_timeout: 0 }), 0);
  const conf = {} as MtcpConf;
  mtcp_getconf(conf);
  t.equal(conf.tcp_timeout, 0);
  mtcp_destroy();
});

t.test('defaults: mtcp_getconf before anything is set, defaultConfig and a file without the keys all give the table\'s', async (t) => {
  const conf = {} as MtcpConf;
  t.equal(mtcp_getconf(conf), 0);
  const parsed = parseMtcpConf(BASE, 'keys.conf');
  const defaults = defaultConfig();
  for (const spec of INTEGER_KEYS) {
    t.equal(parsed[spec.field], spec.default, `${spec.key}: the parser's default`);
    t.equal(defaults[spec.field], spec.default, `${spec.key}: defaultConfig's`);
    if (spec.conf) t.equal(conf[spec.conf], spec.default, `${spec.key}: mtcp_getconf's`);
  }
  t.same([parsed.io, parsed.cc], [CONF_KEYS.io.default, CONF_KEYS.cc.default]);
});

t.test('every io name the config accepts has a driver', async (t) => {
  t.same(Object.keys(DRIVERS).sort(), [...CONF_KEYS.io.values].sort());
});
