process.env.TZ = 'UTC';
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { buildBounce, dsnStatus, isBounce, limitLine, MAX_HEADER_COPY, rfc5322Date, type BounceInput } from '../../lib/report/bounce.js';

/** A small MIME reader for the tests: headers (unfolded, lower-case names) and body. */
function parseEntity(text: string): { headers: Map<string, string[]>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const headers = new Map<string, string[]>();
  for (const field of head.replace(/\r\n(?=[ \t])/g, '').split('\r\n')) {
    if (field === '') continue;
    const i = field.indexOf(':');
    const name = field.slice(0, i).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), field.slice(i + 1).trim()]);
  }
  return { headers, body };
}
const maxLine = (text: string): number => Math.max(...text.split('\r\n').map((l) => Buffer.byteLength(l)));
const h1 = (e: { headers: Map<string, string[]> }, n: string): string | undefined => e.headers.get(n)?.[0];

function parseReport(data: Buffer) {
  const text = data.toString('utf8');
  const top = parseEntity(text);
  const boundary = /boundary="([^"]+)"/.exec(h1(top, 'content-type') ?? '')?.[1];
  if (!boundary) throw new Error('no boundary');
  const closing = top.body.indexOf(`\r\n--${boundary}--\r\n`);
  if (closing < 0) throw new Error('no closing boundary');
  const chunks = top.body.slice(0, closing).split(`--${boundary}\r\n`);
  const preamble = chunks.shift()!;
  const parts = chunks.map((c) => parseEntity(c.replace(/\r\n$/, '')));
  return { text, top, boundary, preamble, parts };
}

/** Parse a delivery-status body into groups of fields (per-message first). */
function dsnGroups(body: string): Array<Record<string, string>> {
  return body
    .replace(/\r\n(?=[ \t])/g, '')
    .split('\r\n\r\n')
    .filter((g) => g.trim() !== '')
    .map((g) =>
      Object.fromEntries(
        g
          .split('\r\n')
          .filter((l) => l !== '')
          .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      ),
    );
}

const ORIGINAL_HEADERS =
  'Received: from ann by juno.example.com with local\n\tid 1kQb5w-000Abc-9S; Sat, 28 Nov 2026 13:02:38 +0000\n' +
  'From: Ann <ann@juno.example.com>\nTo: bob@example.net, carol@example.org\nSubject: the report\n' +
  'Message-ID: <20261128.1@juno.example.com>\nDate: Sat, 28 Nov 2026 13:02:38 +0000\n\nBody text must not be copied\n';

const base = (over: Partial<BounceInput> = {}): BounceInput => ({
  id: '1kQb5w-000Abc-9S',
  originalSender: 'ann@juno.example.com',
  originalRecipients: ['bob@example.net', 'carol@example.org'],
  failed: [
    {
      recipient: 'bob@example.net',
      reason: '550 5.1.1 <bob@example.net>: Recipient address rejected: no such user',
      code: 550,
      remoteMta: 'mail.example.com',
    },
    {
      recipient: 'carol@example.org',
      reason: 'retry timeout exceeded',
      diagnostic: '451 4.7.1 Greylisted, try again later',
      code: 451,
      remoteMta: 'mail.example.com',
      status: '4.4.7',
    },
  ],
  originalHeaders: ORIGINAL_HEADERS,
  reportingMta: 'juno.example.com',
  arrival: new Date(Date.UTC(2026, 10, 28, 13, 2, 38)),
  now: new Date(Date.UTC(2026, 11, 2, 18, 4, 31)),
  messageIdDomain: 'juno.example.com',
  boundary: 'BOUNDARY-1234',
  ...over,
});

t.test('isBounce', async (t) => {
  const rows: Array<[string, boolean]> = [
    ['', true],
    ['<>', true],
    [' ', true],
    ['MAILER-DAEMON@juno.example.com', true],
    ['mailer-daemon', true],
    ['ann@juno.example.com', false],
    ['mailer-daemon-fan@example.com', false],
  ];
  for (const [s, want] of rows) t.equal(isBounce(s), want, JSON.stringify(s));
});

