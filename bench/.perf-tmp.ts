import { cuesOf } from '../orchestrator/intent/cues';
const samples = [
  'a'.repeat(4000), 'ab '.repeat(1400), "doesn't ".repeat(500), 'the thing shows '.repeat(300), 'no '.repeat(1400), 'keeps '.repeat(700), 'ne pas '.repeat(600),
  'x, '.repeat(1400), 'não não '.repeat(500), 'is is is '.repeat(500), ('word '.repeat(50) + '. ').repeat(15), 'haha '.repeat(800),
];
for (const s of samples) {
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) cuesOf(s);
  console.log(JSON.stringify(s.slice(0, 12)), ((performance.now() - t0) / 5).toFixed(2), 'ms');
}
