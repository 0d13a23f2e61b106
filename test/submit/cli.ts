import t from 'tap';
import { FLAGS, MODES, SUPPORTED_MODES, operatorCommand, parseArgs } from '../../lib/submit/cli.js';
import { SmarthostError, exitCodeFor } from '../../lib/errors.js';
import type { Invocation } from '../../lib/types.js';

type Expect = Partial<Invocation>;

/** Every invocation in shared/reference/callers.md, with what it must mean. */
const callers: [string, string[], Expect][] = [
  ['Debian cron', ['-FCronDaemon', '-i', '-B8BITMIME', '-oem', 'root'],
    { recipients: ['root'], extractRecipients: false, ignoreDots: true, sender: undefined, fullName: 'CronDaemon', mode: 'm', bodyType: '8BITMIME', options: ['em'] }],
  ['Debian cron (older order, dma#88)', ['-i', '-FCronDaemon', '-B8BITMIME', '-oem', 'simon'],
    { recipients: ['simon'], extractRecipients: false, ignoreDots: true, fullName: 'CronDaemon', mode: 'm' }],
  ['cronie', ['-FCronDaemon', '-i', '-odi', '-oem', '-oi', '-t', '-f', 'root'],
    { recipients: [], extractRecipients: true, ignoreDots: true, sender: 'root', fullName: 'CronDaemon', mode: 'm', options: ['di', 'em', 'i'] }],
  ['bsd-mailx', ['-i', '-t'], { recipients: [], extractRecipients: true, ignoreDots: true, sender: undefined, mode: 'm' }],
  ['bsd-mailx -r', ['-i', '-t', '-f', 'from@x.example'],
    { recipients: [], extractRecipients: true, ignoreDots: true, sender: 'from@x.example' }],
  ['GNU mailutils mail', ['-oi', '-f', 'root@vm', '-t'],
    { recipients: [], extractRecipients: true, ignoreDots: true, sender: 'root@vm', mode: 'm' }],
  ['s-nail', ['-i', '--', 'a@b.example'], { recipients: ['a@b.example'], extractRecipients: false, ignoreDots: true, sender: undefined }],
  ['s-nail -r', ['-i', '-f', 'from@x.example', '--', 'a@b.example'],
    { recipients: ['a@b.example'], extractRecipients: false, ignoreDots: true, sender: 'from@x.example' }],
  ['NeoMutt default', ['-oem', '-oi', '--', 'a@x.example', 'b@y.example'],
    { recipients: ['a@x.example', 'b@y.example'], extractRecipients: false, ignoreDots: true, sender: undefined, options: ['em', 'i'] }],
  ['NeoMutt with options', ['-oem', '-oi', '-B8BITMIME', '-f', 'me@x.example', '-N', 'failure,delay', '-R', 'hdrs', '-V', 'env1', '--', '-odd@x.example'],
    { recipients: ['-odd@x.example'], ignoreDots: true, sender: 'me@x.example', dsnNotify: 'FAILURE,DELAY', dsnRet: 'HDRS', dsnEnvid: 'env1', bodyType: '8BITMIME' }],
  ['git send-email', ['-i', 'a@x.example', 'b@y.example'],
    { recipients: ['a@x.example', 'b@y.example'], extractRecipients: false, ignoreDots: true, sender: undefined }],
  ['git send-email -f', ['-i', '-f', 'Me@X.example', 'a@x.example'],
    { recipients: ['a@x.example'], ignoreDots: true, sender: 'Me@X.example' }],
  ['PHP mail()', ['-t', '-i'], { recipients: [], extractRecipients: true, ignoreDots: true, sender: undefined }],
  ['PHP mail() 5th arg', ['-t', '-i', '-fuser@dom.example'],
    { recipients: [], extractRecipients: true, ignoreDots: true, sender: 'user@dom.example' }],
  ['PHPMailer', ['-oi', '-fsender@x.example', '-t'], { extractRecipients: true, ignoreDots: true, sender: 'sender@x.example' }],
  ['PHPMailer, no sender', ['-oi', '-t'], { extractRecipients: true, ignoreDots: true, sender: undefined }],
  ['Symfony Mailer -bs', ['-bs'], { recipients: [], extractRecipients: false, ignoreDots: false, mode: 's' }],
  ['Symfony Mailer -t', ['-t', '-fbounce@x.example'], { extractRecipients: true, ignoreDots: false, sender: 'bounce@x.example', mode: 'm' }],
  ['Ruby mail / Rails', ['-i', '-f', 'from@x.example', '--', 'a@x.example', 'b@y.example'],
    { recipients: ['a@x.example', 'b@y.example'], ignoreDots: true, sender: 'from@x.example', extractRecipients: false }],
  ['old Ruby mail gem', ['-i', '-t'], { extractRecipients: true, ignoreDots: true }],
  ['logwatch', ['-t'], { recipients: [], extractRecipients: true, ignoreDots: false, sender: undefined, mode: 'm' }],
  ['unattended-upgrades', ['-oi', '-t'], { extractRecipients: true, ignoreDots: true }],
  ['mdadm', ['-t'], { extractRecipients: true, ignoreDots: false }],
  ['sudo', ['-t'], { extractRecipients: true, ignoreDots: false }],
  ['fail2ban', ['-f', 'fail2ban@host.example', 'root'],
    { recipients: ['root'], extractRecipients: false, ignoreDots: false, sender: 'fail2ban@host.example' }],
  ['systemd-cron', ['-i', '-B8BITMIME', 'root'], { recipients: ['root'], ignoreDots: true, bodyType: '8BITMIME' }],
];

