// Cues the intent classifier reads from the shape of a message, not from its topic words, in English, German, Spanish,
// French and Portuguese:
//   - a social frame: thanks, praise, congratulations, laughter, a past-tense verdict ("was spot on", "war super",
//     "fue épico") or a note that something works again ("no errors since the hotfix");
//   - a request: please / can you / we need / an imperative at the start of a clause / a question, and their
//     equivalents in the other four languages;
//   - a symptom: how a bug is reported when no bug word is used ("doesn't save", "keeps logging me out", "still shows
//     the old price", "shows X instead of Y", "charged twice", "no carga", "ne réagit pas", "parou de chegar").
//     Negation-aware: a negated failure word ("doesn't crash anymore", "keine Fehler mehr", "nenhum erro") is a fix
//     being reported, not a symptom.
// A message in a social frame with no request and no symptom is small talk even when it names a workflow's artifact
// ("loved the test matrix", "haha that outage was wild"); the classifier answers `none` for it.
// Invariants: pure functions of the text (deterministic, no state); only the first MAX_TEXT characters are read; every
// pattern is bounded (no nested quantifiers over unbounded input), so the cost is linear in the text.

const MAX_TEXT = 4000;

/** A letter-aware word boundary (JavaScript's \b does not know accented letters). */
const B = "(?<![\\p{L}\\p{N}_'])";
const E = "(?![\\p{L}\\p{N}_])";
/** One word, for "up to n words in between" gaps. */
const W = "[\\p{L}\\p{N}'’-]{1,40}";
const gap = (n: number) => `(?:${W}\\s+){0,${n}}`;
const any = (alts: string[]) => new RegExp(`${B}(?:${alts.join('|')})${E}`, 'iu');

