/**
 * The second bundle (dist/modes.cjs): the whole program behind lib/main.ts,
 * loaded by the entry bundle (bin/send-smarthost.ts, lib/fast.ts) for every
 * invocation that is not a background or queue-only submission.
 */
export { main } from '../lib/main.js';