t.test('real callers', async (t) => {
  for (const [name, argv, want] of callers) {
    const inv = parseArgs(argv);
    for (const [k, v] of Object.entries(want)) {
      t.same(inv[k as keyof Invocation], v, `${name}: ${argv.join(' ')} → ${k}`);
    }
  }
});

/** deps.md §5 pitfalls and other edge cases: [argv, expected fields]. */
const edges: [string[], Expect][] = [
  [['-d', 'a@y'], { debug: true, debugFlags: undefined, recipients: ['a@y'] }],
  [['-d0.1', 'a@y'], { debug: true, debugFlags: '0.1', recipients: ['a@y'] }],
  [['-vd0.1', 'a@y'], { verbose: true, debug: true, debugFlags: '0.1', recipients: ['a@y'] }],
  [['-q', 'a@y'], { queueRun: true, queueArg: undefined, recipients: ['a@y'] }],
  [['-q'], { queueRun: true, recipients: [] }],
  [['-qf'], { queueRun: true, queueArg: 'f', queueForce: true }],
  [['-qff'], { queueRun: true, queueArg: 'ff', queueForce: true }],
  [['-M', '1jiFk5-0006UE-9S', '1jiFk5-0006UE-9T'], { messageAction: 'deliver', recipients: ['1jiFk5-0006UE-9S', '1jiFk5-0006UE-9T'] }],
  [['-Mrm', '1jiFk5-0006UE-9S'], { messageAction: 'remove', recipients: ['1jiFk5-0006UE-9S'] }],
  [['-Mf', '1jiFk5-0006UE-9S', '1jiFk5-0006UE-9T'], { messageAction: 'freeze', recipients: ['1jiFk5-0006UE-9S', '1jiFk5-0006UE-9T'] }],
  [['-Mt', '1jiFk5-0006UE-9S'], { messageAction: 'thaw', recipients: ['1jiFk5-0006UE-9S'] }],
  [['-Mvh', '1jiFk5-0006UE-9S'], { messageAction: 'show-header', recipients: ['1jiFk5-0006UE-9S'] }],
  [['-Mvb', '1jiFk5-0006UE-9S'], { messageAction: 'show-body', recipients: ['1jiFk5-0006UE-9S'] }],
  [['-C', '/x.conf', '-Mvl', '1jiFk5-0006UE-9S'], { messageAction: 'show-log', recipients: ['1jiFk5-0006UE-9S'], configFile: '/x.conf' }],
  [['-bpu', '-C', '/x.conf'], { mode: 'pu', configFile: '/x.conf' }],
  [['-bpa'], { mode: 'pa' }],
  [['-bpr'], { mode: 'pr' }],
  [['-bpru'], { mode: 'pru' }],
  [['-bpra'], { mode: 'pra' }],
  [['-odq', 'a@y'], { queueOnly: true, deliveryMode: 'q', ignored: [] }],
  [['-odq', '-odi', 'a@y'], { queueOnly: false, deliveryMode: 'i', ignored: [] }],
  [['-odb', 'a@y'], { queueOnly: false, deliveryMode: 'b', ignored: [] }],
  [['-odi', '-odb', 'a@y'], { deliveryMode: 'b' }],
  [['-odf', 'a@y'], { deliveryMode: 'i' }],
  [['-odd', 'a@y'], { deliveryMode: 'q', queueOnly: true }],
  [['-odqs', 'a@y'], { deliveryMode: 'q' }],
  [['-oi', 'a@y'], { deliveryMode: undefined }],
  [['-odz', 'a@y'], { deliveryMode: undefined, ignored: ['-odz'] }],
  [['--deliver-drop', '1jiFk5-0006UE-9S'], { messageAction: 'drop', recipients: ['1jiFk5-0006UE-9S'] }],
  [['--no-queue', 'a@y'], { noQueue: true, queueRun: false }],
  [['-bpc'], { mode: 'pc' }],
  [['--init-spool'], { initSpool: true, recipients: [] }],
  [['-oem', '-oee', 'a@y'], { errorMode: 'e', ignored: [] }],
  [['-q', '-v'], { queueRun: true, verbose: true }],
  [['-f', '', 'a@y'], { sender: '', recipients: ['a@y'] }],
  [['-f', '<>', 'a@y'], { sender: '', recipients: ['a@y'] }],
  [['-f<>', 'a@y'], { sender: '' }],
  [['-f', '<me@x>', 'a@y'], { sender: 'me@x' }],
  [['-r', 'me@x', 'a@y'], { sender: 'me@x' }],
  [['-f', 'first@x', '-r', 'last@x', 'a@y'], { sender: 'last@x' }],
  [['-r', 'first@x', '-f', 'last@x', 'a@y'], { sender: 'last@x' }],
  [['-f', '-', 'a@y'], { sender: '-' }],
  [['--', '-weird@x'], { recipients: ['-weird@x'] }],
  [['--', '-weird@x', '-t', '--'], { recipients: ['-weird@x', '-t', '--'], extractRecipients: false }],
  [['a@y', '-oi'], { recipients: ['a@y'], ignoreDots: true }],
  [['a@y', '-f', 'x@z', 'b@y'], { recipients: ['a@y', 'b@y'], sender: 'x@z' }],
  [['-ti', 'a@y'], { extractRecipients: true, ignoreDots: true, recipients: ['a@y'] }],
  [['-it'], { extractRecipients: true, ignoreDots: true }],
  [['-tf', 'me@x'], { extractRecipients: true, sender: 'me@x', recipients: [] }],
  [['-tfme@x'], { extractRecipients: true, sender: 'me@x' }],
  [['-toi'], { extractRecipients: true, ignoreDots: true, options: ['i'] }],
  [['-F', 'Full Name', '-f', 'me@x', 'a@y'], { fullName: 'Full Name', sender: 'me@x' }],
  [['-FFull', 'a@y'], { fullName: 'Full' }],
  [['-o', 'i', 'a@y'], { ignoreDots: true, options: ['i'] }],
  [['-odi', '-oem', '-oXanything', 'r@x'], { options: ['di', 'em', 'Xanything'], ignoreDots: false, ignored: ['-oXanything'], errorMode: 'm', deliveryMode: 'i' }],
  [['-O', 'IgnoreDots', 'a@y'], { ignoreDots: true }],
  [['-OIgnoreDots=true', 'a@y'], { ignoreDots: true }],
  [['-O', 'IgnoreDots=false', 'a@y'], { ignoreDots: false, ignored: ['-OIgnoreDots=false'] }],
  [['-bm', 'a@y'], { mode: 'm', recipients: ['a@y'] }],
  [['-b', 'm', 'a@y'], { mode: 'm' }],
  [['-bp'], { mode: 'p' }],
  [['-bi'], { mode: 'i' }],
  [['-bs', '-v'], { mode: 's', verbose: true }],
  [['-C', '/etc/x.conf', 'a@y'], { configFile: '/etc/x.conf' }],
  [['-C/etc/x.conf', 'a@y'], { configFile: '/etc/x.conf' }],
  [['-N', 'never', 'a@y'], { dsnNotify: 'NEVER' }],
  [['-NSuccess,Failure', 'a@y'], { dsnNotify: 'SUCCESS,FAILURE' }],
  [['-R', 'FULL', 'a@y'], { dsnRet: 'FULL' }],
  [['-Vx+1', 'a@y'], { dsnEnvid: 'x+1' }],
  [['-B', '8BITMIME', 'a@y'], { bodyType: '8BITMIME' }],
  [['-h', '17', '-L', 'tag', '-X', '/tmp/log', '-O', 'Opt=val', 'a@y'],
    { recipients: ['a@y'], ignored: ['-h17', '-Ltag', '-X/tmp/log', '-OOpt=val'], configOverrides: undefined }],
  [['-O', 'route_data=mail.dev.example.test bydns ipv4_only', '-Oport=587', 'a@y'],
    { configOverrides: [{ name: 'route_data', value: 'mail.dev.example.test bydns ipv4_only' }, { name: 'port', value: '587' }], ignored: [] }],
  [['-O', 'no_queue_deferred', '-O', ' port = 25 ', 'a@y'], { configOverrides: [{ name: 'no_queue_deferred' }, { name: 'port', value: '25' }] }],
  [['-O', 'route_date=x', 'a@y'], { configOverrides: [{ name: 'route_date', value: 'x' }] }], // refused by the configuration, which knows the names
  [['-odi', '-O', 'port=25', 'a@y'], { deliveryMode: 'i' }],
  [['-O', 'IgnoreDots', '-O', 'DeliveryMode=b', 'a@y'], { ignoreDots: true, ignored: ['-ODeliveryMode=b'], configOverrides: undefined }],
  [['-q', '--no-queue'], { queueRun: true, noQueue: true }],
  [['--no-queue', '-q'], { queueRun: true, noQueue: true }],
  [['-G', '-U', '-m', '-n', 'a@y'], { recipients: ['a@y'], ignored: ['-G', '-U', '-m', '-n'] }],
  [['-GUmn', 'a@y'], { recipients: ['a@y'], ignored: ['-G', '-U', '-m', '-n'] }],
  [['-em', '-ep', '-eq', '-ee', 'a@y'], { recipients: ['a@y'], ignored: [], errorMode: 'e' }],
  [['-ex', 'a@y'], { recipients: ['a@y'], ignored: ['-ex'], errorMode: undefined }],
  [['-A', 'c', '-Ac', '-Am', 'a@y'], { recipients: ['a@y'], ignored: ['-Ac', '-Ac', '-Am'] }],
  [['-', 'a@y'], { recipients: ['-', 'a@y'] }],
  [['-t', '-h', '3'], { extractRecipients: true, ignored: ['-h3'] }],
];

