import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './sandbox.css';

/*
 * Month-to-date spend per cost centre as uPlot bars. Loaded with React.lazy from the sandbox page
 * only, so uPlot stays out of the console's first load. Decoration for sighted users: the page
 * shows the same numbers in the table "Spend per cost centre this month".
 */

const HEIGHT = 220;

function palette(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#555';
}

export interface CostCentreSpend {
  costCentre: string;
  amount: number;
}

export default function SpendChart({ rows }: { rows: readonly CostCentreSpend[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const target = box.current;
    if (!target) return undefined;
    const ink = palette('--muted');
    const grid = palette('--line');
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const xs = rows.map((_r, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.6, 64] });
    const chart = new uPlot(
      {
        width: Math.max(240, target.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: false, range: () => [-0.5, rows.length - 0.5] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
        },
        axes: [
          {
            ...axis,
            splits: () => xs,
            values: (_u, splits) => splits.map((i) => rows[i]?.costCentre ?? ''),
          },
          { ...axis, size: 56, values: (_u, splits) => splits.map((v) => `$${v}`) },
        ],
        series: [
          {},
          {
            label: 'Spend this month',
            stroke: palette('--accent'),
            fill: palette('--accent'),
            width: 1,
            paths: bars,
            points: { show: false },
          },
        ],
      },
      [xs, rows.map((r) => r.amount)],
      target,
    );
    // Follows the width of its column (phone rotation), not the window's.
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(240, target.clientWidth), height: HEIGHT }),
    );
    resize.observe(target);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [rows]);
  return <div ref={box} className="spend-chart" aria-hidden="true" data-testid="spend-chart" />;
}
