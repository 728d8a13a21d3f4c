import type { AlertSink } from '../raised-alert.js';
import type { DetectionDeps } from '../threat-detection.js';
import { AlertStoreSink } from './alert-store-sink.js';
import { WebhookAlertSink } from './webhook-alert-sink.js';
import { webhookTargets } from './webhook-target.js';

/**
 * The store (pgwarden.alerts) and the webhooks, in that order: the engine
 * closes sinks in order, so the store's last write still reaches the
 * webhooks before they close. With a state database the webhooks hear from
 * the store (which knows an alert's id and whether it is new); without one,
 * from the engine directly. A bad webhook entry (not https, a key file
 * others can read) throws, so the gateway refuses to start.
 */
export function alertDeliverySinks(
  deps: Pick<DetectionDeps, 'config' | 'state' | 'onWarning'>,
): AlertSink[] {
  const targets = webhookTargets(deps.config.webhooks);
  const webhooks =
    targets.length === 0
      ? undefined
      : new WebhookAlertSink(targets, {
          onWarning: deps.onWarning,
          source: deps.state === undefined ? 'engine' : 'store',
        });
  if (deps.state === undefined) return webhooks === undefined ? [] : [webhooks];
  const store = new AlertStoreSink(deps.state, {
    onWarning: deps.onWarning,
    onStored: webhooks === undefined ? undefined : (occurrence) => webhooks.notify(occurrence),
  });
  return webhooks === undefined ? [store] : [store, webhooks];
}
