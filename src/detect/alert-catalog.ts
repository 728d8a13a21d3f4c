/**
 * The alert catalogue (issue 7): every alert type pgwarden raises, with a
 * stable id, a severity and its MITRE ATT&CK tactic and technique
 * (https://attack.mitre.org). docs/detection.md lists the same table; a
 * unit test keeps the two equal.
 */

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof SEVERITIES)[number];

export interface AlertTypeInfo {
  readonly severity: AlertSeverity;
  /** ATT&CK tactic name, e.g. "Credential Access". */
  readonly tactic: string;
  /** ATT&CK technique id and name, e.g. "T1110.001 Password Guessing". */
  readonly technique: string;
  /** One sentence for people: what was seen and why it matters. */
  readonly description: string;
}

export const ALERT_TYPES = {
  'brute-force.source': {
    severity: 'high',
    tactic: 'Credential Access',
    technique: 'T1110.001 Password Guessing',
    description: 'Many failed logins from one source address in a short time.',
  },
  'brute-force.user': {
    severity: 'high',
    tactic: 'Credential Access',
    technique: 'T1110.001 Password Guessing',
    description: 'Many failed logins for one existing role in a short time.',
  },
  'brute-force.unknown-user': {
    severity: 'medium',
    tactic: 'Credential Access',
    technique: 'T1110.003 Password Spraying',
    description: 'Many failed logins for roles that do not exist: someone is guessing names.',
  },
  'brute-force.distributed': {
    severity: 'high',
    tactic: 'Credential Access',
    technique: 'T1110.001 Password Guessing',
    description: 'Failed logins for one role from many source addresses.',
  },
  'brute-force.success': {
    severity: 'critical',
    tactic: 'Credential Access',
    technique: 'T1110 Brute Force',
    description: 'A successful login right after a run of failed logins: a guessed password.',
  },
  'login.harmful-application': {
    severity: 'high',
    tactic: 'Reconnaissance',
    technique: 'T1595.002 Vulnerability Scanning',
    description: 'A login by a tool used for attacks (sqlmap, hydra, nmap scripts, …).',
  },
  'login.new-principal': {
    severity: 'low',
    tactic: 'Initial Access',
    technique: 'T1078 Valid Accounts',
    description: 'A login by a role or principal not seen for the configured number of days.',
  },
  'login.new-network': {
    severity: 'medium',
    tactic: 'Initial Access',
    technique: 'T1078 Valid Accounts',
    description: 'A login from a network this role has not used for the configured number of days.',
  },
  'login.unusual-location': {
    severity: 'medium',
    tactic: 'Initial Access',
    technique: 'T1078 Valid Accounts',
    description: 'A login from a country this role has not logged in from before (GeoIP).',
  },
  'login.unusual-provider': {
    severity: 'medium',
    tactic: 'Initial Access',
    technique: 'T1078 Valid Accounts',
    description:
      'A login from an autonomous system (data centre, cloud provider) this role has not used before.',
  },
  'login.suspicious-ip': {
    severity: 'high',
    tactic: 'Initial Access',
    technique: 'T1078 Valid Accounts',
    description: 'A connection from an address on the configured blocklist.',
  },
  'sql-injection': {
    severity: 'high',
    tactic: 'Initial Access',
    technique: 'T1190 Exploit Public-Facing Application',
    description:
      'A statement with the shape of SQL injection: a tautology, a stacked query after a quote, UNION probing of the catalog, a pg_sleep probe or an error-based cast.',
  },
  'exfiltration.volume': {
    severity: 'high',
    tactic: 'Exfiltration',
    technique: 'T1030 Data Transfer Size Limits',
    description: "A session returned far more rows or bytes than this role's baseline.",
  },
  'exfiltration.copy-out': {
    severity: 'high',
    tactic: 'Exfiltration',
    technique: 'T1048 Exfiltration Over Alternative Protocol',
    description: 'COPY … TO PROGRAM, or COPY … TO STDOUT of a large table.',
  },
  'exfiltration.sensitive-select': {
    severity: 'medium',
    tactic: 'Collection',
    technique: 'T1005 Data from Local System',
    description: 'SELECT * on a table marked sensitive.',
  },
  'privilege-escalation.attempt': {
    severity: 'high',
    tactic: 'Privilege Escalation',
    technique: 'T1078.003 Local Accounts',
    description:
      'ALTER ROLE or GRANT of a powerful attribute or role, refused or not, or a change to an internal role.',
  },
  'privilege-escalation.security-definer': {
    severity: 'medium',
    tactic: 'Privilege Escalation',
    technique: 'T1068 Exploitation for Privilege Escalation',
    description: 'CREATE FUNCTION … SECURITY DEFINER by a role that is not an administrator.',
  },
  'privilege-escalation.server-access': {
    severity: 'high',
    tactic: 'Execution',
    technique: 'T1059 Command and Scripting Interpreter',
    description: 'An attempt to reach the server: lo_import, pg_read_file, COPY … FROM PROGRAM.',
  },
  'honeytoken.read': {
    severity: 'critical',
    tactic: 'Collection',
    technique: 'T1005 Data from Local System',
    description: 'A session read a planted honeytoken row.',
  },
} as const satisfies Record<string, AlertTypeInfo>;

export type AlertType = keyof typeof ALERT_TYPES;

export function isAlertType(value: string): value is AlertType {
  return Object.hasOwn(ALERT_TYPES, value);
}
