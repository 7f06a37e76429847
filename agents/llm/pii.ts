// PII redaction before models (issue 18): emails, phone numbers, IBANs and card numbers in what is sent to a model are
// replaced by placeholders ([EMAIL_1], [PHONE_1], [IBAN_1], [CARD_1]) and restored in the model's answer, so posts
// show the real values while the model never sees them. Detection: @redactpii/node (maintained, MIT, zero
// dependencies, offline: it only calls its dashboard when given an API key, which Rolecall never passes) for emails,
// phones and cards; IBANs by a pattern plus the ISO 13616 mod-97 check. Invariants: the same value gets the same
// placeholder within one call's map; restoring only replaces placeholders the map made; nothing is sent anywhere.
import { Redactor } from '@redactpii/node';

export type PiiKind = 'EMAIL' | 'PHONE' | 'IBAN' | 'CARD';
const MARK = '\u0000';
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;

/** ISO 13616 mod-97: a real IBAN, not any letters-and-digits run. */
export function validIban(value: string): boolean {
  const s = value.replace(/ /g, '');
  if (s.length < 15 || s.length > 34) return false;
  const moved = (s.slice(4) + s.slice(0, 4)).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let r = 0;
  for (const d of moved) r = (r * 10 + Number(d)) % 97;
  return r === 1;
}

// Card before phone: a phone pattern would take parts of a card number. The library has no IBAN rule.
const detectors: [PiiKind, Redactor][] = [
  ['EMAIL', new Redactor({ rules: { EMAIL: true }, globalReplaceWith: MARK })],
  ['CARD', new Redactor({ rules: { CREDIT_CARD: true }, globalReplaceWith: MARK })],
  ['PHONE', new Redactor({ rules: { PHONE: true }, globalReplaceWith: MARK })],
];

/** The values one detector found in `text`, in order: the text between its marks is the original's, so the values are
 *  what lies between those pieces in the original. */
function found(r: Redactor, text: string): string[] {
  if (!text.includes(MARK) && !r.hasPII(text)) return [];
  const pieces = r.redact(text).split(MARK);
  const values: string[] = [];
  let at = pieces[0]!.length;
  for (let i = 1; i < pieces.length; i++) {
    const next = pieces[i]!;
    let end = next ? text.indexOf(next, at + 1) : text.length;
    // the next piece may also occur inside the value: take the first end whose span is a whole detected value
    while (next && end !== -1 && r.redact(text.slice(at, end)) !== MARK) end = text.indexOf(next, end + 1);
    if (end === -1) break;
    values.push(text.slice(at, end));
    at = end + next.length;
  }
  return values;
}

/** Placeholders made for one model call, to restore in its answer. */
export class PiiMap {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<PiiKind, number>();

  get size(): number { return this.byPlaceholder.size; }

  private placeholder(kind: PiiKind, value: string): string {
    let p = this.byValue.get(value);
    if (!p) {
      const n = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, n);
      p = `[${kind}_${n}]`;
      this.byValue.set(value, p);
      this.byPlaceholder.set(p, value);
    }
    return p;
  }

  /** `text` with every detected value replaced by its placeholder. */
  redact(text: string): string {
    let out = text.replace(IBAN, (m) => (validIban(m) ? this.placeholder('IBAN', m) : m));
    for (const [kind, r] of detectors) {
      for (const v of found(r, out)) {
        if (/^\[[A-Z]+_\d+\]$/.test(v)) continue;
        out = out.split(v).join(this.placeholder(kind, v));
      }
    }
    return out;
  }

  /** `text` with this map's placeholders replaced by the values again. */
  restore(text: string): string {
    return text.replace(/\[(EMAIL|PHONE|IBAN|CARD)_\d+\]/g, (p) => this.byPlaceholder.get(p) ?? p);
  }
}
