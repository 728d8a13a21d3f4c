/**
 * The LISTEN/NOTIFY channel on which the control plane announces changes to
 * runtime state; every running gateway listens and reloads within a second.
 * Payload: the kind of state that changed.
 */
export const STATE_CHANNEL = 'pgwarden_state';

export type StateChange = 'firewall' | 'gateway-settings' | 'audit-policy' | 'honeytokens';
