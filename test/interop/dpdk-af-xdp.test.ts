/** The interop suite over DPDK AF_XDP (test/helpers/links.ts), all but the loss test. */
import { interopSuite } from '../helpers/interop-suite.ts';
import { afXdpLink } from '../helpers/links.ts';

interopSuite(afXdpLink);
