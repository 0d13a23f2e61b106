/**
 * The authentication, TLS and deadline options: table rows through
 * parseConfig ([text, expected fields | error]), the checks between options,
 * and smtps's default port.
 */
import t from 'tap';
import { parseConfig } from '../../lib/route/config.js';
import { parseMechanisms, parsePin } from '../../lib/route/config-security.js';
import { parseHostList } from '../../lib/route/hostlist.js';
import { SmarthostError } from '../../lib/errors.js';
import type { Config } from '../../lib/types.js';

const FILE = '/etc/send-smarthost.conf';
const HEX = 'c5b99a08b0a70090c89df8ba78660aad7cea6ad32c1eaf498f8a2bbe40b5be02';
const B64 = 'xbmaCLCnAJDInfi6eGYKrXzqatMsHq9Jj4orvkC1vgI=';
const COLONS = HEX.match(/../g)!.join(':').toUpperCase();

const rows: Array<[string, Partial<Config> | string]> = [
  ['', { protocol: 'smtp', port: 25, tlsMinVersion: 'TLSv1.2', tlsPinSha256: [], hostsAuthCleartext: [], deliveryTimeout: 600_000 }],
  ['protocol = smtps', { protocol: 'smtps', port: 465 }],
  ['protocol = smtps\nport = 2465', { protocol: 'smtps', port: 2465 }],
  ['port = 2465\nprotocol = smtps', { protocol: 'smtps', port: 2465 }],
  ['protocol = smtp', { protocol: 'smtp', port: 25 }],
  ['protocol = ssl', 'bad protocol "ssl" (smtp or smtps)'],
  ['auth_username = me@example.test\nauth_password = "pa ss#word"', { authUsername: 'me@example.test', authPassword: 'pa ss#word' }],
  ['auth_username = me\nauth_password_file = /etc/mail/pw', { authPasswordFile: '/etc/mail/pw' }],
  ['auth_username = me\nauth_password_file = pw', 'auth_password_file must be an absolute path, got "pw"'],
  ['auth_username = me\nauth_password_command = pass show mail/relay', { authPasswordCommand: 'pass show mail/relay' }],
  ['auth_username = me\nauth_oauth2_command = oauth2-token me', { authOauth2Command: 'oauth2-token me' }],
  ['auth_credentials_file = /etc/send-smarthost.passwd', { authCredentialsFile: '/etc/send-smarthost.passwd' }],
  ['auth_username = me\nauth_password = x\nauth_mechanisms = cram-md5, plain:LOGIN', { authMechanisms: ['CRAM-MD5', 'PLAIN', 'LOGIN'] }],
  ['auth_mechanisms = PLAIN SCRAM-SHA-1', 'unknown authentication mechanism "SCRAM-SHA-1" (known: PLAIN, LOGIN, CRAM-MD5, XOAUTH2)'],
  ['auth_mechanisms = PLAIN plain', 'authentication mechanism "plain" is listed twice'],
  ['hosts_auth_cleartext = 127.0.0.1 : *.lab.example', { hostsAuthCleartext: parseHostList('127.0.0.1 : *.lab.example') }],
  ['tls_certificate = /etc/ssl/client.pem\ntls_privatekey = /etc/ssl/client.key', { tlsCertificate: '/etc/ssl/client.pem', tlsPrivatekey: '/etc/ssl/client.key' }],
  ['tls_require_ciphers = ECDHE+AESGCM:!aNULL', { tlsRequireCiphers: 'ECDHE+AESGCM:!aNULL' }],
  ['tls_require_ciphers = NO-SUCH-CIPHER', /tls_require_ciphers "NO-SUCH-CIPHER" is not accepted by OpenSSL/.source],
  ['tls_min_version = tlsv1.3', { tlsMinVersion: 'TLSv1.3' }],
  ['tls_min_version = SSLv3', 'bad tls_min_version "SSLv3" (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)'],
  [`tls_pin_sha256 = ${HEX}, sha256//${B64} ${COLONS}`, { tlsPinSha256: [HEX] }],
  ['tls_pin_sha256 = abcd', 'bad tls_pin_sha256 item "abcd" (expected a SHA-256 digest: 64 hex digits or 44 base64 characters)'],
  ['delivery_timeout = 90s', { deliveryTimeout: 90_000 }],
  ['delivery_timeout = 0s', 'delivery_timeout must be more than 0, got "0s"'],
  // between options, reported at the line of the option in the way
  ['auth_username = me\nauth_password = a\nauth_password_command = echo b', '3: auth_password_command and auth_password are both set: give the password one way only'],
  ['auth_password = a', '1: auth_password is set but auth_username is not'],
  ['auth_oauth2_command = tok', '1: auth_oauth2_command is set but auth_username is not'],
  ['port = 25\nauth_username = me', '2: auth_username is set but no password'],
  ['auth_username = me\nauth_password = a\nauth_mechanisms = XOAUTH2', '3: none of auth_mechanisms (XOAUTH2) can be used with the credentials configured'],
  ['tls_privatekey = /k.pem', '1: tls_privatekey is set but tls_certificate is not'],
  ['auth_username = me\x01\nauth_password = x', 'auth_username contains a control character'],
];

for (const [text, want] of rows) {
  t.test(JSON.stringify(text), async (t) => {
    if (typeof want === 'string') {
      const err = t.throws(() => parseConfig(text, FILE)) as SmarthostError;
      t.equal(err.code, 'E_CONFIG');
      t.match(err.message, new RegExp(`^${FILE.replace(/\./g, '\\.')}:\\d+: .*`));
      t.ok(err.message.includes(want) || new RegExp(want).test(err.message), err.message);
    } else {
      t.match(parseConfig(text, FILE), want);
    }
  });
}

t.test('a password is never quoted in a configuration error', async (t) => {
  const err = t.throws(() => parseConfig('auth_password = hunter2-secret', FILE)) as SmarthostError;
  t.notOk(err.message.includes('hunter2'));
});

t.test('parsePin and parseMechanisms directly', async (t) => {
  t.equal(parsePin(HEX.toUpperCase()), HEX);
  t.equal(parsePin(B64), HEX);
  t.throws(() => parsePin(HEX.slice(2)));
  t.throws(() => parsePin(`${HEX.slice(0, 10)}:${HEX.slice(10)}`), 'stray colon');
  t.same(parseMechanisms('xoauth2'), ['XOAUTH2']);
});
