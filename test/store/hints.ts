import t from 'tap';
import { HINT_EXPIRY, hintKey, hostsHeldBack, loadHints, runHintStore, saveHints, updateHints } from '../../lib/store/hints.js';
import type { Attempt } from '../../lib/types.js';

const att = (stage: Attempt['stage'], result: Attempt['result'], address = '192.0.2.1'): Attempt => ({
  queried: 'Mail.Example.com', canonical: 'mx1.example.net', address, port: 25, stage, result, reason: 'x',
});
const MAIL = { name: 'mail.example.com', port: 25 };
const in15m = (s: { lastAttempt: number }) => s.lastAttempt + 900_000;

t.test('a connection failure holds the host back; a later success clears it', async (t) => {
  const now = 1_000_000;
  let h = updateHints({}, [att('connect', 'deferred')], now, in15m);
  t.same(Object.keys(h), [hintKey('mail.example.com', '192.0.2.1', 25)]);
  t.equal(hostsHeldBack(h, [MAIL], now + 1), now + 900_000);
  t.equal(hostsHeldBack(h, [MAIL], now + 900_000), undefined, 'due again');
  t.equal(hostsHeldBack(h, [MAIL, { name: 'backup.example.com', port: 25 }], now + 1), undefined, 'another host may be tried');
  const first = h[hintKey('mail.example.com', '192.0.2.1', 25)]!.firstFailure;
  h = updateHints(h, [att('connect', 'deferred')], now + 1_000_000, in15m);
  t.equal(h[hintKey('mail.example.com', '192.0.2.1', 25)]!.firstFailure, first, 'first failure kept');
  h = updateHints(h, [att('done', 'delivered')], now + 2_000_000, in15m);
  t.same(h, {}, 'cleared');
});

t.test('a 4xx to a recipient says nothing about the host', async (t) => {
  t.same(updateHints({}, [att('rcpt', 'deferred')], 1, in15m), {});
});

t.test('only when every address of the host is held back', async (t) => {
  const h = updateHints({}, [att('connect', 'deferred', '192.0.2.1'), att('connect', 'deferred', '192.0.2.2')], 0, in15m);
  t.ok(hostsHeldBack(h, [MAIL], 1));
  h[hintKey('mail.example.com', '192.0.2.2', 25)]!.next = 0;
  t.equal(hostsHeldBack(h, [MAIL], 1), undefined);
});

t.test('give-up does not hold back; old entries expire', async (t) => {
  const h = updateHints({}, [att('connect', 'deferred')], 5, () => 'give-up');
  t.equal(hostsHeldBack(h, [MAIL], 5), undefined);
  const later = updateHints(h, [], 5 + HINT_EXPIRY + 1, in15m);
  t.same(later, {});
});

t.test('saved atomically and read back; damage is no hints', async (t) => {
  const dir = t.testdir({ 'retry-hints.json': 'not json' });
  t.same(loadHints(dir), {});
  const h = updateHints({}, [att('connect', 'deferred')], 0, in15m);
  t.ok(saveHints(dir, h));
  t.same(loadHints(dir), h);
  t.notOk(saveHints(`${dir}/missing`, h), 'a failure is reported, not thrown');
});

t.test('a geometric rule backs off across hint updates', async (t) => {
  const { nextAttemptAt, parseRetryRules } = await import('../../lib/queue/retry.js');
  const rules = parseRetryRules('G,16h,1h,2');
  let h = {};
  let now = 0;
  const gaps: number[] = [];
  for (let i = 0; i < 4; i++) {
    h = updateHints(h, [att('connect', 'deferred')], now, (s) => nextAttemptAt(s, now, rules));
    const next = Object.values(h as Record<string, { next: number }>)[0]!.next;
    gaps.push((next - now) / 3_600_000);
    now = next;
  }
  t.same(gaps, [1, 2, 4, 8], 'hours between attempts double');
});

t.test("a run's hint store reads the file once and writes through", async (t) => {
  const dir = t.testdir();
  const hint = { firstFailure: 1, lastAttempt: 2, next: 3, reason: 'r' };
  saveHints(dir, { 'a:1+25': hint });
  const store = runHintStore(dir);
  t.same(store.load(), { 'a:1+25': hint });
  saveHints(dir, {}); // another process writes meanwhile: this run keeps its copy (hints are advice)
  t.same(store.load(), { 'a:1+25': hint }, 'not read again');
  store.save({ 'b:2+25': hint });
  t.same(store.load(), { 'b:2+25': hint });
  t.same(loadHints(dir), { 'b:2+25': hint }, 'written to the file');
});

t.test('keyed by name, address and port: a failure on one port holds back no other port (issue 9, point 11)', async (t) => {
  const on = (port: number): Attempt => ({ ...att('connect', 'deferred'), port });
  const h = updateHints({}, [on(2525)], 0, in15m);
  t.same(Object.keys(h), ['mail.example.com:192.0.2.1+2525'], "Exim's T:host:ip+port shape");
  t.ok(hostsHeldBack(h, [{ name: 'mail.example.com', port: 2525 }], 1), 'the port that failed is held back');
  t.equal(hostsHeldBack(h, [{ name: 'mail.example.com', port: 587 }], 1), undefined, 'another port of the same address is not');
  t.same(updateHints(h, [{ ...att('done', 'delivered'), port: 587 }], 2, in15m), h, 'a success on another port clears nothing');
  t.same(loadHints(t.testdir({ 'retry-hints.json': JSON.stringify({ 'mail.example.com:192.0.2.1': { firstFailure: 1, lastAttempt: 1, next: 9e15, reason: 'old' } }) })), {}, 'old keys without a port are dropped');
});
