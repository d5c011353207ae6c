/** The interop suite over DPDK af_packet (test/helpers/links.ts), all but the loss test. */
import { interopSuite } from '../helpers/interop-suite.ts';
import { afPacketLink } from '../helpers/links.ts';

interopSuite(afPacketLink);
