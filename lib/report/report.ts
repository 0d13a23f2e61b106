/**
 * The trace sink of the CLI: Exim-style lines on stderr, coloured only when
 * stderr is a terminal and NO_COLOR is not set (https://no-color.org; chalk
 * itself does not honour it). chalk is loaded only when colour is on.
 */
import { formatExim, type TraceEvent, type Tracer } from './trace.js';

export interface TraceIo {
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stderrIsTTY: boolean;
}

/** Events shown by -v (the SMTP dialogue and the attempts); -d shows all. */
const VERBOSE_TYPES = new Set<TraceEvent['type']>(['connect', 'smtp-in', 'smtp-out', 'tls-verify-error', 'attempt']);

/** Whether trace output should be coloured (pure). */
export function wantColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

type Paint = (ev: TraceEvent, line: string) => string;

/** Build the tracer for -d ('debug') or -v ('verbose'). */
export async function makeTracer(io: TraceIo, level: 'debug' | 'verbose'): Promise<Tracer> {
  let paint: Paint = (_ev, line) => line;
  if (wantColour(io.env, io.stderrIsTTY)) {
    const { Chalk } = await import('chalk');
    const c = new Chalk({ level: 1 });
    paint = (ev, line) => {
      switch (ev.type) {
        case 'smtp-in':
          return c.cyan(line);
        case 'smtp-out':
          return c.yellow(line);
        case 'tls-verify-error':
          return c.red(line);
        case 'tls-verify-ok':
        case 'tls-ok':
          return c.green(line);
        case 'attempt':
          return ev.result === 'delivered' ? c.green(line) : c.red(line);
        default:
          return line;
      }
    };
  }
  return (ev) => {
    if (level === 'verbose' && !VERBOSE_TYPES.has(ev.type)) return;
    for (const line of formatExim(ev)) io.stderr(paint(ev, line) + '\n');
  };
}
