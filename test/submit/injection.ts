/**
 * Header and command injection through the command line and the envelope
 * options: a CR, LF or NUL in -f, -r, -F, -V, -N, -R or a recipient is
 * refused (usage error, exit 64, or address error, exit 65) before anything
 * is read or sent. Every path is tried with every character.
 */
import t from 'tap';
import { parseArgs } from '../../lib/submit/cli.js';
import { prepareMessage } from '../../lib/submit/message.js';
import { exitCodeFor, SmarthostError } from '../../lib/errors.js';

const EVIL = ['\r\nRCPT TO:<evil@example.net>', '\nBcc: evil@example.net', '\r', '\u0000', '\u2028'];

/** The exit code parseArgs + prepareMessage end with, or 0 when both accept. */
function exitFor(argv: string[], message = 'Subject: x\n\nbody\n'): number {
  try {
    const inv = parseArgs(argv);
    prepareMessage(Buffer.from(message), inv, { qualifyDomain: 'example.test', user: 'me' });
    return 0;
  } catch (err) {
    if (err instanceof SmarthostError) return exitCodeFor(err.kind);
    throw err;
  }
}

t.test('the clean forms are accepted', async (t) => {
  t.equal(exitFor(['-f', 'a@example.test', '-F', 'Full Name', '-N', 'success', '-R', 'hdrs', '-V', 'id1', 'b@example.test']), 0);
});

t.test('CR, LF, NUL in any envelope option or recipient is refused', async (t) => {
  for (const evil of EVIL) {
    // escaped by hand: a raw U+2028 in an assertion name would break the TAP stream
    const v = evil.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    t.equal(exitFor(['-F', `Name${evil}`, 'b@example.test']), 64, `-F ${v}`);
    t.equal(exitFor([`-FName${evil}`, 'b@example.test']), 64, `-F attached ${v}`);
    t.equal(exitFor(['-V', `id${evil}`, 'b@example.test']), 64, `-V ${v}`);
    t.equal(exitFor(['-N', `success${evil}`, 'b@example.test']), 64, `-N ${v}`);
    t.equal(exitFor(['-R', `hdrs${evil}`, 'b@example.test']), 64, `-R ${v}`);
    t.equal(exitFor(['-f', `a@example.test${evil}`, 'b@example.test']), 65, `-f ${v}`);
    t.equal(exitFor(['-r', `a${evil}@example.test`, 'b@example.test']), 65, `-r ${v}`);
    t.equal(exitFor([`b@example.test${evil}`]), 65, `recipient ${v}`);
    t.equal(exitFor(['--', `b${evil}@example.test`]), 65, `recipient after -- ${v}`);
    t.equal(exitFor([`B <b@example.test${evil}>`]), 65, `recipient list ${v}`);
  }
});

t.test('with -t, a control character inside an address header is refused', async (t) => {
  t.equal(exitFor(['-t'], 'To: a@example.test\u0000, b@example.test\n\nbody\n'), 65);
  t.equal(exitFor(['-t'], 'To: a@example.test\n\nbody\n'), 0);
});
