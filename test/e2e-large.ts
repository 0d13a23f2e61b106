/**
 * Messages over IN_MEMORY_MAX (1 MiB) end to end: read into a file as they
 * arrive, prepared like small ones, sent from the file, spooled and
 * delivered from the spool by copy, never held whole; the bytes the
 * smarthost gets are what a small message's path would have made.
 */
import t from 'tap';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startDns, type FakeDns } from '../fixtures/peers/fake-dns.js';
import { LATER, run, setup } from '../fixtures/peers/queue-env.js';

let dns: FakeDns;
t.before(async () => {
  dns = await startDns('seed');
});
t.teardown(() => dns.close());

// 3 MiB of LF-terminated lines, with an 8-bit line and a dot-led line (stuffed on the wire, unstuffed by the server)
const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, 0123456789.\n';
const body = line.repeat(Math.ceil((3 << 20) / line.length)) + '.leading dot\nGrüße\nlast line\n';
const message = (n: string): string => `From: Cron <root@example.test>\nTo: admin@example.test\nBcc: hidden@example.test\nSubject: large ${n}\n\n${body}`;
const expectedBody = body.replace(/\n/g, '\r\n');

/** What the smarthost got: the header section and the body. */
function received(data: Buffer): { head: string; body: string } {
  const text = data.toString('utf8');
  const at = text.indexOf('\r\n\r\n');
  return { head: text.slice(0, at), body: text.slice(at + 4) };
}

async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 750 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  return done();
}

t.test('-odi: sent from a temporary file, byte for byte; nothing left behind', async (t) => {
  const e = await setup(t, dns, {}, ['delivery_mode = interactive']);
  const r = await run(['-C', e.conf, '-odi', '-t'], { input: message('odi') });
  t.equal(r.code, 0, r.stderr);
  t.equal(e.smtp.messages.length, 1);
  const got = received(e.smtp.messages[0]!.data);
  t.equal(got.body, expectedBody, 'the body, CRLF, dot-stuffing undone by the server');
  t.match(got.head, /^From: Cron <root@example\.test>\r\nTo: admin@example\.test\r\nSubject: large odi\r\nDate: .+\r\nMessage-ID: <.+>$/);
  t.notMatch(got.head, /Bcc/, 'Bcc removed');
  t.same(e.smtp.messages[0]!.to.sort(), ['admin@example.test', 'hidden@example.test']);
  t.same(readdirSync(join(e.spool, 'tmp')), [], 'the temporary files are gone');
});

t.test('-odi -d: the trace says where the message was kept', async (t) => {
  const e = await setup(t, dns, {}, ['delivery_mode = interactive']);
  const r = await run(['-C', e.conf, '-d', 'admin@example.test'], { input: message('trace') });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /\d+ octets: kept in .*tmp\/send-smarthost-message-\S+ while it is sent, not in memory/);
});

t.test('-odq, then a queue run: a drop file of the whole message, delivered from it', async (t) => {
  const e = await setup(t, dns, {}, ['delivery_mode = interactive']);
  const r = await run(['-C', e.conf, '-odq', 'admin@example.test'], { input: message('odq') });
  t.equal(r.code, 0, r.stderr);
  const [drop] = e.drops();
  t.ok(statSync(join(e.spool, 'incoming', drop!)).size > 3 << 20, 'the drop file holds it');
  const q = await run(['-C', e.conf, '-q']);
  t.equal(q.code, 0, q.stderr);
  t.equal(received(e.smtp.messages[0]!.data).body, expectedBody);
  t.same(e.drops(), []);
});

t.test('deferred (451): queued in input/ from the file; a later run sends the -D file', async (t) => {
  let answer: string | undefined = '451 4.3.0 later';
  const e = await setup(t, dns, { onRcpt: () => answer }, ['delivery_mode = interactive']);
  const r = await run(['-C', e.conf, 'admin@example.test'], { input: message('451') });
  t.equal(r.code, 0, r.stderr);
  const [id] = e.queued();
  t.ok(statSync(join(e.spool, 'input', `${id}-D`)).size > 3 << 20);
  answer = undefined;
  const q = await run(['-C', e.conf, '-q'], { env: LATER });
  t.equal(q.code, 0, q.stderr);
  t.equal(received(e.smtp.messages[0]!.data).body, expectedBody);
  t.same(e.input(), []);
});

t.test('background (the default): the detached deliverer sends it from the drop file', async (t) => {
  const e = await setup(t, dns, {}, ['delivery_mode = background']);
  const r = await run(['-C', e.conf, 'admin@example.test'], { input: message('odb') });
  t.equal(r.code, 0, r.stderr);
  t.ok(await until(() => e.smtp.messages.length === 1), 'delivered');
  t.equal(received(e.smtp.messages[0]!.data).body, expectedBody);
  t.ok(await until(() => e.drops().length === 0 && readdirSync(join(e.spool, 'tmp')).length === 0), 'spool clean');
});
