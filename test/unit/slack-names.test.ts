// A Slack person's name from users.info's user object (bot/slack/people.ts): display name, else real name, else handle;
// control characters removed; at most NAME_MAX UTF-16 units, never half a character; nothing usable is undefined.
import { describe, expect, it } from 'vitest';
import { NAME_MAX, nameOfSlackUser } from '../../bot/slack/people';

describe('nameOfSlackUser', () => {
  it('prefers the display name, then the real name, then the handle', () => {
    expect(nameOfSlackUser({ id: 'U1', name: 'ann', real_name: 'Ann Real', profile: { display_name: 'Annie', real_name: 'Ann P' } })).toBe('Annie');
    expect(nameOfSlackUser({ id: 'U1', name: 'ann', real_name: 'Ann Real', profile: { display_name: '  ', real_name: 'Ann P' } })).toBe('Ann P');
    expect(nameOfSlackUser({ id: 'U1', name: 'ann', real_name: 'Ann Real', profile: {} })).toBe('Ann Real');
    expect(nameOfSlackUser({ id: 'U1', name: 'ann' })).toBe('ann');
    expect(nameOfSlackUser({ id: 'U1', name: '', real_name: '\n\t' })).toBeUndefined();
  });

  it('removes control characters and bounds the length without splitting a character', () => {
    expect(nameOfSlackUser({ id: 'U1', profile: { display_name: 'Ann\u0000\nOps\u2028' } })).toBe('Ann  Ops');
    expect(nameOfSlackUser({ id: 'U1', profile: { display_name: 'x'.repeat(5_000) } })).toHaveLength(NAME_MAX);
    const emoji = nameOfSlackUser({ id: 'U1', profile: { display_name: `a${'😀'.repeat(150)}` } })!;
    expect(emoji.length).toBeLessThanOrEqual(NAME_MAX);
    expect(emoji).toBe(`a${'😀'.repeat(99)}`); // 1 + 99 × 2 units; the 100th emoji would need 201
  });
});
