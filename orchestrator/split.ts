// Splits a message that is too long for one chat post into several posts, in order: the platform edge says how much
// fits (a size and how to measure it), this module decides where to cut and how the parts are labelled.
// Invariants: no text is lost or reordered (the parts' texts joined are the original, apart from the line breaks at a
// cut and the code fences closed at a cut and reopened in the next part); every part's text measures at most `max`;
// buttons and the small print go on the last part only.
import type { MessageView } from './chat';

/** How much text one post may carry, and how the platform counts it (characters, UTF-8 bytes of the JSON, ...). */
export interface PostLimit {
  max: number;
  measure?: (text: string) => number;
}

const FENCE = '```';
/** Room kept in each piece for a code fence closed at the cut ("\n```") and reopened in the next piece ("```\n"). */
const FENCE_ROOM = 12;

/** Cuts `text` into pieces that each measure at most `max`: between paragraphs where that keeps at least half of a
 *  piece, else at a line break, else (a single line too long for one post) anywhere. */
export function splitText(text: string, limit: PostLimit): string[] {
  const measure = limit.measure ?? ((s: string) => s.length);
  if (measure(text) <= limit.max) return [text];
  const max = Math.max(1, limit.max - FENCE_ROOM);
  const pieces: string[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const candidate = current === undefined ? line : `${current}\n${line}`;
    if (measure(candidate) <= max) {
      current = candidate;
      continue;
    }
    if (current !== undefined) {
      const cut = current.lastIndexOf('\n\n');
      if (cut > current.length / 2) {
        pieces.push(current.slice(0, cut));
        current = current.slice(cut + 2);
        const carried = `${current}\n${line}`;
        if (measure(carried) <= max) {
          current = carried;
          continue;
        }
      }
      pieces.push(current);
    }
    let rest = line;
    while (measure(rest) > max) {
      const n = longestPrefix(rest, max, measure);
      pieces.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    current = rest;
  }
  if (current !== undefined) pieces.push(current);
  const kept = pieces.filter((p) => p.trim() !== '');
  return balanceFences(kept.length ? kept : [text.slice(0, longestPrefix(text, max, measure))]);
}

/** The longest prefix of `s` (at least one character, never splitting a surrogate pair) that measures at most `max`. */
function longestPrefix(s: string, max: number, measure: (s: string) => number): number {
  let lo = 1;
  let hi = s.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(s.slice(0, mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  const code = s.charCodeAt(lo - 1);
  return code >= 0xd800 && code <= 0xdbff && lo > 1 ? lo - 1 : lo;
}

/** A piece that ends inside a code block gets the block closed, and the next piece reopens it. */
function balanceFences(pieces: string[]): string[] {
  let open = false;
  return pieces.map((p) => {
    const text = open ? `${FENCE}\n${p}` : p;
    open = (text.split(FENCE).length - 1) % 2 === 1;
    return open ? `${text}\n${FENCE}` : text;
  });
}

/** One post per piece of the text, labelled "part i of n"; the last part keeps the view's small print and buttons. */
export function splitView(view: MessageView, limit: PostLimit): MessageView[] {
  const pieces = splitText(view.text, limit);
  if (pieces.length <= 1) return [view];
  return pieces.map((text, i) => {
    const label = `part ${i + 1} of ${pieces.length}`;
    if (i < pieces.length - 1) return { text, context: label };
    return { ...view, text, context: view.context ? `${view.context} · ${label}` : label };
  });
}

/** A view cut in two at its middle line (for a platform that refused a part as too long after all). */
export function halveView(view: MessageView, limit: PostLimit): MessageView[] {
  const measure = limit.measure ?? ((s: string) => s.length);
  return splitView(view, { ...limit, max: Math.max(500, Math.ceil(measure(view.text) / 2)) });
}
