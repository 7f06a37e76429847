// Language identification of a chat message, for answering in the requester's language. Uses tinyld, chosen over
// franc-min for its accuracy on short texts (on bench/intents/extended.jsonl, restricted to the five languages below:
// tinyld's top guess 266/270 right, franc-min 242/270). A language other than English needs a clear lead. Messages in other languages, or too short to tell, count as English
// (undefined), the language the role files are written in.
import { detectAll } from 'tinyld';

/** The languages the offline path knows (the templates' and small talk's examples), ISO 639-1. */
export const LANGUAGES = ['en', 'de', 'es', 'fr', 'pt'] as const;
export type Language = (typeof LANGUAGES)[number];

/** tinyld's accuracy a language other than English needs (it reports ~0.05 for short, ambiguous texts). */
const MIN_ACCURACY = 0.2;

export const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', de: 'German', es: 'Spanish', fr: 'French', pt: 'Portuguese' };

/** The message's language among LANGUAGES; undefined when it cannot be told (then answer in English). */
export function detectLanguage(text: string): Language | undefined {
  const clean = text.slice(0, 2000).replace(/<[@#!][^>]*>|https?:\/\/\S+|:[a-z0-9_+-]+:/gi, ' ').trim();
  if (clean.replace(/[^\p{L}]/gu, '').length < 2) return undefined;
  const ranked = detectAll(clean, { only: [...LANGUAGES] });
  const top = ranked[0];
  if (!top || !isLanguage(top.lang)) return undefined;
  if (top.lang === 'en') return 'en';
  // Short English jargon ("arch review for ledger svc") scores low and evenly: another language must be clear.
  const english = ranked.find((r) => r.lang === 'en')?.accuracy ?? 0;
  return top.accuracy >= MIN_ACCURACY && top.accuracy > 2 * english ? top.lang : 'en';
}

export const isLanguage = (s: string | null | undefined): s is Language => !!s && (LANGUAGES as readonly string[]).includes(s);
