/** The interop suite's loss test over DPDK af_packet (test/helpers/links.ts): 5% of frames lost each way. */
import { interopSuite } from '../helpers/interop-suite.ts';
import { afPacketLink } from '../helpers/links.ts';

interopSuite(afPacketLink, 'loss');
