/** The interop suite over TAP (test/helpers/links.ts), all but the loss test. */
import { interopSuite } from '../helpers/interop-suite.ts';
import { tapLink } from '../helpers/links.ts';

interopSuite(tapLink);
