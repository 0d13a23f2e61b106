/**
 * The composition root: argv → config → message → route → deliver → report.
 * Wires the real DNS transport, SMTP sessions, files and clock; returns the
 * exit code and never ends the process itself (only bin/ does).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { SmarthostError, exitCodeFor, configError, EX } from './errors.js';
import { noTrace, type TraceEvent, type Tracer } from './report/trace.js';
import { parseArgs, usage } from './submit/cli.js';
import { loadConfig } from './route/config.js';
import { readAll, prepareMessage } from './submit/message.js';
import { localFqdn } from './submit/hostname.js';
import { makeTracer } from './report/report.js';
import { summarize } from './report/summary.js';
import type { Config, Envelope, Invocation, Outcome } from './types.js';

export const DEFAULT_CONFIG = '/etc/send-smarthost.conf';

export interface Io {
  stdin: NodeJS.ReadableStream;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether stderr is a terminal (colour in traces). */
  stderrIsTTY: boolean;
  /** Login name of the submitter, for the default sender. */
  user: string;
}

/** Run send-smarthost with sendmail arguments; resolve to a sysexits code. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    if (err instanceof SmarthostError) {
      io.stderr(`send-smarthost: ${err.message}\n`);
      return exitCodeFor(err.kind);
    }
    io.stderr(`send-smarthost: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EX.SOFTWARE;
  }
}

async function run(argv: string[], io: Io): Promise<number> {
  const inv = parseArgs(argv);
  if (inv.help) {
    io.stdout(usage());
    return EX.OK;
  }
  switch (inv.mode) {
    case 'i': // newaliases: there is no alias database to rebuild
      return EX.OK;
    case 'p': // the spool does not exist yet: nothing is ever queued
      io.stdout('Mail queue is empty\n');
      return EX.OK;
    case 's':
      throw new SmarthostError('E_USAGE', 'usage', '-bs (SMTP on standard input) is not supported yet');
  }
  if (inv.queueRun) {
    // nothing is ever queued yet, so a queue run has nothing to do
    return EX.OK;
  }

  const named = inv.configFile ?? io.env.SEND_SMARTHOST_CONFIG;
  // a file named with -C or SEND_SMARTHOST_CONFIG must exist; the default one may not
  const config = await loadConfig(named ?? DEFAULT_CONFIG, { mustExist: named !== undefined });
  if (!config.route) throw configError(`${config.file}: route_data is not set: nowhere to send mail`);
  const tracer = inv.debug || inv.verbose ? await makeTracer(io, inv.debug ? 'debug' : 'verbose') : noTrace;

  const raw = await readAll(io.stdin);
  const fqdn = localFqdn();
  const { envelope, data } = prepareMessage(raw, inv, { qualifyDomain: config.qualifyDomain ?? fqdn, user: io.user });
  return submit({ inv, config, io, tracer, fqdn }, envelope, data);
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
export async function submit(ctx: SubmitContext, envelope: Envelope, data: Buffer): Promise<number> {
  const { inv, config, io, tracer } = ctx;
  tracer({ type: 'note', text: `sender <${envelope.sender}>, recipients ${envelope.recipients.map((r) => `<${r}>`).join(' ')}, ${data.length} bytes` });
  const outcome = await send(config, envelope, data, config.heloData ?? ctx.fqdn, tracer, io.env);
  for (const line of summarize(outcome, inv.verbose || inv.debug)) io.stderr(`send-smarthost: ${line}\n`);
  switch (outcome.result) {
    case 'delivered':
      return EX.OK;
    case 'deferred':
      return EX.TEMPFAIL;
    case 'failed':
      return EX.UNAVAILABLE;
  }
}

/** Resolve the route and deliver; the DNS and SMTP code is loaded only here. */
async function send(config: Config, envelope: Envelope, data: Buffer, helo: string, tracer: Tracer, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const [{ createDnsTransport }, { systemNameServers }, { resolveRoute }, { deliver }, { openSession }, { matchHostList }] = await Promise.all([
    import('./route/dns.js'),
    import('./route/resolv-conf.js'),
    import('./route/resolve.js'),
    import('./deliver/deliver.js'),
    import('./deliver/smtp.js'),
    import('./route/hostlist.js'),
  ]);
  const route = config.route!;
  tracer({ type: 'route', hosts: route.hostText, options: route.optionText });
  const servers = config.dnsServers ?? systemNameServers();
  const query = createDnsTransport({ servers, timeout: config.dnsTimeout, retries: config.dnsRetries, tracer });
  const { hosts, failures } = await resolveRoute(route, { query, tracer });
  for (const h of hosts) h.port ??= config.port;
  const ca = await trustedRoots(config, env);
  const outcome = await deliver(
    envelope,
    data,
    hosts,
    failures.map((f) => ({ name: f.spec.name, error: f.error })),
    {
      tracer,
      openSession: ({ resolved, address }) =>
        openSession({
          address: address.address,
          port: resolved.port ?? config.port,
          queried: resolved.queried,
          canonical: resolved.canonical,
          helo,
          requireTls: matchHostList(config.hostsRequireTls, { name: resolved.queried, address: address.address }),
          verifyNames: matchHostList(config.tlsVerifyCertHostnames, { name: resolved.queried, address: address.address }),
          ca,
          connectTimeout: config.connectTimeout,
          commandTimeout: config.commandTimeout,
          tracer,
        }),
    },
  );
  tracer({ type: 'note', text: `delivery result: ${outcome.result.toUpperCase()}` });
  return outcome;
}

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
    return file ? readFile(file, 'utf8').catch(() => undefined) : undefined;
  }
  try {
    return await readFile(setting, 'utf8');
  } catch (err) {
    throw configError(`${config.file}: tls_verify_certificates: cannot read "${setting}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export type { TraceEvent };
