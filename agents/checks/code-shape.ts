// Finds source code in prose by its shape, for roles that must not write code (or only short sketches). No rule per
// language: each line gets a score from structural features shared by programming languages (a definition keyword
// followed by a name and a bracket, a statement keyword with code after it, lines ending in `{` / `;`, calls written
// `name(`, assignments to identifiers, comparison and logical operators, arrows, diff hunks, upper-case SQL clauses),
// and code is a run of such lines, or one line dense enough on its own, or a fenced block (``` or ~~~) whose tag is a
// programming language or whose content has code lines. Fenced data (JSON, YAML, CSV, Gherkin, Mermaid, plain text)
// is not code. Each block is measured on its own.
// Invariant: these are Rolecall's own expressions, never a role author's: they run in JavaScript's engine on one line at
// a time, cut at MAX_LINE_CHARS, and each is anchored or free of ambiguous nested repetition, so the time per line is
// bounded and the whole check is linear in the number of lines (test/unit/constraints-detectors.test.ts times it).

export interface CodeBlock {
  /** 1-based line of the text where the block starts. */
  line: number;
  /** Non-blank lines of code in the block. */
  lines: number;
  fenced: boolean;
  /** The first code line, shortened, to name the block in a violation. */
  sample: string;
}

/** Longest part of a line that is scored (a minified line is code long before this). */
const MAX_LINE_CHARS = 500;
/** A line scoring this much is code on its own; a run of lines needs RUN_SCORE in total and two code lines. */
export const STRONG_LINE = 5;
const CODE_LINE = 2;
const RUN_SCORE = 5;

/** Fence tags for data and prose, not code. */
const DATA_TAGS = new Set(['', 'json', 'jsonc', 'json5', 'yaml', 'yml', 'toml', 'csv', 'tsv', 'text', 'txt', 'plaintext', 'plain', 'markdown', 'md', 'gherkin', 'feature', 'cucumber', 'mermaid', 'plantuml', 'puml', 'dot', 'ascii', 'diagram', 'log', 'output', 'console-output', 'http-response', 'xml-data']);