t.test('edge cases and deps.md §5 pitfalls', async (t) => {
  for (const [argv, want] of edges) {
    const inv = parseArgs(argv);
    for (const [k, v] of Object.entries(want)) t.same(inv[k as keyof Invocation], v, `${JSON.stringify(argv)} → ${k}`);
  }
});

t.test('defaults', async (t) => {
  t.same(parseArgs(['a@y']), {
    recipients: ['a@y'],
    extractRecipients: false,
    ignoreDots: false,
    sender: undefined,
    fullName: undefined,
    verbose: false,
    debug: false,
    configFile: undefined,
    mode: 'm',
    queueRun: false,
    options: [],
    dsnNotify: undefined,
    dsnRet: undefined,
    dsnEnvid: undefined,
    debugFlags: undefined,
    queueArg: undefined,
    bodyType: undefined,
    ignored: [],
    queueOnly: false,
    noQueue: false,
    queueForce: false,
    initSpool: false,
  });
});

t.test('program name selects the mode', async (t) => {
  t.equal(parseArgs([], 'mailq').mode, 'p');
  t.equal(parseArgs([], 'newaliases').mode, 'i');
  t.equal(parseArgs(['a@y'], 'sendmail').mode, 'm');
  t.equal(parseArgs(['-bs'], 'mailq').mode, 's', 'an explicit -b wins');
});

