// Text for a terminal: object names and messages come from manifests and API answers, which
// may hold escape sequences (clear the screen, move the cursor over a finding, set a window
// title, a hyperlink) or bidi overrides that reorder what is shown. They are printed as
// visible escapes instead; only the colour codes tunnelmesh itself writes pass through.
// Also the width arithmetic and word wrapping the table needs (colour codes have no width).

/** SGR parameters chalk writes for the styles tunnelmesh uses (no conceal, no backgrounds). */
const OWN_SGR = new Set([0, 1, 2, 3, 4, 22, 23, 24, 31, 32, 33, 34, 35, 36, 37, 39, 90, 91, 92, 93, 94, 95, 96, 97]);

// C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates, line and paragraph separators.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[([0-9;]*)m/g;

function visibleEscape(ch: string): string {
  const code = ch.charCodeAt(0);
  if (ch === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function escapeUnsafe(text: string): string {
  return text.replace(UNSAFE, visibleEscape);
}

/**
 * The text with every control character and bidi control shown as an escape (`\x1b`,
 * `\u202e`). With `keepColour`, SGR colour codes of the styles tunnelmesh uses are kept; any
 * other escape sequence (cursor, OSC, conceal) is shown.
 */
export function terminalSafe(text: string, keepColour = false): string {
  if (!keepColour) return escapeUnsafe(text);
  let out = '';
  let last = 0;
  SGR.lastIndex = 0;
  for (let m = SGR.exec(text); m; m = SGR.exec(text)) {
    const params = (m[1] as string) === '' ? [0] : (m[1] as string).split(';').map(Number);
    if (!params.every((p) => OWN_SGR.has(p))) continue;
    out += escapeUnsafe(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + escapeUnsafe(text.slice(last));
}

/** The text without colour codes. */
export function stripColour(text: string): string {
  return text.replace(SGR, '');
}

/** East Asian wide and fullwidth characters and emoji take two columns. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Columns a string takes on a terminal (colour codes excluded; combining marks take none). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of stripColour(text)) {
    const cp = ch.codePointAt(0) as number;
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || cp === 0xfe0f) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

/** Splits a word into pieces of at most `firstWidth`, then `restWidth` columns, after `/`, `.`, `-`, `,`, `=` or `:` where it can. */
function breakWord(word: string, firstWidth: number, restWidth: number): string[] {
  const parts: string[] = [];
  let rest = word;
  let width = Math.max(1, firstWidth);
  while (displayWidth(rest) > width) {
    let cut = 0;
    let w = 0;
    let lastBreak = -1;
    for (let i = 0; i < rest.length; ) {
      const sgr = /^\u001b\[[0-9;]*m/.exec(rest.slice(i));
      if (sgr) {
        i += sgr[0].length;
        continue;
      }
      const ch = String.fromCodePoint(rest.codePointAt(i) as number);
      const cw = displayWidth(ch);
      if (w + cw > width) break;
      w += cw;
      i += ch.length;
      cut = i;
      if ('/.-,=:'.includes(ch)) lastBreak = i;
    }
    if (cut === 0) cut = String.fromCodePoint(rest.codePointAt(0) as number).length; // a wide character on a 1-column line
    const at = lastBreak > cut / 2 ? lastBreak : cut;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at);
    width = Math.max(1, restWidth);
  }
  if (rest) parts.push(rest);
  return parts;
}

/**
 * Word-wraps `text` to `width` columns: the first line starts with `first`, the others with
 * `rest` (a hanging indent). Without a width, no wrapping. Existing line breaks are kept.
 */
export function wrap(text: string, width: number | undefined, first = '', rest = first): string[] {
  if (width === undefined) return text.split('\n').map((l, i) => (i === 0 ? first : rest) + l);
  const out: string[] = [];
  const indentWidth = displayWidth(rest);
  for (const paragraph of text.split('\n')) {
    let line = out.length === 0 ? first : rest;
    let lineWidth = displayWidth(line);
    let empty = true;
    const newLine = (): void => {
      out.push(line);
      line = rest;
      lineWidth = indentWidth;
      empty = true;
    };
    for (const word of paragraph.split(' ')) {
      if (word === '') continue;
      const w = displayWidth(word);
      if (!empty && lineWidth + 1 + w <= width) {
        line += ` ${word}`;
        lineWidth += 1 + w;
        continue;
      }
      if (!empty) newLine();
      const pieces = w > width - lineWidth ? breakWord(word, width - lineWidth, width - indentWidth) : [word];
      pieces.forEach((piece, i) => {
        if (i > 0) newLine();
        line += piece;
        lineWidth += displayWidth(piece);
        empty = false;
      });
    }
    out.push(line);
  }
  return out;
}
