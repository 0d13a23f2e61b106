/**
 * The composition root: argv → config → message → route → deliver → report.
 * Wires the real DNS transport, SMTP sessions, files and clock; returns the
 * exit code and never ends the process itself (only bin/ does).
 */
// Start-up cost is the caller's latency (README, Performance): only what every
// path needs is imported here; each mode loads its own code with `await import()`
// (lazily initialised modules in the CJS bundle), so -bp never loads DNS, SMTP or
// TLS code and -odq loads only what parses, prepares and spools the message.
import { dataSize, type MessageData } from './data.js';
import { existsSync, readFile as readFileCb } from 'node:fs';
import { SmarthostError, configError, EX, reportError } from './errors.js';
import { noTrace, type TraceEvent, type Tracer } from './report/trace.js';
import { parseArgs } from './submit/cli.js';
import { invocationConfig, noRouteError } from './route/config.js';
import { localFqdn } from './submit/hostname.js';
import { armCrashPoint, armNoSpace } from './store/crash.js';
import { queueCommandOf } from './queue/command-of.js';
import { clockOf } from './queue/clock.js';
import type { Config, Envelope, HostSpec, Invocation, Outcome } from './types.js';
import type { TestedRoute } from './report/route-test.js';
import { deliveryMode } from './submit/mode.js';
import type { AuthLookup } from './route/secrets.js';
import type { QueueDeps } from './queue/deps.js';
import type { SessionPool } from './deliver/pool.js';
import type { Acceptor } from './submit/accept.js';
import type { RouteCache } from './route/cache.js';
import type { RouteResolution } from './route/resolve.js';
import type { SessionParams } from './deliver/smtp.js';
import type { Target } from './deliver/deliver.js';
import { CHECK_REPORT_VERSION, type CheckReport } from './check-report.js';

export { DEFAULT_CONFIG_FILE as DEFAULT_CONFIG } from './route/config.js';

export interface Io {
  stdin: NodeJS.ReadableStream;
  /** Standard input's descriptor, read with read(2) instead of the stream (lib/submit/stdin.ts); absent: the stream. */
  stdinFd?: number;
  stdout: (text: string) => void;
  /** Standard output for bytes that need not be UTF-8 (-Mvb); absent: `stdout` with the bytes as UTF-8 text. */
  stdoutBytes?: (chunk: Uint8Array) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (colour in traces). */
  stderrIsTTY: boolean;
  /** Whether stdout is a terminal (colour in `check`'s report); absent: no. */
  stdoutIsTTY?: boolean;
  /** Login name of the submitter, for the default sender. */
  user: string;
  /** Base name the program was called by (`mailq` lists the queue, `newaliases` is -bi). */
  invokedAs?: string;
  /** How to run this program again (node and the entry script), for the -odb deliverer; absent (tests in-process): no background delivery. */
  self?: { node: string; script: string };
}

/**
 * What the fast submission path (lib/fast.ts) has done already: the
 * parsed command line, the configuration, and a message it accepted but
 * could not spool. Each is done once per process.
 */
export interface Prepared {
  inv?: Invocation;
  config?: Config;
  accepted?: { envelope: Envelope; data: MessageData };
}

/** Run send-smarthost with sendmail arguments; resolve to a sysexits code. */
export async function main(argv: string[], io: Io, pre?: Prepared): Promise<number> {
  try {
    return await run(argv, io, pre);
  } catch (err) {
    return reportError(err, io.stderr);
  }
}

