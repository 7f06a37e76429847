// Local intent classifier: picks the workflow template a chat message asks for, or `none` (small talk), with no model
// call.
//
// Trained at start-up from the templates' `examples:` utterances (orchestrator/templates/*.yaml, in English, German,
// Spanish, French and Portuguese), the small-talk examples (orchestrator/intent/data/small-talk.yaml: greetings, thanks,
// questions about the bot, chatter), and the labelled examples an admin accepted in the console. `none` is a class of its
// own. Two TF-IDF views of each message are compared (cosine) with every class's centroid:
//   - words: normalised, lightly stemmed unigrams (stop words of the five languages dropped) and bigrams;
//   - characters: 3- to 5-grams inside words, which keep typos ("implemnt"), compounds ("testcases") and inflections
//     in other languages ("Testfälle", "pruebas") close.
// What is asked outweighs what it is about: each class may name `asks:` (phrases such as "acceptance criteria",
// "fix", "test cases", "status", "Fehler", "revisar"): a message that contains one gets ASK_BONUS on that class and
// counts that as full evidence. A pasted stack trace or log line becomes the token `stacktrace`, and a bug's symptom
// told without a bug word ("doesn't persist", "keeps logging me out", "no carga", "ne réagit pas"; cues.ts) the token
// `symptom`: both are asks of bug_triage.
// Small talk by its frame (cues.ts): a short message that thanks, praises, laughs or gives a verdict on past work ("nice
// work on the test plan!", "haha that outage was wild", "no errors since the hotfix 🎉") and neither asks for anything
// nor reports a symptom is `none` (confidence FRAME_CONFIDENCE), whatever workflow artifact it names (only when the
// classifier has learnt the class `none`). Thanks around a request or a symptom ("thanks! please write the acceptance
// criteria") is politeness: small talk's asks then count for nothing.
//
// Confidence scale (0..1), from the best score s1, the runner-up s2 and the message's vocabulary:
//   confidence = strength × separation × familiarity × evidence, where
//     strength    = min(1, s1 / typical)   typical = median best score of the training examples, each left out of its
//                                          class centroid, so an ordinary in-domain message reaches ~1;
//     separation  = 0.5 + 0.5 × (s1 - s2) / s1   an even split between two classes halves the confidence;
//     familiarity = min(1, seen / 0.5)     seen = idf-weighted share of the message's content words that occur in any
//                                          example (question words and generic verbs excluded);
//     evidence    = min(1, n / 2)²         n = distinct content words shared with the chosen class's examples (an ask
//                                          counts 2; for `none` one word is enough: "thanks!"); one word alone
//                                          ("payments") quarters the confidence.
//   Below NO_INTENT_BELOW nothing resembles anything: intent `none`, confidence 0..0.05.
// `alternatives` ranks the templates (never `none`) with their own strength and evidence: the planner offers the likeliest
// as buttons when it is unsure.
// Deterministic: the same training data and text always give the same result (ties break by class order).
import { createRequire } from 'node:module';
import { z } from 'zod';
import { cuesOf, symptom, type Cues } from './cues';

export interface IntentResult {
  intent: string;
  /** 0..1, see the scale above. */
  confidence: number;
  /** Human readable, e.g. 'matched "login page", "sso" (feature_delivery examples)'. */
  reason: string;
  source: 'local' | 'llm';
  /** Local answers only: the templates (never `none`) by score, best first, each with its strength (0..1, s / typical)
   * and the evidence it has (distinct shared content words, an ask counting 2). */
  alternatives?: { intent: string; strength: number; evidence: number }[];
}

export interface IntentClassifier {
  classify(text: string): IntentResult;
}

/** The intent of small talk, and of messages where no template fits. */
export const NO_INTENT = 'none';
/** Below this confidence the local answer should be checked by the LLM stage (classifyWithLlm). */
export const RECOMMENDED_LLM_THRESHOLD = 0.3;
/** Below this confidence the local classifier itself answers NO_INTENT. */
export const NO_INTENT_BELOW = 0.05;

