/**
 * Where credentials come from: the credentials file keyed by the QUERIED name
 * (a CNAME'd smarthost), the permission checks on every file holding a secret
 * (the config file itself when it holds auth_password), and lazy, cached
 * password commands. File access is faked, except for loadConfig's wrapper.
 */
import t from 'tap';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigSecrets, findCredential, insecureMode, lineOfOption, loadClientCert, loadSecrets, parseCredentials, type SecretDeps } from '../../lib/route/secrets.js';
import { loadConfig, parseConfig } from '../../lib/route/config.js';
import { SmarthostError } from '../../lib/errors.js';

const CREDS = `# queried-host:user:password
mail.dev.example.test:alias-user:alias:pass
mail.example.local:target-user:target-pass
*.provider.example:wild-user:wild-pass
[2001:db8::25]:v6-user:v6-pass

192.0.2.7:ip-user:ip-pass
`;

t.test('parseCredentials: password keeps its colons; IPv6 in brackets; errors name the line, never the password', async (t) => {
  const e = parseCredentials(CREDS, '/etc/c');
  t.same(e.map((x) => [x.host, x.user, x.password, x.line]), [
    ['mail.dev.example.test', 'alias-user', 'alias:pass', 2],
    ['mail.example.local', 'target-user', 'target-pass', 3],
    ['*.provider.example', 'wild-user', 'wild-pass', 4],
    ['2001:db8::25', 'v6-user', 'v6-pass', 5],
    ['192.0.2.7', 'ip-user', 'ip-pass', 7],
  ]);
  t.throws(() => parseCredentials('justahost', '/etc/c'), { message: '/etc/c:1: expected "host:user:password"' });
  t.throws(() => parseCredentials('h::pw-secret', '/etc/c'), { message: '/etc/c:1: empty user name for "h"' });
  const err = t.throws(() => parseCredentials('# x\nh:u:', '/etc/c')) as Error;
  t.equal(err.message, '/etc/c:2: empty password for "h"');
});

t.test('findCredential: the queried name, never the CNAME target; exact before wildcard', async (t) => {
  const e = parseCredentials(CREDS, '/etc/c');
  t.equal(findCredential(e, 'mail.dev.example.test')?.user, 'alias-user', 'CNAME\'d host: its own (queried) entry');
  t.equal(findCredential(e, 'MAIL.DEV.EXAMPLE.TEST.')?.user, 'alias-user', 'case and trailing dot ignored');
  t.equal(findCredential(e, 'smtp.provider.example')?.user, 'wild-user');
  t.equal(findCredential(e, 'provider.example'), undefined, '*.x does not match x itself');
  t.equal(findCredential(e, '2001:db8::25')?.user, 'v6-user');
  t.equal(findCredential(e, 'elsewhere.example'), undefined);
});

t.test('insecureMode, lineOfOption', async (t) => {
  t.equal(insecureMode(0o100600), false);
  t.equal(insecureMode(0o100400), false);
  t.equal(insecureMode(0o100640), true);
  t.equal(insecureMode(0o100604), true);
  t.equal(lineOfOption('# c\nport = 1\n  auth_password = x', 'auth_password'), 3);
  t.equal(lineOfOption('auth_password_file = /x', 'auth_password'), undefined);
});

/** Fake file system: path → [mode, content]. */
function fakeFs(files: Record<string, [number, string]>, runCommand: SecretDeps['runCommand'] = () => Promise.reject(new Error('no command'))): SecretDeps {
  return {
    readFile: async (p) => {
      const f = files[p];
      if (!f) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return f[1];
    },
    stat: async (p) => {
      const f = files[p];
      if (!f) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return { mode: 0o100000 | f[0] };
    },
    runCommand,
  };
}

const CONF = '/etc/send-smarthost.conf';

t.test('loadSecrets: credentials file wins for its hosts; global user otherwise; cleartext per host', async (t) => {
  const text = 'auth_credentials_file = /etc/creds\nauth_username = global\nauth_password_file = /etc/pw\nhosts_auth_cleartext = 127.0.0.1';
  const cfg = parseConfig(text, CONF);
  const fs = fakeFs({ '/etc/creds': [0o600, CREDS], '/etc/pw': [0o400, 'file-pass\nsecond line ignored\n'], [CONF]: [0o644, text] });
  const authFor = await loadSecrets(cfg, fs.runCommand, fs);
  const a = authFor('mail.dev.example.test', '127.0.0.2')!;
  t.equal(a.username, 'alias-user');
  t.equal(a.source, '/etc/creds:2');
  t.equal(await a.password!(), 'alias:pass');
  t.equal(a.allowCleartext, false);
  const g = authFor('other.example', '127.0.0.1')!;
  t.equal(g.username, 'global');
  t.equal(g.source, 'auth_username');
  t.equal(await g.password!(), 'file-pass', 'first line of auth_password_file');
  t.equal(g.allowCleartext, true);
  t.equal(g.token, undefined);
});