async function run(argv: string[], io: Io, pre?: Prepared): Promise<number> {
  const inv = pre?.inv ?? parseArgs(argv, io.invokedAs);
  armCrashPoint(io.env.SEND_SMARTHOST_TEST_CRASH); // test-only (lib/store/crash.ts)
  armNoSpace(io.env.SEND_SMARTHOST_TEST_ENOSPC);

  const config = pre?.config ?? (await invocationConfig(inv.configFile ?? io.env.SEND_SMARTHOST_CONFIG, inv.configOverrides));
  if (inv.mode === 'i') return newaliases(config, io);
  if (inv.mode === 'V') return printVersion(config, io);
  if (inv.mode === 'P') return printOptions(config, inv.recipients, io);
  if (inv.mode === 't' || inv.mode === 'v') return testAddresses(inv, config, io);
  const queueCmd = queueCommandOf(inv);
  if (queueCmd !== undefined) {
    // -bp…, -bpc, --init-spool, -q, -qf, -qff, -M, -Mrm, -Mf, -Mt, -Mv… (lib/queue/commands.ts); DNS and SMTP load only if a message is delivered
    const tracer = await tracerFor(inv, io);
    const ctx: SubmitContext = { inv, config, io, tracer, fqdn: localFqdn() };
    const [{ queueCommand }, { listingStyle }, deps] = await Promise.all([import('./queue/commands.js'), import('./queue/command-of.js'), wireQueue(ctx)]);
    return queueCommand(
      {
        command: queueCmd,
        force: inv.queueForce === true,
        ...(inv.queueArg === 'ff' ? { thaw: true } : {}),
        ids: inv.recipients,
        by: io.user,
        out: io.stdout,
        ...(io.stdoutBytes ? { outBytes: io.stdoutBytes } : {}),
        listing: listingStyle(inv.mode),
        logFile: config.logFilePath,
      },
      deps,
    );
  }
  if (!config.route) throw noRouteError(config);
  const tracer = await tracerFor(inv, io);

  const fqdn = localFqdn();
  const ctx: SubmitContext = { inv, config, io, tracer, fqdn };
  const [{ acceptor, acceptInput, discard }, { readStdin }, { scratchDir, spoolLayout }] = await Promise.all([
    import('./submit/accept.js'),
    import('./submit/stdin.js'),
    import('./store/spool.js'),
  ]);
  if (pre?.accepted) {
    // a message the fast path (lib/fast.ts) accepted and could not spool: deliver it now, without trying the spool again
    try {
      return await submit({ ...ctx, inv: { ...inv, deliveryMode: 'i' } }, pre.accepted.envelope, pre.accepted.data);
    } finally {
      discard(pre.accepted.data);
    }
  }
  const a = await acceptor(config, fqdn, tracer, (w) => io.stderr(`send-smarthost: warning: ${w}\n`), io.user);
  if (inv.mode === 's') return smtpOnStdio(ctx, a);
  // a large message goes on into a file as it is read, and is sent from there (lib/data.ts)
  const scratch = (): string => scratchDir(spoolLayout(config.spoolDirectory), { space: config.checkSpoolSpace, inodes: config.checkSpoolInodes });
  const { envelope, data } = acceptInput(await readStdin(io, scratch), inv, a, io.user, tracer, scratch);
  try {
    return await submit(ctx, envelope, data);
  } finally {
    discard(data); // its temporary file, if it had one: delivered or copied into the spool by now
  }
}

/** The trace for -d / -v (lib/report/report.ts, loaded only then), or none. */
async function tracerFor(inv: Invocation, io: Io): Promise<Tracer> {
  if (!inv.debug && !inv.verbose) return noTrace;
  const { makeTracer } = await import('./report/report.js');
  return makeTracer(io, inv.debug ? 'debug' : 'verbose');
}

/** -bi (newaliases): no database to build; check the aliases file: 0 when it parses, 78 (file:line) when not. */
async function newaliases(config: Config, io: Io): Promise<number> {
  const { newaliasesReport, systemAliases } = await import('./submit/aliases-load.js');
  const report = newaliasesReport(await systemAliases(config.systemAliasesFile));
  for (const w of report.warnings) io.stderr(`send-smarthost: warning: ${w}\n`);
  io.stdout(report.stdout);
  return EX.OK;
}

/** -bV: version, what is supported, the configuration file in effect (lib/report/version.ts). */
async function printVersion(config: Config, io: Io): Promise<number> {
  const { versionReport } = await import('./report/version.js');
  io.stdout(versionReport(config));
  return EX.OK;
}

/**
 * -bP [option…]: the effective configuration as `name = value` lines
 * (lib/route/config-show.ts; secrets masked), every option or those named.
 * `config_file` (Exim's `configure_file`) prints the file's path. An unknown
 * name is said on stderr and the exit status is 64.
 */
async function printOptions(config: Config, names: string[], io: Io): Promise<number> {
  const { showConfig, showOption } = await import('./route/config-show.js');
  if (names.length === 0) {
    io.stdout(showConfig(config).map((l) => `${l}\n`).join(''));
    return EX.OK;
  }
  let code: number = EX.OK;
  for (const name of names) {
    const line = name === 'config_file' || name === 'configure_file' ? config.file : showOption(config, name);
    if (line !== undefined) io.stdout(`${line}\n`);
    else {
      io.stderr(`send-smarthost: ${name} is not a known option\n`);
      code = EX.USAGE;
    }
  }
  return code;
}

