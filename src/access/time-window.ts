import { type TimeWindow, WEEKDAYS, type Weekday } from './access-policy.js';

/** A moment as a wall clock in some zone shows it. */
export interface LocalTime {
  readonly day: Weekday;
  /** Minutes since local midnight, 0 to 1439. */
  readonly minutes: number;
}

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

// Building a formatter costs ~50 µs, using one ~3 µs; the zones are those of
// the policies, so the cache stays small.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Whether Intl knows the zone (IANA names, matched case-insensitively, and their aliases). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * The local day and time of `at` in `timeZone`. Intl applies the zone's rules
 * for that instant, so DST changes (whole or half hours) need no arithmetic here.
 */
export function localTime(at: Date, timeZone: string): LocalTime {
  let day: Weekday | undefined;
  let hour = -1;
  let minute = -1;
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAYS.find((d) => d === part.value.toLowerCase());
    else if (part.type === 'hour')
      hour = Number(part.value) % 24; // some ICU builds say 24 at midnight
    else if (part.type === 'minute') minute = Number(part.value);
  }
  if (day === undefined || !(hour >= 0) || !(minute >= 0)) {
    throw new Error(`cannot read the local time in ${timeZone}`);
  }
  return { day, minutes: hour * 60 + minute };
}

/** Minutes since midnight of `HH:MM` (00:00 to 23:59, or 24:00 when `endOfDay`). */
export function parseClock(text: string, endOfDay = false): number | undefined {
  if (endOfDay && text === '24:00') return 1440;
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Whether the local time falls in the window; a wrapping window belongs to the day it starts on. */
export function inTimeWindow(window: TimeWindow, local: LocalTime): boolean {
  const start = parseClock(window.start);
  const end = parseClock(window.end, true);
  if (start === undefined || end === undefined || start === end) {
    throw new Error(`time window ${window.start}-${window.end} is not valid`);
  }
  if (start < end) {
    return window.days.includes(local.day) && local.minutes >= start && local.minutes < end;
  }
  if (local.minutes >= start) return window.days.includes(local.day);
  return local.minutes < end && window.days.includes(previousDay(local.day));
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] as Weekday;
}

/** `Tuesday 22:15` */
export function describeLocalTime(local: LocalTime): string {
  const hh = String(Math.floor(local.minutes / 60)).padStart(2, '0');
  const mm = String(local.minutes % 60).padStart(2, '0');
  return `${DAY_NAMES[local.day]} ${hh}:${mm}`;
}

/** `mon-fri 08:00-18:00`, `sat,sun 22:00-06:00` */
export function describeWindow(window: TimeWindow): string {
  return `${describeDays(window.days)} ${window.start}-${window.end}`;
}

/** Days in week order, runs of three or more as a range: `mon-wed,fri`. */
function describeDays(days: readonly Weekday[]): string {
  const present = WEEKDAYS.map((d) => days.includes(d));
  const parts: string[] = [];
  for (let i = 0; i < 7; ) {
    if (!present[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < 7 && present[j + 1]) j++;
    if (j - i >= 2) parts.push(`${WEEKDAYS[i]}-${WEEKDAYS[j]}`);
    else for (let k = i; k <= j; k++) parts.push(WEEKDAYS[k] as Weekday);
    i = j + 1;
  }
  return parts.length === 0 ? '(no days)' : parts.join(',');
}
