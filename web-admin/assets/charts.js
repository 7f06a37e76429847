// Draws every <canvas data-chart="/admin/api/..."> with Chart.js from the JSON API behind it.
// The API answers { type, labels, datasets: [{ label, data }], empty? }; with `empty` the chart's place shows that sentence.
(function () {
  const palette = ['#3b6fd8', '#d8603b', '#2e9d6a', '#a04fc4', '#c9a227', '#5c6b7a'];
  async function draw(canvas) {
    const res = await fetch(canvas.dataset.chart, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (!res.ok) { canvas.replaceWith(Object.assign(document.createElement('p'), { textContent: 'Chart unavailable (' + res.status + ')' })); return; }
    const spec = await res.json();
    if (spec.empty) { // nothing to draw (no rows, or $0 of spend): a sentence instead of empty axes
      const note = Object.assign(document.createElement('p'), { className: 'chart-empty', textContent: spec.empty });
      canvas.hidden = true;
      canvas.after(note);
      canvas.dataset.drawn = 'empty';
      return;
    }
    const slices = spec.type === 'doughnut';
    const datasets = spec.datasets.map((d, i) => slices
      ? { ...d, backgroundColor: d.data.map((_, j) => palette[j % palette.length]) }
      : { ...d, backgroundColor: palette[i % palette.length], borderColor: palette[i % palette.length] });
    new window.Chart(canvas, {
      type: spec.type || 'bar',
      data: { labels: spec.labels, datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: slices || datasets.length > 1 } } },
    });
    canvas.dataset.drawn = 'true';
  }
  Promise.all([...document.querySelectorAll('canvas[data-chart]')].map(draw)).then(() => { document.body.dataset.chartsReady = 'true'; });
})();