/**
 * -bt / -bv addr…: route each address as a submission would, sending
 * nothing: qualification, the aliases (file:line), then the smarthost's hosts
 * and addresses from the DNS, with the name each certificate is checked
 * against (lib/report/route-test.ts). Exit 0 when every address can be
 * routed; 65 for a malformed address, 69 when the smarthost cannot be found
 * (for good), 75 when that cannot be known now (DNS failing).
 */
async function testAddresses(inv: Invocation, config: Config, io: Io): Promise<number> {
  if (!config.route) throw noRouteError(config);
  const [{ systemAliases }, { expandAliases }, { parseArgumentAddresses }, { testLines, verifyLine }, { startDeadline }] = await Promise.all([
    import('./submit/aliases-load.js'),
    import('./submit/alias-expand.js'),
    import('./submit/address.js'),
    import('./report/route-test.js'),
    import('./deliver/deadline.js'),
  ]);
  const fqdn = localFqdn();
  const qualifyDomain = config.qualifyDomain ?? fqdn;
  const aliases = await systemAliases(config.systemAliasesFile);
  const tracer = await tracerFor(inv, io);
  const deadline = startDeadline(config.deliveryTimeout);
  const resolution = await resolveHosts(config, tracer, deadline.signal).finally(() => deadline.cancel());
  const route: TestedRoute = { hosts: resolution.hosts, skipped: resolution.failures.map((f) => ({ name: f.spec.name, reason: f.error.message })) };
  if (route.hosts.length === 0) {
    const temp = resolution.failures.some((f) => f.error.kind === 'temp');
    route.failure = { kind: temp ? 'temp' : 'perm', reason: resolution.failures.map((f) => f.error.message).join('; ') || 'no host' };
  }
  let code: number = route.failure ? (route.failure.kind === 'temp' ? EX.TEMPFAIL : EX.UNAVAILABLE) : EX.OK;
  for (const arg of inv.recipients) {
    let addresses: string[];
    try {
      addresses = parseArgumentAddresses(arg, { qualifyDomain });
    } catch (err) {
      if (!(err instanceof SmarthostError)) throw err;
      io.stdout(`${arg} is undeliverable: ${err.message}\n`);
      code = EX.DATAERR;
      continue;
    }
    const x = expandAliases(addresses, aliases, { qualifyDomain, localDomains: [qualifyDomain, fqdn, 'localhost'] });
    for (const w of x.warnings) io.stderr(`send-smarthost: warning: ${w}\n`);
    for (const address of x.recipients) {
      const tested = { address, via: x.origins.get(address) ?? [] };
      io.stdout(inv.mode === 't' ? testLines(tested, route, config.port) : verifyLine(tested, route));
    }
  }
  return code;
}

/**
 * -bs: the SMTP dialogue on stdin/stdout (lib/submit/bs*.ts). Each accepted
 * message is prepared and submitted exactly as a piped one; the exit code of
 * submit() becomes the reply to its final dot. Exit 0 unless the input ended
 * inside a transaction (75: that message was not accepted).
 */
async function smtpOnStdio(ctx: SubmitContext, a: Acceptor): Promise<number> {
  const { inv, config, io, tracer, fqdn } = ctx;
  const qualifyDomain = config.qualifyDomain ?? fqdn;
  const [{ runSmtpSession }, { prepareSmtpMessage }, { finishMessage }, { withPolicy }] = await Promise.all([
    import('./submit/bs-stream.js'),
    import('./submit/bs-message.js'),
    import('./submit/finish.js'),
    import('./submit/accept.js'),
  ]);
  const { randomBytes } = await import('./submit/random.js');
  const outcome = await runSmtpSession({ hostname: fqdn, qualifyDomain, input: io.stdin, write: io.stdout, stderr: io.stderr }, async (m, stderr) => {
    const prepared = prepareSmtpMessage(m.data, m.envelope, inv, { qualifyDomain, user: io.user });
    // MAIL FROM of an untrusted user is as -f: the sender policy decides (lib/submit/sender-policy.ts)
    const { envelope, data, notes } = withPolicy(prepared, a.policy, (p) => finishMessage(p, inv, { qualifyDomain, fqdn, now: new Date(), random: randomBytes(8) }));
    for (const text of notes) tracer({ type: 'note', text });
    return submit({ ...ctx, io: { ...io, stderr } }, a.alias(envelope), data);
  });
  if (outcome.incomplete) io.stderr('send-smarthost: -bs: input ended inside a transaction; that message was not accepted\n');
  return outcome.incomplete ? EX.TEMPFAIL : EX.OK;
}

