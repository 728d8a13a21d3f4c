import { RecentMap } from '../../gateway/throttle/recent-map.js';
import type { AlertCandidate } from '../alert-candidate.js';
import type { DetectionInput } from '../detection-input.js';
import type { Detector } from '../detector.js';
import { REPEAT_MS } from './failure-windows.js';
import { harmfulTool } from './harmful-tools.js';
import { loginEvidence } from './login-evidence.js';

const MAX_TRACKED = 10_000;

/**
 * login.harmful-application: a login attempt, successful or not, whose
 * application_name names an attack tool (the built-in list, plus
 * detection.harmfulApplications globs). One alert per tool and address; the
 * same again raises a repeat at most once a minute.
 */
export class HarmfulApplication implements Detector {
  readonly name = 'login.harmful-application';
  /** When each tool-and-address key last raised. */
  private readonly raised = new RecentMap<string, number>(MAX_TRACKED);

  constructor(
    private readonly globs: readonly string[],
    private readonly repeatMs = REPEAT_MS,
  ) {}

  observe(input: DetectionInput): readonly AlertCandidate[] {
    if (input.kind !== 'event') return [];
    const { event, time } = input;
    // Login attempts only: a statement the guard refused later carries the name too.
    if (!event.event.startsWith('auth.') && event.event !== 'access.denied') return [];
    const applicationName = event.applicationName;
    if (applicationName === undefined || applicationName === '') return [];
    const tool = harmfulTool(applicationName, this.globs);
    if (tool === undefined) return [];
    const key = `${tool}@${event.address}`;
    const last = this.raised.get(key);
    if (last !== undefined && time - last < this.repeatMs) return [];
    this.raised.set(key, time);
    const outcome = event.event === 'auth.succeeded' ? 'login' : `failed login (${event.event})`;
    return [
      {
        type: 'login.harmful-application',
        key,
        subject: { address: event.address, user: event.user, session: event.session },
        summary: `${outcome} by ${tool} (application_name "${applicationName}") as "${event.user ?? ''}" from ${event.address}`,
        evidence: [loginEvidence(event, time)],
      },
    ];
  }
}
