// The dashboard's own script, loaded from a file (the pages' Content-Security-Policy allows no
// inline script). It draws each <figure class="chart"> from the table inside it with uPlot, and
// redraws when the figure is resized or the colour scheme changes. Everything else is HTML: the
// forms are plain GET forms that htmx (hx-* attributes) turns into in-page updates.

(() => {
  const charts = new Map();

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function tableData(table) {
    const series = [...table.querySelectorAll('thead th')].slice(1).map((th) => th.textContent.trim());
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => ({
      label: tr.querySelector('th').textContent.trim(),
      values: [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)),
    }));
    return { series, rows };
  }

  const PALETTE = ['--chart-1', '--chart-2', '--chart-3', '--chart-4'];

  function options(kind, data, width) {
    const fg = cssVar('--fg-muted');
    const grid = cssVar('--grid');
    const font = `12px ${cssVar('--font')}`;
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font };
    const base = {
      width,
      height: 240,
      legend: { show: kind === 'days' && data.series.length > 1, live: false },
      cursor: { show: false },
    };
    if (kind === 'bars') {
      const labels = data.rows.map((r) => r.label);
      return {
        ...base,
        scales: {
          x: { time: false, range: [-0.5, labels.length - 0.5] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] },
        },
        axes: [
          {
            ...axis,
            grid: { show: false },
            splits: () => labels.map((_l, i) => i),
            values: (_u, splits) => splits.map((i) => labels[i] ?? ''),
            rotate: labels.length > 4 ? -20 : 0,
            size: labels.length > 4 ? 70 : 40,
          },
          { ...axis, values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        ],
        series: [
          {},
          {
            label: data.series[0],
            fill: cssVar('--chart-1'),
            stroke: cssVar('--chart-1'),
            width: 0,
            paths: uPlot.paths.bars({ size: [0.6, 64] }),
            points: { show: false },
          },
        ],
      };
    }
    return {
      ...base,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [
        { ...axis },
        { ...axis, values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
      ],
      series: [
        {},
        ...data.series.map((label, i) => {
          const colour = cssVar(PALETTE[i % PALETTE.length]);
          return { label, stroke: colour, width: 2, points: { show: true, size: 5, fill: colour } };
        }),
      ],
    };
  }

  function columns(kind, data) {
    const xs =
      kind === 'bars' ? data.rows.map((_r, i) => i) : data.rows.map((r) => Date.parse(`${r.label}T00:00:00Z`) / 1000);
    return [xs, ...data.series.map((_s, i) => data.rows.map((r) => r.values[i]))];
  }

  function draw(figure) {
    const table = figure.querySelector('table.chart-data');
    const plot = figure.querySelector('.plot');
    if (!table || !plot || typeof uPlot === 'undefined') return;
    charts.get(figure)?.destroy();
    plot.textContent = '';
    const kind = table.dataset.chart;
    const data = tableData(table);
    const width = Math.max(200, Math.floor(plot.getBoundingClientRect().width));
    charts.set(figure, new uPlot(options(kind, data, width), columns(kind, data), plot));
  }

  function drawAll(root) {
    for (const figure of root.querySelectorAll('figure.chart')) draw(figure);
  }

  function start() {
    drawAll(document);
    let pending;
    const resized = new ResizeObserver(() => {
      clearTimeout(pending);
      pending = setTimeout(() => {
        for (const [figure, chart] of charts) {
          const width = Math.max(200, Math.floor(figure.querySelector('.plot').getBoundingClientRect().width));
          if (width !== chart.width) chart.setSize({ width, height: chart.height });
        }
      }, 100);
    });
    for (const figure of document.querySelectorAll('figure.chart')) resized.observe(figure);
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => drawAll(document));
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