const DEFINITION = /^(?:(?:export|public|private|protected|internal|static|async|abstract|final|override|sealed|open|pub(?:\([a-z]+\))?|default|inline|virtual|unsafe|extern)\s+)*(?:def|fn|func|fun|function\*?|sub|proc|class|interface|struct|enum|trait|impl|record|module|namespace|object|type)\s+[A-Za-z_$][\w$]*[?!]?\s*(?:[(<:{=[]|\bextends\b|\bimplements\b|$)/;
/** A function definition inside a line (after a colon or in a sentence): def/fun/func/fn/function, a name, `(`. */
const INLINE_DEFINITION = /(?:^|\s)(?:def|fun|func|fn|function)\s+[A-Za-z_$][\w$]*[?!]?\s*\(/;
const MODIFIED = /^(?:export|public|private|protected|internal|static|async|override|final|abstract|readonly|const|let|var|val|auto|void|int|long|float|double|bool|boolean|char|string|String|byte|short|unsigned|decimal)\s+(?:[\w$<>[\],.?]+\s+){0,4}[A-Za-z_$][\w$]*\s*(?:[(=;:{[]|=>)/;
const DECLARATION = /\b(?:const|let|var|val|my|auto)\s+[A-Za-z_$][\w$]*\s*(?::\s*[\w$<>[\],. |]+)?\s*=[^=]/;
const C_CONTROL = /^(?:}\s*)?(?:if|for|foreach|while|switch|catch|else\s+if|elif|unless|until|with|using|lock|synchronized)\s*\(.*\)\s*(?:\{|:|then|do)?\s*$/;
const PY_CONTROL = /^(?:if|elif|else|for|while|with|try|except|finally|match|case)\b[^\n]*:\s*$/;
const STATEMENT = /^(?:return|throw|raise|yield|await|echo|puts|print|printf|println!?|console\.\w+|assert|delete|go|defer|del)\b\s*[\w"'(\[{!$@.:-]/;
const STRUCTURAL = /^(?:[}\])]+[;,)]*|end|fi|done|esac|end\s+(?:if|def|class|sub|function)|\}\s*else\s*\{|else\s*:|else|begin|do|then)$/;
const CALL = /[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*!?\(/g;
const BARE_CALL = /^(?:await\s+|new\s+)?[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)*!?\(.*\)\s*;?$/;
const ASSIGNMENT = /^[A-Za-z_$@][\w$]*(?:(?:\.|->|::)[\w$]+|\[[^\]]*\])*\s*(?:[-+*/%|&]?=|:=|\?\?=)\s*[^=\s]/;
const OPERATORS = /===|!==|==|!=|<=|>=|&&|\|\||\+\+|--(?=[\w$])|\+=|-=|::|<<|>>|\?\?|\?\./g;
const SQL = /\b(?:SELECT\b[^;\n]*\bFROM|INSERT\s+INTO|UPDATE\s+[\w."]+\s+SET|DELETE\s+FROM|CREATE\s+(?:TABLE|INDEX|VIEW|UNIQUE\s+INDEX)|ALTER\s+TABLE|DROP\s+(?:TABLE|INDEX))\b/;
const DIFF_HEADER = /^(?:@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@|diff --git |index [0-9a-f]{6,}\.\.[0-9a-f]{6,}|(?:---|\+\+\+) (?:a|b)\/)/;
const JSX = /<[A-Z][\w.]*(?:\s[^<>]*)?>[^<]*<\/[A-Z][\w.]*>|\s(?:onClick|onChange|className)=\{/;
const FENCE = /^(`{3,}|~{3,})\s*([A-Za-z0-9_+#.-]*)[^`~]*$/;
const PROSE_WORDS = /\b(?:the|a|an|and|or|to|of|is|are|be|we|they|it|this|that|then|when|so|with|for|on|in|as|by|should|must|will|can|users?|customers?)\b/gi;

/** Strips what renderOutput adds in front of a value (indent, bullet, "*Field:*"), keeping the value's own indent. */
function valueOf(raw: string): { body: string; indent: number } {
  let s = raw.length > MAX_LINE_CHARS ? raw.slice(0, MAX_LINE_CHARS) : raw;
  const rendered = /^\s*(?:•\s+)?(?:\*[^*\n]{1,80}:\*\s?)?/.exec(s);
  if (rendered && rendered[0].trim()) s = s.slice(rendered[0].length);
  const indent = /^[ \t]*/.exec(s)![0].replace(/\t/g, '    ').length;
  return { body: s.trim(), indent };
}

/** How much a line looks like code (0: prose). */
export function lineScore(body: string): number {
  if (!body) return 0;
  if (DIFF_HEADER.test(body)) return STRONG_LINE;
  if (/^<\?php\b/.test(body)) return STRONG_LINE;
  let line = body;
  if (/^[+-](?![+-])\s*\S/.test(line) && !/^[-+]\s+[A-Za-z][a-z]+\s+[a-z]/.test(line)) line = line.slice(1).trim(); // a diff line
  let score = 0;
  if (DEFINITION.test(line)) score += 3;
  else if (MODIFIED.test(line)) score += 3;
  else if (INLINE_DEFINITION.test(line)) score += 3;
  if (DECLARATION.test(line)) score += 3;
  if (C_CONTROL.test(line)) score += 3;
  else if (PY_CONTROL.test(line) && /[.()<>=[\]]|\b(?:in|not|is|and|or)\b|^(?:else|try|finally)\s*:/.test(line)) score += 2;
  if (STATEMENT.test(line) && /[();.[\]{}=<>"']/.test(line)) score += 2;
  if (STRUCTURAL.test(line)) score += 1;
  if (BARE_CALL.test(line)) score += 2;
  if (ASSIGNMENT.test(line) && /[;(."'[{]|\b\d+\b|\btrue\b|\bfalse\b|\bnull\b|\bnil\b|\bNone\b/.test(line)) score += 2;
  if (SQL.test(line)) score += 4;
  if (JSX.test(line)) score += 2;
  if (/\$[a-z_]\w*\s*=/.test(line)) score += 2;
  if (/=>/.test(line) && /[\w)]\s*=>/.test(line)) score += 2;
  if (/\w\)\s*(?::\s*[A-Z][\w<>[\]]*\s*)?(?:=|\{|->)/.test(line)) score += 1; // ) {   ): Type =   ) ->
  score += Math.min(2, (line.match(CALL) ?? []).length);
  score += Math.min(2, (line.match(OPERATORS) ?? []).length);
  if (/[{;]\s*$/.test(line) && /[()=]/.test(line)) score += 1;
  if (/\{[^{}]*;[^{}]*\}/.test(line)) score += 1;
  const words = (line.match(/[A-Za-z]+/g) ?? []).length;
  const prose = (line.match(PROSE_WORDS) ?? []).length;
  if (words >= 6 && prose / words > 0.3 && score < STRONG_LINE + 2) score -= 3;
  return Math.max(0, score);
}

/** The blocks of code in `text`, each measured on its own. */
export function codeBlocks(text: string): CodeBlock[] {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  let run: { line: number; lines: number; score: number; strong: boolean; sample: string; indent: number } | undefined;
  const endRun = () => {
    if (run && (run.strong || (run.lines >= 2 && run.score >= RUN_SCORE))) blocks.push({ line: run.line, lines: run.lines, fenced: false, sample: run.sample });
    run = undefined;
  };
  let blank = 0;
  for (let i = 0; i < lines.length; i++) {
    const { body, indent } = valueOf(lines[i]!);
    const fence = FENCE.exec(body);
    if (fence) {
      endRun();
      const close = fence[1]!;
      const tag = fence[2]!.toLowerCase();
      let j = i + 1;
      const content: string[] = [];
      for (; j < lines.length; j++) {
        const b = valueOf(lines[j]!).body;
        if (b.startsWith(close[0]!.repeat(close.length)) && /^[`~]+$/.test(b)) break;
        content.push(lines[j]!);
      }
      const block = fencedBlock(tag, content, i + 1);
      if (block) blocks.push(block);
      i = j;
      continue;
    }
    if (!body) {
      blank++;
      if (blank > 1) endRun();
      continue;
    }
    blank = 0;
    const score = lineScore(body);
    const continues = run !== undefined && (score >= 1 || indent > run.indent);
    if (score >= CODE_LINE || continues) {
      run ??= { line: i + 1, lines: 0, score: 0, strong: false, sample: body.slice(0, 60), indent };
      run.lines++;
      run.score += score;
      run.strong ||= score >= STRONG_LINE;
    } else {
      endRun();
    }
  }
  endRun();
  return blocks;
}

function fencedBlock(tag: string, content: string[], line: number): CodeBlock | undefined {
  const bodies = content.map((l) => valueOf(l).body).filter(Boolean);
  if (!bodies.length) return undefined;
  const sample = bodies[0]!.slice(0, 60);
  if (!DATA_TAGS.has(tag)) return { line, lines: bodies.length, fenced: true, sample };
  if (tag !== '' || isJson(content.join('\n'))) return undefined; // declared or valid data, prose or a diagram
  // No tag: code when its lines look like code (a fence lowers the bar to one code line).
  const scores = bodies.map(lineScore);
  return scores.some((s) => s >= CODE_LINE + 1) || scores.filter((s) => s >= CODE_LINE).length >= 2 ? { line, lines: bodies.length, fenced: true, sample } : undefined;
}

function isJson(s: string): boolean {
  const t = s.trim();
  if (!/^[[{]/.test(t)) return false;
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
}
