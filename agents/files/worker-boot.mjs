// Starts a parser thread (pool.ts): Node does not carry a TypeScript loader into worker threads, so this plain module
// registers tsx's loader in the thread first (unless the worker is already JavaScript), then loads worker.ts, whose
// default export piscina calls for each task. In the build (scripts/build.ts) worker.ts is compiled to worker.js
// beside this file, and that is loaded instead: production installs have no tsx.
import { existsSync } from 'node:fs';

const js = new URL('./worker.js', import.meta.url);
let handle;
if (existsSync(js)) {
  ({ default: handle } = await import(js.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ default: handle } = await import(new URL('./worker.ts', import.meta.url).href));
}
export default handle;
