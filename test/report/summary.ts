import t from 'tap';
import { summarize } from '../../lib/report/summary.js';

t.test('only undelivered recipients unless verbose', async (t) => {
  const outcome = {
    result: 'deferred' as const,
    attempts: [],
    recipients: [
      { recipient: 'a@x.test', result: 'delivered' as const, reason: '250 OK', host: 'mail.dev.example.test' },
      { recipient: 'b@x.test', result: 'deferred' as const, reason: 'TLS verification failed' },
      { recipient: 'c@x.test', result: 'failed' as const, reason: '550 no such user', host: 'mail.dev.example.test' },
    ],
  };
  t.same(summarize(outcome, false), [
    '<b@x.test>: deferred (temporary failure; not delivered): TLS verification failed',
    '<c@x.test>: failed via mail.dev.example.test: 550 no such user',
  ]);
  t.equal(summarize(outcome, true).length, 3);
  t.match(summarize(outcome, true)[0], /^<a@x\.test>: delivered via mail\.dev\.example\.test: 250 OK$/);
});
