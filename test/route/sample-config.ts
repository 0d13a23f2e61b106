/**
 * The commented sample configuration shipped in contrib/ is a valid file: every
 * line that is not a comment parses, and the options it sets are the ones it says.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../lib/route/config.js';

const SAMPLE = fileURLToPath(new URL('../../contrib/send-smarthost.conf', import.meta.url));

t.test('contrib/send-smarthost.conf loads without error', async (t) => {
  const config = await loadConfig(SAMPLE, { mustExist: true });
  t.equal(config.route?.hostText, 'smtp.example.com');
  t.equal(config.route?.lookup, 'bydns');
  t.equal(config.port, 587);
});