const errors: [string[], RegExp][] = [
  [['-q30m'], /^-q30m: send-smarthost does not run as a daemon .*cron or a systemd timer/],
  [['-qR', 'x'], /^-qR: /],
  [['-M'], /^-M needs message ids$/],
  [['--deliver-drop'], /^--deliver-drop needs message ids$/],
  [['--deliver-drop', '../x'], /^not a message id: "..\/x"/],
  [['-Mrm', '../etc/passwd'], /^not a message id: "..\/etc\/passwd"/],
  [['-Mvh', 'x'], /^not a message id: "x"/],
  [['-Mvh', '1jiFk5-0006UE-9S', '1jiFk5-0006UE-9T'], /^-Mvh takes one message id$/],
  [['-Mvl'], /^-Mvl needs message ids$/],
  [['-Mf'], /^-Mf needs message ids$/],
  [['-Mg', '1jiFk5-0006UE-9S'], /^unknown option "-M"$/], // Exim's give-up: not ours
  [['-bpi'], /^unknown mode "-bpi"/],
  [['-Z', 'a@y'], /^unknown option "-Z"$/],
  [['-tZ', 'a@y'], /^unknown option "-Z"$/],
  [['a@y', '-x'], /^unknown option "-x"$/],
  [['--debug', 'a@y'], /^unknown option "--debug"$/],
  [['--queue-arg=x', 'a@y'], /^unknown option "--queue-arg"$/],
  [['--version'], /^unknown option "--version"$/], // lib/ops/ answers it, before parseArgs (operatorCommand)
  [['--help'], /^unknown option "--help"$/],
  [['-O', '=x', 'a@y'], /^bad -O value "=x" \(want name=value\)$/],
  [['-O', 'port=2\n5', 'a@y'], /^bad -O value "port=2\\n5": control character$/],
  [['-odq', '-O', 'port=25', 'a@y'], /^-odq cannot be combined with -O port: a message submitted with configuration options is delivered now/],
  [['-O', 'port=25', '-odb', 'a@y'], /^-odb cannot be combined with -O port/],
  [['-f'], /^option "-f" needs a value$/],
  [['a@y', '-r'], /^option "-r" needs a value$/],
  [['-t', '-F'], /^option "-F" needs a value$/],
  [['-ti', '-o'], /^option "-o" needs a value$/],
  [['-C'], /^option "-C" needs a value$/],
  [['-bz'], /^unknown mode "-bz"/],
  [['-bmx', 'a@y'], /^unknown mode "-bmx"/],
  [['-N', 'a@y'], /^bad -N value "a@y"/], // Exim's -N (no value) swallows the recipient: caught
  [['-Nnever,success', 'a@y'], /^bad -N value/],
  [['-R', 'some', 'a@y'], /^bad -R value "some"/],
  [['-F', 'Evil\r\nBcc: x@y', 'a@y'], /^bad -F value "Evil\\r\\nBcc: x@y": control character$/],
  [['-V', 'id\n', 'a@y'], /^bad -V value/],
  [[], /^Recipient names must be specified/],
  [['-i', '-oem'], /^Recipient names must be specified/],
  [['-bm', '-f', 'me@x'], /^Recipient names must be specified/],
];

