/**
 * The clock of the queue: the real one, unless SEND_SMARTHOST_TEST_NOW
 * (test-only) sets it `+seconds` ahead of the real clock or to an absolute
 * time in ms.
 */
export function clockOf(env: NodeJS.ProcessEnv): () => number {
  const testNow = env.SEND_SMARTHOST_TEST_NOW;
  const skew = testNow === undefined || testNow === '' ? 0 : testNow.startsWith('+') ? Number(testNow.slice(1)) * 1000 : Number(testNow) - Date.now();
  return () => Date.now() + (Number.isFinite(skew) ? skew : 0);
}
