import { globMatch } from '../../access/glob-match.js';

/**
 * Attack and scanning tools that can announce themselves in application_name,
 * as words (lower case, split on anything that is not a letter or digit).
 * Distinctive names match anywhere in application_name; names that are also
 * ordinary words or other products (Ory Hydra, Medusa commerce) match only
 * as its first words, as a tool that names itself puts them.
 */
const ANYWHERE = [
  'sqlmap',
  'thc-hydra',
  'ncrack',
  'pgsql-brute',
  'metasploit',
  'msfconsole',
  'patator',
  'crackmapexec',
  'netexec',
  'sqlninja',
  'havij',
  'bbqsql',
  'brutespray',
  'jsql-injection',
  'nessus',
  'openvas',
  'masscan',
  'zgrab',
] as const;

const LEADING = ['hydra', 'medusa', 'nmap', 'nxc', 'msf', 'legba', 'jsql'] as const;

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

const ANYWHERE_WORDS = ANYWHERE.map((name) => ({ name, words: words(name) }));
const LEADING_WORDS = LEADING.map((name) => ({ name, words: words(name) }));

function startsWith(haystack: readonly string[], needle: readonly string[], at: number): boolean {
  return needle.every((word, i) => haystack[at + i] === word);
}

/** The built-in names, for the docs. */
export const BUILT_IN_HARMFUL_TOOLS: readonly string[] = [...ANYWHERE, ...LEADING].sort();

/**
 * What `applicationName` says the client is: a built-in tool's name, or
 * `config "<glob>"` for one of detection.harmfulApplications (matched
 * case-insensitively against the whole name), or undefined.
 */
export function harmfulTool(
  applicationName: string,
  globs: readonly string[] = [],
): string | undefined {
  const found = words(applicationName);
  for (const tool of LEADING_WORDS) if (startsWith(found, tool.words, 0)) return tool.name;
  for (const tool of ANYWHERE_WORDS) {
    for (let at = 0; at + tool.words.length <= found.length; at++)
      if (startsWith(found, tool.words, at)) return tool.name;
  }
  const lower = applicationName.toLowerCase();
  const glob = globs.find((pattern) => globMatch(pattern.toLowerCase(), lower));
  return glob === undefined ? undefined : `config "${glob}"`;
}
