import t from 'tap';
import { deliveryMode } from '../../lib/submit/mode.js';
import { parseConfig } from '../../lib/route/config.js';
import { parseArgs } from '../../lib/submit/cli.js';

const mode = (argv: string[], config = '', canDetach = true) => deliveryMode(parseArgs(argv), parseConfig(config, 'f'), canDetach);

t.test('the delivery mode of a submission', async (t) => {
  t.equal(mode(['a@x']), 'b', 'default: background');
  t.equal(mode(['-odi', 'a@x']), 'i');
  t.equal(mode(['-odq', 'a@x']), 'q');
  t.equal(mode(['a@x'], 'delivery_mode = queue'), 'q', 'the configuration');
  t.equal(mode(['-odb', 'a@x'], 'delivery_mode = interactive'), 'b', '-odX wins over delivery_mode');
  t.equal(mode(['-v', 'a@x']), 'i', '-v watches the delivery: interactive');
  t.equal(mode(['-d', 'a@x']), 'i', '-d too');
  t.equal(mode(['-v', '-odb', 'a@x']), 'b', 'unless -odb is asked for');
  t.equal(mode(['-v', 'a@x'], 'delivery_mode = queue'), 'q', '-v does not make a queue-only setup deliver');
  t.equal(mode(['--no-queue', 'a@x']), 'i', 'nothing may be queued: interactive');
  t.equal(mode(['-odb', 'a@x'], 'queue_deferred = false'), 'i');
  t.equal(mode(['a@x'], '', false), 'i', 'cannot start itself again (in-process): interactive');
  t.equal(mode(['-O', 'port=587', 'a@x']), 'i', '-O configuration options: delivered now, never queued');
  t.equal(mode(['-O', 'port=587', 'a@x'], 'delivery_mode = queue'), 'i', 'whatever delivery_mode says');
  t.equal(mode(['-O', 'IgnoreDots', 'a@x']), 'b', "a sendmail -O option is not one of ours");
});
