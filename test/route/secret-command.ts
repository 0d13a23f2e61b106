/**
 * runSecretCommand against the real /bin/sh: first line of standard output;
 * failures are temporary E_AUTH errors that name the option, never the output;
 * bounded time; standard input closed (it must not eat the message).
 */
import t from 'tap';
import { runSecretCommand } from '../../lib/route/secret-command.js';
import { SmarthostError } from '../../lib/errors.js';

t.test('the first line of standard output, without its line end', async (t) => {
  t.equal(await runSecretCommand("printf 'pa ss:word\\r\\nsecond\\n'", 'auth_password_command'), 'pa ss:word');
  t.equal(await runSecretCommand('echo token-1 >&1; echo noise >&2', 'auth_oauth2_command'), 'token-1');
});

t.test('failures: option named, status given, output never echoed', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['echo leaked-secret; exit 3', /^auth_password_command: the command exited with status 3; no credentials to send$/],
    ['echo leaked-secret >&2; kill -9 $$', /^auth_password_command: the command was killed by SIGKILL/],
    ["printf '\\nleaked-secret\\n'", /printed an empty first line/],
    ['true', /printed an empty first line/],
  ];
  for (const [cmd, want] of cases) {
    const err = (await t.rejects(runSecretCommand(cmd, 'auth_password_command'))) as unknown as SmarthostError;
    t.ok(err instanceof SmarthostError, cmd);
    t.equal(err.code, 'E_AUTH');
    t.equal(err.kind, 'temp', 'the message is kept (exit 75)');
    t.match(err.message, want);
    t.notOk(err.message.includes('leaked-secret'), 'output never in the message');
    t.notOk(err.message.includes(cmd), 'nor the command text');
  }
});

t.test('bounded: a command that hangs is killed with its children', async (t) => {
  const start = Date.now();
  const err = (await t.rejects(runSecretCommand('sleep 30 | cat; echo late', 'auth_password_command', 300))) as unknown as SmarthostError;
  t.match(err.message, /did not finish within 0.3s and was killed/);
  t.ok(Date.now() - start < 5000, 'returned promptly');
});

t.test('standard input is closed: the command cannot read the message', async (t) => {
  t.equal(await runSecretCommand('read line || echo no-stdin', 'auth_password_command'), 'no-stdin');
});
