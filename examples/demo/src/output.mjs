// Terminal output: colour only on a TTY and never with NO_COLOR; plain text otherwise.
import { styleText } from 'node:util';

const colour = process.stdout.isTTY === true && !('NO_COLOR' in process.env);
const paint = (style, text) => (colour ? styleText(style, text) : text);

export const out = {
  step(n, title) {
    console.log(`\n${paint('bold', `${n}. ${title}`)}`);
  },
  ok(text) {
    console.log(`  ${paint('green', '✓')} ${text}`);
  },
  refused(text) {
    console.log(`  ${paint('green', '✓')} ${text}`);
  },
  fail(text) {
    console.log(`  ${paint('red', '✗')} ${text}`);
  },
  info(text) {
    console.log(`    ${paint('dim', text)}`);
  },
  title(text) {
    console.log(paint('bold', text));
  },
};
