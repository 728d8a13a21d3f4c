import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TimeWindow } from '../../../src/access/access-policy.js';
import {
  describeLocalTime,
  describeWindow,
  inTimeWindow,
  isTimeZone,
  localTime,
  parseClock,
} from '../../../src/access/time-window.js';

function inWindow(window: TimeWindow, iso: string): boolean {
  return inTimeWindow(window, localTime(new Date(iso), window.timeZone));
}

function local(iso: string, timeZone: string): string {
  return describeLocalTime(localTime(new Date(iso), timeZone));
}

describe('time windows', () => {
  it('reads the local day and time in a zone', () => {
    assert.deepEqual(localTime(new Date('2025-03-04T21:15:00Z'), 'Europe/Berlin'), {
      day: 'tue',
      minutes: 22 * 60 + 15,
    });
    assert.equal(local('2025-03-09T23:00:00Z', 'Europe/Berlin'), 'Monday 00:00');
    assert.equal(local('2025-03-09T23:00:00Z', 'UTC'), 'Sunday 23:00');
    assert.equal(local('2025-07-01T00:00:00Z', 'Asia/Kolkata'), 'Tuesday 05:30');
  });

  it('holds from start (inclusive) to end (exclusive)', () => {
    const w: TimeWindow = { days: ['tue'], start: '08:00', end: '18:00', timeZone: 'UTC' };
    assert.equal(inWindow(w, '2025-03-04T07:59:00Z'), false);
    assert.equal(inWindow(w, '2025-03-04T08:00:00Z'), true);
    assert.equal(inWindow(w, '2025-03-04T17:59:00Z'), true);
    assert.equal(inWindow(w, '2025-03-04T18:00:00Z'), false);
    assert.equal(inWindow(w, '2025-03-05T09:00:00Z'), false, 'Wednesday');
  });

  it('ends at midnight with 24:00', () => {
    const w: TimeWindow = { days: ['sat', 'sun'], start: '00:00', end: '24:00', timeZone: 'UTC' };
    assert.equal(inWindow(w, '2025-03-08T00:00:00Z'), true);
    assert.equal(inWindow(w, '2025-03-09T23:59:00Z'), true);
    assert.equal(inWindow(w, '2025-03-10T00:00:00Z'), false, 'Monday');
    assert.equal(inWindow(w, '2025-03-07T23:59:00Z'), false, 'Friday');
  });

  it('wraps past midnight into the next day, belonging to the day it starts on', () => {
    const w: TimeWindow = { days: ['sun'], start: '23:30', end: '00:30', timeZone: 'UTC' };
    assert.equal(inWindow(w, '2025-03-09T23:45:00Z'), true, 'Sunday 23:45');
    assert.equal(inWindow(w, '2025-03-10T00:15:00Z'), true, 'Monday 00:15, from Sunday');
    assert.equal(inWindow(w, '2025-03-10T00:30:00Z'), false, 'Monday 00:30');
    assert.equal(
      inWindow(w, '2025-03-09T00:15:00Z'),
      false,
      'Sunday 00:15, Saturday is not listed',
    );
    assert.equal(inWindow(w, '2025-03-10T23:45:00Z'), false, 'Monday 23:45');
    const week: TimeWindow = {
      days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
      start: '22:00',
      end: '06:00',
      timeZone: 'UTC',
    };
    assert.equal(inWindow(week, '2025-03-10T03:00:00Z'), true, 'Monday 03:00 from Sunday');
    assert.equal(inWindow(week, '2025-03-10T12:00:00Z'), false, 'midday');
  });

  it('follows America/New_York across the March change, on wall-clock time', () => {
    // 2025-03-09 02:00 EST became 03:00 EDT: 02:00-02:59 did not happen.
    const w: TimeWindow = {
      days: ['sun'],
      start: '01:30',
      end: '02:30',
      timeZone: 'America/New_York',
    };
    assert.equal(local('2025-03-09T06:45:00Z', 'America/New_York'), 'Sunday 01:45');
    assert.equal(inWindow(w, '2025-03-09T06:45:00Z'), true, '01:45 EST');
    assert.equal(local('2025-03-09T07:00:00Z', 'America/New_York'), 'Sunday 03:00');
    assert.equal(
      inWindow(w, '2025-03-09T07:00:00Z'),
      false,
      'one UTC minute after 01:59 EST is 03:00 EDT',
    );
    // The same local 08:00 is 13:00 UTC before the change and 12:00 UTC after.
    const office: TimeWindow = {
      days: ['fri', 'mon'],
      start: '08:00',
      end: '18:00',
      timeZone: 'America/New_York',
    };
    assert.equal(inWindow(office, '2025-03-07T12:59:00Z'), false, 'Fri 07:59 EST');
    assert.equal(inWindow(office, '2025-03-07T13:00:00Z'), true, 'Fri 08:00 EST');
    assert.equal(inWindow(office, '2025-03-10T11:59:00Z'), false, 'Mon 07:59 EDT');
    assert.equal(inWindow(office, '2025-03-10T12:00:00Z'), true, 'Mon 08:00 EDT');
    assert.equal(inWindow(office, '2025-03-10T21:59:00Z'), true, 'Mon 17:59 EDT');
    assert.equal(inWindow(office, '2025-03-10T22:00:00Z'), false, 'Mon 18:00 EDT');
  });

  it('holds through both passes of a repeated hour when clocks go back', () => {
    // 2025-11-02 02:00 EDT became 01:00 EST: 01:00-01:59 happened twice.
    const w: TimeWindow = {
      days: ['sun'],
      start: '01:00',
      end: '02:00',
      timeZone: 'America/New_York',
    };
    assert.equal(inWindow(w, '2025-11-02T05:30:00Z'), true, '01:30 EDT');
    assert.equal(inWindow(w, '2025-11-02T06:30:00Z'), true, '01:30 EST');
    assert.equal(inWindow(w, '2025-11-02T07:00:00Z'), false, '02:00 EST');
    assert.equal(inWindow(w, '2025-11-02T04:59:00Z'), false, '00:59 EDT');
  });

  it('follows the half-hour DST of Australia/Lord_Howe', () => {
    // 2025-04-06 02:00 (UTC+11) went back to 01:30 (UTC+10:30): 01:30-01:59 twice.
    const back: TimeWindow = {
      days: ['sun'],
      start: '01:30',
      end: '02:00',
      timeZone: 'Australia/Lord_Howe',
    };
    assert.equal(local('2025-04-05T14:45:00Z', 'Australia/Lord_Howe'), 'Sunday 01:45');
    assert.equal(local('2025-04-05T15:15:00Z', 'Australia/Lord_Howe'), 'Sunday 01:45');
    assert.equal(inWindow(back, '2025-04-05T14:45:00Z'), true);
    assert.equal(inWindow(back, '2025-04-05T15:15:00Z'), true);
    assert.equal(inWindow(back, '2025-04-05T15:30:00Z'), false, '02:00 standard time');
    // 2025-10-05 02:00 (UTC+10:30) went forward to 02:30 (UTC+11): 02:00-02:29 never happened.
    const skipped: TimeWindow = {
      days: ['sun'],
      start: '02:00',
      end: '02:30',
      timeZone: 'Australia/Lord_Howe',
    };
    assert.equal(local('2025-10-04T15:29:00Z', 'Australia/Lord_Howe'), 'Sunday 01:59');
    assert.equal(local('2025-10-04T15:30:00Z', 'Australia/Lord_Howe'), 'Sunday 02:30');
    assert.equal(inWindow(skipped, '2025-10-04T15:29:00Z'), false);
    assert.equal(inWindow(skipped, '2025-10-04T15:30:00Z'), false);
  });

  it('parses clock times strictly', () => {
    assert.equal(parseClock('00:00'), 0);
    assert.equal(parseClock('23:59'), 1439);
    assert.equal(parseClock('24:00'), undefined);
    assert.equal(parseClock('24:00', true), 1440);
    for (const bad of ['8:00', '08:0', '12:60', '25:00', '08:00:00', ' 08:00', '0800', '']) {
      assert.equal(parseClock(bad, true), undefined, bad);
    }
  });

  it('knows IANA zones and rejects others', () => {
    assert.equal(isTimeZone('Europe/Berlin'), true);
    assert.equal(isTimeZone('UTC'), true);
    assert.equal(isTimeZone('Australia/Lord_Howe'), true);
    assert.equal(isTimeZone('Europe/Berln'), false);
    assert.equal(isTimeZone(''), false);
  });

  it('describes windows with day ranges in week order', () => {
    const w = (days: TimeWindow['days']): string =>
      describeWindow({ days, start: '08:00', end: '18:00', timeZone: 'UTC' });
    assert.equal(w(['fri', 'thu', 'wed', 'tue', 'mon']), 'mon-fri 08:00-18:00');
    assert.equal(w(['sat', 'sun']), 'sat,sun 08:00-18:00');
    assert.equal(w(['mon', 'wed', 'fri']), 'mon,wed,fri 08:00-18:00');
    assert.equal(w(['mon', 'tue', 'wed', 'fri', 'fri']), 'mon-wed,fri 08:00-18:00');
  });
});