/** What a submission needs besides the message itself. */
export interface SubmitContext {
  inv: Invocation;
  config: Config;
  io: Io;
  tracer: Tracer;
  /** This host's FQDN (helo_data and qualify_domain default). */
  fqdn: string;
}

/**
 * Take one prepared message (from stdin, or later from an SMTP dialogue on
 * stdin) and deliver it; resolve to the exit code for the caller.
 */
export async function submit(ctx: SubmitContext, envelope: Envelope, data: MessageData): Promise<number> {
  const { inv, config, io, tracer } = ctx;
  tracer({ type: 'note', text: `sender <${envelope.sender}>, recipients ${envelope.recipients.map((r) => `<${r}>`).join(' ')}, ${dataSize(data)} bytes` });
  // deliver now; queue what is deferred (or everything with -odq); error mode for failures (lib/queue/submit.ts)
  const [{ submitMessage }, deps] = await Promise.all([import('./queue/submit.js'), wireQueue(ctx)]);
  const mode = deliveryMode(inv, config, io.self !== undefined);
  const { code } = await submitMessage(
    envelope,
    data,
    {
      queueOnly: mode === 'q',
      background: mode === 'b',
      queueDeferred: config.queueDeferred && inv.noQueue !== true && !inv.configOverrides?.length,
      errorMode: inv.errorMode ?? 'p',
      verbose: inv.verbose || inv.debug,
      submitter: { uid: process.getuid?.() ?? -1, user: io.user },
    },
    deps,
  );
  return code;
}

/**
 * The queue's dependencies for this invocation: the delivery (send below),
 * the main log (log_file_path, falling back to stderr), the clock
 * (lib/queue/clock.ts).
 */
async function wireQueue(ctx: SubmitContext): Promise<QueueDeps> {
  const { queueDeps } = await import('./queue/wiring.js');
  const { config, io, tracer, fqdn } = ctx;
  const now = clockOf(io.env);
  const share: RunShare = {};
  return queueDeps({
    config,
    deliver: (envelope, data) => {
      if (!config.route) throw noRouteError(config);
      return send(config, envelope, data, config.heloData ?? fqdn, tracer, io.env, share);
    },
    shareConnections: () => startSharing(share, tracer),
    ...(io.self ? { startDeliverer: (id: string) => startDeliverer(ctx, id) } : {}),
    fqdn,
    now,
    user: io.user,
    say: (line) => io.stderr(`send-smarthost: ${line}\n`),
    trace: (text) => tracer({ type: 'note', text }),
    logFallback: (line) => io.stderr(`${line}\n`),
    uid: process.getuid?.() ?? -1,
  });
}

/** Start the -odb deliverer of drop file `id` (lib/queue/detach.ts). */
async function startDeliverer(ctx: SubmitContext, id: string): Promise<void> {
  const { io, inv } = ctx;
  const { startDropDeliverer } = await import('./queue/detach.js');
  startDropDeliverer(io.self!, inv.configFile ?? io.env.SEND_SMARTHOST_CONFIG, id, io.env, io.stderr);
}

/** Credentials and client certificate, read once per process (a queue run sends many messages). */
const secretsCache = new WeakMap<Config, Promise<{ authFor: AuthLookup; clientCert: { cert?: string; key?: string } }>>();
function secretsFor(config: Config) {
  let p = secretsCache.get(config);
  if (!p) {
    p = (async () => {
      const [{ loadSecrets, loadClientCert }, { runSecretCommand }] = await Promise.all([import('./route/secrets.js'), import('./route/secret-command.js')]);
      return { authFor: await loadSecrets(config, runSecretCommand), clientCert: await loadClientCert(config) };
    })();
    secretsCache.set(config, p);
  }
  return p;
}

/**
 * The parameters of a session to one address of the route, exactly as a
 * delivery opens it: send() and checkRoute() both use this, so `check`
 * cannot disagree with a delivery.
 */
