import t from 'tap';
import { makeTracer, wantColour } from '../../lib/report/report.js';

t.test('wantColour honours NO_COLOR and TERM=dumb, and needs a TTY', async (t) => {
  t.equal(wantColour({}, true), true);
  t.equal(wantColour({}, false), false);
  t.equal(wantColour({ NO_COLOR: '1' }, true), false);
  t.equal(wantColour({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR does not count (no-color.org)');
  t.equal(wantColour({ TERM: 'dumb' }, true), false);
});

t.test('tracer levels and colour', async (t) => {
  const out: string[] = [];
  const io = { stderr: (s: string) => void out.push(s), env: {}, stderrIsTTY: false };
  const v = await makeTracer(io, 'verbose');
  v({ type: 'dns-start', name: 'h', lookup: 'bydns' });
  v({ type: 'smtp-out', text: 'EHLO x' });
  t.same(out, ['  SMTP>> EHLO x\n'], '-v shows the dialogue only');
  out.length = 0;
  const d = await makeTracer(io, 'debug');
  d({ type: 'dns-start', name: 'h', lookup: 'bydns' });
  t.same(out, ['finding IP address for h\n', 'doing DNS lookup\n']);
  out.length = 0;
  const c = await makeTracer({ ...io, stderrIsTTY: true }, 'debug');
  c({ type: 'smtp-in', text: '220 hi' });
  t.match(out[0], /\u001b\[36m  SMTP<< 220 hi\u001b\[39m/, 'coloured on a TTY');
  out.length = 0;
  const n = await makeTracer({ ...io, stderrIsTTY: true, env: { NO_COLOR: '1' } }, 'debug');
  n({ type: 'smtp-in', text: '220 hi' });
  t.same(out, ['  SMTP<< 220 hi\n'], 'no escape codes with NO_COLOR');
});
