/**
 * The delivery mode of a submission (pure): the last -odX, else
 * delivery_mode, except that background delivery becomes interactive when
 * the caller is to watch it (-v, -d), when nothing may be queued
 * (--no-queue, queue_deferred = false), or when this program cannot be
 * started again (in-process callers). A submission with -O configuration
 * options is always interactive: a queued message would be delivered by a
 * queue run that does not know them (parseArgs refuses -odb/-odq with -O).
 */
import type { Config, DeliveryMode, Invocation } from '../types.js';

export function deliveryMode(inv: Invocation, config: Config, canDetach = true): DeliveryMode {
  if (inv.configOverrides?.length) return 'i';
  const mode = inv.deliveryMode ?? (config.deliveryMode === 'b' && (inv.verbose || inv.debug) ? 'i' : config.deliveryMode);
  if (mode === 'b' && (inv.noQueue || !config.queueDeferred || !canDetach)) return 'i';
  return mode;
}