async function sessionParamsFor(config: Config, o: { helo: string; tracer: Tracer; ca: string | undefined; signal: AbortSignal }): Promise<(target: Target) => SessionParams> {
  const [{ matchHostList }, { toSevenBit }] = await Promise.all([import('./route/hostlist.js'), import('./submit/eightbit.js')]);
  const { authFor, clientCert } = await secretsFor(config);
  return ({ resolved, address }) => ({
    address: address.address,
    port: resolved.port ?? config.port,
    queried: resolved.queried,
    canonical: resolved.canonical,
    helo: o.helo,
    requireTls: matchHostList(config.hostsRequireTls, { name: resolved.queried, address: address.address }),
    verifyNames: matchHostList(config.tlsVerifyCertHostnames, { name: resolved.queried, address: address.address }),
    ca: o.ca,
    connectTimeout: config.connectTimeout,
    commandTimeout: config.commandTimeout,
    tracer: o.tracer,
    downgrade8bit: toSevenBit,
    implicitTls: config.protocol === 'smtps',
    auth: authFor(resolved.queried, address.address),
    tlsExtra: { pins: config.tlsPinSha256, minVersion: config.tlsMinVersion, ciphers: config.tlsRequireCiphers, ...clientCert },
    signal: o.signal,
  });
}

/** Resolve the route and deliver; the DNS and SMTP code is loaded only here. */
async function send(config: Config, envelope: Envelope, data: MessageData, helo: string, tracer: Tracer, env: NodeJS.ProcessEnv, share?: RunShare): Promise<Outcome> {
  const [{ deliver }, { openSession }, { startDeadline }] = await Promise.all([
    import('./deliver/deliver.js'),
    import('./deliver/smtp.js'),
    import('./deliver/deadline.js'),
  ]);
  // secret files first: a missing or insecure one is a configuration error (78) before anything is sent
  await secretsFor(config);
  const deadline = startDeadline(config.deliveryTimeout); // delivery_timeout: DNS and every attempt
  const { hosts, failures } = await resolveHosts(config, tracer, deadline.signal, share);
  const ca = await (share ? (share.ca ??= trustedRoots(config, env)) : trustedRoots(config, env));
  const paramsOf = await sessionParamsFor(config, { helo, tracer, ca, signal: deadline.signal });
  const pool = share?.pool;
  const outcome = await deliver(
    envelope,
    data,
    hosts,
    failures.map((f) => ({ name: f.spec.name, error: f.error })),
    {
      tracer,
      signal: deadline.signal,
      ...(pool ? { releaseSession: (s, reusable) => pool.release(s, reusable) } : {}),
      openSession: (target) => {
        const fresh = () => openSession(paramsOf(target));
        return pool ? pool.open(target, fresh, deadline.signal) : fresh();
      },
    },
  ).finally(() => deadline.cancel());
  tracer({ type: 'note', text: `delivery result: ${outcome.result.toUpperCase()}` });
  return outcome;
}

/**
 * `send-smarthost check` (lib/ops/check.ts): the route resolved as a
 * delivery resolves it, then every address opened as a delivery opens it
 * (the same parameters, sessionParamsFor) and QUIT without sending (probe.ts),
 * within delivery_timeout. `from` says where route_data came from.
 * @throws SmarthostError E_CONFIG: no route_data, a secret file missing or insecure, an unreadable tls_verify_certificates.
 */
export async function checkRoute(config: Config, o: { tracer: Tracer; env: NodeJS.ProcessEnv; now: () => number; from: 'argument' | 'configuration' }): Promise<CheckReport> {
  if (!config.route) throw noRouteError(config);
  const [{ openSession }, { probeHosts }, { checkError, verdict }, { startDeadline }] = await Promise.all([
    import('./deliver/smtp.js'),
    import('./deliver/probe.js'),
    import('./deliver/probe-report.js'),
    import('./deliver/deadline.js'),
  ]);
  const started = o.now();
  await secretsFor(config); // as send(): a missing or insecure secret file is a configuration error first
  const deadline = startDeadline(config.deliveryTimeout);
  try {
    const { hosts, failures } = await resolveHosts(config, o.tracer, deadline.signal);
    const ca = await trustedRoots(config, o.env);
    const paramsOf = await sessionParamsFor(config, { helo: config.heloData ?? localFqdn(), tracer: o.tracer, ca, signal: deadline.signal });
    const checked = await probeHosts(hosts, { openSession: (target, facts) => openSession({ ...paramsOf(target), facts }), now: o.now, signal: deadline.signal });
    const unresolved = failures.map((f) => ({ name: f.spec.name, error: checkError(f.error) }));
    const { deliverable, exitCode, reason, warnings } = verdict(checked, unresolved);
    return {
      version: CHECK_REPORT_VERSION,
      command: 'check',
      checkedAt: new Date(started).toISOString(),
      config: config.file,
      route: { hosts: config.route.hostText, options: config.route.optionText, from: o.from },
      deliverable,
      exitCode,
      reason,
      hosts: checked,
      unresolved,
      warnings,
    };
  } finally {
    deadline.cancel();
  }
}

