/**
 * Whether `text` matches `pattern` as a whole: `*` any run of characters,
 * `?` exactly one, everything else itself, case-sensitively. No escapes.
 *
 * The text is client-supplied (application_name), so no regular expression:
 * a pattern like `*a*a*a*b` would make one backtrack exponentially. This
 * greedy matcher backtracks only to the last `*`, O(pattern × text).
 */
export function globMatch(pattern: string, text: string): boolean {
  // Code points, so `?` is one character even outside the BMP.
  const p = Array.from(pattern);
  const t = Array.from(text);
  let pi = 0;
  let ti = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (ti < t.length) {
    if (pi < p.length && p[pi] === '*') {
      starAt = pi++;
      resumeAt = ti;
    } else if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      ti = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