t.test('a failure report, parsed back', async (t) => {
  const b = buildBounce(base());
  t.strictSame(b.envelope, { sender: '', recipients: ['ann@juno.example.com'] }, 'null sender, to the original sender');
  t.equal(b.eightBit, false);
  const { text, top, boundary, preamble, parts } = parseReport(b.data);
  t.equal(boundary, 'BOUNDARY-1234');
  t.notMatch(text.replace(/\r\n/g, ''), /[\r\n]/, 'every line ends in CRLF');
  t.ok(maxLine(text) <= 998, 'no line over 998 octets');
  t.equal(h1(top, 'from'), 'Mail Delivery System <MAILER-DAEMON@juno.example.com>');
  t.equal(h1(top, 'to'), 'ann@juno.example.com');
  t.equal(h1(top, 'subject'), 'Mail delivery failed: returning message to sender');
  t.equal(h1(top, 'auto-submitted'), 'auto-replied');
  t.equal(h1(top, 'date'), 'Wed, 2 Dec 2026 18:04:31 +0000');
  t.equal(h1(top, 'message-id'), `<1kQb5w-000Abc-9S.${Date.UTC(2026, 11, 2, 18, 4, 31).toString(36)}.dsn@juno.example.com>`);
  t.equal(h1(top, 'in-reply-to'), '<20261128.1@juno.example.com>');
  t.equal(h1(top, 'references'), '<20261128.1@juno.example.com>');
  t.equal(h1(top, 'x-failed-recipients'), 'bob@example.net, carol@example.org');
  t.equal(h1(top, 'mime-version'), '1.0');
  t.equal(h1(top, 'content-type'), 'multipart/report; report-type=delivery-status;\tboundary="BOUNDARY-1234"');
  t.match(preamble, /MIME/);
  t.equal(parts.length, 3, 'three parts');

  const [human, status, headers] = parts as [ReturnType<typeof parseEntity>, ReturnType<typeof parseEntity>, ReturnType<typeof parseEntity>];
  t.equal(h1(human, 'content-type'), 'text/plain; charset=us-ascii');
  t.match(human.body, /could not be delivered/);
  t.match(human.body, /  bob@example\.net\r\n    host mail\.example\.com said:\r\n    550 5\.1\.1 <bob@example\.net>: Recipient address rejected: no such user/);
  t.match(human.body, /  carol@example\.org\r\n    host mail\.example\.com said:\r\n    451 4\.7\.1 Greylisted, try again later\r\n    \(retry timeout exceeded\)/);
  t.match(human.body, /queue\s+id\s+1kQb5w-000Abc-9S/);
  t.match(human.body, /Sat, 28 Nov 2026 13:02:38 \+0000/);

  t.equal(h1(status, 'content-type'), 'message/delivery-status');
  t.equal(h1(status, 'content-transfer-encoding'), '7bit');
  const groups = dsnGroups(status.body);
  t.strictSame(groups, [
    { 'reporting-mta': 'dns; juno.example.com', 'arrival-date': 'Sat, 28 Nov 2026 13:02:38 +0000' },
    {
      'final-recipient': 'rfc822; bob@example.net',
      action: 'failed',
      status: '5.1.1',
      'remote-mta': 'dns; mail.example.com',
      'diagnostic-code': 'smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: no such user',
      'last-attempt-date': 'Wed, 2 Dec 2026 18:04:31 +0000',
    },
    {
      'final-recipient': 'rfc822; carol@example.org',
      action: 'failed',
      status: '4.4.7',
      'remote-mta': 'dns; mail.example.com',
      'diagnostic-code': 'smtp; 451 4.7.1 Greylisted, try again later',
      'last-attempt-date': 'Wed, 2 Dec 2026 18:04:31 +0000',
    },
  ]);

  t.equal(h1(headers, 'content-type'), 'text/rfc822-headers');
  t.equal(
    headers.body,
    ORIGINAL_HEADERS.split('\n\n')[0]!.replace(/\n/g, '\r\n'),
    'the original header block, CRLF, without the body',
  );
  t.notMatch(text, /Body text must not be copied/);
});

t.test('status codes', async (t) => {
  const rows: Array<[Parameters<typeof dsnStatus>[0], string]> = [
    [{ recipient: 'a', reason: '550 5.1.1 no such user', code: 550 }, '5.1.1'],
    [{ recipient: 'a', reason: '550-5.7.1 first line', code: 550 }, '5.7.1'],
    [{ recipient: 'a', reason: '552 5.2.2 Mailbox full' }, '5.2.2'],
    [{ recipient: 'a', reason: '550 no enhanced code', code: 550 }, '5.0.0'],
    [{ recipient: 'a', reason: '550 4.1.1 class mismatch', code: 550 }, '5.0.0'],
    [{ recipient: 'a', reason: 'local: no route', code: 554 }, '5.0.0'],
    [{ recipient: 'a', reason: '554 transaction failed' }, '5.0.0'],
    [{ recipient: 'a', reason: 'retry timeout exceeded' }, '5.0.0'],
    [{ recipient: 'a', reason: 'x', diagnostic: '452 4.2.2 over quota', code: 452 }, '4.2.2'],
    [{ recipient: 'a', reason: 'x', status: '4.4.7' }, '4.4.7'],
    [{ recipient: 'a', reason: 'x', status: 'bogus', code: 550 }, '5.0.0'],
    [{ recipient: 'a', reason: '451 4.7.1 later', code: 451, action: 'delayed' }, '4.7.1'],
    [{ recipient: 'a', reason: '550 5.1.1 odd', code: 550, action: 'delayed' }, '4.1.1'],
    [{ recipient: 'a', reason: 'connection refused', action: 'delayed' }, '4.0.0'],
  ];
  for (const [r, want] of rows) t.equal(dsnStatus(r), want, JSON.stringify(r));
});

