import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TrendDay } from '../api/types';
import { TREND_SERIES } from './violations-trend-series';

/*
 * The trend as a uPlot chart. This module is loaded with React.lazy from the violations page
 * only, so uPlot (≈ 50 kB) is never part of the console's first load. The chart is decoration
 * for sighted users: the page shows the same numbers as a table and a sentence.
 */

const HEIGHT = 240;

function palette(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#555';
}

export default function TrendChart({ days }: { days: readonly TrendDay[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = box.current;
    if (!target) return undefined;
    const ink = palette('--muted');
    const grid = palette('--line');
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const xs = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const chart = new uPlot(
      {
        width: Math.max(240, target.clientWidth),
        height: HEIGHT,
        // Days are UTC days: the axis says so instead of shifting them into the browser's zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [axis, { ...axis, size: 44 }],
        series: [
          {},
          ...TREND_SERIES.map((s) => ({
            label: s.label,
            stroke: palette(s.colour),
            width: 2,
            ...(s.dash ? { dash: s.dash } : {}),
            points: { show: days.length <= 31 },
          })),
        ],
      },
      [xs, ...TREND_SERIES.map((s) => days.map((d) => d[s.key]))],
      target,
    );
    // The chart follows the width of its column (phone rotation, sidebar), not the window's.
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(240, target.clientWidth), height: HEIGHT }),
    );
    resize.observe(target);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [days]);
  return <div ref={box} className="trend-chart" aria-hidden="true" data-testid="trend-chart" />;
}
