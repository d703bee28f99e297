/** The lines of the trend chart; shared by the chart and the page's legend, without uPlot. */
export interface TrendSeries {
  key: 'open' | 'opened' | 'resolved';
  label: string;
  /** A CSS custom property of the console's palette, so that dark mode follows. */
  colour: string;
  /** Lines differ by dash as well as by colour. */
  dash?: number[];
}

export const TREND_SERIES: readonly TrendSeries[] = [
  { key: 'open', label: 'Open at the end of the day', colour: '--accent' },
  { key: 'opened', label: 'Found', colour: '--bad', dash: [6, 4] },
  { key: 'resolved', label: 'Resolved', colour: '--good', dash: [2, 3] },
];
