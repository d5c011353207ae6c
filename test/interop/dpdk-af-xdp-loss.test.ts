/** The interop suite's loss test over DPDK AF_XDP (test/helpers/links.ts): 5% of frames lost each way. */
import { interopSuite } from '../helpers/interop-suite.ts';
import { afXdpLink } from '../helpers/links.ts';

interopSuite(afXdpLink, 'loss');
