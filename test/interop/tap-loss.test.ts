/** The interop suite's loss test over TAP (test/helpers/links.ts): 5% of frames lost each way. */
import { interopSuite } from '../helpers/interop-suite.ts';
import { tapLink } from '../helpers/links.ts';

interopSuite(tapLink, 'loss');