t.test('delayed only: a warning', async (t) => {
  const b = buildBounce(
    base({ failed: [{ recipient: 'bob@example.net', reason: 'Connection refused', action: 'delayed', remoteMta: 'mail.example.com' }] }),
  );
  const { top, parts } = parseReport(b.data);
  t.equal(h1(top, 'subject'), 'Warning: message 1kQb5w-000Abc-9S delayed');
  t.equal(h1(top, 'x-failed-recipients'), undefined);
  t.match(parts[0]!.body, /delayed/);
  const g = dsnGroups(parts[1]!.body);
  t.equal(g[1]!.action, 'delayed');
  t.equal(g[1]!.status, '4.0.0');
  t.equal(g[1]!['diagnostic-code'], undefined, 'no reply: no Diagnostic-Code');
  const w = parseReport(buildBounce(base({ delayedFor: '24 hours', failed: [{ recipient: 'bob@example.net', reason: '451 4.7.1 later', code: 451, action: 'delayed' }] })).data);
  t.equal(h1(w.top, 'subject'), "Warning: message 1kQb5w-000Abc-9S delayed 24 hours", "delay_warning's: how long, as Exim's subject says it");
  t.match(w.parts[0]!.body.replace(/\r\n/g, ' '), /delayed after more than 24 hours in the queue on \S+\. Attempts will go on/);
  t.equal(dsnGroups(w.parts[1]!.body)[1]!.status, '4.7.1');
});

t.test('hostile and huge originals', async (t) => {
  const long = `X-Long: ${'word '.repeat(400)}`; // 2008 bytes
  const solid = `X-Solid: ${'y'.repeat(2500)}`;
  const utf = 'Subject: Grüße ✓';
  const bom = Array.from({ length: 2000 }, (_, i) => `X-Filler-${i}: ${'z'.repeat(60)}`).join('\r\n');
  const b = buildBounce(
    base({
      originalSender: 'ann@juno.example.com\r\nBcc: victim@example.net',
      originalHeaders: [long, solid, utf, 'X-Bad: a\u0000b\u001bc', '--BOUNDARY-1234-lookalike'.slice(2), bom].join('\n'),
      failed: [{ recipient: 'bob@example.net', reason: `550 5.1.1 ${'long reply '.repeat(200)}`, code: 550, remoteMta: 'mail.example.com' }],
    }),
  );
  const { text, top, parts } = parseReport(b.data);
  t.ok(maxLine(text) <= 998, `no line over 998 octets (longest ${maxLine(text)})`);
  t.ok(maxLine(text) > 900, 'the test has long lines to cut');
  t.equal(top.headers.get('bcc'), undefined, 'no header injection through the sender');
  t.equal(h1(top, 'to'), 'ann@juno.example.com Bcc: victim@example.net');
  t.equal(b.eightBit, true, 'UTF-8 in the copied headers');
  t.equal(h1(parts[2]!, 'content-type'), 'text/rfc822-headers; charset=utf-8');
  t.equal(h1(parts[2]!, 'content-transfer-encoding'), '8bit');
  const copy = parts[2]!.body;
  t.ok(Buffer.byteLength(copy) <= MAX_HEADER_COPY, `the copy is capped (${Buffer.byteLength(copy)} bytes)`);
  const unfolded = copy.replace(/\r\n(?=[ \t])/g, '');
  t.ok(unfolded.startsWith(long), 'a long field is folded at white space and unfolds to the original');
  t.ok(copy.replace(/\r\n/g, '').replace(/ /g, '').includes(solid.replace(/ /g, '')), 'a field without white space is split (a space marks each cut)');
  t.match(copy, /Subject: Grüße ✓/);
  t.match(copy, /X-Bad: a b c/, 'controls become spaces');
  const diag = dsnGroups(parts[1]!.body)[1]!['diagnostic-code']!;
  t.equal(diag.replace(/\s+/g, ' ').trim(), `smtp; 550 5.1.1 ${'long reply '.repeat(200)}`.trim(), 'a long Diagnostic-Code is folded');
});

