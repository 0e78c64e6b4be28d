// Colour only for a terminal, never with NO_COLOR (https://no-color.org).
import { describe, expect, it } from 'vitest';
import { painter } from '../src/output/colour.js';

const terminal = { isTTY: true, write: () => true };
const pipe = { isTTY: false, write: () => true };

describe('painter', () => {
  it('colours text for a terminal', () => {
    expect(painter(terminal, {})('green', '✓')).toBe('\u001b[32m✓\u001b[39m');
  });

  it('leaves text plain for a pipe or a file', () => {
    expect(painter(pipe, {})('green', '✓')).toBe('✓');
  });

  it('leaves text plain when NO_COLOR is set to anything but the empty string', () => {
    expect(painter(terminal, { NO_COLOR: '1' })('red', '✗')).toBe('✗');
    expect(painter(terminal, { NO_COLOR: 'false' })('red', '✗')).toBe('✗');
    expect(painter(terminal, { NO_COLOR: '' })('red', '✗')).toBe('\u001b[31m✗\u001b[39m');
  });
});