t.test('loadSecrets: no credentials at all → no AUTH', async (t) => {
  const fs = fakeFs({});
  t.equal((await loadSecrets(parseConfig('', CONF), fs.runCommand, fs))('x.example', '192.0.2.1'), undefined);
});

t.test('insecure or missing secret files are configuration errors naming the option line', async (t) => {
  const text = 'port = 25\nauth_username = u\nauth_password_file = /etc/pw';
  const cfg = parseConfig(text, CONF);
  const err = await t.rejects(loadSecrets(cfg, async () => '', fakeFs({ '/etc/pw': [0o640, 'pw'], [CONF]: [0o600, text] })));
  t.match(err, { code: 'E_CONFIG', message: `${CONF}:3: auth_password_file "/etc/pw" is readable by group or others (mode 0640); run "chmod 600 /etc/pw"` });
  await t.rejects(loadSecrets(cfg, async () => '', fakeFs({ [CONF]: [0o600, text] })), { code: 'E_CONFIG', message: /auth_password_file "\/etc\/pw": cannot read it: ENOENT/ });
  await t.rejects(loadSecrets(cfg, async () => '', fakeFs({ '/etc/pw': [0o600, '\nx'], [CONF]: [0o600, text] })), { message: /the first line is empty/ });
  const c2 = parseConfig('auth_credentials_file = /etc/creds', CONF);
  await t.rejects(loadSecrets(c2, async () => '', fakeFs({ '/etc/creds': [0o604, CREDS] })), { message: /auth_credentials_file "\/etc\/creds" is readable by group or others \(mode 0604\)/ });
});

t.test('password and token commands run lazily, once; a fresh token on request', async (t) => {
  const runs: string[] = [];
  const run = async (cmd: string, option: string) => (runs.push(`${option}:${cmd}`), `out${runs.length}`);
  const cfg = parseConfig('auth_username = u\nauth_password_command = pass show relay\nauth_oauth2_command = get-token', CONF);
  const authFor = await loadSecrets(cfg, run, fakeFs({}, run));
  t.same(runs, [], 'nothing runs until a server needs it');
  const a = authFor('h.example', '192.0.2.1')!;
  t.equal(await a.password!(), 'out1');
  t.equal(await authFor('h2.example', '192.0.2.2')!.password!(), 'out1', 'cached for the whole run');
  t.equal(await a.token!(false), 'out2');
  t.equal(await a.token!(false), 'out2');
  t.equal(await a.token!(true), 'out3');
  t.same(runs, ['auth_password_command:pass show relay', 'auth_oauth2_command:get-token', 'auth_oauth2_command:get-token']);
});

t.test('loadConfig refuses auth_password in a file readable by group or others (exit 78 kind)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'send-smarthost-secrets-'));
  const file = join(dir, 'send-smarthost.conf');
  writeFileSync(file, 'route_data = mail.example\nauth_username = u\nauth_password = hunter2-secret\n');
  chmodSync(file, 0o644);
  const err = (await t.rejects(loadConfig(file))) as unknown as SmarthostError;
  t.equal(err.code, 'E_CONFIG');
  t.equal(err.kind, 'config');
  t.equal(err.message, `${file}:3: auth_password is set but ${file} is readable by group or others (mode 0644); run "chmod 600 ${file}", or use auth_password_file or auth_password_command`);
  t.notOk(err.message.includes('hunter2'));
  chmodSync(file, 0o600);
  t.equal((await loadConfig(file)).authPassword, 'hunter2-secret');
  // without a password in it, a world-readable config is fine
  const plain = join(dir, 'plain.conf');
  writeFileSync(plain, 'auth_username = u\nauth_password_file = /etc/pw\n');
  chmodSync(plain, 0o644);
  t.equal((await loadConfig(plain)).authPasswordFile, '/etc/pw');
  await t.resolves(checkConfigSecrets('/x', '', parseConfig('', '/x'), async () => ({ mode: 0o777 })));
});

t.test('loadClientCert: key from tls_privatekey (checked), or from the certificate file', async (t) => {
  const fs = fakeFs({ '/c.pem': [0o644, 'CERT'], '/k.pem': [0o600, 'KEY'], '/both.pem': [0o600, 'CERT\n-----BEGIN PRIVATE KEY-----\n'], '/k-open.pem': [0o644, 'KEY'] });
  t.same(await loadClientCert(parseConfig('', CONF), fs), {});
  t.same(await loadClientCert(parseConfig('tls_certificate = /c.pem\ntls_privatekey = /k.pem', CONF), fs), { cert: 'CERT', key: 'KEY' });
  t.match(await loadClientCert(parseConfig('tls_certificate = /both.pem', CONF), fs), { key: /PRIVATE KEY/ });
  await t.rejects(loadClientCert(parseConfig('tls_certificate = /c.pem\ntls_privatekey = /k-open.pem', CONF), fs), { message: /tls_privatekey "\/k-open.pem" is readable by group or others/ });
  await t.rejects(loadClientCert(parseConfig('tls_certificate = /c.pem', CONF), fs), { message: /readable by group or others|holds no private key/ });
});