t.test('usage errors', async (t) => {
  for (const [argv, re] of errors) {
    try {
      parseArgs(argv);
      t.fail(`${JSON.stringify(argv)} should fail`);
    } catch (err) {
      t.ok(err instanceof SmarthostError, `${JSON.stringify(argv)} throws SmarthostError`);
      const e = err as SmarthostError;
      t.equal(e.code, 'E_USAGE');
      t.equal(e.kind, 'usage');
      t.equal(exitCodeFor(e.kind), 64);
      t.match(e.message, re, JSON.stringify(argv));
    }
  }
});

t.test('implemented modes parse; the other sendmail modes are refused, never run as -bm', async (t) => {
  for (const m of Object.keys(MODES)) {
    if (SUPPORTED_MODES.has(m)) t.equal(parseArgs([`-b${m}`, 'a@y']).mode, m);
    else t.throws(() => parseArgs([`-b${m}`, 'a@y']), { code: 'E_USAGE', message: new RegExp(`^-b${m} \\(.*\\) is not supported`) });
  }
  t.equal(parseArgs(['-bv', 'root']).mode, 'v', '-bv root verifies, never sends mail');
  t.equal(parseArgs(['-bt', 'root', 'a@y']).mode, 't');
  t.same(parseArgs(['-bP', 'port', 'qualify_domain']).recipients, ['port', 'qualify_domain'], '-bP: the operands are option names');
  t.equal(parseArgs(['-bV']).mode, 'V');
  t.throws(() => parseArgs(['-bt']), { message: '-bt needs addresses' });
  t.throws(() => parseArgs(['-bv']), { message: '-bv needs addresses' });
  t.throws(() => parseArgs(['-bd']), { message: /-bd \(run as a daemon\) is not supported/ });
});

