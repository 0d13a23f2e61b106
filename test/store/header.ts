import t from 'tap';
import { newHeader, parseHeader, serializeHeader, validateHeader } from '../../lib/store/header.js';

const base = () => newHeader('1jiFk5-0006UE-9S', 'a@x.test', ['b@y.test'], 10, 1000, { uid: 0, user: 'root' });

t.test('round trip', async (t) => {
  const h = { ...base(), firstFailure: 1, lastAttempt: 2, nextAttempt: 3, attempts: 1, warnings: 2, dsn: { notify: 'FAILURE', ret: 'HDRS' as const } };
  const back = parseHeader(serializeHeader(h), 'x');
  t.same(back, h);
  t.ok(serializeHeader(h).endsWith('}\n'));
});

t.test('damaged or hostile headers are refused', async (t) => {
  const rows: [string, unknown, RegExp][] = [
    ['not JSON', '{', /not JSON/],
    ['array', [], /not an object/],
    ['version', { ...base(), version: 2 }, /unknown version/],
    ['CRLF in sender', { ...base(), sender: 'a@x\r\nRCPT TO:<evil>' }, /bad sender/],
    ['recipient with <>', { ...base(), recipients: ['<b@y>'] }, /bad recipients/],
    ['empty recipient', { ...base(), recipients: [''] }, /bad recipients/],
    ['bad done', { ...base(), done: [{ recipient: 'x', result: 'maybe', reason: '', at: 1 }] }, /bad done entry/],
    ['bad submitter', { ...base(), submitter: { uid: 'root' } }, /bad submitter/],
    ['bad times', { ...base(), nextAttempt: 'soon' }, /bad retry times/],
    ['bad warning count', { ...base(), warnings: -1 }, /bad warnings/],
    ['original not a list', { ...base(), original: 'b@y.test' }, /bad original recipients/],
    ['CRLF in an original recipient', { ...base(), original: [{ address: 'b@y\r\nDATA' }] }, /bad original recipients/],
    ['bad parent', { ...base(), original: [{ address: 'b@y.test', parent: '<root>' }] }, /bad original recipients/],
  ];
  for (const [name, v, re] of rows) {
    t.throws(() => (typeof v === 'string' ? parseHeader(v, 'f') : validateHeader(v, 'f')), re, name);
  }
});

t.test('unknown fields are dropped, bad DSN values ignored', async (t) => {
  const h = validateHeader({ ...base(), evil: 1, dsn: { notify: 'x\r\n', ret: 'ALL', envid: 'ok' } }, 'f');
  t.notOk('evil' in h);
  t.same(h.dsn, { envid: 'ok' });
  t.equal(validateHeader({ ...base(), bounce: 'yes' }, 'f').bounce, false, 'bounce only when true');
});

t.test('the original recipients: order and the top-level address of generated ones', async (t) => {
  const h = newHeader('1jiFk5-0006UE-9S', 'a@x.test', ['admin@y.test', 'b@y.test'], 10, 1000, { uid: 0, user: 'root' }, { 'admin@y.test': 'root@x.test' });
  t.same(h.original, [{ address: 'admin@y.test', parent: 'root@x.test' }, { address: 'b@y.test' }]);
  t.same(parseHeader(serializeHeader({ ...h, warnings: 2 }), 'x'), { ...h, warnings: 2 }, 'kept through the file, with the warning count');
  const unknownParent = newHeader('1jiFk5-0006UE-9S', 'a@x.test', ['b@y.test'], 10, 1000, { uid: 0, user: 'root' }, JSON.parse('{"__proto__": "x@y.test"}'));
  t.same(unknownParent.original, [{ address: 'b@y.test' }], 'only own keys of the parents map count');
  const old = validateHeader({ ...base(), original: undefined }, 'f');
  t.notOk('original' in old, 'a header of an older version has none');
});
