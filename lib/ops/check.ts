/**
 * `send-smarthost check [route] [--json] [-C file] [-O name=value]... [-d|-v]`:
 * the configuration (the file, the -O options, then the route argument as
 * route_data), then lib/main.ts's checkRoute (resolve and open every address
 * as a delivery would, send nothing), then the report: the human layout
 * (lib/report/check-text.ts; coloured only on a terminal, never with
 * NO_COLOR) or one JSON document (lib/check-report.ts,
 * schema/check.schema.json). The exit status is the report's: 0 when a
 * delivery could go now, else the code a delivery would have (69, 75); 78
 * for a configuration error, 64 for a usage error, said on stderr with no
 * JSON document.
 */
import { reportError, SmarthostError, usageError } from '../errors.js';
import { checkRoute, type Io } from '../main.js';
import { invocationConfig } from '../route/config.js';
import { parseRoute } from '../route/route.js';
import { clockOf } from '../queue/clock.js';
import { noTrace, type Tracer } from '../report/trace.js';
import { makeTracer, wantColour } from '../report/report.js';
import { noPaint, renderCheck, type Paint } from '../report/check-text.js';
import { configOverride } from '../submit/cli.js';
import type { ConfigOverride } from '../types.js';

export interface CheckOptions {
  json?: boolean;
  /** -C file */
  C?: string;
  /** -O name=value, in order */
  O?: string[];
  /** -d: the Exim-style trace on stderr; -v: the SMTP dialogue */
  d?: boolean;
  v?: boolean;
}

/** The -O options: configuration options only (sendmail's capitalised ones mean nothing here). */
function overridesOf(values: readonly string[]): ConfigOverride[] {
  return values.map((v) => {
    const o = configOverride(v);
    if (!o) throw usageError(`check: -O ${v}: not a configuration option (send-smarthost.conf(5) names are lower case)`);
    return o;
  });
}

/** The route argument as route_data, checked here so that the error names the argument. */
function routeOverride(route: string): ConfigOverride {
  try {
    parseRoute(route);
  } catch (err) {
    if (err instanceof SmarthostError) throw new SmarthostError(err.code, err.kind, `check: route "${route}": ${err.message}`);
    throw err;
  }
  return { name: 'route_data', value: route };
}

async function paintFor(io: Io): Promise<Paint> {
  if (!wantColour(io.env, io.stdoutIsTTY === true)) return noPaint;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { ok: c.green, bad: c.red, warn: c.yellow, dim: c.dim, bold: c.bold };
}

/** Run `check`; resolves to the exit status. */
export async function runCheck(route: string | undefined, o: CheckOptions, io: Io): Promise<number> {
  try {
    const overrides = [...overridesOf(o.O ?? []), ...(route !== undefined ? [routeOverride(route)] : [])];
    const config = await invocationConfig(o.C ?? io.env.SEND_SMARTHOST_CONFIG, overrides);
    const tracer: Tracer = o.d || o.v ? await makeTracer(io, o.d ? 'debug' : 'verbose') : noTrace;
    const report = await checkRoute(config, { tracer, env: io.env, now: clockOf(io.env), from: route !== undefined ? 'argument' : 'configuration' });
    io.stdout(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderCheck(report, await paintFor(io)));
    return report.exitCode;
  } catch (err) {
    return reportError(err, io.stderr);
  }
}