/**
 * What the deliveries of one queue run share: the route's DNS answers
 * (lib/route/cache.ts), open SMTP sessions (lib/deliver/pool.ts) and the
 * trusted roots. Made per wireQueue; runQueue turns sharing on for the run
 * (QueueDeps.shareConnections) and the returned function QUITs what is open.
 */
interface RunShare {
  pool?: SessionPool;
  routes?: RouteCache;
  ca?: Promise<string | undefined>;
}

async function startSharing(share: RunShare, tracer: Tracer): Promise<() => Promise<void>> {
  const [{ sessionPool }, { routeCache }] = await Promise.all([import('./deliver/pool.js'), import('./route/cache.js')]);
  const pool = sessionPool(tracer);
  Object.assign(share, { pool, routes: routeCache(() => Date.now()) });
  return async () => {
    Object.assign(share, { pool: undefined, routes: undefined });
    await pool.close();
  };
}

/**
 * The smarthost's hosts and addresses, looked up as a delivery does
 * (dns_servers, route_data; lib/route/resolve.ts), each with its port.
 * The lookups end when `signal` aborts (delivery_timeout), except a queue
 * run's, which are shared between its messages (`share`) and run their course.
 */
async function resolveHosts(config: Config, tracer: Tracer, signal: AbortSignal, share?: RunShare): Promise<RouteResolution> {
  const [{ createDnsTransport }, { systemNameServers }, { resolveRoute }, { raceSignal }] = await Promise.all([
    import('./route/dns.js'),
    import('./route/resolv-conf.js'),
    import('./route/resolve.js'),
    import('./deliver/deadline.js'),
  ]);
  const route = config.route!;
  tracer({ type: 'route', hosts: route.hostText, options: route.optionText });
  const servers = config.dnsServers ?? systemNameServers();
  const query = createDnsTransport({ servers, timeout: config.dnsTimeout, retries: config.dnsRetries, tracer, ...(share?.routes ? {} : { signal }) });
  const lookup = () => resolveRoute(route, { query, tracer });
  const resolution = await raceSignal(share?.routes ? cachedRoute(share.routes, lookup, tracer) : lookup(), signal).catch((err: unknown) => {
    if (!signal.aborted) throw err;
    const why = new SmarthostError('E_TIMEOUT', 'temp', `${(signal.reason as Error).message} during the DNS lookups`);
    return { hosts: [], failures: [{ spec: { name: route.hostText } as HostSpec, error: why }] };
  });
  for (const h of resolution.hosts) h.port ??= config.port;
  return resolution;
}

async function cachedRoute(routes: RouteCache, lookup: () => Promise<RouteResolution>, tracer: Tracer): Promise<RouteResolution> {
  const { resolution, cached } = await routes.get(lookup);
  if (cached) tracer({ type: 'note', text: 'route: the DNS answers of an earlier message of this queue run (within their TTL)' });
  return resolution;
}

/** fs.readFile as a promise (node:fs/promises would load readline and more at start-up). */
const readFile = (file: string): Promise<string> => new Promise((resolve, reject) => readFileCb(file, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));

/** The OS bundles, in the order OpenSSL-based tools look for them. */
const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * tls_verify_certificates: `system` trusts the OS store (as Exim and OpenSSL
 * do, so a locally installed CA works), falling back to Node's built-in roots;
 * otherwise the named PEM file, and nothing else.
 */
async function trustedRoots(config: Config, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const setting = config.tlsVerifyCertificates;
  if (setting === 'system') {
    const file = env.SSL_CERT_FILE ?? SYSTEM_BUNDLES.find((f) => existsSync(f));
    return file ? readFile(file).catch(() => undefined) : undefined;
  }
  try {
    return await readFile(setting);
  } catch (err) {
    throw configError(`${config.file}: tls_verify_certificates: cannot read "${setting}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export type { TraceEvent };