t.test('non-ASCII recipient: global delivery status', async (t) => {
  const b = buildBounce(base({ failed: [{ recipient: 'jösé@example.net', reason: '550 5.1.1 no', code: 550 }] }));
  const { parts } = parseReport(b.data);
  t.equal(h1(parts[1]!, 'content-type'), 'message/global-delivery-status');
  t.equal(dsnGroups(parts[1]!.body)[1]!['final-recipient'], 'utf-8; jösé@example.net');
  t.equal(b.eightBit, true);
});

t.test('boundaries and errors', async (t) => {
  const a = buildBounce(base({ boundary: undefined }));
  const b = buildBounce(base({ boundary: undefined }));
  const ba = parseReport(a.data).boundary;
  t.match(ba, /^=_dsn_[0-9a-f]{24}$/);
  t.not(ba, parseReport(b.data).boundary, 'random');
  t.throws(() => buildBounce(base({ failed: [] })), /no recipient/);
  t.throws(() => buildBounce(base({ originalHeaders: 'X-A: --BOUNDARY-1234 inside\n' })), /boundary occurs/);
  t.equal(parseReport(buildBounce(base({ originalHeaders: '' })).data).parts[2]!.body, '', 'no headers: an empty part');
});

t.test('helpers', async (t) => {
  t.equal(rfc5322Date(new Date(Date.UTC(2026, 0, 5, 7, 8, 9))), 'Mon, 5 Jan 2026 07:08:09 +0000');
  try {
    process.env.TZ = 'America/New_York';
    t.equal(rfc5322Date(new Date(Date.UTC(2026, 0, 5, 7, 8, 9))), 'Mon, 5 Jan 2026 02:08:09 -0500', 'local time, negative offset');
    process.env.TZ = 'Asia/Kolkata';
    t.equal(rfc5322Date(new Date(Date.UTC(2026, 0, 4, 20, 0, 0))), 'Mon, 5 Jan 2026 01:30:00 +0530', 'half-hour offset, next day');
  } finally {
    process.env.TZ = 'UTC';
  }
  t.strictSame(limitLine('short'), ['short']);
  t.strictSame(limitLine('aaaa bbbb cccc', 10), ['aaaa bbbb', ' cccc']);
  t.strictSame(limitLine('abcdefghijkl', 10), ['abcdefghij', ' kl']);
  t.strictSame(limitLine('ééééé', 8), ['éééé', ' é'], 'cut between characters, by octets');
  t.throws(() => limitLine('x', 2), RangeError);
});

t.test('an independent MIME parser reads it (Python\'s email package, when installed)', async (t) => {
  const py = `
import email, email.policy, json, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
out = {'type': m.get_content_type(), 'report': m.get_param('report-type'), 'defects': [str(d) for d in m.defects], 'parts': []}
for p in m.iter_parts():
    part = {'type': p.get_content_type(), 'defects': [str(d) for d in p.defects]}
    if p.get_content_type() == 'message/delivery-status':
        part['groups'] = [dict(g.items()) for g in p.get_payload()]
    out['parts'].append(part)
print(json.dumps(out))
`;
  const r = spawnSync('python3', ['-c', py], { input: buildBounce(base()).data, encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    t.pass(`skipped: python3 not usable here (${r.error?.message ?? r.stderr.trim().split('\n').pop()})`);
    return;
  }
  const got = JSON.parse(r.stdout) as { type: string; report: string; defects: string[]; parts: Array<{ type: string; defects: string[]; groups?: Array<Record<string, string>> }> };
  t.equal(got.type, 'multipart/report');
  t.equal(got.report, 'delivery-status');
  t.strictSame(got.defects, [], 'no defects');
  t.strictSame(got.parts.map((p) => p.type), ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
  t.strictSame(got.parts.flatMap((p) => p.defects), [], 'no defects in the parts');
  const groups = got.parts[1]!.groups!;
  t.equal(groups.length, 3, 'per-message fields and two recipients');
  t.equal(groups[1]!['Final-Recipient'], 'rfc822; bob@example.net');
  t.equal(groups[1]!.Status, '5.1.1');
  t.equal(groups[2]!.Status, '4.4.7');
});