const WORD_WEIGHT = 0.75;
const CHAR_WEIGHT = 1 - WORD_WEIGHT;
/** Messages whose content words are at least this share familiar (idf-weighted) keep their full confidence. */
const FAMILIAR_SHARE = 0.5;
const CLASS_SPREAD = 2;
/** A message needs this many distinct content words in common with a template to reach full confidence. */
const EVIDENCE_WORDS = 2;
/** Added to a class's score when the message contains one of its asks (two or more: 1.5 ×). */
const ASK_BONUS = 0.25;
/** Small talk's asks (greetings, thanks) count fully up to this many content words, proportionally less beyond. */
const SHORT_MESSAGE = 6;
/** A social frame (thanks, praise, laughter, a verdict) with no request makes a message of at most this many content
 *  words small talk; a longer message is more likely a request wrapped in politeness, and is classified as usual. */
const FRAME_MAX_WORDS = 14;
/** The confidence of small talk recognised by its frame: above RECOMMENDED_LLM_THRESHOLD (the model is not asked). */
export const FRAME_CONFIDENCE = 0.6;

// Dropped from unigrams. Question words and negations are kept: they carry intent ("where are we", "not working").
const STOP = new Set(
  `a an the and or but if then so to of for on in at by with from into onto about as is are was were be been being am do does did
  i me my we us our you your he she it its they them their this that these those there here some any all each every
  can could would will shall may might must please pls plz team folks guys just also
  get got let lets us up out over very really too etc eg ie like via per one two new rolecall`.split(/\s+/),
);
// Other languages' stop words (stopwords-iso), less the words that carry intent: "estado" (status), greetings and
// thanks (small talk is a class), question words (kept as features like English ones).
const KEEP = new Set(`estado ponto punto merci obrigado bom dia gut wie wo où dónde onde cómo como qual cuál qué que quoi was
  comment hola hallo bonjour olá gracias danke`.split(/\s+/));
const stopwordsIso = z.record(z.string(), z.array(z.string())).parse(createRequire(import.meta.url)('stopwords-iso'));
for (const lang of ['de', 'es', 'fr', 'pt']) for (const w of stopwordsIso[lang] ?? []) if (!KEEP.has(w)) STOP.add(w);
// Kept as features, but they do not make a message familiar on their own ("what's for lunch", "can you help me"):
// question words, negations and the generic verbs of a request.
const QUESTION = new Set(`what where when how why which who whose not cannot should help need want good
  wie wo où dónde onde cómo como qual cuál qué que quoi was comment`.split(/\s+/));
// Dropped before building bigrams: only the weakest words.
const LIGHT_STOP = new Set(`a an the to of for on in at by with and or my our your their this that these those please pls plz rolecall
  der die das den dem des ein eine einen und oder für von zu mit el la los las un una y o de del para con le les des et du pour avec o a os as um uma e do da dos das para com`.split(/\s+/));

// A few spellings and shorthands people use in chat, mapped to one form (applied after lower-casing, before stemming).
const CANON: Record<string, string> = {
  summarise: 'summarize', summarised: 'summarize', summarising: 'summarize', summary: 'summarize', summaries: 'summarize',
  prioritise: 'prioritize', centre: 'center', cancelled: 'canceled', u: 'you', ur: 'your', r: 'are', wont: 'not', cant: 'cannot',
  doesnt: 'not', dont: 'not', isnt: 'not', arent: 'not', didnt: 'not', never: 'not', testcases: 'test cases', testcase: 'test case',
  tests: 'test', testing: 'test', tested: 'test', testers: 'tester', e2e: 'end to end', uat: 'user acceptance test', ac: 'acceptance criteria',
  reqs: 'requirements', req: 'requirement', specs: 'spec', prd: 'requirements document', qa: 'qa', whats: 'what is', hows: 'how is',
  arch: 'architecture', acs: 'acceptance criteria', tldr: 'summarize', recap: 'summarize', rundown: 'summarize', svc: 'service',
  thx: 'thanks', ty: 'thanks', tks: 'thanks', cheers: 'thanks', pls: 'please',
  wheres: 'where is', thats: 'that is', its: 'it is', im: 'i am', weve: 'we have', theyre: 'they are', were: 'were',
};

