// Static assets of the console, served from this process: Chart.js from node_modules (no CDN), the chart loader, CSS.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

const here = path.dirname(fileURLToPath(import.meta.url));
const chartDist = path.dirname(createRequire(import.meta.url).resolve('chart.js')); // .../chart.js/dist
const chartJs = readFileSync(path.join(chartDist, 'chart.umd.min.js'), 'utf8');
const loader = readFileSync(path.join(here, '../assets/charts.js'), 'utf8');
const css = readFileSync(path.join(here, '../assets/admin.css'), 'utf8');

export function mountAssets(app: Hono): void {
  const serve = (file: string, body: string, type: string) =>
    app.get(`/admin/assets/${file}`, (c) => c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=3600' }));
  serve('chart.umd.min.js', chartJs, 'text/javascript; charset=utf-8');
  serve('charts.js', loader, 'text/javascript; charset=utf-8');
  serve('admin.css', css, 'text/css; charset=utf-8');
}
