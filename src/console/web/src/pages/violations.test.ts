// @vitest-environment happy-dom
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { AwsAccount } from '../api/types';
import { render, text } from '../test-support/render';
import { trendSummary } from './violations';
import { describeCriteria } from './violations-acceptances';
import { accountsOfTeam, SeverityBadge, statusOf } from './violations-common';

afterEach(() => {
  document.body.innerHTML = '';
});

const account = (id: string, owner: string): AwsAccount => ({
  id,
  owner,
  name: owner,
  type: 'aws',
  description: '',
  disabled: false,
});

describe('the violations pages', () => {
  it('says severity in words, for every level', async () => {
    const words: string[] = [];
    for (const severity of [0, 1, 2, 3, 4]) {
      const r = await render(createElement(SeverityBadge, { severity }));
      words.push(text(r.container));
      expect(r.container.querySelector('.status')?.className).toContain(`severity-${severity}`);
      await r.unmount();
    }
    expect(words).toEqual([
      'Info severity',
      'Low severity',
      'Medium severity',
      'High severity',
      'Critical severity',
    ]);
  });

  it('tells resolved (commented) from accepted (covered by an acceptance) from open', () => {
    expect(statusOf({ comment: null, rule_id: null })).toBe('open');
    expect(statusOf({ comment: null, rule_id: 7 })).toBe('accepted');
    expect(statusOf({ comment: 'fixed', rule_id: 7 })).toBe('resolved');
  });

  it('picks the accounts of one team, or of all the person’s teams', () => {
    const all = [account('3', 'shop'), account('2', 'demo'), account('1', 'stups'), account('4', 'demo')];
    expect(accountsOfTeam(all, 'demo', []).map((a) => a.id)).toEqual(['2', '4']);
    const own = [
      { id: 'demo', name: 'Demo' },
      { id: 'shop', name: 'Shop' },
    ];
    expect(accountsOfTeam(all, '', own).map((a) => a.id)).toEqual(['2', '4', '3']);
    expect(accountsOfTeam(all, '', [])).toEqual([]);
  });

  it('sums the trend up in one sentence, counting what was open before the first day', () => {
    expect(
      trendSummary([
        { day: '2026-11-26', opened: 2, resolved: 1, open: 6 },
        { day: '2026-11-27', opened: 0, resolved: 0, open: 6 },
        { day: '2026-11-28', opened: 1, resolved: 4, open: 3 },
      ]),
    ).toBe('From 2026-11-26 to 2026-11-28: 3 violations found, 5 resolved; open went from 5 to 3.');
    expect(trendSummary([])).toBe('No days to show.');
  });

  it('describes an acceptance’s criteria in words', () => {
    expect(
      describeCriteria({
        accounts: ['222222222222'],
        types: ['SECURITY_GROUP_OPEN_TO_THE_WORLD', 'EC2_WITH_KEYPAIR'],
        meta_info: '$[?(@.port == 22)]',
      }),
    ).toEqual([
      'accounts 222222222222',
      'types SECURITY_GROUP_OPEN_TO_THE_WORLD, EC2_WITH_KEYPAIR',
      'details match $[?(@.port == 22)]',
    ]);
  });
});