/** Lower case, curly apostrophes straightened, Slack mentions, links, channel refs and :emoji: codes removed. */
export function normalizeForCues(text: string): string {
  return text
    .slice(0, MAX_TEXT)
    .replace(/<[@#!][^>]*>/g, ' ')
    .replace(/<https?:[^>]*>|https?:\/\/\S+/g, ' ')
    .replace(/[’‘`]/g, "'")
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------------------------------------------------
// Social frame: thanks, praise, congratulations, laughter, a verdict on past work, "works again".

const INTENSIFIER = '(?:(?:really|so|super|very|pretty|quite|absolutely|just|totally|truly|such|pure|complete|absolute|a total|a complete|incredibly|extremely|echt|sehr|total|richtig|wirklich|voll|mega|muy|súper|re|muito|bem|mó|vraiment|très|trop|tellement|hyper)\\s+)?';
const ARTICLE = '(?:(?:a|an|the|ein|eine|un|una|une|um|uma)\\s+)?';

const VERDICT_EN = `great|fun|helpful|useful|perfect|spot on|awesome|amazing|excellent|brilliant|hilarious|funny|wild|intense|chaos|chaotic|epic|nice|solid|clear|impressive|sneaky|lifesaver|life saver|life-saver|ride|wild ride|exactly right|exactly what \\p{L}{1,40} needed|lovely|fantastic|smooth|smoothly|well|nasty one|fun one|nasty|painful|rough|brutal|insane|crazy|legendary|on point|top notch|gold|hit|blast|mess|nightmare|cool|neat|good|outstanding|superb|thorough|clean|weird one|tricky one|tough one`;
const VERDICT_DE = 'super|toll|klasse|hilfreich|lustig|perfekt|genial|chaos|spannend|witzig|großartig|gut|stark|heftig|übersichtlich|spitze|top|nützlich|brillant|der hammer|krass|wild';
const VERDICT_ES = 'útil|genial|perfecto|perfecta|épico|épica|divertido|divertida|caos|increíble|gracioso|graciosa|buenísimo|buenísima|excelente|claro|clara|bueno|buena|top|brutal|una locura|locura|un lujo|lujo';
const VERDICT_FR = 'utile|génial|géniale|parfait|parfaite|drôle|top|super|chaos|le chaos|épique|excellent|excellente|clair|claire|nickel|impeccable|incroyable|fou|folle|marrant|marrante|bien';
const VERDICT_PT = 'útil|ótimo|ótima|perfeito|perfeita|hilário|hilária|divertido|divertida|caos|incrível|show|top|claro|clara|bom|boa|excelente|sensacional|massa|demais|engraçado|engraçada';

const SOCIAL: RegExp[] = [
  // thanks, praise, congratulations
  any([
    'thanks', 'thank you', 'thank u', 'thx', 'thnx', 'ty', 'tysm', 'cheers', 'kudos', 'congrats', 'congratulations', 'props to', 'shout ?out',
    'much appreciated', 'appreciate (?:it|that|this|the|your|you)', 'well done', 'good call', 'you rock', 'you\'?re (?:a star|awesome|the best|a legend|amazing)',
    'loved', 'love (?:it|this|that|the|how|your)', 'just wanted to say', 'made my (?:day|week|boss)', 'what a (?:week|day|ride|sprint|release|launch|mess|night)',
    '(?:great|nice|good|awesome|amazing|excellent|solid|fantastic|brilliant|stellar|superb|outstanding|impressive|lovely|fine) (?:job|work|one|catch|stuff|write-?up|effort|call|going|find)',
    // German
    'danke\\p{L}{0,40}', 'vielen dank', 'merci', '(?:super|gute|tolle|klasse|starke|saubere|klasse) arbeit', '(?:gut|toll|super|klasse|stark) gemacht', 'respekt', 'glückwunsch', 'gratuliere', 'hut ab',
    // Spanish
    'gracias', 'mil gracias', '(?:buen|gran|excelente|buenísimo) trabajo', '(?:muy )?bien hecho', 'felicidades', 'felicitaciones', 'enhorabuena', 'crack', 'qué (?:máquina|crack|grande)',
    // French
    'bravo', 'félicitations', 'chapeau', '(?:beau|bon|super|excellent) (?:travail|boulot)', 'bien joué', 'trop bien',
    // Portuguese
    'obrigad[oa]', 'valeu', '(?:bom|ótimo|excelente|belo) trabalho', 'mandou bem', 'mandaram bem', 'parabéns', 'arrasou', 'arrasaram',
  ]),
  // laughter and celebration
  any(['lol', 'lmao', 'lmfao', 'rofl', 'ha(?:ha)+h?', 'he(?:he)+', 'ja(?:ja)+', 'je(?:je)+', 'mdr', 'ptdr', 'k{3,}', 'rs(?:rs)+']),
  /[😂🤣😄😆😅👏🎉🙌🥳🏆💯]/u,
  // a verdict on past work: "was spot on", "were perfect", "war super", "fue épico", "était parfait", "foi ótimo"
  new RegExp(`${B}(?:was|were|went|has been|have been|felt|turned out)\\s+${INTENSIFIER}${ARTICLE}${INTENSIFIER}(?:${VERDICT_EN})${E}`, 'iu'),
  new RegExp(`${B}(?:war|waren|lief|liefen|ist gewesen)\\s+${INTENSIFIER}(?:${VERDICT_DE})${E}`, 'iu'),
  new RegExp(`${B}(?:fue|fueron|estuvo|estuvieron|quedó|quedaron|salió)\\s+${INTENSIFIER}(?:${VERDICT_ES})${E}`, 'iu'),
  new RegExp(`${B}(?:était|étaient|c'était|a été|ont été)\\s+${INTENSIFIER}(?:${VERDICT_FR})${E}`, 'iu'),
  new RegExp(`${B}(?:foi|foram|ficou|ficaram)\\s+${INTENSIFIER}(?:${VERDICT_PT})${E}`, 'iu'),
  // a one-word verdict as its own clause: "awesome, ...", "..., top", "..., genial"
  new RegExp(`(?:^|[.!?,;:]\\s*)(?:awesome|amazing|perfect|brilliant|excellent|fantastic|sweet|cool|neat|nice|great|super|top|genial|génial|klasse|spitze|toll|show|massa|ótimo|perfeito|parfait|excelente|magnifique|incroyable|wunderbar|prima|sauber|nickel|legal)\\s*(?:[!.,]|$)`, 'iu'),
];

/** Something works again: a fix being reported, not a request. */
const RESOLVED: RegExp[] = [
  any(['works again', 'working again', 'is fixed', 'are fixed', 'got fixed', 'was fixed', 'fixed it', 'all good now', 'back to normal', 'back up', 'resolved now',
    'läuft wieder', 'geht wieder', 'funktioniert wieder', 'funciona de nuevo', 'vuelve a funcionar', 'ya funciona', 'marche à nouveau', 'remarche', 'fonctionne à nouveau',
    'voltou a funcionar', 'funciona de novo', 'já funciona']),
];

// Failure words: negated, they report a fix ("no errors since the hotfix"), not a bug.
const FAILURE = `crash\\p{L}{0,40}|errors?|fail\\p{L}{0,40}|bugs?|break\\p{L}{0,40}|broken|freez\\p{L}{0,40}|frozen|hangs?|hanging|lags?|lagging|time ?outs?|issues?|problems?|exceptions?|outages?|glitch\\p{L}{0,40}|incidents?|regressions?
  |fehler\\p{L}{0,40}|absturz|abstürze|abstürzen|stürzt|probleme?|hängt|kaputt|errores|fallos?|problemas?|cae|cuelga|roto|erreurs?|plantages?|plante|problèmes?|erros?|falhas?|travamentos?|trava|quebra`.replace(/\s+/g, '');
const NEGATOR = `no|not|never|without|zero|doesn't|does not|don't|do not|didn't|did not|won't|will not|isn't|aren't|wasn't|no longer|no more|nicht|nicht mehr|kein\\p{L}{0,40}|ya no|sin|ningún|ninguna|ninguno|ne|n'|plus|sans|aucun|aucune|plus aucun|plus aucune|não|nenhum|nenhuma|sem|nunca|jamais`;
const NEGATED_FAILURE = new RegExp(`${B}(?:${NEGATOR})\\s*(?:(?:any|more|single|real|further|new|more of the|hay|há|mais|mehr|más|y a plus d'|y a pas d'|d')\\s*){0,2}(?:${FAILURE})${E}`, 'iu');
const NEGATED_FAILURE_ALL = new RegExp(NEGATED_FAILURE.source, 'giu');
const FAILURE_WORD = new RegExp(`${B}(?:${FAILURE})${E}`, 'giu');

/** The phrase that puts the message in a social frame (thanks, praise, laughter, a verdict, "works again"), if any. */
export function socialFrame(text: string): string | undefined {
  const t = normalizeForCues(text);
  for (const r of [...SOCIAL, ...RESOLVED]) {
    const m = r.exec(t);
    if (m) return m[0].trim().replace(/^[.!?,;:]\s*/, '').replace(/[!.,]$/, '');
  }
  // Every failure word is negated: "no errors since the deploy", "keine Fehler mehr", "nenhum erro desde a correção".
  const failures = t.match(FAILURE_WORD)?.length ?? 0;
  if (failures > 0) {
    const negated = t.match(NEGATED_FAILURE_ALL)?.length ?? 0;
    if (negated >= failures) return NEGATED_FAILURE.exec(t)?.[0];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Request: what makes a message ask for something.

const IMPERATIVE = `write|draft|create|make|build|implement|add|fix|review|assess|evaluate|check|look|plan|prepare|summari[sz]e|give|send|do|run|investigate|triage|debug|tell|list|update|define|outline|spec|design|estimate|figure|compare|document|break|turn|set|let|allow|enable|support|help|analy[sz]e|verify|reproduce|repro|explain|sanity|double-check|put together|come up|map out|walk me|get me|find out|dig|
  schreib|schreibt|schreibe|erstell|erstellt|erstelle|prüf|prüft|prüfe|mach|macht|plane|plant|bau|baut|baue|fass|fasst|gib|gebt|bewerte|bewertet|analysier|analysiert|
  escribe|escriban|prepara|preparen|revisa|revisen|haz|hagan|arma|dame|danos|crea|creen|agrega|añade|evalúa|evalúen|
  rédige|rédigez|écris|écrivez|prépare|préparez|fais|faites|ajoute|ajoutez|évalue|évaluez|vérifie|vérifiez|donne|donnez|
  escreve|escreva|prepara|revisa|faz|faça|cria|crie|adiciona|adicione|avalia|avalie|manda|passa`.replace(/\s+/g, '');

const REQUEST: RegExp[] = [
  any([
    'please', 'pls', 'plz', 'pleaase', '(?:can|could|would|will) (?:you|u|ya|we|someone|somebody|anyone|rolecall)', 'need(?:s|ed)? (?:to|a|an|the|some|you|your|help|it|this|that|them)',
    'we need', 'i need', 'we want', 'i want', 'we\'d like', 'i\'d like', 'would like', 'would love', 'let\'s', 'how about', 'what about', 'next up', 'next step', 'as well', 'also do',
    'should be able', 'should (?:we|i)', 'shall we', 'any chance', 'is it possible', 'do we have', 'mind (?:doing|writing|checking|taking)', 'up next', 'to-do',
    // German
    'bitte', 'kannst du', 'könntest du', 'könnt ihr', 'können wir', 'könnten wir', 'kannst', 'brauch\\p{L}{0,40}', 'bräuchten', 'benötig\\p{L}{0,40}', 'wir wollen', 'ich will', 'ich möchte', 'wir möchten', 'sollten wir', 'sollen wir', 'wäre (?:gut|toll|super|schön)',
    // Spanish
    'por favor', 'porfa', 'puedes', 'podrías', 'podéis', 'pueden', 'podemos', 'necesit\\p{L}{0,40}', 'hace falta', 'queremos', 'quiero', 'quisiera', 'me gustaría', 'nos gustaría',
    // French
    "s'il te plaît", "s'il vous plaît", 'stp', 'svp', 'peux-tu', 'pouvez-vous', 'tu peux', 'vous pouvez', 'pourrais-tu', 'pourriez-vous', 'pourrait-on', 'il faut', 'il faudrait', 'il nous faut',
    'on a besoin', "j'ai besoin", "besoin d'?", 'on veut', 'je veux', 'nous voulons', 'on voudrait', 'je voudrais', 'nous voudrions',
    // Portuguese
    'pode', 'podes', 'poderia', 'podem', 'preciso', 'precisamos', 'precisa', 'queremos', 'quero', 'gostaria', 'gostaríamos', 'me (?:dá|passa|manda)',
  ]),
  // a question, with or without its question mark ("how did the release go", "wie lief die Migration")
  /\?/,
  new RegExp(`(?:^|[.!,;:\\n]\\s*)(?:(?:thanks|thx|ok|okay|btw|also|and|so|hey|hi),?\\s+)?(?:how|what(?! a )|where|when|why|which|who|is|are|do|does|did|has|have|any|wie|was|wo|wann|warum|welche\\p{L}{0,2}|gibt es|cómo|qué|dónde|cuándo|por qué|cuál|cuáles|hay|comment|quoi|où|quand|pourquoi|quel|quelle|quels|quelles|est-ce|como|o que|onde|quando|qual|quais|tem)${E}`, 'iu'),
  // "now the test plan", "jetzt noch die Testfälle", "ahora los casos de prueba": the next thing asked for
  any(['now (?:the|a|an|for|some|on to)', 'next[:,]? (?:the|a|an|for|up)', 'jetzt noch', 'noch (?:die|den|das|eine|einen|ein)', 'ahora (?:el|la|los|las|un|una)', 'maintenant (?:le|la|les|un|une)', 'agora (?:o|a|os|as|um|uma)']),
  // an imperative at the start of a clause: "write the ...", "thanks! review the ...", "Super, erstell ..."
  new RegExp(`(?:^|[.!?,;:\\n-]\\s*)(?:now\\s+|also\\s+|then\\s+|next\\s+|jetzt\\s+|noch\\s+|ahora\\s+|ahí\\s+|maintenant\\s+|agora\\s+)?(?:${IMPERATIVE})${E}`, 'iu'),
];

/** The phrase that makes the message a request (please, can you, an imperative, a question), if any. */
export function requestCue(text: string): string | undefined {
  const t = normalizeForCues(text);
  for (const r of REQUEST) {
    const m = r.exec(t);
    if (m) return m[0].trim().replace(/^[.!,;:\n-]\s*/, '') || m[0];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Symptom: a bug reported without a bug word.

/** Things software should do; negated ("doesn't save", "won't load", "not showing"), they are a symptom. */
const FUNCTION_VERB = `load|save|work|open|show|display|appear|render|persist|stick|stay|update|refresh|sync|send|arrive|start|launch|boot|respond|react|close|redirect|submit|appl(?:y|ies|ied|ying)|print|upload|download|connect|log|login|sign|play|scroll|trigger|fire|validate|match|change|delete|remove|export|import|calculate|compute|compile|run|finish|complete|return|receive|register|count|sort|filter|search|fit|resize|wrap|clear|expire|unlock|lock|paste|attach|notify|deliver|process|charge|refund|translate|accept|reach|post|reset|revert|end|include|respect|honou?r|install|generate|fetch|recogni[sz]e|detect|read|remember|hold|let|allow|toggle|switch|click|tap|type|go through|come through|show up|pop up|add up|get saved|get sent|get through|keep|resolve|populate|propagate|refresh|round|format|encode|decode|parse|scale|zoom|move|pay|charge|authenticate|authorize|verify|work properly|work correctly`;
const ING = "(?:s|es|ed|d|ing|\\p{L}ing|\\p{L}ed)?";
const EN_NEG = "(?:doesn't|does not|doesnt|don't|do not|dont|didn't|did not|didnt|won't|will not|wont|can't|cannot|can not|cant|couldn't|could not|isn't|is not|aren't|are not|wasn't|was not|weren't|were not|not|never|no longer|fails? to|failed to|failing to|unable to|refuses? to|refused to)";
const FILLER = '(?:(?:be|get|even|always|really|properly|correctly|seem to|seems to|actually|ever|been|being|getting|let me|let us|let you|let users|allow me|allow us|allow users|me|us|it|them|users|anything|any|a thing)\\s+){0,2}';

const SYMPTOM: RegExp[] = [
  // English: negated function ("doesn't persist", "won't accept", "not loading", "can't log in", "no longer arrive")
  new RegExp(`${B}${EN_NEG}\\s+${FILLER}(?:${FUNCTION_VERB})${ING}${E}(?!\\s+(?:yet|test\\p{L}{0,40}))`, 'iu'),
  // a failure in the present tense, not negated ("the export still crashes", "login keeps failing", "it hangs")
  new RegExp(`(?<!(?:not|never|no longer|n't|no more)\\s+(?:\\p{L}{1,40}\\s+)?)${B}(?:crashes|crashing|fails|failing|freezes|freezing|hangs|hanging|throws|throwing|errors out|erroring|times out|timing out|breaks|breaking|lags|lagging)${E}`, 'iu'),
  // stopped / keeps
  new RegExp(`${B}(?:stopped|stops|has stopped|have stopped|quit)\\s+(?:${W}ing|working)${E}`, 'iu'),
  new RegExp(`${B}keeps\\s+(?:on\\s+)?(?!going|improving|getting better|growing)${W}ing${E}`, 'iu'),
  // still showing the old state
  new RegExp(`${B}still\\s+(?:shows?|showing|says|saying|displays?|displaying|returns?|returning|there|happening|broken|visible|loads?|loading|appears?|appearing|uses?|using|sends?|sending|points?|pointing|gets?|getting|lists?|listing|charges?|charging|spinning|stuck|empty|blank|wrong|old|the old|on the old|not|missing)${E}`, 'iu'),
  // the wrong thing instead of the right one
  new RegExp(`${B}(?:shows|showing|showed|displays|displaying|renders|rendering|returns|returning|prints|printing|sends|sending|opens|opening|redirects|redirecting|goes|went|jumps|takes (?:me|you|us|them|users)|says|uses|picks|saves|lands|appears|comes up|loads|links|points)${E}[^.!?\\n]{0,60}${B}(?:instead of|rather than)${E}`, 'iu'),
  // duplicates
  new RegExp(`${B}(?:\\p{L}{1,40}ed|sent|shown|paid|run|made|taken|posts?|sends?|prints?|shows?|charges?|bills?|creates?|lists?|imports?|fires?|runs?|counts?|appears?|shows? up)\\s+${gap(4)}(?:twice|two times|three times|multiple times|several times|in duplicate)${E}`, 'iu'),
  any(['double[- ]?(?:charged|billed|booked|posted|counted|submitted)', 'charged double', 'duplicated', 'duplicate (?:rows|entries|records|emails|orders|charges|notifications|messages)']),
  // a wrong state
  new RegExp(`${B}(?:is|are|was|were|looks?|seems?|comes? back|came back|comes? out|shows? up|turns? up|ends? up|gets?|got)\\s+(?:always\\s+|still\\s+|now\\s+|again\\s+|completely\\s+|totally\\s+|all\\s+)?(?:wrong|incorrect|off by|broken|empty|blank|stale|outdated|garbled|corrupted|corrupt|truncated|cut off|greyed out|grayed out|lost|gone|out of sync|null|undefined|nan|misaligned|overlapping|unresponsive|reset|wiped|ignored|swallowed|dropped)${E}`, 'iu'),
  any(['disappear(?:s|ed|ing)?', 'vanish(?:es|ed|ing)?', 'goes blank', 'went blank', 'turns blank', 'resets (?:to|on|after|when|every)', 'gets reset', 'reverts? to', 'jumps? back', 'snaps? back', 'flicker(?:s|ing)?',
    'spins forever', 'loads forever', 'takes forever', 'never (?:loads|finishes|ends|arrives|completes|returns|shows|appears|opens|saves|sends)', 'out of sync', 'off by (?:one|a|\\d+)',
    '(?:one|a|an|1) (?:day|hour|month|year|cent|page|item|row|minute) off', '(?:logs?|logged|kicks?|kicked|signs?|signed) (?:me|us|them|you|users|people|everyone|everybody) out',
    'accepts? ' + gap(2) + '(?:empty|invalid|negative|blank|malformed|future|past|wrong)', 'garbled', 'gibberish', 'mojibake', 'weird characters', 'strange characters',
    'nothing happens', 'does nothing', 'did nothing', 'no response', 'no effect']),
  // German
  new RegExp(`${B}(?:nicht mehr|funktioniert nicht|klappt nicht|geht nicht|reagiert nicht|reagiert nicht mehr|lädt nicht|speichert nicht|öffnet nicht|startet nicht|stimmt nicht|stimmen nicht|passt nicht|immer noch|noch immer|ständig|dauernd|verschwindet|verschwinden|verschwunden|doppelt|falsch|leer)${E}`, 'iu'),
  new RegExp(`${B}nicht\\s+(?:${W}\\s+)?(?:gespeichert|angezeigt|geladen|gesendet|verschickt|übernommen|aktualisiert|synchronisiert|geöffnet|erkannt|gelöscht|berechnet|zugestellt|ausgeführt|an|auf)${E}`, 'iu'),
  new RegExp(`${B}kein\\p{L}{0,40}\\s+(?!(?:${FAILURE})${E})${gap(2)}mehr${E}`, 'iu'),
  new RegExp(`${B}(?:springt|fällt|setzt sich|stellt sich)${E}[^.!?\\n]{0,50}${B}zurück${E}|${B}bleibt${E}[^.!?\\n]{0,30}${B}(?:hängen|leer|weiß|stehen|grau)${E}|${B}hört${E}[^.!?\\n]{0,30}${B}auf${E}`, 'iu'),
  new RegExp(`${B}(?:zeigt|zeigen|kommt|kommen|erscheint|erscheinen|lädt|laden|öffnet|öffnen|schickt|sendet|landet|landen|führt|springt|speichert)${E}[^.!?\\n]{0,60}${B}(?:statt|anstatt|anstelle)${E}`, 'iu'),
  // Spanish
  new RegExp(`${B}no\\s+(?:se\\s+|me\\s+|nos\\s+|le\\s+|les\\s+)?(?:${W}\\s+)?(?:carga|cargan|guarda|guardan|funciona|funcionan|abre|abren|aparece|aparecen|muestra|muestran|responde|responden|reacciona|llega|llegan|envía|envían|actualiza|actualizan|sincroniza|deja|permite|hace nada|pasa nada|termina|inicia|arranca|conecta|descarga|sube|imprime|calcula|cuadra|cuadran|coincide|coinciden|guardó|cargó|llegó|llegaron|funcionó|abrió|aplica|aplican|respeta|borra|cierra)${E}`, 'iu'),
  new RegExp(`${B}(?:ya no)\\s+(?!(?:hay\\s+|tenemos\\s+|sale\\s+|da\\s+)?(?:${FAILURE})${E})`, 'iu'),
  new RegExp(`${B}(?:se queda\\p{L}{0,40}|se quedó|se quedan)\\s+(?:cargando|en blanco|colgad\\p{L}{0,40}|pegad\\p{L}{0,40}|trabad\\p{L}{0,40}|congelad\\p{L}{0,40}|pensando|vací\\p{L}{0,40})${E}|${B}sigu\\p{L}{1,40}\\s+(?:mostrando|apareciendo|cargando|saliendo|enviando|cobrando|llegando)${E}|${B}dej(?:a|ó|an|aron) de${E}|${B}nunca (?:termina|carga|llega|abre|se guarda)${E}|${B}dos veces${E}|${B}duplicad\\p{L}{0,40}|${B}se (?:borra|borran|pierde|pierden|cierra|reinicia|resetea|desconfigura)${E}|${B}(?:está|están|sale|salen)\\s+(?:mal|vací\\p{L}|en blanco|desactualizad\\p{L}{0,40})${E}`, 'iu'),
  new RegExp(`${B}(?:aparece|aparecen|muestra|muestran|sale|salen|envía|carga|redirige|abre|lleva)${E}[^.!?\\n]{0,60}${B}en (?:lugar|vez) de${E}`, 'iu'),
  // French
  new RegExp(`${B}(?:ne\\s+(?:se\\s+|s'|me\\s+|m'|nous\\s+)?|n')(?!(?:sais|sait|savons|savez|pense|pensons|crois|croyons|veux|voulons|voulez|faut|fallait|a|ai|as|avons|avez|ont|est|sont|suis|comprends|comprenons|connais|dois|doit|doivent|devons|devrait|y)${E})(?!(?:${FAILURE})${E})${W}\\s+(?:plus|pas|rien|jamais)${E}`, 'iu'),
  new RegExp(`${B}(?:n'est|ne sont|n'était|n'étaient)\\s+(?:pas|plus|jamais)\\s+(?:${W}\\s+)?\\p{L}{1,40}(?:é|ée|és|ées|is|ise|it|ite|u|ue|us|ues)${E}`, 'iu'),
  new RegExp(`${B}rest\\p{L}{0,40}\\s+(?:bloqué\\p{L}{0,40}|blanc|blanche|vide|figé\\p{L}{0,40}|coincé\\p{L}{0,40}|grisé\\p{L}{0,40})${E}|${B}continu\\p{L}{0,40} (?:à|de) (?:afficher|envoyer|charger|planter|tourner)${E}|${B}affich\\p{L}{0,40} toujours${E}|${B}toujours (?:affiché|l'ancien|l'ancienne|le même|la même|les anciens|vide)${E}|${B}deux fois${E}|${B}en double${E}|${B}doublon\\p{L}{0,40}|${B}se (?:déconnecte|ferme|bloque|vide|réinitialise)${E}|${B}dispar\\p{L}{1,40}|${B}arrêt\\p{L}{0,40} de${E}|${B}tourne dans le vide${E}`, 'iu'),
  new RegExp(`${B}(?:affiche\\p{L}{0,40}|envoie\\p{L}{0,40}|redirige\\p{L}{0,40}|ouvre\\p{L}{0,40}|montre\\p{L}{0,40}|renvoie\\p{L}{0,40}|charge\\p{L}{0,40}|mène)${E}[^.!?\\n]{0,60}${B}au lieu (?:de|d')`, 'iu'),
  // Portuguese
  new RegExp(`${B}não\\s+(?:se\\s+|me\\s+|nos\\s+)?(?:${W}\\s+)?(?:carrega|carregam|salva|salvam|é salvo|é salva|são salvos|são salvas|abre|abrem|aparece|aparecem|mostra|mostram|responde|respondem|reage|chega|chegam|envia|enviam|atualiza|sincroniza|deixa|permite|faz nada|acontece nada|termina|inicia|conecta|baixa|sobe|imprime|calcula|bate|batem|funciona|funcionam|grava|gravam|fecha|loga|entra|aplica|respeita)${E}`, 'iu'),
  new RegExp(`${B}(?:par(?:ou|aram|a|am)|deix(?:ou|aram|a|am)) de${E}|${B}continua\\p{L}{0,40}\\s+(?:mostrando|aparecendo|carregando|enviando|cobrando|a mostrar|a aparecer)${E}|${B}fic\\p{L}{0,40}\\s+(?:carregando|em branco|travad\\p{L}{0,40}|parad\\p{L}{0,40}|girando|rodando|vazi\\p{L})${E}|${B}nunca (?:abre|carrega|chega|termina)${E}|${B}duas vezes${E}|${B}duplicad\\p{L}{0,40}|${B}(?:some|somem|sumiu|sumiram|desaparec\\p{L}{0,40})${E}|${B}(?:está|estão|vem|vêm|veio)\\s+(?:errad\\p{L}{0,40}|vazi\\p{L}{0,40}|em branco|desatualizad\\p{L}{0,40})${E}`, 'iu'),
  new RegExp(`${B}(?:aparece|aparecem|mostra|mostram|envia|carrega|redireciona|abre|leva)${E}[^.!?\\n]{0,60}${B}(?:em vez|ao invés) de${E}`, 'iu'),
];

const SYMPTOM_ALL = SYMPTOM.map((r) => new RegExp(r.source, 'giu'));

/** Before a symptom in the same clause, these make it a condition to check or prevent, not a report ("verify that no
 *  rows are lost", "make sure the filter doesn't reset", "sicherstellen, dass nichts verloren geht"), or negate it. */
const HYPOTHETICAL = any([
  'verify', 'verifies', 'ensure', 'ensures', 'make sure', 'makes sure', 'check that', 'check whether', 'check if', 'test that', 'test whether', 'so that', 'such that', 'to prevent', 'prevent', 'to avoid', 'avoid', 'what if', 'what happens if', 'in case',
  // a requirement, not a report: "the system should not send emails to unsubscribed users"
  'should', 'must', 'shall', 'needs to', 'need to', 'has to', 'have to', 'ought to', 'sollte', 'sollten', 'soll', 'darf', 'dürfen', 'muss', 'müssen', 'debe', 'deben', 'debería', 'deberían', 'tiene que',
  'doit', 'doivent', 'devrait', 'devraient', 'faut', 'deve', 'devem', 'deveria', 'deveriam', 'precisa', 'tem que',
  'sicherstellen', 'prüfen ob', 'damit', 'asegurar', 'asegurarse', 'verificar', 'para que', 'vérifier', "s'assurer", 'pour que', 'garantir', 'assegurar', 'para evitar', 'pour éviter', 'um zu vermeiden',
]);
/** Right before a symptom: "no rows are lost", "nothing gets reset", "none of the filters reset". */
const NEGATED_BEFORE = new RegExp(`${B}(?:no|nothing|none of|zero|never|without|kein\\p{L}{0,40}|nichts|ningún|ninguna|nada|aucun|aucune|rien|nenhum|nenhuma|nada)\\s+(?:${W}\\s+){0,2}$`, 'iu');
const CLAUSE_START = new RegExp(`[.!?;:\\n]|${B}(?:but|though|however|aber|doch|pero|sin embargo|mais|cependant|mas|porém)${E}`, 'giu');

/** The phrase that reports a bug's symptom without a bug word, if any ("doesn't persist", "no carga", "ne réagit pas"). */
export function symptom(text: string): string | undefined {
  const t = normalizeForCues(text);
  for (const r of SYMPTOM_ALL) {
    for (const m of t.matchAll(r)) {
      let from = 0;
      for (const c of t.slice(0, m.index).matchAll(CLAUSE_START)) from = c.index + 1;
      const before = t.slice(from, m.index);
      if (!HYPOTHETICAL.test(before) && !NEGATED_BEFORE.test(before)) return m[0].trim();
    }
  }
  return undefined;
}

/** All three at once, normalising the text once per pattern list (for the classifier). */
export interface Cues {
  social?: string;
  request?: string;
  symptom?: string;
}

export function cuesOf(text: string): Cues {
  return { social: socialFrame(text), request: requestCue(text), symptom: symptom(text) };
}
