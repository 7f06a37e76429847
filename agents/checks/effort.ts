// Finds effort and schedule estimates in prose ("two sprints", "~3 weeks", "8 SP", "10 dev-days", "40 hours") for roles
// whose job is not to estimate. A sentence is an estimate when it has an amount of an effort unit (story points,
// person/dev/man-days …) or an amount of time together with a cue of estimating (take, need, estimate, ship in, of
// work, about, ~ …), and the amount is not a time reference (the last 3 sprints, every 2 weeks, after 24 hours, …).
// Invariant: JavaScript regular expressions on one sentence at a time, cut at MAX_SENTENCE_CHARS, without ambiguous
// nested repetition: the time is linear in the text.

export interface EffortHit {
  /** The amount and unit that was found, as written. */
  match: string;
}

const MAX_SENTENCE_CHARS = 600;

const NUMBER_WORDS = 'one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|a\\s+couple\\s+(?:of\\s+)?|a\\s+few|several|half\\s+a|a|an';
const AMOUNT = `(?:~|≈|±|about\\s+|around\\s+|approx\\.?\\s*|roughly\\s+)?(?:\\d+(?:[.,]\\d+)?(?:\\s*(?:-|–|—|to|or)\\s*\\d+(?:[.,]\\d+)?)?|(?:${NUMBER_WORDS})(?:\\s*(?:-|–|to|or)\\s*(?:${NUMBER_WORDS}))?)`;
/** Units that only ever measure effort. */
const EFFORT_UNIT = '(?:story[\\s-]?points?|(?:person|man|woman|people|dev|developer|engineer|engineering|team|working|work|ideal)[\\s-]?(?:hours?|days?|weeks?|months?|years?)|FTEs?)';
/** Units of time (or of size) that measure effort when the sentence estimates. */
const TIME_UNIT = '(?:hours?|hrs?|days?|weeks?|wks?|months?|sprints?|iterations?|quarters?|points?|pts)';

const EFFORT_AMOUNT = new RegExp(`(?<![\\w.])${AMOUNT}\\s*${EFFORT_UNIT}(?![\\w])`, 'i');
const STORY_POINTS_ABBR = new RegExp(`(?<![\\w.])${AMOUNT}\\s*SP\\b`); // upper-case SP only
const TIME_AMOUNT = new RegExp(`(?<![\\w.])${AMOUNT}\\s*${TIME_UNIT}(?![\\w])|(?<![\\w.])\\d+(?:[.,]\\d+)?(?:h|d|w)\\b`, 'gi'); // 16h, 3d, 2w: digits only
/** Words that make a sentence with an amount of time an estimate. */
const CUES = /\b(?:estimat\w*|effort|takes?|taking|took|will\s+need|needs?|require[sd]?|budget(?:ed)?|siz(?:e|ed|ing)|ship(?:ped|ping)?|deliver(?:ed|y)?|done\s+in|complete[d]?\s+in|finish(?:ed)?\s+in|ready\s+in|build\s+in|implement(?:ed)?\s+in|ETA|timeline|duration|of\s+work|worth\s+of|expect(?:ed)?|roughly|approx\w*|about|around|another|forecast|velocity|capacity)\b|~|≈/i;
/** Words just before an amount that make it a time reference, not an estimate. */
const REFERENCE_BEFORE = /\b(?:last|past|previous|prior|recent|first|next|every|each|per|once|twice|after|older\s+than|idle\s+for|kept\s+for|retained\s+for|retention\s+of|expires?\s+(?:in|after)|valid\s+for|up\s+to|since|within|over|for|ago)\s*$/i;
const REFERENCE_AFTER = /^\s*(?:ago|old|of\s+(?:history|data|logs|retention|inactivity)|later|before\s+(?:the|it|a)|after\s+(?:the|it|a))\b/i;

/** The estimates in `text` (at most `limit`). */
export function findEstimates(text: string, limit = 5): EffortHit[] {
  const hits: EffortHit[] = [];
  for (const raw of sentences(text)) {
    const s = raw.length > MAX_SENTENCE_CHARS ? raw.slice(0, MAX_SENTENCE_CHARS) : raw;
    const hit = estimateIn(s);
    if (hit) hits.push(hit);
    if (hits.length >= limit) break;
  }
  return hits;
}

function estimateIn(s: string): EffortHit | undefined {
  for (const re of [EFFORT_AMOUNT, STORY_POINTS_ABBR]) {
    const m = re.exec(s);
    if (m && !isReference(s, m.index, m[0])) return { match: m[0].trim() };
  }
  if (!CUES.test(s)) return undefined;
  TIME_AMOUNT.lastIndex = 0;
  for (let m = TIME_AMOUNT.exec(s), n = 0; m && n < 20; m = TIME_AMOUNT.exec(s), n++) {
    if (!isReference(s, m.index, m[0])) return { match: m[0].trim() };
  }
  return undefined;
}

function isReference(s: string, at: number, match: string): boolean {
  const before = s.slice(Math.max(0, at - 40), at);
  if (REFERENCE_BEFORE.test(before) && !/\b(?:within|for|over|up\s+to|next)\s*$/i.test(before)) return true;
  // "within", "for", "over", "next" are neutral: "ship within 3 weeks" estimates, "idle for 30 days" does not
  if (/\b(?:within|for|over|up\s+to|next)\s*$/i.test(before) && !/\b(?:estimat\w*|takes?|taking|need\w*|ship\w*|deliver\w*|done|complete\w*|finish\w*|ready|build|implement\w*|ETA|of\s+work|effort)\b/i.test(before)) return true;
  return REFERENCE_AFTER.test(s.slice(at + match.length, at + match.length + 40));
}

/** Sentences: split at line breaks and at . ! ? ; followed by a space (not inside 1.5). */
function sentences(text: string): string[] {
  return text.split(/\n|(?<=[.!?;])\s+/).filter((s) => /\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|couple|few|several|half|a|an)\b/i.test(s));
}