/** Light suffix stripping; the same on both sides (examples and messages), so it only has to be consistent. */
export function stem(w: string): string {
  if (w.length <= 3 || /\d/.test(w)) return w;
  let s = w;
  if (s.endsWith('ies') && s.length > 4) s = s.slice(0, -3) + 'y';
  else if (s.endsWith('sses')) s = s.slice(0, -2);
  else if (s.endsWith('s') && !/(ss|us|is)$/.test(s)) s = s.slice(0, -1);
  for (const [suf, rep] of [['ational', 'ate'], ['ization', 'ize'], ['ation', 'ate'], ['ments', 'ment'], ['ness', ''], ['ingly', ''], ['edly', ''], ['ly', '']] as const) {
    if (s.endsWith(suf) && s.length - suf.length >= 4) {
      s = s.slice(0, -suf.length) + rep;
      break;
    }
  }
  for (const suf of ['ing', 'ed']) {
    if (s.endsWith(suf) && s.length - suf.length >= 3 && /[aeiouy]/.test(s.slice(0, -suf.length))) {
      s = s.slice(0, -suf.length);
      if (/([^aeiouylsz])\1$/.test(s)) s = s.slice(0, -1); // shipping -> shipp -> ship
      else if (/[^aeiou][aeiou][^aeiouwxy]$/.test(s) && s.length <= 4) s += 'e'; // saving -> sav -> save
      break;
    }
  }
  if (s.endsWith('e') && s.length > 4) s = s.slice(0, -1); // release/releas, update/updat: one form with or without -e
  return s;
}

interface Token {
  stem: string;
  surface: string;
}

/** A pasted stack trace or log line: Python/Java/JS/Go/.NET traces, "SomethingError:", SQL error codes, "panic:". */
const TRACE = /Traceback \(most recent call last\)|^\s+at [\w.$<>\[\] ]+[(:]|^\s+File "[^"]+", line \d+|\b[A-Z]\w*(?:Error|Exception)\b|\bpanic:|\bgoroutine \d+|\bERROR \d{3,}|\bE[A-Z]{4,}\b|\bORA-\d+|\bSQLSTATE/m;
const MAX_TEXT = 4000;
/** The token a bug's symptom adds (cues.ts); an ask of bug_triage. */
const SYMPTOM = 'symptom';

/** Chat clean-up: mentions, links, emoji, channel refs; CamelCase split; lower case; canonical spellings; HTTP error
 *  codes as one token; a pasted stack trace adds the token `stacktrace`, a bug's symptom the token `symptom` (not for
 *  an ask's own words: `markers` false). Only the first MAX_TEXT characters count. */