t.test('operator commands go to lib/ops/ (commander), everything else is sendmail', async (t) => {
  const rows: [string[], string | undefined, boolean][] = [
    [['--help'], undefined, true],
    [['--version'], 'send-smarthost', true],
    [['--help', '-t'], 'sendmail', true],
    [['-t', '--help'], 'sendmail', false], // a usage error: a piped message is never answered with help and exit 0
    [['--', '--help'], 'send-smarthost', false],
    [['-t', 'a@y'], 'send-smarthost', false],
    [['-f', '--help', 'a@y'], 'send-smarthost', false],
    [[], 'send-smarthost', false],
    [['check'], 'send-smarthost', true],
    [['check', 'mail.example.test', '--json'], 'send-smarthost', true],
    [['check'], 'sendmail', false], // as sendmail, 'check' is a recipient (a local user named check)
    [['-v', 'check'], 'send-smarthost', false],
  ];
  for (const [argv, as, want] of rows) t.equal(operatorCommand(argv, as), want, `${as ?? '(default)'} ${argv.join(' ')}`);
});

t.test('the flag table --help prints covers every letter the parser takes', async (t) => {
  const listed = FLAGS.map((f) => f.flag).join(' ');
  for (const letter of ['t', 'i', 'f', 'r', 'F', 'v', 'd', 'C', 'O', 'b', 'q', 'M', 'o', 'N', 'R', 'V', 'B', 'h', 'L', 'X', 'A', 'G', 'U', 'm', 'n']) {
    t.match(listed, new RegExp(`-${letter}`), `-${letter} is listed`);
  }
  for (const word of ['--no-queue', '--init-spool', '-Mrm', '--']) t.ok(listed.includes(word), `${word} is listed`);
  t.ok(FLAGS.every((f) => f.help.length > 0 && f.help.length < 120), 'one short line each');
});
