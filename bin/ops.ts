/**
 * The third bundle (dist/ops.cjs): the operator command line on commander
 * (lib/ops/), loaded by the entry bundle only for `--help`, `--version` and
 * the subcommands (lib/submit/cli.ts, operatorCommand).
 */
export { operatorMain } from '../lib/ops/program.js';