export function tokenize(text: string, markers = true): Token[] {
  text = text.slice(0, MAX_TEXT);
  const trace = markers && TRACE.test(text);
  const ill = markers ? symptom(text) : undefined;
  const cleaned = text
    .replace(/<[@#!][^>]*>/g, ' ') // Slack <@U123>, <#C123|chan>, <!here>
    .replace(/<https?:[^>]*>|https?:\/\/\S+/g, ' ')
    .replace(/:[a-z0-9_+-]+:/gi, ' ') // :emoji:
    .replace(/@[\w.-]+/g, ' ') // @mentions (Teams / plain text)
    .replace(/\p{Extended_Pictographic}/gu, ' ')
    .replace(/(\p{Ll})(\p{Lu})/gu, '$1 $2') // KeyError -> Key Error, NullPointerException -> Null Pointer Exception
    .toLowerCase()
    .replace(/[’‘`]/g, "'")
    .replace(/(\w)'(\w)/g, '$1$2') // don't -> dont, what's -> whats
    .replace(/\b[45]\d\d(s)?\b/g, ' httperror ');
  const out: Token[] = [];
  for (const raw of cleaned.split(/[^\p{L}\p{N}]+/u)) {
    if (!raw) continue;
    const mapped = CANON[raw] ?? raw;
    for (const w of mapped.split(' ')) out.push({ stem: stem(w), surface: raw });
  }
  if (trace) out.push({ stem: 'stacktrace', surface: 'stack trace' });
  if (ill) out.push({ stem: SYMPTOM, surface: ill });
  return out;
}

type Vec = Map<string, number>;

interface Features {
  word: Vec;
  char: Vec;
  /** feature -> the words of the message it came from, for the reason. */
  surface: Map<string, string>;
}

function extract(text: string): Features {
  const tokens = tokenize(text);
  const word: Vec = new Map();
  const char: Vec = new Map();
  const surface = new Map<string, string>();
  const add = (v: Vec, k: string, n = 1) => v.set(k, (v.get(k) ?? 0) + n);
  for (const t of tokens) {
    if (t.stem === SYMPTOM) {
      surface.set(t.stem, t.surface); // an ask only (bug_triage's), not a feature: its words are the message's own
      continue;
    }
    if (STOP.has(t.surface) || STOP.has(t.stem) || t.stem.length < 2) continue;
    surface.set(t.stem, t.surface);
    add(word, t.stem);
    const padded = ` ${t.surface} `;
    for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= padded.length; i++) add(char, padded.slice(i, i + n));
  }
  const light = tokens.filter((t) => !LIGHT_STOP.has(t.surface) && t.stem !== SYMPTOM);
  for (let i = 0; i + 1 < light.length; i++) {
    const k = `${light[i]!.stem} ${light[i + 1]!.stem}`;
    add(word, k);
    const [a, b] = [light[i]!.surface, light[i + 1]!.surface];
    surface.set(k, a === b ? a : `${a} ${b}`);
  }
  return { word, char, surface };
}

/**
 * Sublinear tf × idf, L2-normalised. Features never seen in training keep the highest idf in the norm (they cannot
 * match anything, so they are not stored): a message that is mostly unfamiliar words stays far from every template.
 */
function weigh(tf: Vec, idf: Map<string, number>, unseenIdf: number): Vec {
  const v: Vec = new Map();
  let norm = 0;
  for (const [k, n] of tf) {
    const w = idf.get(k);
    const x = (1 + Math.log(n)) * (w ?? unseenIdf);
    if (w !== undefined) v.set(k, x);
    norm += x * x;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (const [k, x] of v) v.set(k, x / norm);
  return v;
}

function dot(a: Vec, b: Vec): number {
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  let s = 0;
  for (const [k, x] of small) {
    const y = big.get(k);
    if (y !== undefined) s += x * y;
  }
  return s;
}

/** idf over documents (examples) times a class-spread factor: words spread over many templates ("customers") say little. */
function idfOf(docsByClass: Vec[][]): Map<string, number> {
  const df = new Map<string, number>();
  const cf = new Map<string, number>();
  let n = 0;
  for (const docs of docsByClass) {
    const seen = new Set<string>();
    for (const d of docs) {
      n++;
      for (const k of d.keys()) {
        df.set(k, (df.get(k) ?? 0) + 1);
        seen.add(k);
      }
    }
    for (const k of seen) cf.set(k, (cf.get(k) ?? 0) + 1);
  }
  const classes = docsByClass.length;
  const idf = new Map<string, number>();
  for (const [k, d] of df) idf.set(k, (Math.log((1 + n) / (1 + d)) + 1) * Math.pow(Math.log(1 + classes / cf.get(k)!) / Math.log(1 + classes), CLASS_SPREAD));
  return idf;
}

/** One class to learn: a template (or `none`), its example messages, and the phrases that name what it is asked for. */
export interface TrainingClass {
  id: string;
  examples: string[];
  asks?: string[];
}

interface Model {
  ids: string[];
  /** Per class: its asks as stem sequences, and as written (for the reason). */
  asks: { stems: string[]; text: string }[][];
  wordIdf: Map<string, number>;
  charIdf: Map<string, number>;
  unseenIdf: number;
  /** Per template: the examples' weighted vectors and their (unnormalised) sums; centroids are the normalised sums. */
  wordVecs: Vec[][];
  charVecs: Vec[][];
  wordSum: Vec[];
  charSum: Vec[];
  wordNorm2: number[];
  charNorm2: number[];
}

function sumOf(vs: Vec[]): Vec {
  const c: Vec = new Map();
  for (const v of vs) for (const [k, x] of v) c.set(k, (c.get(k) ?? 0) + x);
  return c;
}
const norm2 = (v: Vec) => {
  let s = 0;
  for (const x of v.values()) s += x * x;
  return s;
};

function fit(templates: TrainingClass[]): Model {
  const feats = templates.map((t) => t.examples.map(extract));
  const wordIdf = idfOf(feats.map((fs) => fs.map((f) => f.word)));
  const charIdf = idfOf(feats.map((fs) => fs.map((f) => f.char)));
  const unseenIdf = Math.log(1 + feats.flat().length) + 1;
  const wordVecs = feats.map((fs) => fs.map((f) => weigh(f.word, wordIdf, unseenIdf)));
  const charVecs = feats.map((fs) => fs.map((f) => weigh(f.char, charIdf, unseenIdf)));
  const wordSum = wordVecs.map(sumOf);
  const charSum = charVecs.map(sumOf);
  const asks = templates.map((t) => (t.asks ?? []).map((text) => ({ text, stems: tokenize(text, false).map((k) => k.stem) })).filter((a) => a.stems.length > 0));
  return { ids: templates.map((t) => t.id), asks, wordIdf, charIdf, unseenIdf, wordVecs, charVecs, wordSum, charSum, wordNorm2: wordSum.map(norm2), charNorm2: charSum.map(norm2) };
}

interface Scored {
  scores: number[];
  order: number[];
  word: Vec;
  surface: Map<string, string>;
  /** Share (idf-weighted) of the message's content words that occur in some template's examples. */
  coverage: number;
  /** Per class: the asks found in the message. */
  asked: string[][];
  cues: Cues;
}

/** The asks of each class that occur in the message (as contiguous stem sequences). */
function asksIn(m: Model, stems: string[]): string[][] {
  return m.asks.map((list) =>
    list.filter((a) => {
      for (let i = 0; i + a.stems.length <= stems.length; i++) if (a.stems.every((x, j) => stems[i + j] === x)) return true;
      return false;
    }).map((a) => a.text),
  );
}

/** Cosine of the message with each centroid; `without` leaves one training example out of its centroid (cheap LOO). */
function scoreVecs(m: Model, word: Vec, char: Vec, without?: { cls: number; ex: number }): number[] {
  return m.ids.map((_, i) => {
    let wd = dot(word, m.wordSum[i]!);
    let wn = m.wordNorm2[i]!;
    let cd = dot(char, m.charSum[i]!);
    let cn = m.charNorm2[i]!;
    if (without && without.cls === i) {
      const wv = m.wordVecs[i]![without.ex]!;
      const cv = m.charVecs[i]![without.ex]!;
      const wvs = dot(wv, m.wordSum[i]!);
      const cvs = dot(cv, m.charSum[i]!);
      wn = wn - 2 * wvs + norm2(wv);
      cn = cn - 2 * cvs + norm2(cv);
      wd -= dot(word, wv);
      cd -= dot(char, cv);
    }
    const w = wn > 1e-12 ? wd / Math.sqrt(wn) : 0;
    const c = cn > 1e-12 ? cd / Math.sqrt(cn) : 0;
    return WORD_WEIGHT * w + CHAR_WEIGHT * c;
  });
}

const rank = (scores: number[]) => scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b);

function score(m: Model, text: string): Scored {
  const f = extract(text);
  const word = weigh(f.word, m.wordIdf, m.unseenIdf);
  const char = weigh(f.char, m.charIdf, m.unseenIdf);
  const asked = asksIn(m, tokenize(text).map((t) => t.stem));
  // Greetings and thanks make short messages small talk; in a long message they are politeness around a request.
  const length = f.word.size ? [...f.word.keys()].filter((k) => !k.includes(' ')).length : 0;
  // Thanks or a greeting around a request for a workflow ("thanks! please write the acceptance criteria") is politeness:
  // small talk's asks count only when the message neither asks (cues.ts) for something a template names nor reports a symptom.
  const cues = cuesOf(text);
  const polite = (cues.request !== undefined || cues.symptom !== undefined) && asked.some((a, i) => a.length > 0 && m.ids[i] !== NO_INTENT);
  const smallTalkWeight = polite ? 0 : Math.min(1, SHORT_MESSAGE / Math.max(1, length));
  const bonus = (i: number) => ASK_BONUS * (asked[i]!.length >= 2 ? 1.5 : asked[i]!.length) * (m.ids[i] === NO_INTENT ? smallTalkWeight : 1);
  const scores = scoreVecs(m, word, char).map((x, i) => x + bonus(i));
  let seen = 0;
  let all = 0;
  for (const k of f.word.keys()) {
    if (k.includes(' ') || QUESTION.has(k)) continue;
    const w = m.wordIdf.get(k);
    all += w ?? m.unseenIdf;
    seen += w ?? 0;
  }
  // Inflected and compound words ("Profilbild", "pruebas") are unseen as words but familiar as character n-grams.
  let cseen = 0;
  let call = 0;
  for (const k of f.char.keys()) {
    const w = m.charIdf.get(k);
    call += w ?? m.unseenIdf;
    cseen += w ?? 0;
  }
  const coverage = Math.max(all > 0 ? seen / all : 0, call > 0 ? cseen / call : 0);
  return { scores, order: rank(scores), word, surface: f.surface, coverage, asked, cues };
}

/** Each training example scored against the model with itself left out of its template's centroid (idf kept). */
function leaveOneOut(m: Model): { cls: number; predicted: number; best: number }[] {
  const out: { cls: number; predicted: number; best: number }[] = [];
  m.ids.forEach((_, ci) => {
    m.wordVecs[ci]!.forEach((wv, ei) => {
      const scores = scoreVecs(m, wv, m.charVecs[ci]![ei]!, { cls: ci, ex: ei });
      const order = rank(scores);
      out.push({ cls: ci, predicted: order[0]!, best: Math.max(0, scores[order[0]!]!) });
    });
  });
  return out;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Distinct content words of the message that the chosen template's examples use ("can you help me" has one). */
function evidenceWords(m: Model, s: Scored, cls: number): number {
  const shared = [...s.word.keys()].filter((k) => !k.includes(' ') && !QUESTION.has(k) && (m.wordSum[cls]!.get(k) ?? 0) > 0).length;
  return shared + (s.asked[cls]!.length ? EVIDENCE_WORDS : 0);
}

/**
 * Trains the local classifier. Needs at least one class with examples; ids must be unique. A class with id `none`
 * (NO_INTENT) is small talk: it can win like any other, and is never offered as an alternative.
 */
export function trainClassifier(classes: TrainingClass[]): IntentClassifier {
  const usable = classes.filter((t) => t.examples.length > 0);
  if (!usable.length) throw new Error('trainClassifier: no template has examples');
  if (new Set(usable.map((t) => t.id)).size !== usable.length) throw new Error('trainClassifier: duplicate template ids');
  const model = fit(usable);
  const typical = typicalScore(model);

  return {
    classify(text: string): IntentResult {
      const s = score(model, text);
      const framed = smallTalkFrame(model, text, s);
      if (framed) return framed;
      const best = s.order[0]!;
      const id = model.ids[best]!;
      const s1 = Math.max(0, s.scores[best]!);
      const s2 = s.order.length > 1 ? Math.max(0, s.scores[s.order[1]!]!) : 0;
      const strength = Math.min(1, s1 / typical);
      const separation = s1 > 0 ? 0.5 + 0.5 * ((s1 - s2) / s1) : 0;
      const familiar = s.asked[best]!.length ? 1 : Math.min(1, s.coverage / FAMILIAR_SHARE);
      // Squared: one shared word ("payments") cannot start a template on its own.
      const evidence = Math.min(1, evidenceWords(model, s, best) / (id === NO_INTENT ? 1 : EVIDENCE_WORDS)) ** 2;
      const confidence = round(strength * separation * familiar * evidence);
      const alternatives = s.order
        .filter((i) => model.ids[i] !== NO_INTENT)
        .map((i) => ({ intent: model.ids[i]!, strength: round(Math.min(1, Math.max(0, s.scores[i]!) / typical)), evidence: evidenceWords(model, s, i) }));
      const asked = s.asked[best]!.slice(0, 2).map((a) => (a === SYMPTOM ? `a symptom ("${s.surface.get(SYMPTOM) ?? ''}")` : `"${a}"`));
      const matched = [...s.word]
        .map(([k, x]) => [k, x * (model.wordSum[best]!.get(k) ?? 0)] as const)
        .filter(([, c]) => c > 0)
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 3)
        .map(([k]) => `"${s.surface.get(k) ?? k}"`);
      const runnerUp = s.order.length > 1 && s2 > 0.6 * s1 ? `; close to ${model.ids[s.order[1]!]}` : '';
      if (confidence < NO_INTENT_BELOW) {
        return {
          intent: NO_INTENT,
          confidence,
          reason: s1 > 0 ? `no template fits (nearest: ${id}, score ${round(s1)})` : 'no template fits (nothing resembles any example)',
          source: 'local',
          alternatives,
        };
      }
      const what = [asked.length ? `asked for ${asked.join(', ')}` : '', matched.length ? `matched ${matched.join(', ')}` : ''].filter(Boolean).join('; ') || 'similar wording';
      const whose = id === NO_INTENT ? 'small talk examples' : `${id} examples`;
      return { intent: id, confidence, reason: `${what} (${whose}${runnerUp})`, source: 'local', alternatives };
    },
  };
}

/** Content words of the message (unigrams that are not stop words). */
const contentWords = (s: Scored) => [...s.word.keys()].filter((k) => !k.includes(' ') && k !== SYMPTOM && k !== 'stacktrace').length;

/**
 * Small talk by its frame: thanks, praise, laughter, a verdict on past work or a fix reported, in a short message that
 * asks for nothing (no please / can you / imperative / question), reports no symptom and pastes no trace. The workflow
 * words it contains are what is praised or joked about, not what is asked.
 */
function smallTalkFrame(m: Model, text: string, s: Scored): IntentResult | undefined {
  const cues = s.cues;
  if (!m.ids.includes(NO_INTENT)) return undefined; // a classifier that has not learnt small talk does not name it
  if (cues.social === undefined || cues.request !== undefined || cues.symptom !== undefined || TRACE.test(text.slice(0, MAX_TEXT))) return undefined;
  if (contentWords(s) > FRAME_MAX_WORDS) return undefined;
  return { intent: NO_INTENT, confidence: FRAME_CONFIDENCE, reason: `small talk: "${cues.social}" and no request`, source: 'local', alternatives: [] };
}

/** Median best score of the training examples, each left out of its centroid: what "in domain" looks like. */
function typicalScore(m: Model): number {
  const best = leaveOneOut(m).map((r) => r.best).sort((a, b) => a - b);
  const median = best[Math.floor(best.length / 2)] ?? 0;
  return median > 0 ? median : 1;
}

/** Leave-one-out accuracy over the training examples (a development figure that never looks at a test set). */
export function leaveOneOutAccuracy(templates: TrainingClass[]): number {
  const rows = leaveOneOut(fit(templates.filter((t) => t.examples.length > 0)));
  return rows.length ? rows.filter((r) => r.cls === r.predicted).length / rows.length : 0;
}
